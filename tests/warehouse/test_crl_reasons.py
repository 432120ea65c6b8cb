"""The reason of a CRL-derived revocation observation: CRLReason's RFC 5280 name, an unknown code as
its decimal text, no reasonCode as NULL."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from ctwatch.evidence.revocation import CRLReason
from ctwatch.warehouse.crl_archive import refresh_revocation_observations

T0 = datetime(2020, 7, 1, tzinfo=UTC)


def _archive_one_version(con: duckdb.DuckDBPyConnection, reason_codes: list[int | None]) -> None:
    """One version of one partition listing serial i with reason_codes[i], as if archived."""
    con.execute(
        "INSERT INTO crl_versions (partition_key, crl_sha256, body_sha256, first_url, issuer_name_der, "
        "this_update, idp_uris, size_bytes, entry_count, entry_set_digest, signature_status, position, "
        "entry_set_changed, first_observed_at, last_observed_at) "
        "VALUES ('p', 'c', 'b', 'http://crl.test/x.crl', 'issuer'::BLOB, $t, [], 1, $n, 'd', 'valid', 1, "
        "true, $t, $t)",
        {"t": T0, "n": len(reason_codes)},
    )
    con.execute(
        "INSERT INTO crl_serial_intervals (partition_key, serial_hex, revoked_at_claimed, reason_code, "
        "first_version_id, last_version_id) "
        "SELECT 'p', unnest($serials::VARCHAR[]), $t, unnest($codes::SMALLINT[]), v.version_id, v.version_id "
        "FROM crl_versions AS v",
        {"serials": [f"{i:02x}" for i in range(len(reason_codes))], "codes": reason_codes, "t": T0},
    )


def test_reasons_are_rfc_names_and_unknown_codes_stay_numbers(con: duckdb.DuckDBPyConnection) -> None:
    codes: list[int | None] = [*(int(reason) for reason in CRLReason), 7, 11, -1, None]
    _archive_one_version(con, codes)

    assert refresh_revocation_observations(con) == len(codes)

    stored = dict(con.execute("SELECT serial_hex, reason FROM revocation_observations").fetchall())
    expected = [*(reason.rfc_name for reason in CRLReason), "7", "11", "-1", None]
    assert [stored[f"{i:02x}"] for i in range(len(codes))] == expected
    assert stored["01"] == "keyCompromise"
