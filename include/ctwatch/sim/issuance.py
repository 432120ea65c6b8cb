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
from ctwatch.sim.scenario import Scenario


def generate_entries(scenario: Scenario, seed: int, directory: Path) -> None:
    """Write the entries, leaf hashes and statistics of every log of the world into `directory`."""
    hierarchy = Hierarchy(scenario, seed)
    templates = build_templates(hierarchy)
    template_no = {(t.issuer_cert_id, t.precert): n for n, t in enumerate(templates)}
    rng = random.Random(f"ctwatch-sim/{seed}/entries")  # noqa: S311 - reproducible test data, not secrets
    start_s, end_s = int(scenario.start.timestamp()), int(scenario.end.timestamp())
    validity = timedelta(days=scenario.leaf_validity_days)
    pending: dict[str, list[bytes]] = {log.name: [] for log in scenario.logs}
    host_number = 0
    for ca_id, variants in issuing_variants(hierarchy).items():
        spec = scenario.ca(ca_id)
        lo = max(start_s, int(spec.not_before.timestamp()))
        if spec.leaves_from is not None:
            lo = max(lo, int(spec.leaves_from.timestamp()))
        hi = min(end_s, int(spec.not_after.timestamp()))
        if hi <= lo:
            continue
        logs = [scenario.log(n) for n in spec.logs] if spec.logs else list(scenario.logs)
        starts = [int(at.timestamp()) for at, _ in variants]
        for precert, count in ((False, spec.leaves), (True, spec.precerts)):
            for _ in range(count):
                issued_s = lo + rng.randrange(hi - lo)
                # The newest issuing certificates valid at issuance (re-issues of one date share the work).
                newest = max((s for s in starts if s <= issued_s), default=starts[0])
                candidates = [v for s, v in zip(starts, variants, strict=True) if s == newest]
                template = template_no[(rng.choice(candidates)[1], precert)]
                hour = issued_s // 3600
                not_after = datetime.fromtimestamp(hour * 3600, UTC) + validity
                serial = (rng.getrandbits(126) | 1 << 126).to_bytes(16, "big")
                host_number += 1
                for log in logs:
                    if not log.accepts_not_after(not_after):
                        continue
                    timestamp_ms = issued_s * 1000 + rng.randrange(10_000)
                    integrated_ms = timestamp_ms + rng.randrange(max(1, min(log.mmd_s, 3600) * 1000))
                    pending[log.name].append(
                        RECORD.pack(integrated_ms, timestamp_ms, hour, host_number, template, serial)
                    )
    for log in scenario.logs:
        records = pending.pop(log.name)
        records.sort()
        write_log(log, records, templates, scenario.leaf_validity_days * 24, directory)
