"""Issuance: which leaves each CA issues over the scenario's period, when, and into which logs.

The schedule is drawn from a random generator seeded by the world's seed, so a (scenario, seed)
always gives the same entries.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ctwatch.sim.leaf_templates import build_templates, issuing_variants
from ctwatch.sim.log_files import RECORD, write_log
from ctwatch.sim.pki import Hierarchy
from ctwatch.sim.scenario import LogSpec, Scenario


def generate_entries(scenario: Scenario, seed: int, directory: Path) -> None:
    """Write the entries, leaf hashes and statistics of every log of the world into `directory`."""
    hierarchy = Hierarchy(scenario, seed)
    templates = build_templates(hierarchy)
    template_no = {(t.issuer_cert_id, t.precert): n for n, t in enumerate(templates)}
    rng = random.Random(f"ctwatch-sim/{seed}/entries")  # noqa: S311 - reproducible test data, not secrets
    start_s, end_s = int(scenario.start.timestamp()), int(scenario.end.timestamp())
    pending: dict[str, list[bytes]] = {log.name: [] for log in scenario.logs}
    host_number = 0
    for ca_id, variants in issuing_variants(hierarchy).items():
        spec = scenario.ca(ca_id)
        lo = max(start_s, int(spec.not_before.timestamp()))
        if spec.leaves_from is not None:
            lo = max(lo, int(spec.leaves_from.timestamp()))
        hi = min(end_s, int(spec.not_after.timestamp()))
        if spec.leaves_until is not None:
            hi = min(hi, int(spec.leaves_until.timestamp()))
        if hi <= lo:
            continue
        logs = [scenario.log(n) for n in spec.logs] if spec.logs else list(scenario.logs)
        starts = [int(at.timestamp()) for at, _ in variants]
        validity = timedelta(days=scenario.leaf_validity_days_of(spec))
        # A stream of its own, so that worlds without final certificates draw exactly as before.
        final_rng = (
            random.Random(f"ctwatch-sim/{seed}/final-certs/{ca_id}")  # noqa: S311 - as above
            if spec.final_certs
            else None
        )
        for precert, count in ((False, spec.leaves), (True, spec.precerts)):
            for _ in range(count):
                issued_s = lo + rng.randrange(hi - lo)
                # The newest issuing certificates valid at issuance (re-issues of one date share the work).
                newest = max((s for s in starts if s <= issued_s), default=starts[0])
                candidates = [v for s, v in zip(starts, variants, strict=True) if s == newest]
                issuer_cert_id = rng.choice(candidates)[1]
                template = template_no[(issuer_cert_id, precert)]
                hour = issued_s // 3600
                not_after = datetime.fromtimestamp(hour * 3600, UTC) + validity
                serial = (rng.getrandbits(126) | 1 << 126).to_bytes(16, "big")
                host_number += 1
                for log in logs:
                    if not log.accepts_not_after(not_after):
                        continue
                    timestamp_ms = issued_s * 1000 + rng.randrange(10_000)
                    integrated_ms = timestamp_ms + rng.randrange(_max_delay_ms(log))
                    pending[log.name].append(
                        RECORD.pack(integrated_ms, timestamp_ms, hour, host_number, template, serial)
                    )
                    if precert and final_rng is not None:
                        # The final certificate, logged within the hour after its precertificate.
                        final_ms = timestamp_ms + 1 + final_rng.randrange(3_599_999)
                        final_integrated_ms = final_ms + final_rng.randrange(_max_delay_ms(log))
                        final_template = template_no[(issuer_cert_id, False)]
                        pending[log.name].append(
                            RECORD.pack(
                                final_integrated_ms, final_ms, hour, host_number, final_template, serial
                            )
                        )
    for log in scenario.logs:
        records = pending.pop(log.name)
        records.sort()
        write_log(log, records, templates, directory)


def _max_delay_ms(log: LogSpec) -> int:
    """Exclusive bound of an entry's integration delay: below min(MMD, 1 h)."""
    return max(1, min(log.mmd_s, 3600) * 1000)
