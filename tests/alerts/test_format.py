"""Every channel's rendering of hostile certificate text: no ping, link, markup, header or hidden text."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ctwatch.alerts import AlertEvent, Transition
from ctwatch.alerts.format import (
    MAX_DIGEST_CERTIFICATES,
    MAX_FIELD_CHARS,
    MAX_SUBJECT_CHARS,
    email_content,
    email_message,
    escape_markdown,
    escape_slack,
    fields,
    format_delay,
    json_payload,
    markdown_literal,
    markdown_message,
    slack_literal,
    slack_message,
    visible_text,
)
from tests.alerts.events import CERT_SHA256, HOSTILE_SUBJECTS, OTHER_SHA256, digest_event, event, overdue

CRTSH = f"https://crt.sh/?sha256={CERT_SHA256}"
BUG = "https://bugzilla.mozilla.org/show_bug.cgi?id=1649951"
HOSTILE = pytest.mark.parametrize("subject", HOSTILE_SUBJECTS.values(), ids=HOSTILE_SUBJECTS.keys())
# GFM-like: links, autolinks of bare URLs ("linkify"), tables, inline HTML.
MARKDOWN = MarkdownIt("commonmark", {"linkify": True}).enable(["linkify", "table"])
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


class _Tags(HTMLParser):
    def __init__(self, document: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: set[str] = set()
        self.code_texts: list[str] = []
        self._in_code = False
        self.feed(document)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs.update(value or "" for name, value in attrs if name == "href")
        self._in_code = tag == "code"
        if self._in_code:
            self.code_texts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code_texts[-1] += data


def _shown(subject: str) -> str:
    """What every channel must display for the subject: visible, truncated, otherwise verbatim."""
    return visible_text(subject)


@HOSTILE
def test_slack_text_has_no_mention_link_or_formatting_from_the_subject(subject: str) -> None:
    text = slack_message(event(subject=subject))["text"]
    # Slack parses only <...> sequences: the only ones left are the two links ctwatch made.
    assert set(re.findall(r"<[^>]*>", text)) == {f"<{CRTSH}|crt.sh>", f"<{BUG}|Bug>"}
    assert not INVISIBLE.search(text.replace("\n", ""))
    lines = text.split("\n")
    assert len(lines) == 1 + len(fields(event(subject=subject)))
    (subject_line,) = [line for line in lines if line.startswith("• Subject: ")]
    # One code span (no *, _, ~ formatting inside), holding the subject with Slack's entities.
    assert re.fullmatch(r"• Subject: `[^`]*`", subject_line)
    shown = subject_line.removeprefix("• Subject: `").removesuffix("`")
    assert html.unescape(shown) == _shown(subject).replace("`", "\u02cb")


def test_slack_entities_in_the_subject_are_shown_not_decoded() -> None:
    assert escape_slack("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"
    assert slack_literal("a`b") == "`a\u02cbb`"


def test_slack_webhook_body_turns_off_unfurling() -> None:
    body = slack_message(event(Transition.NEW_INCIDENT, der_sha256=None))
    assert body["unfurl_links"] is False
    assert body["unfurl_media"] is False
    assert body["text"].startswith("*New incident*: `SECOM Trust Systems CO., LTD.`")
    assert "crt.sh" not in body["text"]  # no certificate, no certificate link


@given(st.text())
def test_slack_literal_is_always_one_inert_code_span(text: str) -> None:
    rendered = slack_literal(text)
    assert rendered.count("`") == 2
    assert "<" not in rendered
    assert ">" not in rendered
    assert re.fullmatch(r"[^&]*(&(amp|lt|gt);[^&]*)*", rendered)


@HOSTILE
def test_email_headers_cannot_be_injected_and_html_carries_no_markup_from_the_subject(subject: str) -> None:
    message = email_message(
        event(subject=subject, ca_owner=subject),
        from_addr="ctwatch@example.org",
        to_addrs=["staff@example.org"],
    )
    parsed = message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    assert sorted(parsed.keys()) == sorted(
        ["Subject", "From", "To", "X-Ctwatch-Alert-Key", "MIME-Version", "Content-Type"]
    )
    assert parsed["To"] == "staff@example.org"
    subject_header = str(parsed["Subject"])
    assert "\r" not in subject_header
    assert "\n" not in subject_header
    assert len(subject_header) <= MAX_SUBJECT_CHARS
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    assert f"Subject: {_shown(subject)}" in text_part.get_content().splitlines()
    tags = _Tags(html_part.get_content())
    assert tags.tags <= {"html", "body", "p", "strong", "ul", "li", "code", "a"}
    assert tags.hrefs == {CRTSH, BUG}
    assert _shown(subject) in tags.code_texts


def test_email_subject_says_what_happened_and_to_whom() -> None:
    content = email_content(event())
    assert content.subject == "[ctwatch] Revocation deadline breached: SECOM Trust Systems CO., LTD."
    assert "Overdue by: 1 d 1 h\n" in content.text
    assert "Deadline: 2020-07-08 00:00 UTC\n" in content.text


@HOSTILE
def test_markdown_renders_the_subject_verbatim_without_links_or_markup(subject: str) -> None:
    rendered = MARKDOWN.render(markdown_message(event(subject=subject, evidence=subject)))
    tags = _Tags(rendered)
    assert tags.tags <= {"p", "strong", "ul", "li", "code", "a"}
    assert tags.hrefs == {CRTSH, BUG}
    assert _shown(subject) in tags.code_texts
    # Prose escaping: the evidence line shows the same text, as plain text.
    assert f"<li>Evidence: {html.escape(_shown(subject), quote=False)}</li>" in rendered.replace(
        "&quot;", '"'
    )


@given(st.text())
def test_escaped_markdown_prose_renders_as_exactly_its_text(text: str) -> None:
    rendered = MARKDOWN.renderInline(f"x {escape_markdown(text)} y")
    assert "<" not in rendered
    assert html.unescape(rendered) == f"x {visible_text(text)} y"


@given(st.text(min_size=1))
def test_a_markdown_literal_renders_as_exactly_one_code_span_of_its_text(text: str) -> None:
    rendered = MARKDOWN.renderInline(markdown_literal(text))
    assert rendered == f"<code>{html.escape(visible_text(text), quote=False)}</code>".replace('"', "&quot;")


@HOSTILE
def test_json_payload_keeps_raw_values(subject: str) -> None:
    payload = json_payload(event(subject=subject))
    decoded = json.loads(json.dumps(payload))
    assert decoded["event"]["facts"]["subject"] == subject
    assert decoded["event"]["transition"] == "deadline_breached"
    assert decoded["crtsh_url"] == CRTSH
    assert decoded["schema"] == "ctwatch.alert/3"


def test_long_and_hidden_text_is_truncated_and_made_visible() -> None:
    shown = visible_text("CN=" + "A" * 20_000)
    assert len(shown) == MAX_FIELD_CHARS
    assert shown.endswith("…")
    assert visible_text("a\x00b\r\nc\u202ed") == "a\\u0000b\\u000d\\u000ac\\u202ed"
    assert visible_text("Zürich 東京 ü") == "Zürich 東京 ü"  # ordinary text is untouched


@pytest.mark.parametrize(
    ("delay", "shown"),
    [
        (timedelta(0), "0 min"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=24), "1 d"),
        (timedelta(days=12, hours=3, minutes=5, seconds=59), "12 d 3 h 5 min"),
        (timedelta(hours=-2), "early by 2 h"),
    ],
)
def test_delays_read_as_days_hours_minutes(delay: timedelta, shown: str) -> None:
    assert format_delay(delay) == shown


# -- still_overdue digests ----------------------------------------------------------------------

OTHER_CRTSH = f"https://crt.sh/?sha256={OTHER_SHA256}"


def _two_certificate_digest(subject: str) -> AlertEvent:
    """A live digest of the day 2020-07-09: the hostile subject overdue 3 d 4 h, a second
    certificate (no subject or serial known) 1 d 1 h."""
    return digest_event(
        overdue(CERT_SHA256, subject=subject, serial_hex="1a", delay=timedelta(days=3, hours=4)),
        overdue(OTHER_SHA256, subject=None, serial_hex=None),
    )


def test_a_digest_lists_its_certificates_most_overdue_first() -> None:
    content = email_content(_two_certificate_digest("CN=JPRS"))
    assert content.subject == "[ctwatch] Still overdue (2 certificates): SECOM Trust Systems CO., LTD."
    assert content.text.endswith(
        "\nOverdue certificates, most overdue first:\n"
        "1. Overdue by: 3 d 4 h; Deadline: 2020-07-08 00:00 UTC; Subject: CN=JPRS; Serial: 1a; "
        f"crt.sh: {CRTSH}\n"
        f"2. Overdue by: 1 d 1 h; Deadline: 2020-07-08 00:00 UTC; crt.sh: {OTHER_CRTSH}\n"
    )
    assert "Digest period: 1 d from 2020-07-09 00:00 UTC\n" in content.text
    assert "Subject:" not in content.text.split("Overdue certificates")[0]  # no certificate of its own
    one = email_content(digest_event(period=None))
    assert one.subject.startswith("[ctwatch] [historical] Still overdue (1 certificate): ")
    assert "Digest period" not in one.text  # a replayed digest covers its evaluation: "As of" says when


@HOSTILE
def test_a_digest_shows_hostile_subjects_inert_in_every_channel(subject: str) -> None:
    digest = _two_certificate_digest(subject)
    shown = _shown(subject)

    slack_lines = slack_message(digest)["text"].split("\n")
    assert len(slack_lines) == 1 + len(fields(digest)) + 1 + 2  # headline, fields, title, two certificates
    links = set(re.findall(r"<[^>]*>", "\n".join(slack_lines)))
    assert links == {f"<{CRTSH}|crt.sh>", f"<{OTHER_CRTSH}|crt.sh>", f"<{BUG}|Bug>"}
    (first,) = [line for line in slack_lines if line.startswith("1. ")]
    subject_span = re.search(r"Subject: `([^`]*)`; Serial: `1a`", first)
    assert subject_span is not None
    assert html.unescape(subject_span.group(1)) == shown.replace("`", "\u02cb")

    text = email_content(digest).text
    assert f"1. Overdue by: 3 d 4 h; Deadline: 2020-07-08 00:00 UTC; Subject: {shown}; Serial: 1a; " in text
    tags = _Tags(email_content(digest).html)
    assert tags.tags <= {"html", "body", "p", "strong", "ul", "ol", "li", "code", "a"}
    assert tags.hrefs == {CRTSH, OTHER_CRTSH, BUG}
    assert shown in tags.code_texts

    rendered = MARKDOWN.render(markdown_message(digest))
    tags = _Tags(rendered)
    assert tags.tags <= {"p", "strong", "ul", "ol", "li", "code", "a"}
    assert tags.hrefs == {CRTSH, OTHER_CRTSH, BUG}
    assert shown in tags.code_texts
    assert rendered.count("<li>") == len(fields(digest)) + 2


def test_a_long_digest_lists_the_first_fifty_and_counts_the_rest() -> None:
    assert MAX_DIGEST_CERTIFICATES == 50
    # 60 certificates overdue 60 h, 59 h, ... 1 h: the 50 most overdue are listed, down to 11 h.
    certificates = [
        overdue(f"{n:064x}", subject=f"CN=CA {n}", delay=timedelta(hours=n)) for n in range(60, 0, -1)
    ]
    digest = digest_event(*certificates)
    text = email_content(digest).text
    assert "50. Overdue by: 11 h; " in text
    assert "51. " not in text
    assert "CN=CA 10;" not in text
    assert text.endswith("… and 10 more\n")
    assert slack_message(digest)["text"].endswith("\n… and 10 more")
    markdown = MARKDOWN.render(markdown_message(digest))
    assert markdown.count("<li>") == len(fields(digest)) + 50
    assert markdown.endswith("<p>… and 10 more</p>\n")  # its own paragraph, not part of the 50th item
    assert email_content(digest).html.endswith("<p>… and 10 more</p></body></html>")
    payload = json_payload(digest)
    assert len(payload["event"]["overdue_digest"]["certificates"]) == 60  # the webhook's event lists all
    assert payload["crtsh_url"] is None
