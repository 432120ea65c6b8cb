"""The CCADB incident-report appendix (Incident Reporting Guidelines v3.2) for one incident.

Columns and order are the IRG's, then ours on the right (the IRG allows extra columns only
there). "Is revoked?" per verdict status (the IRG names the values, not which status takes which):

| status                 | Is revoked? | Revocation date                 |
|------------------------|-------------|---------------------------------|
| revoked_on_time        | Yes         | claimed revocation time         |
| revoked_before_start   | Yes         | claimed revocation time         |
| revoked_late           | Delayed     | claimed revocation time         |
| overdue                | Delayed     | the CA's planned date, else N/A |
| pending                | Planned     | the CA's planned date, else N/A |
| expired_unrevoked      | N/A         | N/A                             |
| root_program_action    | N/A         | N/A (a root: no revocation clock; Yes with its date if revoked) |
| other_owner_notified   | N/A         | N/A (another CA owner's certificate; Yes with its date if revoked) |
| no_deadline            | N/A         | N/A (no BR window; Yes with its date if revoked) |

An overdue certificate is not revoked and its deadline has passed: that is the delayed revocation
the IRG asks about, whatever the CA plans; a pending one (deadline not yet passed) is planned.
"N/A" for a revocation date also stands for a revocation whose time nobody claimed.

Our columns on the right: ctwatch's first observation of a listing, the verdict (status, basis,
delay and its bounds, deadline and publication deadline, then the basis in words), the evidence,
root-program actions beside the verdict (OneCRL, CRLSet blocks), findings (certificateHold), and
the closure of the certificate's key group.

CSV: RFC 4180 (comma, CRLF, double quotes where needed), UTF-8 without BOM. Cells starting with
`=`, `+`, `-`, `@`, TAB or CR get a leading `'` (OWASP CSV injection) so spreadsheet programs
show certificate text instead of running it as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from ctwatch.evaluate import KeyGroupStatus, Status, Verdict
from ctwatch.evaluate.verdict import format_delay
from ctwatch.timeutil import iso_z

IRG_COLUMNS: Final = (
    "Precertificate SHA-256 hash",
    "Certificate SHA-256 hash",
    "Subject",
    "Issuer",
    "Not before",
    "Not after",
    "Serial # (hex)",
    "dNSNames",
    "Is revoked?",
    "Revocation date",
    "Revocation reason",
)
EXTRA_COLUMNS: Final = (
    "First observed revoked at",
    "Verdict basis",
    "Evidence",
    "Root-program actions",
    "Findings",
    "Key group closure",
)
COLUMNS: Final = IRG_COLUMNS + EXTRA_COLUMNS
# IRG v3.2: at 10,000 certificates or more, a list of crt.sh links replaces the CSV.
CRTSH_LIST_THRESHOLD: Final = 10_000
CRTSH_URL: Final = "https://crt.sh/?sha256={fingerprint}"
NOT_APPLICABLE: Final = "N/A"
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

IS_REVOKED: Final = {
    Status.REVOKED_ON_TIME: "Yes",
    Status.REVOKED_BEFORE_START: "Yes",
    Status.REVOKED_LATE: "Delayed",
    Status.OVERDUE: "Delayed",
    Status.PENDING: "Planned",
    Status.EXPIRED_UNREVOKED: NOT_APPLICABLE,
    Status.ROOT_PROGRAM_ACTION: NOT_APPLICABLE,
    Status.OTHER_OWNER: NOT_APPLICABLE,
    Status.NO_DEADLINE: NOT_APPLICABLE,
}
_REVOKED: Final = frozenset({Status.REVOKED_ON_TIME, Status.REVOKED_BEFORE_START, Status.REVOKED_LATE})
_UNCLOCKED: Final = frozenset({Status.ROOT_PROGRAM_ACTION, Status.OTHER_OWNER, Status.NO_DEADLINE})


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 in UTC to the second, e.g. 2020-07-08T00:00:00Z; N/A when unknown."""
    return NOT_APPLICABLE if moment is None else iso_z(moment)


def is_revoked(verdict: Verdict) -> str:
    """The IRG "Is revoked?" value of a verdict (see the module docstring)."""
    if verdict.status in _UNCLOCKED and verdict.revoked_at_claimed is not None:
        return "Yes"
    return IS_REVOKED[verdict.status]


def revocation_date(verdict: Verdict) -> str:
    """The actual (claimed) revocation time, else the CA's planned date, else N/A."""
    if verdict.status in _REVOKED or verdict.status in _UNCLOCKED:
        return iso_utc(verdict.revoked_at_claimed)
    if verdict.status in (Status.PENDING, Status.OVERDUE):
        return iso_utc(verdict.planned_revocation_at)
    return NOT_APPLICABLE


def revocation_reason(verdict: Verdict, revoked: str) -> str:
    """The reason a revoked certificate's revocation gave ('not stated' when no source said); else N/A."""
    if revoked != "Yes" and verdict.status not in _REVOKED:
        return NOT_APPLICABLE
    return verdict.revocation_reason or "not stated"


def defuse_formula(cell: str) -> str:
    """A cell a spreadsheet would evaluate as a formula, prefixed with `'` (OWASP)."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def verdict_basis(verdict: Verdict) -> str:
    """Status, basis, delay (with its upper bound when not exact), deadlines, then the basis in words,
    e.g. 'revoked_late; observed; delay 3d 00:00:00 to 3d 06:00:00; deadline …; publish-by …; …'."""
    parts = [verdict.status.value, verdict.basis.value]
    if verdict.delay is not None:
        bound = verdict.delay_max
        upper = f" to {format_delay(bound)}" if bound is not None and bound != verdict.delay else ""
        parts.append(f"delay {format_delay(verdict.delay)}{upper}")
    parts.append(f"deadline {iso_utc(verdict.deadline)}")
    if verdict.publish_by is not None:
        parts.append(f"publish-by {iso_utc(verdict.publish_by)}")
    parts.append(verdict.basis_text)
    parts.extend(verdict.bounds)
    return "; ".join(part for part in parts if part)


def key_group_closure(group: KeyGroupStatus | None) -> str:
    """'closed <time>, <delay> after the earliest deadline <time>' (or before it), else the state."""
    if group is None:
        return NOT_APPLICABLE
    if group.closed_at is None:
        return group.status
    closed = f"closed {iso_utc(group.closed_at)}"
    if group.closure_delay is None or group.earliest_deadline is None:
        return closed
    side = "after" if group.closure_delay > timedelta(0) else "before"
    return (
        f"{closed}, {format_delay(abs(group.closure_delay))} {side} the earliest deadline "
        f"{iso_utc(group.earliest_deadline)}"
    )


def row(verdict: Verdict, group: KeyGroupStatus | None = None) -> list[str]:
    """The appendix row of one certificate (`group`: its key group in the incident), formula-defused."""
    revoked = is_revoked(verdict)
    cells = [
        verdict.precert_der_sha256 or NOT_APPLICABLE,
        verdict.der_sha256,
        verdict.subject or "",
        verdict.issuer or "",
        iso_utc(verdict.not_before),
        iso_utc(verdict.not_after),
        verdict.serial_hex or "",
        NOT_APPLICABLE if verdict.dns_names is None else " ".join(verdict.dns_names),
        revoked,
        revocation_date(verdict),
        revocation_reason(verdict, revoked),
        iso_utc(verdict.first_observed_revoked_at),
        verdict_basis(verdict),
        " | ".join(verdict.evidence),
        " | ".join(verdict.root_program_actions),
        " | ".join(verdict.findings),
        key_group_closure(group),
    ]
    return [defuse_formula(cell) for cell in cells]


def appendix_csv(verdicts: Sequence[Verdict], key_groups: Sequence[KeyGroupStatus] = ()) -> bytes:
    """The appendix as CSV bytes: header, then one row per certificate in the given order."""
    groups = {(g.incident_id, g.spki_sha256): g for g in key_groups}
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(
        row(v, groups.get((v.incident_id, v.spki_sha256 or f"no-key:{v.der_sha256}"))) for v in verdicts
    )
    return buffer.getvalue().encode("utf-8")


def crtsh_links(verdicts: Sequence[Verdict]) -> bytes:
    """One `https://crt.sh/?sha256=<FINGERPRINT>` line per certificate (the IRG's large-incident form)."""
    lines = [CRTSH_URL.format(fingerprint=v.der_sha256.upper()) for v in verdicts]
    return "".join(f"{line}\n" for line in lines).encode("ascii")
