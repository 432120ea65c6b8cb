"""incident.md: certificate text escaped for Markdown and GFM tables; counts and rhythm stated."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

from ctwatch.evaluate import Basis, Status
from ctwatch.evidence.bugzilla import BugComment
from ctwatch.report.bugs import BugSighting, Gap, LinkedBug, Rhythm, Unchecked
from ctwatch.report.markdown import ReportInputs, incident_markdown
from ctwatch.report.progress import counts, delays, monthly_progress
from tests.evaluate.conftest import utc
from tests.report.conftest import make_incident, make_key_group, make_verdict

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _markdown(*verdicts, bugs=(), key_groups=(), **incident_changes) -> str:  # type: ignore[no-untyped-def]
    incident = make_incident(**incident_changes)
    as_of = utc(2020, 9, 1)
    return incident_markdown(
        ReportInputs(
            incident=incident, verdicts=verdicts, key_groups=key_groups, bugs=bugs,
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
    (line,) = [line for line in text.splitlines() if "<!channel>" in line]
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


ASSIGNEE = "ca-rep@example.org"
FILED = utc(2020, 8, 1)


def _seen(
    day: int, status: str = "ASSIGNED", *, changed: int | None = None, assignee: str | None = ASSIGNEE
) -> BugSighting:
    return BugSighting(utc(2020, 8, day), status, None, assignee, utc(2020, 8, changed) if changed else None)


def _comment(at: datetime, creator: str = ASSIGNEE, *, private: bool = False) -> BugComment:
    return BugComment(int(at.timestamp()), 1, 0, creator, at, private)


def _bug(*comments: BugComment, sightings: tuple[BugSighting, ...], fetched_day: int | None) -> LinkedBug:
    return LinkedBug(
        bug_id=1, summary="x", creation_time=FILED, how_linked="test", sightings=sightings,
        comments=comments, comments_fetched_at=utc(2020, 8, fetched_day) if fetched_day else None,
    )  # fmt: skip


def _rhythm(bug: LinkedBug) -> Rhythm:
    rhythm = bug.rhythm()
    assert isinstance(rhythm, Rhythm)
    return rhythm


def test_a_gap_of_exactly_seven_days_is_kept_one_minute_more_is_not() -> None:
    on_time = _comment(utc(2020, 8, 8))  # 7 d after the filing
    late = _comment(utc(2020, 8, 15, 0, 1))  # 7 d 1 min after that
    rhythm = _rhythm(_bug(on_time, late, sightings=(_seen(16),), fetched_day=16))
    assert rhythm.updates == (utc(2020, 8, 8), utc(2020, 8, 15, 0, 1))
    assert [(g.start, g.end, g.open_ended, g.too_long) for g in rhythm.gaps] == [
        (FILED, utc(2020, 8, 8), False, False),
        (utc(2020, 8, 8), utc(2020, 8, 15, 0, 1), False, True),
        (utc(2020, 8, 15, 0, 1), utc(2020, 8, 16), True, False),
    ]
    assert not rhythm.kept
    assert rhythm.gaps_over_recommended == 2  # 1 d open-ended: within the recommended 3 days
    assert _rhythm(_bug(on_time, _comment(utc(2020, 8, 15)), sightings=(_seen(16),), fetched_day=16)).kept


def test_only_public_comments_by_the_assignee_are_updates() -> None:
    comments = (
        _comment(utc(2020, 8, 5), "root-program@example.org"),
        _comment(utc(2020, 8, 6), private=True),
        _comment(utc(2020, 8, 10), ASSIGNEE.upper()),  # logins are e-mail addresses: any case
    )
    rhythm = _rhythm(_bug(*comments, sightings=(_seen(11),), fetched_day=11))
    assert rhythm.updates == (utc(2020, 8, 10),)
    assert rhythm.longest == Gap(FILED, utc(2020, 8, 10), open_ended=False)  # 9 d
    assert not rhythm.kept


def test_the_gap_after_the_last_update_counts_only_while_the_bug_is_open() -> None:
    update = _comment(utc(2020, 8, 2))
    closed = _rhythm(_bug(update, sightings=(_seen(5), _seen(20, "RESOLVED")), fetched_day=20))
    assert closed.checked_until == utc(2020, 8, 5)  # the latest search that saw it open
    assert closed.gaps[-1] == Gap(utc(2020, 8, 2), utc(2020, 8, 5), open_ended=True)
    assert closed.kept
    still_open = _rhythm(_bug(update, sightings=(_seen(5), _seen(20)), fetched_day=20))
    assert still_open.gaps[-1] == Gap(utc(2020, 8, 2), utc(2020, 8, 20), open_ended=True)  # 18 d
    assert not still_open.kept


def test_comments_are_known_to_a_later_search_that_saw_no_change() -> None:
    update = _comment(utc(2020, 8, 9))
    sightings = (_seen(10, changed=9), _seen(14, changed=9), _seen(25, changed=21))
    bug = _bug(update, sightings=sightings, fetched_day=10)
    # 08-14 saw no change since the 08-10 fetch; 08-25 saw one (08-21): its comments are unknown
    assert bug.comments_known_until() == utc(2020, 8, 14)
    assert _rhythm(bug).gaps[-1] == Gap(utc(2020, 8, 9), utc(2020, 8, 14), open_ended=True)


def test_a_rhythm_that_cannot_be_checked_says_why() -> None:
    assert _bug(sightings=(_seen(5),), fetched_day=None).rhythm() is Unchecked.NEVER_FETCHED
    assert (
        _bug(sightings=(_seen(5), _seen(6, assignee=None)), fetched_day=6).rhythm() is Unchecked.NO_ASSIGNEE
    )
    assert _bug(sightings=(_seen(5, "RESOLVED"),), fetched_day=5).rhythm() is Unchecked.NEVER_SEEN_OPEN


def test_incident_markdown_states_each_bugs_rhythm() -> None:
    kept = _bug(_comment(FILED), _comment(utc(2020, 8, 8)), sightings=(_seen(9),), fetched_day=9)
    unknown = dataclasses.replace(_bug(sightings=(_seen(9),), fetched_day=None), bug_id=2)
    text = _markdown(bugs=(kept, unknown))
    lines = text.split("## Bugzilla updates (7-day rhythm)\n", 1)[1].split("\n## ", 1)[0].splitlines()
    seen = "x (filed 2020-08-01 00:00 UTC, ASSIGNED as of 2020-08-09 00:00 UTC; test; 1 search(es) seen)"
    assert lines[3:] == [
        f"- Bug 1: {seen}",
        "  - CA updates (public comments by the assignee `ca-rep@example.org`) from the filing to "
        "2020-08-09 00:00 UTC: 2; longest gap 7 d; 7-day rhythm kept; 1 gap(s) over the 3 days the IRG "
        "recommends",
        f"- Bug 2: {seen}",
        "  - 7-day rhythm not checked: ctwatch never fetched the bug's comments",
    ]


def test_key_group_closure_root_program_actions_and_delay_bounds() -> None:
    late = make_verdict(
        status=Status.REVOKED_LATE, revoked_at_claimed=utc(2020, 7, 20), delay=timedelta(days=10),
        delay_max=timedelta(days=10, hours=6), basis=Basis.OBSERVED,
        root_program_actions=("OneCRL blocks it since 2020-07-28T10:00:00Z: x (a root-program action)",),
    )  # fmt: skip
    group = make_key_group(
        members=1, revoked=1, max_delay=timedelta(days=10), key_destroyed_at=utc(2020, 8, 1),
        closed_at=utc(2020, 8, 1), closure_delay=timedelta(days=24),
    )  # fmt: skip
    text = _markdown(late, key_groups=(group,))
    assert "late by 10 d to 10 d 6 h" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| `" + "ee" * 32)]
    assert row.endswith("| `closed` | 2020-08-01 00:00 UTC | 24 d after |")
    assert "## Root-program actions and findings" in text
    (item,) = [line for line in text.splitlines() if "OneCRL blocks it" in line]
    assert item.startswith("- `CN=JPRS Domain Validation Authority")  # certificate text: a code span
    assert r"OneCRL blocks it since 2020\-07\-28T10\:00\:00Z" in item  # prose: escaped
