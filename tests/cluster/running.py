"""A ctwatch Airflow started by a README line in a folder laid out like a clone, driven through its
REST API: the same replay of triggered runs, and the tables it leaves in the warehouse."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ctwatch import warehouse
from ctwatch.sim.server import SimulatorRunning
from ctwatch_airflow.rest_api import Api
from tests.readme import clone_like, shell_lines

AS_OF = datetime(2020, 8, 1, tzinfo=UTC)
T = TypeVar("T")

# the order a replay runs them in; each waits for the one before
REPLAY = ("ingest_ct_logs", "evaluate_rules", "ingest_revocations", "evaluate_compliance", "send_alerts")
# what the runs store, compared row by row (surrogate keys and wall-clock columns left out);
# coverage as its contiguous spans, which do not depend on how the fetches were cut
COMPARED = {
    "ct_log_coverage": """
        WITH ordered AS (
            SELECT log_id, start_index, end_exclusive,
                   max(end_exclusive) OVER (PARTITION BY log_id ORDER BY start_index
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reached
            FROM ct_log_coverage),
        spans AS (
            SELECT *, sum(CASE WHEN reached >= start_index THEN 0 ELSE 1 END)
                          OVER (PARTITION BY log_id ORDER BY start_index) AS span
            FROM ordered)
        SELECT log_id, min(start_index), max(end_exclusive) FROM spans GROUP BY log_id, span""",
    "ct_leaves": "SELECT log_id, entry_index, entry_timestamp, leaf_hash FROM ct_leaves",
    "rule_findings": "SELECT der_sha256, rule_id, evaluated_as_of FROM rule_findings",
    "revocation_snapshots": "SELECT source, observed_at, location, content_sha256 FROM revocation_snapshots",
    "compliance_verdicts": (
        "SELECT as_of, der_sha256, incident_id, status, basis, deadline, delay_s, revoked_at_claimed,"
        " first_observed_revoked_at, basis_text FROM compliance_verdicts"
    ),
    "alert_outbox": "SELECT alert_key, transition, occurred_at FROM alert_outbox",
    "alert_deliveries": "SELECT alert_key, channel, status, attempts FROM alert_deliveries",
}
TIMEOUT_S = 900
STARTED = re.compile(r"ctwatch: started (\S+) \(pid (\d+)\)")
LOGIN = re.compile(r"login: admin / (\S+)\)")


@dataclass
class Running:
    process: subprocess.Popen[str]
    api: Api
    components: dict[str, int]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(line: str, folder: Path, env: Mapping[str, str]) -> Running:
    process = subprocess.Popen(
        ["bash", "-c", line], cwd=folder, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    components: dict[str, int] = {}
    assert process.stdout is not None
    for output in process.stdout:
        if started := STARTED.search(output):
            components[started[1]] = int(started[2])
        if login := LOGIN.search(output):
            port = env["CTWATCH_PORT"]
            return Running(process, Api(f"http://127.0.0.1:{port}", login[1]), components)
    raise AssertionError(f"`{line}` ended with {process.wait()} before Airflow came up")


def stop(running: Running) -> None:
    os.killpg(running.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    running.process.wait(timeout=120)


def _answered(call: Callable[[], T], outages: bool, deadline: float) -> T:
    """`call()`; with `outages`, tried again while the API server does not answer (being restarted)."""
    while True:
        try:
            return call()
        except (urllib.error.URLError, ConnectionError, TimeoutError, http.client.HTTPException) as exc:
            server_side = not isinstance(exc, urllib.error.HTTPError) or exc.code >= 500
            if not (outages and server_side and time.monotonic() < deadline):
                raise
            time.sleep(1)


def _triggered(api: Api, dag_id: str, outages: bool, deadline: float) -> str:
    """The run of `dag_id` as of AS_OF, triggered now or by an attempt whose answer was lost."""
    try:
        return _answered(lambda: api.trigger(dag_id, AS_OF, {}), outages, deadline)
    except urllib.error.HTTPError as exc:
        if not (outages and exc.code == 409):
            raise
    moment = AS_OF.isoformat()
    query = urllib.parse.urlencode({"logical_date_gte": moment, "logical_date_lte": moment})
    url = f"{api.base_url}/api/v2/dags/{dag_id}/dagRuns?{query}"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {api.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        (run,) = json.loads(response.read())["dag_runs"]
    run_id: str = run["dag_run_id"]
    return run_id


def replay(
    running: Running, *, outages: bool = False, before_trigger: Callable[[str], None] = lambda dag_id: None
) -> float:
    """Trigger the replay's runs one after the other; the seconds they took, once parsed. With
    `outages`, the API server may be down for a while (killed and started again).
    `before_trigger(dag_id)` runs before each run is triggered, and may hold the replay there."""
    deadline = time.monotonic() + TIMEOUT_S
    api = running.api
    parsed = datetime(2000, 1, 1, tzinfo=UTC)
    while not set(REPLAY) <= _answered(lambda: api.dags_parsed_since(parsed), outages, deadline):
        assert time.monotonic() < deadline, "DAGs not parsed"
        time.sleep(2)
    started = time.monotonic()
    for dag_id in REPLAY:
        before_trigger(dag_id)
        run_id = _triggered(api, dag_id, outages, deadline)
        while (state := _answered(partial(api.run_state, dag_id, run_id), outages, deadline)) not in {
            "success",
            "failed",
        }:
            assert time.monotonic() < deadline, f"{dag_id} still {state}"
            time.sleep(2)
        assert state == "success", dag_id
    return time.monotonic() - started


def tables(folder: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = warehouse.connect(folder / "data" / "warehouse.duckdb", read_only=True)
    try:
        return {name: sorted(con.execute(sql).fetchall(), key=repr) for name, sql in COMPARED.items()}
    finally:
        con.close()


def sent_alerts(folder: Path) -> Counter[str]:
    """How many times each alert went out to the replay sink (every alert of a 2020 replay is
    historical)."""
    sink = folder / "data" / "alerts" / "replay.jsonl"
    return Counter(json.loads(line)["key"] for line in sink.read_text().splitlines())


def folder(base: Path, sim: SimulatorRunning) -> Path:
    base.mkdir()
    folder = clone_like(base, "Makefile", ".venv", "include", "plugins", "dags", "requirements.txt",
                        "requirements-dev.txt", "pyproject.toml")  # fmt: skip
    (folder / "ctwatch.toml").write_text(sim.config_toml(f"{sim.base_url}/log_list.json"), encoding="utf-8")
    return folder


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTWATCH_", "AIRFLOW"))}
    # only the triggered runs: no scheduled run as of today beside them
    return {
        **env,
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "CTWATCH_PORT": str(free_port()),
        **extra,
    }


def cluster_line(postgres_url: str) -> str:
    """The README's cluster-mode line, with the test's fresh database in place of its own."""
    (line,) = [
        line
        for line in shell_lines("Scaling out: `docker-compose.yaml`")
        if "CTWATCH_EXECUTOR=celery" in line
    ]
    database = postgres_url.rsplit("/", 1)[1]
    filled = re.sub(r"(postgresql[+a-z0-9]*://[^ ]*/)\w+", rf"\g<1>{database}", line)
    assert filled != line
    return filled


def metadata_rows(postgres_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a query on the cluster's Airflow metadata database."""
    import psycopg2

    with psycopg2.connect(postgres_url.replace("+psycopg2", "")) as con, con.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def placements(postgres_url: str) -> list[tuple[str, str, str, str, str]]:
    """Where each successful task ran: (dag, task, pool, queue, hostname)."""
    sql = "SELECT dag_id, task_id, pool, queue, hostname FROM task_instance WHERE state = 'success'"
    return [(str(d), str(t), str(p), str(q), str(h)) for d, t, p, q, h in metadata_rows(postgres_url, sql)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
