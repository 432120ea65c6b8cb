"""certificate_mentions: which stored certificates a bug names and since when, from bugs, comments and
crt.sh IDs stored through the real storage functions, using only the evidence ctwatch had by the as-of."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.evaluate.mentions import CertificateMention, certificate_mentions
from ctwatch.evidence.bugzilla import Bug, BugComment
from ctwatch.warehouse import observations
from ctwatch.warehouse.crtsh_ids import CrtshCertificateId, store_crtsh_ids
from tests.rules.factory import make_cert

BUG = 1650910
OTHER_BUG = 1651234
ISSUER = "CN=Sim Secom Root CA,O=SECOM Trust Systems,C=JP"
NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
FILED = datetime(2020, 7, 3, 2, 14, tzinfo=UTC)

# one certificate per way of being named (or not)
IN_COMMENT = "a1" * 32
IN_SUMMARY = "b2" * 32
BY_SERIAL = "c3" * 32  # serial 7d3e19a0c4 under ISSUER
SERIAL_ONLY = "d4" * 32  # serial 0e0f1a2b3c4d under ISSUER: its serial appears, its issuer never
BY_CRTSH_SERIAL = "e5" * 32  # crt.sh ID 2835394, recorded by serial and notBefore
BY_CRTSH_SHA = "f6" * 32  # crt.sh ID 77, recorded with its SHA-256
IN_PRIVATE = "17" * 32
LATE = "28" * 32  # named in a comment ctwatch first fetched on 07-20
IN_OTHER_BUG = "39" * 32


def _t(day: int, hour: int = 0) -> datetime:
    return datetime(2020, 7, day, hour, tzinfo=UTC)


def _bug(bug_id: int, summary: str) -> Bug:
    return Bug(
        bug_id=bug_id, summary=summary, whiteboard="[ca-compliance] [delayed-revocation-ca]",
        product="CA Program", component="CA Certificate Compliance", status="ASSIGNED", resolution=None,
        assigned_to="ca@example.org", creator="ca@example.org", creation_time=FILED, last_change_time=None,
        revocation_delay_tags=("delayed-revocation-ca",), ca_owner="SECOM Trust Systems",
    )  # fmt: skip


def _comment(bug_id: int, count: int, at: datetime, text: str, *, private: bool = False) -> BugComment:
    return BugComment(bug_id * 100 + count, bug_id, count, "ca@example.org", at, private, text)


@pytest.fixture
def con(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    certs = [
        make_cert(der_sha256=sha, serial_hex=serial, issuer_rfc4514=ISSUER, not_before=NOT_BEFORE)
        for sha, serial in [
            (IN_COMMENT, "1001"), (IN_SUMMARY, "1002"), (BY_SERIAL, "7d3e19a0c4"),
            (SERIAL_ONLY, "e0f1a2b3c4d"), (BY_CRTSH_SERIAL, "5eed5eed01"), (BY_CRTSH_SHA, "1003"),
            (IN_PRIVATE, "1004"), (LATE, "1005"), (IN_OTHER_BUG, "1006"),
        ]
    ]  # fmt: skip
    warehouse.store_certificates(con, certs, source="file:test")
    observations.store_bugs(
        con,
        [_bug(BUG, f"SECOM: {IN_SUMMARY} revoked late"), _bug(OTHER_BUG, "SECOM: another incident")],
        observed_at=_t(4),
        location="search",
    )
    store_crtsh_ids(
        con,
        [
            CrtshCertificateId(
                2835394, None, "5eed5eed01", NOT_BEFORE, "C=JP, CN=Sim Secom Root CA", "search"
            ),
            CrtshCertificateId(77, BY_CRTSH_SHA, None, None, None, "import.csv"),
            CrtshCertificateId(78, "00" * 32, None, None, None, "import.csv"),  # another certificate
        ],
        observed_at=_t(4),
    )
    comments = [
        _comment(BUG, 0, FILED, "Incident report to follow."),
        _comment(BUG, 1, _t(5, 10), f"Affected: {IN_COMMENT.upper()}"),
        _comment(BUG, 2, _t(6), "Serial 7D:3E:19:A0:C4 is being revoked; so is 00:0E:0F:1A:2B:3C:4D."),
        _comment(BUG, 3, _t(7), "The serial 0x7D3E19A0C4 of Sim Secom Root CA was revoked."),
        _comment(BUG, 4, _t(8), "Also https://crt.sh/?id=2835394&opt=cablint and crt.sh ID 77."),
        _comment(BUG, 5, _t(8), f"Internal: {IN_PRIVATE}", private=True),
    ]
    observations.store_bug_comments(con, BUG, comments, [], fetched_at=_t(9), new_since=None, location="f1")
    late = _comment(BUG, 6, _t(9, 12), f"Also {LATE}")
    observations.store_bug_comments(con, BUG, [late], [], fetched_at=_t(20), new_since=_t(8), location="f2")
    other = [_comment(OTHER_BUG, 0, FILED, f"Unrelated bug naming {IN_OTHER_BUG} and {IN_COMMENT}")]
    observations.store_bug_comments(
        con, OTHER_BUG, other, [], fetched_at=_t(9), new_since=None, location="f3"
    )
    return con


ALL = [IN_COMMENT, IN_SUMMARY, BY_SERIAL, SERIAL_ONLY, BY_CRTSH_SERIAL, BY_CRTSH_SHA, IN_PRIVATE, LATE]
BY_15_JULY = [
    CertificateMention(BUG, IN_COMMENT, _t(5, 10), "sha256", "comment 1"),
    CertificateMention(BUG, IN_SUMMARY, FILED, "sha256", "summary"),
    CertificateMention(BUG, BY_SERIAL, _t(7), "issuer_serial", "comment 3"),
    CertificateMention(BUG, BY_CRTSH_SERIAL, _t(8), "crtsh_id", "comment 4"),
    CertificateMention(BUG, BY_CRTSH_SHA, _t(8), "crtsh_id", "comment 4"),
]


def test_what_a_bug_names_by_15_july(con: duckdb.DuckDBPyConnection) -> None:
    """Not named: SERIAL_ONLY (serial without its issuer), IN_PRIVATE (a private comment), LATE
    (first fetched on 07-20), IN_OTHER_BUG (that bug is not asked about)."""
    assert certificate_mentions(con, [BUG], [*ALL, IN_OTHER_BUG], _t(15)) == BY_15_JULY


def test_a_comment_counts_from_its_first_fetch(con: duckdb.DuckDBPyConnection) -> None:
    late = CertificateMention(BUG, LATE, _t(9, 12), "sha256", "comment 6")
    assert certificate_mentions(con, [BUG], [LATE], _t(19)) == []
    assert certificate_mentions(con, [BUG], [LATE], _t(25)) == [late]


def test_only_what_was_known_by_the_as_of(con: duckdb.DuckDBPyConnection) -> None:
    # 07-03 12:00: the bug is filed but neither searched nor fetched yet
    assert certificate_mentions(con, [BUG], ALL, _t(3, 12)) == []
    # 07-08 00:00: the search of 07-04 knew the summary; the comments were first fetched on 07-09
    assert certificate_mentions(con, [BUG], ALL, _t(8)) == [
        CertificateMention(BUG, IN_SUMMARY, FILED, "sha256", "summary")
    ]


def test_the_earliest_mention_per_bug_and_certificate(con: duckdb.DuckDBPyConnection) -> None:
    observations.store_bug_comments(
        con, BUG, [_comment(BUG, 7, _t(10), f"again {IN_SUMMARY} and {IN_COMMENT}")], [],
        fetched_at=_t(11), new_since=_t(9, 12), location="f4",
    )  # fmt: skip
    assert certificate_mentions(con, [BUG, OTHER_BUG], [IN_SUMMARY, IN_COMMENT], _t(15)) == [
        CertificateMention(BUG, IN_COMMENT, _t(5, 10), "sha256", "comment 1"),
        CertificateMention(BUG, IN_SUMMARY, FILED, "sha256", "summary"),
        CertificateMention(OTHER_BUG, IN_COMMENT, FILED, "sha256", "comment 0"),
    ]


def test_the_summary_is_the_one_the_latest_search_saw(con: duckdb.DuckDBPyConnection) -> None:
    observations.store_bugs(
        con, [_bug(OTHER_BUG, f"SECOM: {BY_CRTSH_SHA}")], observed_at=_t(12), location="s"
    )
    assert certificate_mentions(con, [OTHER_BUG], [BY_CRTSH_SHA], _t(11)) == []
    assert certificate_mentions(con, [OTHER_BUG], [BY_CRTSH_SHA], _t(12)) == [
        CertificateMention(OTHER_BUG, BY_CRTSH_SHA, FILED, "sha256", "summary")
    ]


def test_crtsh_ids_recorded_after_the_as_of_do_not_count(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE crtsh_certificate_ids SET first_observed_at = $at", {"at": _t(16)})
    assert certificate_mentions(con, [BUG], [BY_CRTSH_SERIAL, BY_CRTSH_SHA], _t(15)) == []


def test_a_comment_stored_without_text_names_nothing(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("UPDATE bugzilla_comments SET text = NULL WHERE count = 1")
    assert certificate_mentions(con, [BUG], [IN_COMMENT], _t(15)) == []


def test_the_as_of_must_be_timezone_aware(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        certificate_mentions(con, [BUG], ALL, datetime(2020, 7, 15))


def test_storing_crtsh_ids_again_keeps_the_earliest_and_fills_in(con: duckdb.DuckDBPyConnection) -> None:
    later = CrtshCertificateId(2835394, BY_CRTSH_SERIAL, "5eed5eed01", NOT_BEFORE, None, "later search")
    earlier = CrtshCertificateId(77, None, "1003", NOT_BEFORE, "C=JP, CN=Sim", "earlier search")
    assert store_crtsh_ids(con, [later], observed_at=_t(10)) == 0
    assert store_crtsh_ids(con, [earlier], observed_at=_t(2)) == 0
    assert store_crtsh_ids(con, [later, earlier], observed_at=_t(10)) == 0  # the same again
    rows = con.execute(
        "SELECT crtsh_id, der_sha256, serial_hex, issuer_name, first_observed_at, location "
        "FROM crtsh_certificate_ids WHERE crtsh_id IN (77, 2835394) ORDER BY crtsh_id"
    ).fetchall()
    assert rows == [
        (77, BY_CRTSH_SHA, "1003", "C=JP, CN=Sim", _t(2), "earlier search"),
        (2835394, BY_CRTSH_SERIAL, "5eed5eed01", "C=JP, CN=Sim Secom Root CA", _t(4), "search"),
    ]
