"""Render an alert for each channel. Certificate text is attacker-controlled: escape per channel.

Every renderer starts from `visible_text`: truncated to a sane length, and every control,
format (bidi override, zero-width) and line/paragraph separator character shown as a `\\uXXXX`
escape, so no field can add a line, a header, or reorder what is displayed. Then:

- Slack mrkdwn: `&`, `<`, `>` as entities (Slack's own rule: no `<!channel>`, `<@U…>` or
  `<url|label>` survives) and third-party text in a code span, where `*`, `_`, `~` do not format
  (a backtick, which would end the span, becomes U+02CB).
- E-mail: plain text as is; HTML through `html.escape`; the Subject has no CR/LF by construction.
- Markdown: third-party text in a code span (no links, HTML or emphasis inside one in CommonMark
  or GFM), prose through `escape_markdown` (every ASCII punctuation backslash-escaped).
- JSON: raw values; the JSON encoding is the escape.

A still_overdue digest lists its certificates after the fields, one line each, most overdue first,
up to `MAX_DIGEST_CERTIFICATES` (the JSON webhook's event holds every one), each value escaped as
the same field of a single-certificate alert.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from enum import Enum
from typing import Any

import msgspec

from ctwatch.alerts.model import PLAN_TRANSITIONS, AlertEvent, Transition

MAX_FIELD_CHARS = 300  # a DN can be long, but a message line should not be
MAX_SUBJECT_CHARS = 160  # e-mail Subject
MAX_DIGEST_CERTIFICATES = 50  # lines of a digest message; more are counted, not listed
DIGEST_TITLE = "Overdue certificates, most overdue first"
JSON_SCHEMA = "ctwatch.alert/3"
CRTSH_URL = "https://crt.sh/?sha256={der_sha256}"
ELLIPSIS = "…"
# Unicode categories that change layout or are invisible: controls (Cc, incl. NUL, CR, LF, TAB),
# format characters (Cf: bidi overrides like U+202E, zero-width), separators, lone surrogates.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Links we render as links: http(s), a host, no whitespace or characters Slack/Markdown treat specially.
_SAFE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~!$&'*+,;=:@%/?#-]*)?")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

_HEADLINES = {
    Transition.NEW_INCIDENT: "New incident",
    Transition.CLOCK_NOT_STARTED: "Clock not started: notify the CA or declare the clock start",
    Transition.DEADLINE_IN_24H: "Revocation deadline in 24 hours",
    Transition.DEADLINE_BREACHED: "Revocation deadline breached",
    Transition.REVOKED_LATE: "Revoked late",
    Transition.STILL_OVERDUE: "Still overdue",
    Transition.SOURCES_DISAGREE: "Revocation sources disagree",
    Transition.SOURCE_DOWN: "Source down: ctwatch cannot see it",
    Transition.SOURCE_RECOVERED: "Source recovered",
    Transition.PLAN_BEHIND: "Behind the CA's own plan",
    Transition.ISSUED_AFTER_STOP: "Issued after the plan's stop date",
}


class Kind(Enum):
    PROSE = "prose"  # short text from configuration or CCADB: escaped inline
    LITERAL = "literal"  # certificate text and identifiers: shown verbatim in a code span
    TIME = "time"  # made by us, no escaping needed beyond the usual
    LINK = "link"  # a URL: a link when it passes _SAFE_URL, else shown as a literal


@dataclass(frozen=True, slots=True)
class Field:
    label: str
    value: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class EmailContent:
    subject: str  # one line, no CR/LF
    text: str
    html: str


def visible_text(text: str, *, max_chars: int = MAX_FIELD_CHARS) -> str:
    """`text` truncated to `max_chars` characters, with hidden and layout characters made visible."""
    if len(text) > max_chars:
        text = text[: max_chars - 1] + ELLIPSIS
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text
    )


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_delay(delay: timedelta) -> str:
    """A delay as days, hours and minutes, e.g. '12 d 3 h 5 min' (negative: 'early by …')."""
    if delay < timedelta(0):
        return f"early by {format_delay(-delay)}"
    minutes = int(delay.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not parts:
        parts.append(f"{minutes} min")
    return " ".join(parts)


def headline(event: AlertEvent) -> str:
    """What happened, e.g. 'Still overdue (3 certificates)'; plain text made only by us."""
    text = _HEADLINES[event.transition]
    if event.overdue_digest is not None:
        count = len(event.overdue_digest.certificates)
        text = f"{text} ({count} certificate{'' if count == 1 else 's'})"
    if event.disagreement is not None:
        text = f"{text} ({event.disagreement})"
    return f"[historical] {text}" if event.historical else text


def concerns(event: AlertEvent) -> str:
    """Whom or what the alert is about: the CA owner, or the source."""
    facts = event.facts
    return facts.ca_owner or " ".join(filter(None, (facts.source, facts.source_target)))


def fields(event: AlertEvent) -> list[Field]:
    """The facts of an alert in display order, each with how it must be escaped."""
    facts = event.facts
    delay_label = "Revoked late by" if event.transition is Transition.REVOKED_LATE else "Overdue by"
    deadline_label = "Due" if event.transition in PLAN_TRANSITIONS else "Deadline"
    candidates: list[tuple[str, str | None, Kind]] = [
        ("CA owner", facts.ca_owner, Kind.PROSE),
        ("Subordinate CA owner", facts.subordinate_ca_owner, Kind.PROSE),
        ("Incident", event.incident_id, Kind.LITERAL),
        ("Rule", facts.rule_id, Kind.LITERAL),
        ("Subject", facts.subject, Kind.LITERAL),
        ("Issuer", facts.issuer, Kind.LITERAL),
        ("Serial", facts.serial_hex, Kind.LITERAL),
        ("SHA-256", event.der_sha256, Kind.LITERAL),
        ("Clock started", _time_or_none(facts.clock_started_at), Kind.TIME),
        ("Clock source", facts.clock_source, Kind.PROSE),
        (deadline_label, _time_or_none(facts.deadline), Kind.TIME),
        (delay_label, None if facts.delay is None else format_delay(facts.delay), Kind.TIME),
        ("Source", facts.source, Kind.LITERAL),
        ("Target", facts.source_target, Kind.LITERAL),
        ("Failing since", _time_or_none(facts.failing_since), Kind.TIME),
        ("Recovered at", _time_or_none(facts.recovered_at), Kind.TIME),
        ("Evidence", facts.evidence, Kind.PROSE),
        ("As of", format_time(event.occurred_at), Kind.TIME),
        ("Digest period", _period_or_none(event), Kind.TIME),
        ("crt.sh", event.der_sha256 and CRTSH_URL.format(der_sha256=event.der_sha256), Kind.LINK),
        ("Bug", facts.bug_url, Kind.LINK),
    ]
    return [Field(label, value, kind) for label, value, kind in candidates if value]


def digest_rows(event: AlertEvent) -> tuple[list[list[Field]], int]:
    """The certificates a digest message lists, each as its fields, and how many it leaves out."""
    if event.overdue_digest is None:
        return [], 0
    certificates = event.overdue_digest.certificates
    rows = []
    for certificate in certificates[:MAX_DIGEST_CERTIFICATES]:
        candidates: list[tuple[str, str | None, Kind]] = [
            ("Overdue by", format_delay(certificate.delay), Kind.TIME),
            ("Deadline", format_time(certificate.deadline), Kind.TIME),
            ("Subject", certificate.subject, Kind.LITERAL),
            ("Serial", certificate.serial_hex, Kind.LITERAL),
            ("crt.sh", CRTSH_URL.format(der_sha256=certificate.der_sha256), Kind.LINK),
        ]
        rows.append([Field(label, value, kind) for label, value, kind in candidates if value])
    return rows, max(0, len(certificates) - MAX_DIGEST_CERTIFICATES)


def _digest_lines(event: AlertEvent, labelled: Callable[[Field], str]) -> tuple[list[str], str | None]:
    """The digest's certificates as numbered lines ('1. Overdue by: …; Deadline: …', each field
    rendered by the channel's `labelled`), and the line counting those left out, if any."""
    rows, left_out = digest_rows(event)
    lines = [
        f"{number}. " + "; ".join(labelled(field) for field in row)
        for number, row in enumerate(rows, start=1)
    ]
    return lines, f"{ELLIPSIS} and {left_out} more" if left_out else None


def _time_or_none(value: datetime | None) -> str | None:
    return None if value is None else format_time(value)


def _period_or_none(event: AlertEvent) -> str | None:
    digest = event.overdue_digest
    if digest is None or digest.period is None:
        return None  # a historical digest covers its evaluation: "As of" says when
    return f"{format_delay(digest.period)} from {format_time(digest.period_start)}"


# --- Slack -------------------------------------------------------------------------------------


def escape_slack(text: str) -> str:
    """Slack's control characters as entities: `&`, `<`, `>` (after making hidden characters visible)."""
    return visible_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_literal(text: str) -> str:
    """Text shown verbatim in Slack: escaped, in a code span (no bold, italics, strike or links)."""
    return "`" + escape_slack(text).replace("`", "\u02cb") + "`"


def slack_message(event: AlertEvent) -> dict[str, Any]:
    """The JSON body for a Slack incoming webhook."""
    lines = [f"*{escape_slack(headline(event))}*: {slack_literal(concerns(event))}"]
    for field in fields(event):
        lines.append(f"• {field.label}: {_slack_value(field)}")
    digest, more = _digest_lines(event, lambda field: f"{field.label}: {_slack_value(field)}")
    if digest:
        lines += [f"*{escape_slack(DIGEST_TITLE)}*", *digest]
    if more:
        lines.append(more)
    return {"text": "\n".join(lines), "mrkdwn": True, "unfurl_links": False, "unfurl_media": False}


def _slack_value(field: Field) -> str:
    if field.kind is Kind.TIME:
        return escape_slack(field.value)
    if field.kind is Kind.LINK and _SAFE_URL.fullmatch(field.value):
        return f"<{escape_slack(field.value)}|{field.label}>"
    return slack_literal(field.value)


# --- E-mail ------------------------------------------------------------------------------------


def email_content(event: AlertEvent) -> EmailContent:
    """Subject, plain-text and HTML body of the alert e-mail."""
    subject = visible_text(f"[ctwatch] {headline(event)}: {concerns(event)}", max_chars=MAX_SUBJECT_CHARS)
    text_lines = [headline(event), ""]
    html_items = []
    for field in fields(event):
        text_lines.append(f"{field.label}: {visible_text(field.value)}")
        html_items.append(f"<li>{html.escape(field.label)}: {_html_value(field)}</li>")
    body_html = (
        f"<html><body><p><strong>{html.escape(visible_text(headline(event)))}</strong></p>"
        f"<ul>{''.join(html_items)}</ul>{_html_digest(event)}</body></html>"
    )
    digest, more = _digest_lines(event, lambda field: f"{field.label}: {visible_text(field.value)}")
    if digest:
        text_lines += ["", f"{DIGEST_TITLE}:", *digest]
    if more:
        text_lines.append(more)
    return EmailContent(subject=subject, text="\n".join(text_lines) + "\n", html=body_html)


def email_message(event: AlertEvent, *, from_addr: str, to_addrs: list[str]) -> EmailMessage:
    """A multipart/alternative message (plain text and HTML) ready for smtplib's send_message."""
    content = email_content(event)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = content.subject
    message["From"] = from_addr
    message["To"] = ", ".join(to_addrs)
    message["X-Ctwatch-Alert-Key"] = visible_text(event.key, max_chars=400)
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


def _html_digest(event: AlertEvent) -> str:
    rows, left_out = digest_rows(event)
    if not rows:
        return ""
    items = "".join(
        "<li>" + "; ".join(f"{html.escape(field.label)}: {_html_value(field)}" for field in row) + "</li>"
        for row in rows
    )
    more = f"<p>{ELLIPSIS} and {left_out} more</p>" if left_out else ""
    return f"<p><strong>{html.escape(DIGEST_TITLE)}</strong></p><ol>{items}</ol>{more}"


def _html_value(field: Field) -> str:
    text = html.escape(visible_text(field.value), quote=True)
    if field.kind is Kind.LINK and _SAFE_URL.fullmatch(field.value):
        return f'<a href="{html.escape(field.value, quote=True)}">{text}</a>'
    if field.kind is Kind.LITERAL:
        return f"<code>{text}</code>"
    return text


# --- Markdown ----------------------------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """Prose for Markdown: every ASCII punctuation character backslash-escaped (CommonMark §2.4)."""
    return "".join(f"\\{ch}" if ch in _ASCII_PUNCTUATION else ch for ch in visible_text(text))


def markdown_literal(text: str) -> str:
    """Text shown verbatim in Markdown: a code span fenced by more backticks than it contains."""
    shown = visible_text(text)
    longest_run = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest_run + 1)
    # CommonMark strips one space from each side of a span (unless it is all spaces): pad text
    # that starts or ends with a backtick or a space so exactly the padding is stripped.
    edges = ("`", " ")
    needs_padding = shown.strip(" ") != "" and (shown.startswith(edges) or shown.endswith(edges))
    padded = f" {shown} " if needs_padding else shown
    return f"{fence}{padded}{fence}"


def markdown_message(event: AlertEvent) -> str:
    """The alert as Markdown (for the JSON webhook and reports)."""
    lines = [f"**{escape_markdown(headline(event))}**: {escape_markdown(concerns(event))}", ""]
    for field in fields(event):
        lines.append(f"- {escape_markdown(field.label)}: {_markdown_value(field)}")
    digest, more = _digest_lines(
        event, lambda field: f"{escape_markdown(field.label)}: {_markdown_value(field)}"
    )
    if digest:
        lines += ["", f"**{escape_markdown(DIGEST_TITLE)}**", "", *digest]
    if more:
        lines += ["", more]  # a blank line first, or it continues the last item
    return "\n".join(lines) + "\n"


def _markdown_value(field: Field) -> str:
    if field.kind is Kind.LINK and _SAFE_URL.fullmatch(field.value):
        return f"<{field.value}>"  # an autolink: _SAFE_URL admits no '<', '>' or whitespace
    if field.kind in (Kind.PROSE, Kind.TIME):
        return escape_markdown(field.value)
    return markdown_literal(field.value)


# --- JSON --------------------------------------------------------------------------------------


def json_payload(event: AlertEvent) -> dict[str, Any]:
    """The generic webhook body: structured and raw (JSON encoding is the escape), plus Markdown."""
    payload: dict[str, Any] = {
        "schema": JSON_SCHEMA,
        "key": event.key,
        "headline": headline(event),
        "crtsh_url": event.der_sha256 and CRTSH_URL.format(der_sha256=event.der_sha256),
        "event": msgspec.to_builtins(event),
        "markdown": markdown_message(event),
    }
    return payload
