"""The CSV output of the query `ctwatch crtsh sql` prints, run on crt.sh's public
PostgreSQL: its rows become a crt.sh snapshot, its crt.sh IDs are recorded."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ctwatch import warehouse
from ctwatch.evidence.revocation import RecordError
from ctwatch.revocation.snapshots import IngestSummary, store_snapshots
from ctwatch.sources import crtsh
from ctwatch.warehouse.crtsh_ids import CrtshCertificateId, is_crtsh_id, store_crtsh_ids


def import_crtsh_csv(warehouse_file: Path, csv_file: Path, *, queried_at: datetime) -> IngestSummary:
    """The CSV output of sources/sql/crtsh_ocsp_signing_ca.sql, stamped with when the query ran; its
    crt.sh IDs are recorded with their certificates' SHA-256 (a row without a usable ID is an error)."""
    snapshot = crtsh.parse_ocsp_signing_ca_csv(
        csv_file.read_bytes(), location=str(csv_file), observed_at=queried_at
    )
    crtsh_ids: list[CrtshCertificateId] = []
    id_errors: list[RecordError] = []
    for sighting in snapshot.sightings:
        ref = sighting.record_ref
        if ref is None or not is_crtsh_id(ref) or sighting.der_sha256 is None:
            id_errors.append(RecordError(f"sha256 {sighting.der_sha256}", f"no usable crt.sh id: {ref!r}"))
            continue
        crtsh_ids.append(
            CrtshCertificateId(
                crtsh_id=int(ref),
                der_sha256=sighting.der_sha256,
                serial_hex=None,
                not_before=None,
                issuer_name=None,
                location=str(csv_file),
            )
        )
    snapshot = replace(snapshot, errors=snapshot.errors + tuple(id_errors))
    summary = store_snapshots(warehouse_file, [(snapshot, ())])
    con = warehouse.connect(warehouse_file)
    try:
        store_crtsh_ids(con, crtsh_ids, observed_at=queried_at)
    finally:
        con.close()
    return summary
