"""The CRL archive: runs of presence independent of arrival order, findings with exact times,
revocation observations, small storage for re-fetches."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from ctwatch import warehouse
from ctwatch.crl import Severity
from ctwatch.warehouse.crl_archive import archive_fetch, refresh_revocation_observations, release_raw
from ctwatch.warehouse.crl_findings import ArchiveFinding, archive_findings
from ctwatch.x509 import ParsedCert, analyse_der
from tests.crl.factory import T0, URL, Ca, Revoked, make_ca, make_crl, make_leaf, staged_fetch

H = timedelta(hours=1)
D = timedelta(days=1)
KEY_COMPROMISE = x509.ReasonFlags.key_compromise
SUPERSEDED = x509.ReasonFlags.superseded


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def ca() -> Ca:
    return make_ca()


def _issuer(ca: Ca) -> ParsedCert:
    parsed = analyse_der(ca.cert.public_bytes(Encoding.DER))
    assert isinstance(parsed, ParsedCert)
    return parsed


def _versions(ca: Ca) -> list[bytes]:
    """Four versions a day apart (thisUpdate T0 .. T0+3d) with a backdating, a change and a removal."""
    v1 = [Revoked(0x10, T0 - H)]
    v2 = [
        *v1,
        Revoked(0x20, T0 - 3 * D, KEY_COMPROMISE),  # 3 days before V1, which lacked it: notice
        Revoked(0x30, T0 - 2 * D, SUPERSEDED),  # backdated: error
        Revoked(0x40, T0 + 12 * H),  # within the 24 h publication window of V1: fine
    ]
    v3 = [Revoked(0x10, T0 - H, KEY_COMPROMISE), v2[1], v2[2]]  # 0x10 reason changes, 0x40 removed
    return [
        make_crl(ca, T0, v1, crl_number=1),
        make_crl(ca, T0 + D, v2, crl_number=2),
        make_crl(ca, T0 + 2 * D, v3, crl_number=3),
        make_crl(ca, T0 + 3 * D, v3, crl_number=4),
    ]


def _load(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca, versions: list[bytes], order: list[int]
) -> None:
    for index in order:
        observed_at = T0 + index * D + H
        outcome = archive_fetch(con, staged_fetch(tmp_path, versions[index], observed_at), issuer=_issuer(ca))
        assert outcome.error is None
        assert outcome.new_version


def _runs(con: duckdb.DuckDBPyConnection) -> set[tuple[object, ...]]:
    rows = con.execute(
        "SELECT i.serial_hex, i.revoked_at_claimed, i.reason_code, f.crl_number, l.crl_number "
        "FROM crl_serial_intervals i JOIN crl_versions f ON f.version_id = i.first_version_id "
        "JOIN crl_versions l ON l.version_id = i.last_version_id"
    ).fetchall()
    return set(rows)


EXPECTED_RUNS = {
    ("10", T0 - H, None, "1", "2"),
    ("10", T0 - H, 1, "3", "4"),
    ("20", T0 - 3 * D, 1, "2", "4"),
    ("30", T0 - 2 * D, 4, "2", "4"),
    ("40", T0 + 12 * H, None, "2", "2"),
}


def test_runs_do_not_depend_on_arrival_order(tmp_path: Path, ca: Ca) -> None:
    versions = _versions(ca)
    orders = [list(p) for p in itertools.permutations(range(4))]
    for order in [orders[0], orders[-1], *random.Random(5).sample(orders[1:-1], 4)]:
        connection = warehouse.connect(tmp_path / f"w{''.join(map(str, order))}.duckdb")
        try:
            _load(connection, tmp_path, ca, versions, order)
            assert _runs(connection) == EXPECTED_RUNS, order
            positions = connection.execute(
                "SELECT crl_number, position, entry_set_changed FROM crl_versions ORDER BY position"
            ).fetchall()
            assert positions == [("1", 1, True), ("2", 2, True), ("3", 3, True), ("4", 4, False)]
        finally:
            connection.close()


def _by_code(findings: list[ArchiveFinding]) -> dict[str, list[ArchiveFinding]]:
    grouped: dict[str, list[ArchiveFinding]] = {}
    for finding in findings:
        grouped.setdefault(finding.code, []).append(finding)
    return grouped


def test_findings_with_exact_times(con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca) -> None:
    leaf = make_leaf(ca, 0x40, not_after=T0 + 30 * D)
    parsed_leaf = analyse_der(leaf.public_bytes(Encoding.DER))
    assert isinstance(parsed_leaf, ParsedCert)
    warehouse.store_certificates(con, [parsed_leaf], "file:test")
    versions = _versions(ca)
    _load(con, tmp_path, ca, versions, [3, 1, 0, 2])
    # V4 (nextUpdate T0+10d) is still served at T0+12d
    archive_fetch(con, staged_fetch(tmp_path, versions[3], T0 + 12 * D), issuer=_issuer(ca))

    found = _by_code(archive_findings(con, as_of=T0 + 20 * D, disclosed_crl_urls=[URL]))
    assert set(found) == {
        "crl_revocation_backdated",
        "crl_revocation_backdated_key_compromise",
        "crl_serial_removed_before_expiry",
        "crl_revocation_changed",
        "crl_stale",
    }
    [backdated] = found["crl_revocation_backdated"]
    assert (backdated.serial_hex, backdated.at, backdated.severity) == ("30", T0 - 2 * D, Severity.ERROR)
    [notice] = found["crl_revocation_backdated_key_compromise"]
    assert (notice.serial_hex, notice.at, notice.severity) == ("20", T0 - 3 * D, Severity.NOTICE)
    [removed] = found["crl_serial_removed_before_expiry"]
    assert (removed.serial_hex, removed.at) == ("40", T0 + 2 * D)
    [changed] = found["crl_revocation_changed"]
    assert (changed.serial_hex, changed.at) == ("10", T0 + 2 * D)
    assert changed.detail == "reasonCode none -> 1"
    [stale] = found["crl_stale"]
    assert stale.at == T0 + 10 * D
    assert "at 2020-07-13T00:00:00+00:00" in stale.detail
    # before the stale observation, no staleness is known
    assert "crl_stale" not in _by_code(archive_findings(con, as_of=T0 + 11 * D))

    undisclosed = _by_code(
        archive_findings(con, as_of=T0 + 20 * D, disclosed_crl_urls=["http://other/x.crl"])
    )
    [partition] = undisclosed["crl_partition_undisclosed"]
    assert partition.at == T0


def test_unverified_signature_is_a_finding(con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca) -> None:
    other = make_ca("Another CA")
    archive_fetch(con, staged_fetch(tmp_path, _versions(ca)[0], T0 + H))  # no issuer given
    archive_fetch(
        con,
        staged_fetch(tmp_path, make_crl(ca, T0, [], crl_number=9), T0 + H, url=URL + "2"),
        issuer=_issuer(other),
    )
    found = _by_code(archive_findings(con, as_of=T0 + D))
    assert [f.detail for f in found["crl_signature_unverified"]] == ["signature not_checked"]
    assert [f.at for f in found["crl_signature_invalid"]] == [T0]


def test_revocation_observations(con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca) -> None:
    versions = _versions(ca)
    _load(con, tmp_path, ca, versions, [2, 0, 3, 1])
    assert refresh_revocation_observations(con) == 5
    rows = con.execute(
        "SELECT serial_hex, reason, revoked_at_claimed, first_observed_at, last_observed_at, "
        "last_observed_absent_at, "
        "evidence_sha256 = (SELECT crl_sha256 FROM crl_versions WHERE crl_number = '2') "
        "FROM revocation_observations WHERE serial_hex IN ('20', '40') ORDER BY serial_hex"
    ).fetchall()
    assert rows == [
        ("20", "keyCompromise", T0 - 3 * D, T0 + D + H, T0 + 3 * D + H, T0 + H, True),
        ("40", None, T0 + 12 * H, T0 + D + H, T0 + D + H, T0 + H, True),
    ]
    assert refresh_revocation_observations(con) == 5  # rebuilt, not duplicated
    assert con.execute("SELECT count(*) FROM revocation_observations").fetchone() == (5,)


def test_refetch_and_raw_retention(con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca) -> None:
    versions = _versions(ca)
    _load(con, tmp_path, ca, versions, [0, 1, 2, 3])
    again = archive_fetch(con, staged_fetch(tmp_path, versions[3], T0 + 5 * D), issuer=_issuer(ca))
    assert not again.new_version
    assert again.staged_file_kept
    assert con.execute("SELECT count(*) FROM crl_versions").fetchone() == (4,)
    assert con.execute("SELECT count(*) FROM crl_fetches").fetchone() == (5,)
    assert con.execute("SELECT last_observed_at FROM crl_versions WHERE crl_number = '4'").fetchone() == (
        T0 + 5 * D,
    )
    assert release_raw(con, keep_newest_per_url=1) == []  # V4 is the newest, V1-V3 changed the set
    fifth = make_crl(
        ca,
        T0 + 4 * D,
        [
            Revoked(0x10, T0 - H, KEY_COMPROMISE),
            Revoked(0x20, T0 - 3 * D, KEY_COMPROMISE),
            Revoked(0x30, T0 - 2 * D, SUPERSEDED),
        ],
        crl_number=5,
    )
    archive_fetch(con, staged_fetch(tmp_path, fifth, T0 + 4 * D + H), issuer=_issuer(ca))
    released = release_raw(con, keep_newest_per_url=1)
    v4_path = con.execute("SELECT body_sha256 FROM crl_versions WHERE crl_number = '4'").fetchone()
    assert v4_path is not None
    assert released == [tmp_path / f"{v4_path[0]}.crl"]
    assert con.execute("SELECT count(*) FROM crl_versions WHERE raw_path IS NOT NULL").fetchone() == (4,)


def test_bad_bodies_and_304_are_recorded(con: duckdb.DuckDBPyConnection, tmp_path: Path, ca: Ca) -> None:
    broken = archive_fetch(con, staged_fetch(tmp_path, b"not a crl", T0))
    assert broken.error is not None
    assert broken.error.startswith("not a usable CRL")
    fetch = staged_fetch(tmp_path, _versions(ca)[0], T0 + H)
    archive_fetch(con, fetch)
    not_modified = replace(
        fetch, http_status=304, not_modified=True, path=None, sha256=None, observed_at=T0 + 9 * H
    )
    unchanged = archive_fetch(con, not_modified)
    assert unchanged.error is None
    assert unchanged.version_id is not None
    assert con.execute("SELECT last_observed_at FROM crl_versions").fetchone() == (T0 + 9 * H,)
    assert con.execute("SELECT count(*) FROM crl_fetches WHERE error IS NOT NULL").fetchone() == (1,)
