"""When an incident's clock starts: the earliest demonstrable awareness of the CA by the as-of.

Candidates, each only with evidence recorded by the as-of:

* a declared incident's `clock_start` (an instant: the public disclosure it stands for);
* the filing of a bug the incident lists explicitly (`bugs`), even before the declared start;
* a certificate problem report ctwatch staff sent to the CA owner (about the rule or a member);
* for an incident ctwatch detected itself (nothing declared), a bug linked automatically (same CA
  owner, revocation-delay whiteboard) when it names a member of the incident (SHA-256, crt.sh ID,
  or issuer and serial: the clock starts when the text naming it was written) or was filed after
  ctwatch first detected the problem. An automatically linked bug never moves a declared clock:
  a CA owner's other delayed revocations are not this incident.

The earliest candidate wins.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ctwatch.evaluate.config import DeclaredIncident
from ctwatch.evaluate.links import AUTOMATIC, CONFIGURED, bug_link
from ctwatch.evaluate.mentions import CertificateMention
from ctwatch.timeutil import utc_or_none

DECLARED: Final = "public_disclosure"
BUG_FILING: Final = "bugzilla_filing"
BUG_MENTION: Final = "bugzilla_mention"
PROBLEM_REPORT: Final = "problem_report"


@dataclass(frozen=True, slots=True)
class Clock:
    start: datetime
    source: str  # DECLARED, BUG_FILING, BUG_MENTION, PROBLEM_REPORT
    detail: str


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def automatic_bug_ids(bugs: Sequence[Mapping[str, Any]], owner: str) -> list[int]:
    """The bugs linked to `owner` automatically (no configuration): candidates a detected incident
    may start its clock from, if they name a member or were filed after ctwatch's detection."""
    return [
        int(bug["bug_id"])
        for bug in bugs
        if bug_link(
            int(bug["bug_id"]),
            bug["ca_owner"],
            bool(bug["revocation_delay_tags"]),
            owner=owner,
            configured_ids=(),
        )
        == AUTOMATIC
    ]


def start_clock(  # noqa: PLR0917 - one call site, each argument a different evidence kind
    declared: DeclaredIncident | None,
    owner: str,
    rule_id: str,
    member_ders: Collection[str],
    bugs: Sequence[Mapping[str, Any]],
    mentions: Sequence[CertificateMention],
    reports: Sequence[Mapping[str, Any]],
    first_detected: datetime | None,
    as_of: datetime,
) -> Clock | None:
    """The clock of one incident as of `as_of`, or None when nothing has started it yet."""
    candidates: list[Clock] = []
    if declared is not None:
        if declared.clock_start <= as_of:
            candidates.append(Clock(declared.clock_start, DECLARED, declared.clock_source))
        for bug in bugs:
            how = bug_link(
                int(bug["bug_id"]), bug["ca_owner"], bool(bug["revocation_delay_tags"]),
                owner=owner, configured_ids=declared.bug_ids,
            )  # fmt: skip
            if how == CONFIGURED:
                created = utc_or_none(bug["creation_time"])
                assert created is not None  # NOT NULL column
                candidates.append(
                    Clock(created, BUG_FILING, f"Bugzilla {bug['bug_id']}: {bug['summary']} ({how})")
                )
    else:
        candidates += _automatic_bug_clocks(owner, bugs, mentions, member_ders, first_detected)
    for report in reports:
        if report["ca_owner"] != owner or report["rule_id"] not in (None, rule_id):
            continue
        if report["der_sha256"] is not None and report["der_sha256"] not in member_ders:
            continue
        sent = utc_or_none(report["sent_at"])
        assert sent is not None  # NOT NULL column
        link = f" {report['link']}" if report["link"] else ""
        candidates.append(
            Clock(
                sent, PROBLEM_REPORT, f"problem report {report['report_id']} to {report['recipient']}{link}"
            )
        )
    return min(candidates, key=lambda c: (c.start, c.source)) if candidates else None


def _automatic_bug_clocks(
    owner: str,
    bugs: Sequence[Mapping[str, Any]],
    mentions: Sequence[CertificateMention],
    member_ders: Collection[str],
    first_detected: datetime | None,
) -> list[Clock]:
    automatic = set(automatic_bug_ids(bugs, owner))
    by_id = {int(bug["bug_id"]): bug for bug in bugs}
    clocks: list[Clock] = []
    for mention in mentions:
        if mention.bug_id not in automatic or mention.der_sha256 not in member_ders:
            continue
        bug = by_id[mention.bug_id]
        clocks.append(
            Clock(
                mention.mentioned_at,
                BUG_MENTION,
                f"Bugzilla {mention.bug_id}: {bug['summary']} (names {mention.der_sha256[:16]}… by "
                f"{mention.how} in its {mention.where}, {_t(mention.mentioned_at)}; {AUTOMATIC})",
            )
        )
    if first_detected is not None:
        for bug_id in sorted(automatic):
            bug = by_id[bug_id]
            created = utc_or_none(bug["creation_time"])
            assert created is not None  # NOT NULL column
            if created > first_detected:
                clocks.append(
                    Clock(
                        created,
                        BUG_FILING,
                        f"Bugzilla {bug_id}: {bug['summary']} (filed after ctwatch first detected the "
                        f"problem {_t(first_detected)}; {AUTOMATIC})",
                    )
                )
    return clocks
