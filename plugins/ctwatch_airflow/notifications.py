"""Alert channels behind Airflow connections: Slack incoming webhook, SMTP e-mail, JSON webhook.

A channel is live when its connection exists (UI, `airflow connections add`, or `AIRFLOW_CONN_*`);
the connection ids are ctwatch.toml's `[alerts]` settings, by default:

- `ctwatch_slack` (type slackwebhook): the webhook URL in password (or host + token, as the Slack
  provider reads it); optional extra `timeout`.
- `ctwatch_smtp` (type smtp): host, port, login/password; extras `from_email`, `to` (list or
  comma-separated), `disable_ssl`, `disable_tls`, `timeout` — the Airflow SMTP provider's names.
- `ctwatch_webhook` (type http): the full URL in host; login/password for basic auth; other
  extras become headers (as the HTTP provider reads them). Each POST carries `Idempotency-Key`.

Channels never retry by themselves: the outbox decides what is resent, so a reply lost after
delivery is the only way to a duplicate. Historical alerts go to the replay sink, a JSONL file
under the data folder, never to these channels.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from typing import Any

from airflow.providers.http.hooks.http import HttpHook
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from ctwatch.alerts import Channel, PendingAlert, ReplaySink
from ctwatch.alerts.format import email_message, json_payload, slack_message
from ctwatch_airflow.settings import data_dir, settings

log = logging.getLogger(__name__)

SLACK_CONN_ID = "ctwatch_slack"
SMTP_CONN_ID = "ctwatch_smtp"
WEBHOOK_CONN_ID = "ctwatch_webhook"
SEND_TIMEOUT_S = 30.0
MAX_SUMMARY_CHARS = 200


class SlackWebhookChannel:
    name = "slack"

    def __init__(self, conn_id: str = SLACK_CONN_ID, *, timeout_s: float = SEND_TIMEOUT_S) -> None:
        self.conn_id = conn_id
        self.timeout_s = timeout_s

    def send(self, alert: PendingAlert) -> str:
        # retry_handlers=[]: slack_sdk would otherwise resend after a connection error on its own.
        hook = SlackWebhookHook(
            slack_webhook_conn_id=self.conn_id, timeout=int(self.timeout_s), retry_handlers=[]
        )
        response = hook.send_dict(slack_message(alert.event))  # raises unless HTTP 200
        return f"HTTP {response.status_code} {str(response.body)[:MAX_SUMMARY_CHARS]}"


class SmtpChannel:
    name = "email"

    def __init__(self, conn_id: str = SMTP_CONN_ID) -> None:
        self.conn_id = conn_id

    def send(self, alert: PendingAlert) -> str:
        conn = BaseHook.get_connection(self.conn_id)
        extra: dict[str, Any] = conn.extra_dejson
        from_addr = extra.get("from_email") or conn.login
        recipients = _address_list(extra.get("to"))
        if not from_addr or not recipients:
            raise ValueError(f"connection {self.conn_id!r} needs extras 'from_email' and 'to'")
        message = email_message(alert.event, from_addr=from_addr, to_addrs=recipients)
        timeout_s = float(extra.get("timeout", SEND_TIMEOUT_S))
        use_ssl = not _flag(extra.get("disable_ssl"))
        client: smtplib.SMTP = (
            smtplib.SMTP_SSL(
                conn.host or "", conn.port or 0, timeout=timeout_s, context=ssl.create_default_context()
            )
            if use_ssl
            else smtplib.SMTP(conn.host or "", conn.port or 0, timeout=timeout_s)
        )
        with client:
            if not use_ssl and not _flag(extra.get("disable_tls")):
                client.starttls(context=ssl.create_default_context())
            if conn.login and conn.password:
                client.login(conn.login, conn.password)
            refused = client.send_message(message)  # raises if every recipient is refused
        accepted = len(recipients) - len(refused)
        refused_note = f"; refused: {', '.join(sorted(refused))}" if refused else ""
        return f"accepted for {accepted} of {len(recipients)} recipients{refused_note}"


class JsonWebhookChannel:
    name = "webhook"

    def __init__(self, conn_id: str = WEBHOOK_CONN_ID, *, timeout_s: float = SEND_TIMEOUT_S) -> None:
        self.conn_id = conn_id
        self.timeout_s = timeout_s

    def send(self, alert: PendingAlert) -> str:
        hook = HttpHook(method="POST", http_conn_id=self.conn_id)
        response = hook.run(
            json=json_payload(alert.event),
            headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key(alert.key)},
            extra_options={"timeout": self.timeout_s},
        )  # raises on a 4xx/5xx answer
        return f"HTTP {response.status_code} {response.text[:MAX_SUMMARY_CHARS]}"


def idempotency_key(alert_key: str) -> str:
    """A header-safe stand-in for the alert key (which may hold any text of the incident id)."""
    return hashlib.sha256(alert_key.encode("utf-8")).hexdigest()


def live_channels() -> list[Channel]:
    """The channels whose Airflow connection (named in ctwatch.toml's `[alerts]`) exists, in a fixed
    order."""
    names = settings().alerts
    configured: list[Channel] = []
    candidates: list[tuple[Channel, str]] = [
        (SlackWebhookChannel(names.slack_connection), names.slack_connection),
        (SmtpChannel(names.email_connection), names.email_connection),
        (JsonWebhookChannel(names.webhook_connection), names.webhook_connection),
    ]
    for channel, conn_id in candidates:
        try:
            BaseHook.get_connection(conn_id)
        except AirflowNotFoundException:
            log.info("alert channel %s is off: no Airflow connection %r", channel.name, conn_id)
            continue
        configured.append(channel)
    return configured


def replay_sink() -> ReplaySink:
    """Historical alerts: `<data dir>/alerts/replay.jsonl`."""
    return ReplaySink(data_dir() / "alerts" / "replay.jsonl")


def _address_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(address).strip() for address in value if str(address).strip()]
    if isinstance(value, str):
        return [address.strip() for address in value.replace(";", ",").split(",") if address.strip()]
    return []


def _flag(value: object) -> bool:
    """An extra's boolean, whether stored as JSON true or as the string 'true' (UI forms do both)."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)
