"""`make demo`: the July 2020 OCSP-EKU incident replayed offline through Airflow backfills.

`python -m ctwatch_airflow.demo [--from DATE] [--to DATE] [--interval 7d]`. Everything lives under
the demo's own data folder (`$CTWATCH_DEMO_DIR`, default ./data/demo) with its own AIRFLOW_HOME:
1. the simulator serves the scenario (ctwatch/demo/july2020.toml) on 127.0.0.1; its URLs become the
   sources file and the CT log list;
2. Airflow starts as `make run` starts it (ctwatch_airflow.launcher), with the live schedule off
   (only the runs the demo asks for happen) and the revocation/evaluation interval set to --interval;
3. CT catch-up: one manual run of `ingest_ct_logs` from the logs' origin (CT positions do not
   depend on the as-of);
4. `airflow backfill create` of `ingest_revocations` and `ingest_crtsh`, then of
   `evaluate_compliance`, over [from, to), one run at a time, completed runs re-run (a second
   `make demo` replays again); the scheduler is stopped while the runs are created (SQLite); the
   evaluation backfill's last run writes the reports (run conf `reports_from`);
5. `send_alerts` until the outbox is empty (every alert of a replay is historical: replay sink);
6. the per-owner table, the alerts by transition, where the reports are (<data>/reports).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ctwatch.demo import (
    EVALUATION_CONFIG_FILE,
    SCENARIO_FILE,
    alert_counts,
    disclosed_keys,
    format_alert_counts,
    format_table,
    summarize,
    write_sources_file,
)
from ctwatch_airflow.launcher import (
    ADMIN_USER,
    METADATA_DB_ENV,
    Layout,
    admin_password,
    airflow_argv,
    airflow_environment,
    prepare,
    start_component,
    start_components,
    stop_components,
    wait_healthy,
)
from ctwatch_airflow.settings import PROJECT_ROOT, parse_interval

INGESTION_DAGS = ("ingest_revocations", "ingest_crtsh")
EVALUATION_DAG = "evaluate_compliance"
CT_DAG = "ingest_ct_logs"
ALERTS_DAG = "send_alerts"
ALL_DAGS = (CT_DAG, *INGESTION_DAGS, EVALUATION_DAG, ALERTS_DAG)
POLL_S = 5.0
PHASE_TIMEOUT_S = 1800.0
SIM_START_TIMEOUT_S = 120.0
CREATE_ATTEMPTS = 5
MAX_ALERT_RUNS = 20


class DemoFailed(RuntimeError):
    """A phase of the demo could not complete; the message says which and where to look."""


class ComponentDied(DemoFailed):
    """An Airflow component exited while the demo waited on it."""


def _log(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Replay:
    """What one demo replays: the period and each replayed DAG's interval (parse_interval's format)."""

    start: datetime
    end: datetime
    interval: str  # revocation polling and evaluation: their first observation is this coarse
    crtsh_interval: str  # crt.sh and Bugzilla: bugs only link owners to incidents

    def interval_of(self, dag_id: str) -> str:
        return self.crtsh_interval if dag_id == "ingest_crtsh" else self.interval

    def step_of(self, dag_id: str) -> timedelta:
        return parse_interval(self.interval_of(dag_id))

    def runs_of(self, dag_id: str) -> int:
        """Intervals from `start` until one ends at or after `end`."""
        return -(-(self.end - self.start) // self.step_of(dag_id))  # ceiling division

    def last_start_of(self, dag_id: str) -> datetime:
        return self.start + (self.runs_of(dag_id) - 1) * self.step_of(dag_id)

    def last_as_of_of(self, dag_id: str) -> datetime:
        return self.start + self.runs_of(dag_id) * self.step_of(dag_id)

    @property
    def last_as_of(self) -> datetime:
        """The as-of of the last evaluation."""
        return self.last_as_of_of(EVALUATION_DAG)


class Api:
    """The few REST calls the demo polls with (the backfills themselves go through the CLI)."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url
        token = self._call("/auth/token", body={"username": ADMIN_USER, "password": password})
        self._token: str = token["access_token"]

    def _call(self, path: str, body: Mapping[str, Any] | None = None, method: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if getattr(self, "_token", None):
            headers["Authorization"] = f"Bearer {self._token}"
        data = json.dumps(body).encode() if body is not None else None
        # A plain-http loopback URL the launcher built, never user input.
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            text = response.read()
            return json.loads(text) if text else None

    def dags_parsed_since(self, moment: datetime) -> set[str]:
        """The DAGs the dag processor parsed at or after `moment` (a DAG file's interval comes from
        the environment: one serialized by an earlier demo may have another)."""
        dags = self._call("/api/v2/dags?limit=100")["dags"]
        return {
            dag["dag_id"]
            for dag in dags
            if dag["last_parsed_time"] and datetime.fromisoformat(dag["last_parsed_time"]) >= moment
        }

    def import_errors(self) -> list[str]:
        errors = self._call("/api/v2/importErrors")["import_errors"]
        return [f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors]

    def trigger(self, dag_id: str, logical_date: datetime, conf: Mapping[str, Any]) -> str:
        # A run without a logical date has no data interval, and the DAGs read data_interval_end.
        body = {"logical_date": logical_date.isoformat(), "conf": dict(conf)}
        run = self._call(f"/api/v2/dags/{dag_id}/dagRuns", body=body)
        run_id: str = run["dag_run_id"]
        return run_id

    def delete_runs_of_another_interval(self, dag_id: str, step: timedelta) -> int:
        """Delete the DAG's runs whose data interval is not `step` long (an earlier demo's other
        --interval): a backfill re-runs an existing run with its old interval, and a run of the new
        interval cannot be created inside an old one. Returns how many were deleted."""
        runs = self._call(f"/api/v2/dags/{dag_id}/dagRuns?limit=1000")["dag_runs"]
        deleted = 0
        for run in runs:
            start, end = run["data_interval_start"], run["data_interval_end"]
            if start and end and datetime.fromisoformat(end) - datetime.fromisoformat(start) != step:
                quoted = urllib.parse.quote(run["dag_run_id"], safe="")
                self._call(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}", method="DELETE")
                deleted += 1
        return deleted

    def run_state(self, dag_id: str, run_id: str) -> str:
        quoted = urllib.parse.quote(run_id, safe="")
        state: str = self._call(f"/api/v2/dags/{dag_id}/dagRuns/{quoted}")["state"]
        return state

    def _backfills(self, dag_id: str) -> list[dict[str, Any]]:
        backfills: list[dict[str, Any]] = self._call(f"/api/v2/backfills?dag_id={dag_id}&limit=100")[
            "backfills"
        ]
        return backfills

    def backfill_ids(self, dag_id: str) -> set[int]:
        return {b["id"] for b in self._backfills(dag_id)}

    def unfinished_backfill_ids(self, dag_id: str) -> set[int]:
        return {b["id"] for b in self._backfills(dag_id) if b["completed_at"] is None}

    def backfill(self, backfill_id: int) -> dict[str, Any]:
        backfill: dict[str, Any] = self._call(f"/api/v2/backfills/{backfill_id}")
        return backfill

    def backfill_runs(self, dag_id: str, replay: Replay) -> dict[str, tuple[str, str | None]]:
        """run_id -> (state, end_date) of the DAG's backfill runs whose interval ends in the replay."""
        query = urllib.parse.urlencode(
            {
                "run_type": "backfill",
                "run_after_gte": (replay.start + replay.step_of(dag_id)).isoformat(),
                "run_after_lte": replay.last_as_of_of(dag_id).isoformat(),
                "limit": 1000,
            }
        )
        runs = self._call(f"/api/v2/dags/{dag_id}/dagRuns?{query}")["dag_runs"]
        return {run["dag_run_id"]: (run["state"], run["end_date"]) for run in runs}


@dataclass
class Instance:
    """The running demo Airflow: where it lives, its environment, its API and its processes."""

    layout: Layout
    env: dict[str, str]
    api: Api
    processes: dict[str, subprocess.Popen[bytes]]


def _python_env() -> dict[str, str]:
    """The environment of a `python -m ctwatch` child: ctwatch importable however we were started."""
    paths = [str(PROJECT_ROOT / "include"), str(PROJECT_ROOT / "plugins")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


@contextmanager
def simulator(data: Path, scenario: Path) -> Iterator[dict[str, Any]]:
    """`python -m ctwatch sim serve` on a free loopback port; yields the URLs it prints."""
    log_list = data / "log_list.json"
    argv = [
        sys.executable, "-m", "ctwatch", "sim", "serve", "--scenario", str(scenario),
        "--port", "0", "--log-list", str(log_list), "--cache-dir", str(data / "sim-cache"),
    ]  # fmt: skip
    log = (data / "simulator.log").open("ab")
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=log, env=_python_env(), start_new_session=True
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + SIM_START_TIMEOUT_S
        line = b""
        while not line and time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator did not start; see {data / 'simulator.log'}")
        yield json.loads(line)
    finally:
        stop_components({"simulator": process})
        log.close()


def ground_truth(scenario: Path, data: Path) -> dict[str, Any]:
    """The scenario's ground truth (from the simulator's cache: generated once)."""
    out = subprocess.run(
        [sys.executable, "-m", "ctwatch", "sim", "ground-truth", "--scenario", str(scenario),
         "--cache-dir", str(data / "sim-cache")],
        check=True, capture_output=True, env=_python_env(),
    )  # fmt: skip
    truth: dict[str, Any] = json.loads(out.stdout)
    return truth


def demo_environment(layout: Layout, replay: Replay, sources_file: Path, log_list: Path) -> dict[str, str]:
    # The demo's metadata is its own SQLite file, whatever database `make run` is pointed at.
    base = {k: v for k, v in os.environ.items() if k != METADATA_DB_ENV}
    env = airflow_environment(layout, base)
    env.update(
        {
            # Only the runs the demo creates: no live run of "now" against the simulator.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # A replay is thousands of short tasks: loop again sooner (default 1 s) and re-parse the
            # unchanged DAG files less often (default 30 s), both measured to shorten `make demo`.
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
            # One run at a time per DAG: 4 LocalExecutor workers suffice (default 32 processes).
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "CTWATCH_SOURCES_FILE": str(sources_file),
            "CTWATCH_CT_LOG_LIST": str(log_list),
            "CTWATCH_REVOCATION_INTERVAL": replay.interval_of("ingest_revocations"),
            "CTWATCH_CRTSH_INTERVAL": replay.interval_of("ingest_crtsh"),
            "CTWATCH_EVALUATE_INTERVAL": replay.interval_of(EVALUATION_DAG),
            "CTWATCH_EVALUATION_CONFIG": str(EVALUATION_CONFIG_FILE),
        }
    )
    return env


def _wait(
    what: str,
    done: Callable[[], bool],
    processes: Mapping[str, subprocess.Popen[bytes]],
    timeout_s: float = PHASE_TIMEOUT_S,
) -> None:
    """Poll `done` until it holds; fail fast when an Airflow component exits or time runs out."""
    started = time.monotonic()
    while not done():
        dead = [name for name, process in processes.items() if process.poll() is not None]
        if dead:
            raise ComponentDied(f"{what}: {', '.join(dead)} exited; see the component logs")
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{what}: not done after {timeout_s:.0f} s")
        time.sleep(POLL_S)


def run_once(airflow: Instance, dag_id: str, logical_date: datetime, conf: Mapping[str, Any]) -> str:
    """Trigger one manual run and wait for it; returns its final state."""
    api = airflow.api
    run_id = api.trigger(dag_id, logical_date, conf)
    states: list[str] = []

    def finished() -> bool:
        states.append(api.run_state(dag_id, run_id))
        return states[-1] in ("success", "failed")

    _wait(f"{dag_id} {run_id}", finished, airflow.processes)
    return states[-1]


def create_backfill(airflow: Instance, dag_id: str, argv: list[str]) -> int:
    """Run `airflow backfill create`, retried; returns the new backfill's id.

    Measured on SQLite (WAL, 30 s busy timeout, scheduler stopped): the CLI sometimes exits with
    "database is locked" raised from a dag run insert inside Airflow's `_create_backfill`, so it is
    retried with a short busy timeout; a new unfinished backfill counts as created (whether all its
    runs were (re)run is checked when it completes). Its output goes to
    logs/components/backfill-create.log.
    """
    api = airflow.api
    before = api.backfill_ids(dag_id)
    log_file = airflow.layout.airflow_home / "logs" / "components" / "backfill-create.log"
    env = dict(airflow.env)
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if metadata.startswith("sqlite:"):
        # The lock it meets is its own (a second session inside the command): waiting never helps.
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = metadata.replace("timeout=30", "timeout=5")
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        with log_file.open("ab") as log:
            created = subprocess.run(argv, env=env, check=False, stdout=log, stderr=log)
        new = api.unfinished_backfill_ids(dag_id) - before
        if new:
            if created.returncode != 0:
                _log(
                    f"backfill create exited with {created.returncode} but created the backfill ({log_file})"
                )
            return max(new)
        _log(f"backfill create failed (attempt {attempt}); see {log_file}")
        time.sleep(POLL_S)
    raise DemoFailed(f"could not create the backfill of {dag_id}; see {log_file}")


def backfill(
    airflow: Instance, dag_ids: Sequence[str], replay: Replay, conf: Mapping[str, Any] | None = None
) -> None:
    """`airflow backfill create` for each DAG over the replay (runs with `conf`), then poll its runs
    until all are done."""
    # On SQLite, `backfill create` racing the scheduler failed on "database is locked" after
    # writing some runs, and the scheduler then died on a run that vanished (ObjectDeletedError,
    # measured here); re-running completed runs also failed while the DAG processor and the
    # triggerer wrote heartbeats. The runs are created while only the API server runs.
    processes = airflow.processes
    writers = [name for name in processes if name != "api-server"]
    stop_components({name: processes[name] for name in writers})
    backfill_ids: dict[str, int] = {}
    for dag_id in dag_ids:
        if deleted := airflow.api.delete_runs_of_another_interval(dag_id, replay.step_of(dag_id)):
            _log(f"{dag_id}: deleted {deleted} runs of another interval (an earlier demo's)")
        argv = airflow_argv(
            "backfill", "create", "--dag-id", dag_id,
            "--from-date", replay.start.isoformat(), "--to-date", replay.last_start_of(dag_id).isoformat(),
            "--max-active-runs", "1", "--reprocess-behavior", "completed",
            *(("--dag-run-conf", json.dumps(conf)) if conf else ()),
        )  # fmt: skip
        _log(" ".join(["airflow", *argv[3:]]))
        backfill_ids[dag_id] = create_backfill(airflow, dag_id, argv)
    for name in writers:
        processes[name] = start_component(airflow.layout, airflow.env, name)

    def finished() -> bool:
        # The scheduler marks a backfill completed (every 30 s) once all its runs are done.
        return all(airflow.api.backfill(b)["completed_at"] is not None for b in backfill_ids.values())

    _wait("backfills " + ", ".join(dag_ids), finished, processes)
    for dag_id, backfill_id in backfill_ids.items():
        created_at = airflow.api.backfill(backfill_id)["created_at"]
        runs = airflow.api.backfill_runs(dag_id, replay)
        failed = sorted(run_id for run_id, (state, _) in runs.items() if state == "failed")
        # ISO 8601 UTC strings from the same API compare in time order.
        stale = [run_id for run_id, (_, ended) in runs.items() if ended is None or ended < created_at]
        _log(f"{dag_id}: {len(runs)} runs, failed: {', '.join(failed) or 'none'}")
        if len(runs) != replay.runs_of(dag_id) or stale:
            raise DemoFailed(
                f"{dag_id}: {len(runs)} runs in the replay, {replay.runs_of(dag_id)} expected,"
                f" {len(stale)} not (re)run"
            )


def describe_reports(data: Path, as_of: datetime) -> str:
    """Where the evaluation backfill's last run wrote the reports; DemoFailed if it did not."""
    out_dir = data / "reports"
    index = out_dir / "index.md"
    expected = f"# ctwatch reports as of {as_of:%Y-%m-%d %H:%M} UTC"
    title = index.read_text(encoding="utf-8").partition("\n")[0] if index.exists() else ""
    if title != expected:
        raise DemoFailed(f"{expected!r} is not the title of {index}; see the report task's log")
    folders = sorted(p for p in out_dir.iterdir() if p.is_dir())
    listing = "\n".join(f"  {folder}" for folder in folders)
    return (
        f"reports of {len(folders)} incidents, each with appendix.csv, incident.md and PNG plots;"
        f" index {index}:\n{listing}"
    )


def send_all_alerts(airflow: Instance) -> None:
    """Run `send_alerts` until a run delivers nothing new (one run sends at most 100 alerts)."""
    replay_file = airflow.layout.data / "alerts" / "replay.jsonl"
    for _ in range(MAX_ALERT_RUNS):
        before = sum(alert_counts(replay_file).values())
        state = run_once(airflow, ALERTS_DAG, datetime.now(UTC), {})
        sent = sum(alert_counts(replay_file).values()) - before
        _log(f"{ALERTS_DAG}: {state}, {sent} historical alerts to the replay sink")
        if state != "success" or sent == 0:
            return


def replay_through_airflow(
    layout: Layout, replay: Replay, truth: Mapping[str, Any], sim: Mapping[str, Any]
) -> None:
    """Start Airflow, run the phases, stop Airflow; DemoFailed (or ComponentDied) says what broke."""
    started = time.monotonic()
    sources_file = write_sources_file(layout.data / "sources.toml", sim)
    env = demo_environment(layout, replay, sources_file, Path(sim["log_list_file"]))
    prepare(layout, env)
    components_started = datetime.now(UTC)
    processes = start_components(layout, env)
    try:
        if not wait_healthy(layout, processes):
            raise DemoFailed("Airflow did not come up; see the component logs")
        api = Api(layout.base_url, admin_password(layout))
        airflow = Instance(layout, env, api, processes)
        _wait(
            "the DAG processor",
            lambda: set(ALL_DAGS) <= api.dags_parsed_since(components_started),
            processes,
            timeout_s=300,
        )
        if errors := api.import_errors():
            raise DemoFailed("DAG import errors: " + "; ".join(errors))
        _log(f"Airflow up in {time.monotonic() - started:.0f} s: {layout.base_url}")
        phase = time.monotonic()
        conf = {
            "new_logs_start": "origin",
            "watched_spki_sha256": disclosed_keys(truth),
            "requests_per_second": 500.0,  # the simulator on loopback, not a public log
        }
        state = run_once(airflow, CT_DAG, datetime.now(UTC), conf)
        _log(f"CT catch-up ({CT_DAG}): {state} in {time.monotonic() - phase:.0f} s")
        if state != "success":
            raise DemoFailed(f"the CT catch-up failed; see {layout.airflow_home / 'logs'}")
        phase = time.monotonic()
        backfill(airflow, INGESTION_DAGS, replay)
        _log(f"revocation and crt.sh/Bugzilla backfills: {time.monotonic() - phase:.0f} s")
        phase = time.monotonic()
        # Reports once, by the last run: earlier ones would only be overwritten
        backfill(airflow, (EVALUATION_DAG,), replay, conf={"reports_from": replay.last_as_of.isoformat()})
        _log(f"evaluation backfill: {time.monotonic() - phase:.0f} s")
        send_all_alerts(airflow)
    finally:
        stop_components(processes)


def run(layout: Layout, replay: Replay, scenario: Path) -> int:
    started = time.monotonic()
    layout.data.mkdir(parents=True, exist_ok=True)
    truth = ground_truth(scenario, layout.data)
    with simulator(layout.data, scenario) as sim:
        entries = sum(log["size"] for log in truth["logs"].values())
        _log(f"simulator {sim['base_url']} ({truth['scenario']}, {entries} CT entries)")
        try:
            replay_through_airflow(layout, replay, truth, sim)
        except (DemoFailed, TimeoutError) as failure:
            _log(f"failed: {failure}")
            return 1
    print()
    print(f"July 2020 OCSP-EKU incident as of {replay.last_as_of:%Y-%m-%d %H:%M} UTC")
    print(format_table(summarize(layout.warehouse, replay.last_as_of)))
    replay_file = layout.data / "alerts" / "replay.jsonl"
    print(f"\nhistorical alerts ({replay_file}): {format_alert_counts(alert_counts(replay_file))}")
    print(describe_reports(layout.data, replay.last_as_of))
    print(f"Airflow UI data: {layout.airflow_home}; finished in {time.monotonic() - started:.0f} s")
    return 0


def _utc_date(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--from", dest="start", type=_utc_date, default=_utc_date("2020-06-15"))
    parser.add_argument("--to", dest="end", type=_utc_date, default=_utc_date("2021-05-01"))
    # Weekly: 46 runs of each replayed DAG; measured under 7 minutes on this 2-core machine.
    parser.add_argument("--interval", default="7d", help="revocation polling and evaluation cadence")
    parser.add_argument("--crtsh-interval", default="7d", help="crt.sh and Bugzilla cadence")
    parser.add_argument("--scenario", type=Path, default=SCENARIO_FILE)
    parser.add_argument("--port", type=int, default=0, help="Airflow API port (default: a free one)")
    args = parser.parse_args(argv)
    data = Path(os.environ.get("CTWATCH_DEMO_DIR", PROJECT_ROOT / "data" / "demo")).resolve()
    layout = Layout(
        data=data,
        airflow_home=data / "airflow",
        warehouse=data / "warehouse.duckdb",
        host="127.0.0.1",
        port=args.port or _free_port(),
    )
    return run(layout, Replay(args.start, args.end, args.interval, args.crtsh_interval), args.scenario)


if __name__ == "__main__":
    sys.exit(main())
