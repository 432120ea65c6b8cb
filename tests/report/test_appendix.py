"""The IRG v3.2 appendix: header byte for byte, "Is revoked?" per status, CRLF, hostile cells."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from ctwatch.evaluate import Basis, Status
from ctwatch.report.appendix import appendix_csv, crtsh_links
from tests.evaluate.conftest import utc
from tests.report.conftest import PLANNED, make_key_group, make_verdict

HEADER = (
    b"Precertificate SHA-256 hash,Certificate SHA-256 hash,Subject,Issuer,Not before,Not after,"
    b"Serial # (hex),dNSNames,Is revoked?,Revocation date,Revocation reason,"
    b"First observed revoked at,Verdict basis,Evidence,Root-program actions,Findings,Key group closure\r\n"
)
REVOKED_AT = utc(2020, 7, 20, 13, 5)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_header_byte_for_byte() -> None:
    assert appendix_csv([]) == HEADER


@pytest.mark.parametrize(
    ("status", "claimed", "planned", "is_revoked", "date", "reason"),
    [
        (Status.REVOKED_ON_TIME, utc(2020, 7, 7), None, "Yes", "2020-07-07T00:00:00Z", "superseded"),
        (Status.REVOKED_BEFORE_START, utc(2020, 6, 1), None, "Yes", "2020-06-01T00:00:00Z", "superseded"),
        (Status.REVOKED_LATE, REVOKED_AT, None, "Delayed", "2020-07-20T13:05:00Z", "superseded"),
        # not revoked, deadline passed: a delayed revocation; the date is the CA's plan when given
        (Status.OVERDUE, None, PLANNED, "Delayed", "2021-03-09T00:00:00Z", "N/A"),
        (Status.OVERDUE, None, None, "Delayed", "N/A", "N/A"),
        # not revoked, deadline ahead
        (Status.PENDING, None, PLANNED, "Planned", "2021-03-09T00:00:00Z", "N/A"),
        (Status.PENDING, None, None, "Planned", "N/A", "N/A"),
        (Status.EXPIRED_UNREVOKED, None, None, "N/A", "N/A", "N/A"),
        (Status.ROOT_PROGRAM_ACTION, None, None, "N/A", "N/A", "N/A"),
        (Status.ROOT_PROGRAM_ACTION, REVOKED_AT, None, "Yes", "2020-07-20T13:05:00Z", "superseded"),
        # another owner's certificate, or one without a BR window: no clock here
        (Status.OTHER_OWNER, None, None, "N/A", "N/A", "N/A"),
        (Status.NO_DEADLINE, REVOKED_AT, None, "Yes", "2020-07-20T13:05:00Z", "superseded"),
    ],
)  # fmt: skip
def test_is_revoked_per_status(  # noqa: PLR0917 - pytest passes the parameters by name
    status: Status, claimed, planned, is_revoked: str, date: str, reason: str
) -> None:
    verdict = make_verdict(
        status=status,
        revoked_at_claimed=claimed,
        planned_revocation_at=planned,
        revocation_reason="superseded" if claimed else None,
    )
    (row,) = _rows(appendix_csv([verdict]))
    assert (row["Is revoked?"], row["Revocation date"], row["Revocation reason"]) == (
        is_revoked,
        date,
        reason,
    )


def test_row_values_crlf_and_extra_columns() -> None:
    verdict = make_verdict(
        precert_der_sha256="cd" * 32,
        dns_names=("a.example", "b.example"),
        status=Status.REVOKED_LATE,
        delay=timedelta(days=12, hours=13, minutes=5),
        basis=Basis.CLAIMED_ONLY,
        revoked_at_claimed=REVOKED_AT,
        revocation_reason=None,
        first_observed_revoked_at=utc(2020, 7, 21, 4),
        bounds=("onecrl first listed by 2020-07-28T10:00:00Z (observer onecrl)",),
        evidence=("crl (observer ctwatch): claimed 2020-07-20", "onecrl (observer onecrl)"),
    )
    data = appendix_csv([verdict, verdict])
    # every line ends CRLF, no bare LF
    assert data.count(b"\r\n") == 3
    assert data.count(b"\n") == 3
    row = _rows(data)[0]
    assert row["Precertificate SHA-256 hash"] == "cd" * 32
    assert row["Not before"] == "2019-07-11T00:00:00Z"
    assert row["dNSNames"] == "a.example b.example"
    assert row["Revocation reason"] == "not stated"
    assert row["First observed revoked at"] == "2020-07-21T04:00:00Z"
    assert row["Verdict basis"] == (
        "revoked_late; claimed_only; delay 12d 13:05:00; deadline 2020-07-08T00:00:00Z; "
        "onecrl first listed by 2020-07-28T10:00:00Z (observer onecrl)"
    )
    assert (row["Root-program actions"], row["Findings"], row["Key group closure"]) == ("", "", "N/A")
    assert row["Evidence"] == "crl (observer ctwatch): claimed 2020-07-20 | onecrl (observer onecrl)"
    # a CA certificate has neither dNSNames nor a precertificate
    ca_row = _rows(appendix_csv([make_verdict()]))[0]
    assert (ca_row["dNSNames"], ca_row["Precertificate SHA-256 hash"]) == ("N/A", "N/A")


@pytest.mark.parametrize(
    ("subject", "shown"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        # starts with a letter: no spreadsheet evaluates it, kept exactly
        ("CN==cmd|' /C calc'!A0", "CN==cmd|' /C calc'!A0"),
        ('CN=a\\,b,O="quoted"\r\nInjected,Row', 'CN=a\\,b,O="quoted"\r\nInjected,Row'),
    ],
)
def test_hostile_subjects_stay_in_their_cell(subject: str, shown: str) -> None:
    data = appendix_csv([make_verdict(subject=subject, issuer=subject, dns_names=(subject,))])
    (row,) = _rows(data)
    assert (row["Subject"], row["Issuer"], row["dNSNames"]) == (shown, shown, shown)
    assert row["Is revoked?"] == "Planned"  # the columns after it did not shift


def test_crtsh_link_list() -> None:
    verdicts = [make_verdict(der_sha256="ab" * 32), make_verdict(der_sha256="0f" * 32)]
    assert crtsh_links(verdicts) == (
        b"https://crt.sh/?sha256=" + b"AB" * 32 + b"\nhttps://crt.sh/?sha256=" + b"0F" * 32 + b"\n"
    )


def test_delay_bounds_actions_findings_and_the_key_group_closure() -> None:
    verdict = make_verdict(
        status=Status.REVOKED_LATE, basis=Basis.OBSERVED, revoked_at_claimed=utc(2020, 7, 5),
        delay=timedelta(hours=3), delay_max=timedelta(hours=9), publish_by=utc(2020, 7, 9),
        basis_text="Revoked late: published late.",
        root_program_actions=("OneCRL blocks it since 2020-07-28T10:00:00Z: x",),
        findings=("certificate_hold: CRL lists it on hold",),
    )  # fmt: skip
    group = make_key_group()
    (row,) = _rows(appendix_csv([verdict], [group]))
    assert row["Verdict basis"] == (
        "revoked_late; observed; delay 0d 03:00:00 to 0d 09:00:00; deadline 2020-07-08T00:00:00Z; "
        "publish-by 2020-07-09T00:00:00Z; Revoked late: published late."
    )
    assert row["Root-program actions"] == "OneCRL blocks it since 2020-07-28T10:00:00Z: x"
    assert row["Findings"] == "certificate_hold: CRL lists it on hold"
    # 2020-07-08 -> 2021-03-31: 266 days
    assert row["Key group closure"] == (
        "closed 2021-03-31T00:00:00Z, 266d 00:00:00 after the earliest deadline 2020-07-08T00:00:00Z"
    )
