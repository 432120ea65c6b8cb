"""Alert events for tests: realistic facts (the SECOM / JPRS OCSP-EKU incident) and hostile subjects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ctwatch.alerts import AlertEvent, AlertFacts, OverdueCertificate, OverdueDigest, Transition

AS_OF = datetime(2020, 7, 9, 1, tzinfo=UTC)
DEADLINE = datetime(2020, 7, 8, tzinfo=UTC)
CERT_SHA256 = "0f" * 32
OTHER_SHA256 = "a1" * 32

# Certificate subjects are attacker-controlled: each tries to ping, link, format, inject or hide.
HOSTILE_SUBJECTS = {
    "slack_mentions_and_link": "CN=<!channel> <!here> <@U024BE7LH> *pwn* _x_ ~y~ `z` <https://evil.example|bank>",
    "html_script": "O=</b><script>alert(1)</script><img src=x onerror=alert(2)>",
    "header_injection": "CN=x\r\nBcc: victim@example.org\r\nSubject: pwned",
    "rtl_override": "CN=\u202egpj.exe\u202c legit",
    "nul_and_controls": "CN=a\x00b\x1b[31mred\x7f\u2028c",
    "markdown_link": "CN=[click](https://evil.example) ![i](https://evil.example/i.png) # h | t",
    "backtick_breakout": "CN=`` ` ``<!channel>`",
    "entity_smuggling": "CN=&lt;!channel&gt; &amp; &#60;script&#62;",
    "very_long": "CN=" + "A" * 20_000,
}


def facts(**overrides: object) -> AlertFacts:
    values: dict[str, object] = {
        "ca_owner": "SECOM Trust Systems CO., LTD.",
        "subordinate_ca_owner": "Japan Registry Services Co., Ltd.",
        "rule_id": "e_ca_ocsp_signing_eku_without_nocheck",
        "subject": "CN=JPRS Domain Validation Authority - G3,O=Japan Registry Services Co.\\, Ltd.,C=JP",
        "issuer": "OU=Security Communication RootCA2,O=SECOM Trust Systems CO.\\,LTD.,C=JP",
        "serial_hex": "22b9b16c8bf9b5d6",
        "deadline": DEADLINE,
        "delay": timedelta(days=1, hours=1),
        "clock_started_at": datetime(2020, 7, 1, tzinfo=UTC),
        "clock_source": "public disclosure (mozilla.dev.security.policy, 2020-07-01)",
        "bug_url": "https://bugzilla.mozilla.org/show_bug.cgi?id=1649951",
        "evidence": "not on the CRL of 2020-07-09 00:00 UTC; OCSP good",
    }
    values.update(overrides)
    return AlertFacts(**values)  # type: ignore[arg-type]


def event(
    transition: Transition = Transition.DEADLINE_BREACHED,
    *,
    incident_id: str = "e_ca_ocsp_signing_eku_without_nocheck/SECOM",
    der_sha256: str | None = CERT_SHA256,
    occurred_at: datetime = AS_OF,
    historical: bool = False,
    overdue_digest: OverdueDigest | None = None,
    disagreement: str | None = None,
    **fact_overrides: object,
) -> AlertEvent:
    return AlertEvent(
        incident_id=incident_id,
        der_sha256=der_sha256,
        transition=transition,
        occurred_at=occurred_at,
        historical=historical,
        facts=facts(**fact_overrides),
        overdue_digest=overdue_digest,
        disagreement=disagreement,
    )


def overdue(
    der_sha256: str = CERT_SHA256, *, delay: timedelta = timedelta(days=1, hours=1), **overrides: object
) -> OverdueCertificate:
    values: dict[str, object] = {
        "der_sha256": der_sha256,
        "subject": "CN=JPRS Domain Validation Authority - G3,O=Japan Registry Services Co.\\, Ltd.,C=JP",
        "serial_hex": "22b9b16c8bf9b5d6",
        "deadline": DEADLINE,
        "delay": delay,
    }
    values.update(overrides)
    return OverdueCertificate(**values)  # type: ignore[arg-type]


def digest_event(
    *certificates: OverdueCertificate,
    occurred_at: datetime = AS_OF,
    period: timedelta | None = timedelta(days=1),
    period_start: datetime = datetime(2020, 7, 9, tzinfo=UTC),
) -> AlertEvent:
    """A still_overdue digest as of AS_OF (2020-07-09T01:00Z): live, of the UTC day 2020-07-09 by
    default; `period=None`: historical, of its evaluation."""
    historical = period is None
    return event(
        Transition.STILL_OVERDUE,
        der_sha256=None,
        occurred_at=occurred_at,
        historical=historical,
        overdue_digest=OverdueDigest(
            period_start=occurred_at if historical else period_start,
            period=period,
            certificates=certificates or (overdue(),),
        ),
        subject=None,
        serial_hex=None,
        delay=None,
    )
