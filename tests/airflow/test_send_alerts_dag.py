"""The send_alerts DAG with dag.test(), against a real SMTP server and a real HTTP receiver on 127.0.0.1.

The HTTP receiver stands in for both Slack's incoming webhook and the generic JSON webhook; the
connections come from AIRFLOW_CONN_* variables, as an operator would set them.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from ctwatch import warehouse
from ctwatch.alerts import AlertEvent, Transition, enqueue
from tests.alerts.events import HOSTILE_SUBJECTS, OTHER_SHA256, event
from tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    from airflow.sdk import DAG

pytestmark = pytest.mark.integration
SLACK_PATH = "/services/T0000/B0000/XXXX"
WEBHOOK_PATH = "/hook"
RECIPIENTS = ["staff@example.org", "ca-program@example.org"]


@dataclass
class HttpReceiver:
    port: int
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    fail_next: dict[str, int] = field(default_factory=dict)  # path -> how many requests to answer 500

    def bodies(self, path: str) -> list[Any]:
        return [body for request_path, _, body in self.requests if request_path == path]


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if receiver.fail_next.get(self.path, 0) > 0:
                receiver.fail_next[self.path] -= 1
                self.send_response(500)
                self.end_headers()
                return
            receiver.requests.append((self.path, dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


class MailStore:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = message_from_bytes(content, policy=default)
        assert isinstance(message, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, MailStore]]:
    store = MailStore()
    controller = Controller(store, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, store
    controller.stop()


@pytest.fixture
def channels(
    airflow_db: None,
    http_receiver: HttpReceiver,
    smtp_server: tuple[int, MailStore],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Connections for all three channels; returns the warehouse file."""
    base = f"http://127.0.0.1:{http_receiver.port}"
    smtp_port, _ = smtp_server
    connections = {
        "CTWATCH_SLACK": {"conn_type": "slackwebhook", "password": base + SLACK_PATH},
        "CTWATCH_WEBHOOK": {"conn_type": "http", "host": base + WEBHOOK_PATH},
        "CTWATCH_SMTP": {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "extra": {
                "from_email": "ctwatch@example.org",
                "to": ", ".join(RECIPIENTS),
                "disable_ssl": True,
                "disable_tls": True,
                "timeout": 5,
            },
        },
    }
    for name, connection in connections.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", json.dumps(connection))
    warehouse_file = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CTWATCH_WAREHOUSE", str(warehouse_file))
    monkeypatch.setenv("CTWATCH_DATA_DIR", str(tmp_path / "data"))
    return warehouse_file


def _enqueue(warehouse_file: Path, events: list[AlertEvent]) -> None:
    con = warehouse.connect(warehouse_file)
    try:
        enqueue(con, events)
    finally:
        con.close()


def _dag() -> DAG:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "send_alerts.py")).dags["send_alerts"]
    # dag.test() waits out retry_delay before a retry: no waiting in tests.
    dag.get_task("send").retry_delay = timedelta(0)
    return dag


def test_each_alert_is_delivered_once_per_channel_across_reruns_and_a_failed_send(
    channels: Path, http_receiver: HttpReceiver, smtp_server: tuple[int, MailStore], tmp_path: Path
) -> None:
    _, mail = smtp_server
    hostile = event(subject=HOSTILE_SUBJECTS["slack_mentions_and_link"])
    new_incident = event(
        Transition.NEW_INCIDENT, der_sha256=None, subject=HOSTILE_SUBJECTS["header_injection"]
    )
    historical = event(der_sha256=OTHER_SHA256, occurred_at=datetime(2020, 7, 9, tzinfo=UTC), historical=True)
    _enqueue(channels, [hostile, new_incident, historical])
    # The webhook answers 500 once: the task fails after recording what went out, and its retry
    # sends only the webhook's alerts.
    http_receiver.fail_next[WEBHOOK_PATH] = 1

    dag = _dag()
    first = dag.test(logical_date=datetime(2026, 11, 27, 12, tzinfo=UTC))
    second = dag.test(logical_date=datetime(2026, 11, 27, 12, 15, tzinfo=UTC))
    assert (first.state, second.state) == ("success", "success")
    assert http_receiver.fail_next[WEBHOOK_PATH] == 0  # the 500 was answered, and retried past

    live_keys = {hostile.key, new_incident.key}
    slack = http_receiver.bodies(SLACK_PATH)
    webhook = http_receiver.bodies(WEBHOOK_PATH)
    assert len(slack) == 2
    assert {body["key"] for body in webhook} == live_keys
    assert len(webhook) == 2
    # (a key longer than a header line is folded before it: hence strip)
    assert {str(message["X-Ctwatch-Alert-Key"]).strip() for _, message in mail.messages} == live_keys
    assert len(mail.messages) == 2

    # Escaped on the way out: no mention or foreign link reached Slack, no header reached the mail.
    assert all("<!channel>" not in body["text"] and "<https://evil" not in body["text"] for body in slack)
    for recipients, message in mail.messages:
        assert recipients == RECIPIENTS
        assert "Bcc" not in message
        assert "\n" not in str(message["Subject"])
    webhook_requests = [headers for path, headers, _ in http_receiver.requests if path == WEBHOOK_PATH]
    assert all(len(headers["Idempotency-Key"]) == 64 for headers in webhook_requests)

    # The historical alert went to the replay file only.
    replay_lines = (tmp_path / "data" / "alerts" / "replay.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"] for line in replay_lines] == [historical.key]
    assert historical.key not in {body["key"] for body in webhook}


def test_a_channel_is_live_only_when_its_connection_exists(
    airflow_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ctwatch_airflow import notifications

    for name in ("CTWATCH_SLACK", "CTWATCH_SMTP", "CTWATCH_WEBHOOK"):
        monkeypatch.delenv(f"AIRFLOW_CONN_{name}", raising=False)
    assert notifications.live_channels() == []
    monkeypatch.setenv("AIRFLOW_CONN_CTWATCH_WEBHOOK", json.dumps({"conn_type": "http", "host": "http://x"}))
    assert [channel.name for channel in notifications.live_channels()] == ["webhook"]


def test_send_alerts_runs_in_the_warehouse_pool_on_an_interval() -> None:
    from ctwatch_airflow.defaults import WAREHOUSE_POOL

    dag = _dag()
    assert dag.get_task("send").pool == WAREHOUSE_POOL
    from airflow.timetables.interval import DeltaDataIntervalTimetable

    assert isinstance(dag.timetable, DeltaDataIntervalTimetable)
    assert dag.timetable.summary == "0:15:00"
