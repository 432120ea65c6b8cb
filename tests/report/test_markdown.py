"""incident.md: certificate text escaped for Markdown and GFM tables; counts and rhythm stated."""

from __future__ import annotations

import re
from datetime import timedelta

from ctwatch.evaluate import Basis, Status
from ctwatch.report.bugs import BugSighting, LinkedBug, Silence
from ctwatch.report.markdown import ReportInputs, incident_markdown
from ctwatch.report.progress import counts, delays, monthly_progress
from tests.evaluate.conftest import utc
from tests.report.conftest import make_incident, make_verdict

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _markdown(*verdicts, **incident_changes) -> str:  # type: ignore[no-untyped-def]
    incident = make_incident(**incident_changes)
    as_of = utc(2020, 9, 1)
    return incident_markdown(
        ReportInputs(
            incident=incident, verdicts=verdicts, key_groups=(), bugs=(),
            months=tuple(monthly_progress(incident, verdicts, as_of)), counts=counts(verdicts),
            delays=delays(verdicts), as_of=as_of, evaluated_as_of=as_of, certificate_list_file="appendix.csv",
        )
    )  # fmt: skip


def test_hostile_subject_is_a_literal_in_its_table_cell() -> None:
    hostile = "CN=<!channel> | *x* [link](http://evil.example) `tick`\nline"
    text = _markdown(
        make_verdict(
            subject=hostile, status=Status.REVOKED_ON_TIME, basis=Basis.OBSERVED,
            revoked_at_claimed=utc(2020, 7, 7),
        ),
        incident_id="x:Evil | *Owner* <script>",
    )  # fmt: skip
    (line,) = [line for line in text.splitlines() if "channel" in line]
    # two cells (time, event): three unescaped pipes, the subject's own pipe escaped
    assert len(_UNESCAPED_PIPE.findall(line)) == 3
    assert "``CN=<!channel> \\| *x* [link](http://evil.example) `tick`\\u000aline``" in line
    assert "\n" not in line
    # the incident id in the heading is a code span, the owner prose is backslash-escaped
    assert text.startswith("# Incident `x:Evil | *Owner* <script>`\n")
    assert "CA owner: SECOM Trust Systems" in text


def test_counts_delays_and_update_items() -> None:
    text = _markdown(
        make_verdict(der_sha256="01" * 32, status=Status.REVOKED_LATE, delay=timedelta(days=3),
                     revoked_at_claimed=utc(2020, 7, 11)),
        make_verdict(der_sha256="02" * 32, status=Status.REVOKED_LATE, delay=timedelta(days=10),
                     revoked_at_claimed=utc(2020, 7, 18)),
        make_verdict(der_sha256="03" * 32, status=Status.REVOKED_LATE, delay=timedelta(days=40),
                     revoked_at_claimed=utc(2020, 8, 17)),
        make_verdict(der_sha256="04" * 32, status=Status.OVERDUE, delay=timedelta(days=55),
                     planned_revocation_at=utc(2020, 12, 1)),
        make_verdict(der_sha256="05" * 32, status=Status.EXPIRED_UNREVOKED, not_after=utc(2020, 8, 1)),
    )  # fmt: skip
    assert "- Number revoked: 3\n" in text
    assert "- Number not yet revoked: 1\n" in text
    assert "- Number planned for revocation that have expired: 1\n" in text
    assert "revocations will be completed: 2020-12-01 00:00 UTC (latest planned date the CA gave)" in text
    assert "- Revoked late: 3; maximum 40 d, median 10 d\n" in text
    assert "- Overdue (so far): 1; maximum 55 d, median 55 d\n" in text
    # month, state at, certificates, revoked (claimed), revoked (observed), remaining, expired;
    # the expired one's notAfter is 2020-08-01 00:00: expired at the end of July
    assert "| 2020-07 | 2020-08-01 00:00 UTC | 5 | 2 | 0 | 2 | 1 |" in text
    assert "| 2020-08 | 2020-09-01 00:00 UTC | 5 | 3 | 0 | 1 | 1 |" in text
    assert "No bug linked." in text


def test_estimate_without_a_plan_says_so() -> None:
    text = _markdown(make_verdict(status=Status.OVERDUE, delay=timedelta(days=1)))
    assert "completed: not given: no planned date for 1 of 1 certificate(s)" in text


def test_silences_count_only_open_bugs_unchanged_over_seven_days() -> None:
    def seen(day: int, changed_day: int, status: str = "ASSIGNED") -> BugSighting:
        return BugSighting(utc(2020, 8, day), status, None, utc(2020, 8, changed_day))

    bug = LinkedBug(
        bug_id=1, summary="x", creation_time=utc(2020, 7, 15), how_linked="test",
        sightings=(seen(8, 1), seen(9, 1), seen(12, 1), seen(13, 12), seen(30, 1, "RESOLVED")),
    )  # fmt: skip
    # 08-08 is exactly 7 days after the change (kept); 08-09 and 08-12 are the same silence
    assert bug.silences() == [Silence(utc(2020, 8, 1), utc(2020, 8, 12))]
