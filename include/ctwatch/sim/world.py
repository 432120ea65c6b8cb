"""A generated world: the CA hierarchy, the logs' entries and Merkle trees, the revocation
timelines, and the ground truth.

Generation is deterministic for a (scenario, seed). CA certificates and tree heads are really
signed; leaves come from per-issuer templates (leaf_templates.py). The logs' files (log_files.py)
are generated once per (scenario file, seed) into a cache directory and memory-mapped from there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from ctwatch.sim.formats import b64
from ctwatch.sim.issuance import generate_entries
from ctwatch.sim.leaf_templates import LeafValues, build_templates
from ctwatch.sim.log_files import SimLog
from ctwatch.sim.pki import CaCert, Hierarchy, spki_der
from ctwatch.sim.revocation_truth import revocation_ground_truth
from ctwatch.sim.revocations import RevocationWorld
from ctwatch.sim.scenario import Scenario

CACHE_FORMAT = "v1"


def default_cache_dir() -> Path:
    return Path(os.environ.get("CTWATCH_DATA_DIR", "data")) / "sim-cache"


@dataclass(frozen=True, slots=True)
class LeafEntry:
    """One log entry of a leaf or precertificate, as the generator wrote it (`World.leaf_entries`)."""

    log: str
    index: int
    timestamp_ms: int  # the entry's CT timestamp
    precert: bool
    serial: int
    not_before: datetime
    not_after: datetime
    issuer_cert_id: str  # the issuing CA certificate (a re-issue "<id>.r1" included)


class World:
    """A generated world: load it with `World.load(scenario)` (generates and caches on first use)."""

    def __init__(self, scenario: Scenario, seed: int, directory: Path, *, generated: bool = False) -> None:
        self.scenario = scenario
        self.generated = generated  # True when this load generated the entries (not from the cache)
        self.seed = seed
        self.directory = directory
        self.hierarchy = Hierarchy(scenario, seed)
        templates = build_templates(self.hierarchy)
        leaf_values = LeafValues()
        self.logs = {
            spec.name: SimLog(
                spec,
                directory,
                seed=seed,
                period_start=scenario.start,
                templates=templates,
                leaf_values=leaf_values,
            )
            for spec in scenario.logs
        }

    @property
    def ca_certs(self) -> dict[str, CaCert]:
        return self.hierarchy.certs

    @cached_property
    def revocations(self) -> RevocationWorld:
        """The revocation timelines (CRL, OCSP, CCADB, OneCRL, CRLSet, crt.sh, Bugzilla) of the world."""
        return RevocationWorld(self.scenario, self.hierarchy, self.logs)

    @classmethod
    def load(cls, scenario: Scenario, *, seed: int | None = None, cache_dir: Path | None = None) -> World:
        """The world of `scenario` (with `seed` overriding the file's), from the cache or generated."""
        seed = scenario.seed if seed is None else seed
        root = cache_dir if cache_dir is not None else default_cache_dir()
        directory = root / f"{scenario.source_sha256[:20]}-{seed}-{CACHE_FORMAT}"
        generated = not (directory / "complete").exists()
        if generated:
            root.mkdir(parents=True, exist_ok=True)
            staging = root / f".{directory.name}.{os.getpid()}.{threading.get_ident()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            generate_entries(scenario, seed, staging)
            (staging / "complete").write_text(datetime.now(UTC).isoformat())
            try:
                staging.rename(directory)
            except OSError:  # another process finished first: its files are identical
                shutil.rmtree(staging, ignore_errors=True)
        return cls(scenario, seed, directory, generated=generated)

    def hostnames(self) -> list[str]:
        """Every hostname the certificates name in CRL, OCSP and caIssuers URLs (see pki._hosts)."""
        slugs = {self.scenario.owner_slug(ca.host_slug_owner) for ca in self.scenario.cas}
        return sorted(f"{service}.{slug}.example" for slug in slugs for service in ("crl", "ocsp", "aia"))

    def leaf_entries(self, ca_spec_id: str) -> Iterator[LeafEntry]:
        """Every log entry of the leaves and precertificates the CA spec `ca_spec_id` issued (its
        re-issues included), log by log in log order; read from the log records, for tests to
        compute a CA's leaf population without ctwatch's parsers."""
        for name, log in self.logs.items():
            for index in range(log.size):
                record = log.record(index)
                template = log.template_of(index)
                if self.ca_certs[template.issuer_cert_id].spec.id != ca_spec_id:
                    continue
                not_before = datetime.fromtimestamp(record.not_before_hour * 3600, UTC)
                yield LeafEntry(
                    log=name,
                    index=index,
                    timestamp_ms=record.timestamp_ms,
                    precert=template.precert,
                    serial=int.from_bytes(record.serial, "big"),
                    not_before=not_before,
                    not_after=not_before + timedelta(hours=template.validity_hours),
                    issuer_cert_id=template.issuer_cert_id,
                )

    def ground_truth(self) -> dict[str, Any]:
        """JSON-ready description of what the world contains, for tests to compare with."""
        cas = []
        for cert in self.ca_certs.values():
            spec = cert.spec
            cas.append(
                {
                    "cert_id": cert.cert_id,
                    "der_sha256": cert.der_sha256,
                    "spki_sha256": hashlib.sha256(spki_der(self.hierarchy.key(cert.key_group))).hexdigest(),
                    "key_group": cert.key_group,
                    "kind": cert.kind,
                    "owner": spec.owner,
                    "subordinate_owner": spec.subordinate_owner,
                    "issuer_cert_id": cert.chain_ids[1] if len(cert.chain_ids) > 1 else None,
                    "ocsp_signing": _has_ocsp_signing(cert),
                    "ocsp_nocheck": spec.ocsp_nocheck and _has_ocsp_signing(cert),
                    "technically_constrained": bool(spec.permitted_dns) and cert.sub_ca_profile,
                    "reissue_of": cert.reissue_of,
                    "cross_of": spec.cross_of,
                    "leaves_from": spec.leaves_from.isoformat() if spec.leaves_from else None,
                    "not_before": self.hierarchy.not_before(cert).isoformat(),
                }
            )
        logs = {}
        for name, log in self.logs.items():
            logs[name] = {
                "kind": log.spec.kind.value,
                "log_id_b64": b64(log.log_id),
                "size": log.size,
                "entries_per_issuer": log.stats["entries_per_issuer"],
                "precerts": log.stats["precerts"],
                "first_index_by_ca": log.stats["first_index_by_ca"],
            }
        flagged = sorted(cert.cert_id for cert in self.ca_certs.values() if _has_ocsp_signing(cert))
        first_seen = {}
        for cert_id in flagged:
            places = [
                (name, info["first_index_by_ca"][cert_id])
                for name, info in logs.items()
                if cert_id in info["first_index_by_ca"]
            ]
            first_seen[cert_id] = [{"log": n, "index": i} for n, i in places]
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "ca_certificates": cas,
            "logs": logs,
            "ocsp_signing_ca_first_seen": first_seen,
            "revocation": revocation_ground_truth(self.revocations),
        }


def _has_ocsp_signing(cert: CaCert) -> bool:
    """Only the subordinate CA profile carries EKUs in the simulated hierarchy."""
    return cert.spec.ocsp_signing and cert.sub_ca_profile
