"""What the sources must fetch for the declared plans: crt.sh's history of each affected issuing CA
with a declared crt.sh CA id, and the CRLs those CAs issue (docs/plans.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from ctwatch.evaluate.config import EvaluationConfig
from ctwatch.revocation.crtsh_issuer_history import CRTSH_INGESTION_ALLOWANCE, IssuerHistoryTarget
from ctwatch.revocation.watched_crls import PlanCrlScope

# BR 6.3.2 since 2018-03-01: no leaf issued earlier than this before a later clock start is unexpired at it.
MAX_LEAF_VALIDITY: Final = timedelta(days=825)


def crtsh_history_targets(config: EvaluationConfig) -> list[IssuerHistoryTarget]:
    """One crt.sh issuer search per (issuer key, crt.sh CA id) a plan declares, from the earliest
    notBefore a leaf unexpired at its incident's declared clock start can have."""
    clock_starts = {i.incident_key: i.clock_start for i in config.incidents}
    targets: dict[tuple[str, int], IssuerHistoryTarget] = {}
    for plan in config.plans:
        clock_start = clock_starts[plan.incident_id.split(":", 1)[0]]
        for key, ca_id in plan.crtsh_ca_ids.items():
            target = IssuerHistoryTarget(
                issuer_spki_sha256=key,
                crtsh_ca_id=ca_id,
                min_not_before=(clock_start - MAX_LEAF_VALIDITY).date(),
                complete_after=clock_start + CRTSH_INGESTION_ALLOWANCE,
            )
            known = targets.get((key, ca_id))
            if known is None or target.min_not_before < known.min_not_before:
                targets[key, ca_id] = target
    return sorted(targets.values(), key=lambda t: (t.issuer_spki_sha256, t.crtsh_ca_id))


def plan_crl_scope(config: EvaluationConfig) -> PlanCrlScope:
    """The issuing CAs whose own CRLs the plans need: the keys plans name, and the incidents of plans
    that name none (every member's key)."""
    return PlanCrlScope(
        issuer_keys=tuple(sorted({key for plan in config.plans for key in plan.issuer_keys})),
        incident_ids=tuple(sorted({plan.incident_id for plan in config.plans if not plan.issuer_keys})),
    )
