"""`make demo`: the July 2020 OCSP-EKU incident replayed offline through Airflow backfills.

`python -m ctwatch_airflow.demo [--from DATE] [--to DATE] [--interval 7d]`. Everything lives under
the demo's own data folder (`$CTWATCH_DEMO_DIR`, default ./data/demo) with its own AIRFLOW_HOME:
1. the simulator serves the scenario (ctwatch/demo/july2020.toml) on 127.0.0.1 and writes the
   demo's ctwatch.toml (its URLs, simulated stamping, the CT log list), to which the demo adds the
   replay's intervals and its declared incidents (ctwatch/demo/evaluation.toml);
2. Airflow starts as `make run` starts it (ctwatch_airflow.launcher), with the live schedule off
   (only the runs the demo asks for happen) and the revocation/evaluation interval set to --interval;
3. CT catch-up: one manual run of `ingest_ct_logs` from the logs' origin (CT positions do not
   depend on the as-of);
4. `airflow backfill create` of `ingest_revocations` and `ingest_crtsh`, then of
   `evaluate_compliance`, over [from, to), one run at a time, completed runs re-run (a second
   `make demo` replays again); the evaluation backfill's last run writes the reports (run conf
   `reports_from`);
5. `send_alerts` until the outbox is empty (every alert of a replay is historical: replay sink);
6. the per-owner table, the alerts by transition, where the reports are (<data>/reports).

What is replayed is `ctwatch_airflow.replay_plan`; `ctwatch_airflow.demo_runs` drives the runs and
backfills through `ctwatch_airflow.rest_api` and the Airflow CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch.demo import (
    SCENARIO_FILE,
    alert_counts,
    disclosed_keys,
    format_alert_counts,
    format_table,
    plan_lines,
    summarize,
    write_demo_config,
)
from ctwatch.timeutil import parse_utc
from ctwatch_airflow.demo_runs import (
    DemoFailed,
    Instance,
    backfill,
    run_once,
    say,
    send_all_alerts,
    wait_for,
)
from ctwatch_airflow.launcher import (
    Layout,
    StopRequested,
    admin_password,
    airflow_environment,
    guarded,
    ignore_stop_signals,
    prepare,
    raise_on_stop_signals,
    start_components,
    stop_components,
    wait_healthy,
)
from ctwatch_airflow.replay_plan import ALL_DAGS, CT_DAG, EVALUATION_DAG, INGESTION_DAGS, Replay
from ctwatch_airflow.rest_api import Api
from ctwatch_airflow.settings import PROJECT_ROOT

SIM_START_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
        "--write-config", str(data / "simulator.toml"),
    ]  # fmt: skip
    log = (data / "simulator.log").open("ab")
    # guarded like the Airflow components: a demo killed outright takes its simulator with it
    process = subprocess.Popen(
        guarded(argv), stdout=subprocess.PIPE, stderr=log, env=_python_env(), start_new_session=True
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


def demo_environment(layout: Layout) -> dict[str, str]:
    # The demo's metadata: $CTWATCH_AIRFLOW_DB when set (a database of its own), else its own
    # SQLite file. Its layout has no cluster: LocalExecutor, the replay's runs go one at a time.
    env = airflow_environment(layout, os.environ)
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
        }
    )
    return env


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


def replay_through_airflow(
    layout: Layout, replay: Replay, truth: Mapping[str, Any], sim: Mapping[str, Any], *, serve: bool = False
) -> None:
    """Start Airflow, run the phases, stop Airflow (`serve`: on Ctrl-C, once the results are
    printed); DemoFailed (or ComponentDied) says what broke."""
    started = time.monotonic()
    env = demo_environment(layout)
    prepare(layout, env)
    components_started = datetime.now(UTC)
    processes = start_components(layout, env)
    try:
        if not wait_healthy(layout, processes):
            raise DemoFailed("Airflow did not come up; see the component logs")
        api = Api(layout.base_url, admin_password(layout))
        airflow = Instance(layout, env, api, processes)
        wait_for(
            "the DAG processor",
            lambda: set(ALL_DAGS) <= api.dags_parsed_since(components_started),
            processes,
            timeout_s=300,
        )
        if errors := api.import_errors():
            raise DemoFailed("DAG import errors: " + "; ".join(errors))
        sqlite = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:")
        metadata = "SQLite" if sqlite else "$CTWATCH_AIRFLOW_DB"
        say(f"Airflow up in {time.monotonic() - started:.0f} s: {layout.base_url}, metadata in {metadata}")
        phase = time.monotonic()
        conf = {
            "new_logs_start": "origin",
            "watched_spki_sha256": disclosed_keys(truth),
            "requests_per_second": 500.0,  # the simulator on loopback, not a public log
        }
        state = run_once(airflow, CT_DAG, datetime.now(UTC), conf)
        say(f"CT catch-up ({CT_DAG}): {state} in {time.monotonic() - phase:.0f} s")
        if state != "success":
            raise DemoFailed(f"the CT catch-up failed; see {layout.airflow_home / 'logs'}")
        phase = time.monotonic()
        backfill(airflow, INGESTION_DAGS, replay)
        say(f"revocation and crt.sh/Bugzilla backfills: {time.monotonic() - phase:.0f} s")
        phase = time.monotonic()
        # Reports once, by the last run: earlier ones would only be overwritten
        backfill(airflow, (EVALUATION_DAG,), replay, conf={"reports_from": replay.last_as_of.isoformat()})
        say(f"evaluation backfill: {time.monotonic() - phase:.0f} s")
        send_all_alerts(airflow)
        if serve:
            print_results(layout, replay)
            say(f"serving: the dashboard is {layout.base_url}/ctwatch/incidents (login: admin /"
                f" {admin_password(layout)}); Ctrl-C stops Airflow and the simulator")  # fmt: skip
            wait_for("Ctrl-C", lambda: False, processes, timeout_s=float("inf"))
    finally:
        ignore_stop_signals()
        stop_components(processes)


def run(layout: Layout, replay: Replay, scenario: Path, *, serve: bool = False) -> int:
    started = time.monotonic()
    layout.data.mkdir(parents=True, exist_ok=True)
    truth = ground_truth(scenario, layout.data)
    with simulator(layout.data, scenario) as sim:
        entries = sum(log["size"] for log in truth["logs"].values())
        say(f"simulator {sim['base_url']} ({truth['scenario']}, {entries} CT entries)")
        assert layout.config_file is not None
        intervals = {dag_id: replay.interval_of(dag_id) for dag_id in (*INGESTION_DAGS, EVALUATION_DAG)}
        write_demo_config(layout.config_file, Path(sim["config_file"]), layout.data, intervals)
        say(f"configuration: {layout.config_file}")
        try:
            replay_through_airflow(layout, replay, truth, sim, serve=serve)
        except (DemoFailed, TimeoutError) as failure:
            say(f"failed: {failure}")
            return 1
    if not serve:
        print_results(layout, replay)
    print(f"Airflow UI data: {layout.airflow_home}; finished in {time.monotonic() - started:.0f} s")
    return 0


def print_results(layout: Layout, replay: Replay) -> None:
    print()
    print(f"July 2020 OCSP-EKU incident as of {replay.last_as_of:%Y-%m-%d %H:%M} UTC")
    print(format_table(summarize(layout.warehouse, replay.last_as_of)))
    replay_file = layout.data / "alerts" / "replay.jsonl"
    plans = plan_lines(layout.warehouse, replay.last_as_of)
    if plans:
        print("\n" + "\n".join(plans))
    print(f"\nhistorical alerts ({replay_file}): {format_alert_counts(alert_counts(replay_file))}")
    print(describe_reports(layout.data, replay.last_as_of), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--from", dest="start", type=parse_utc, default=parse_utc("2020-06-15"))
    parser.add_argument("--to", dest="end", type=parse_utc, default=parse_utc("2021-05-01"))
    # Weekly: 46 runs of each replayed DAG; measured under 7 minutes on this 2-core machine.
    parser.add_argument("--interval", default="7d", help="revocation polling and evaluation cadence")
    parser.add_argument("--crtsh-interval", default="7d", help="crt.sh and Bugzilla cadence")
    parser.add_argument("--scenario", type=Path, default=SCENARIO_FILE)
    parser.add_argument("--port", type=int, default=0, help="Airflow API port (default: a free one)")
    parser.add_argument(
        "--serve", action="store_true", help="keep Airflow and the dashboard up after the replay, to Ctrl-C"
    )
    args = parser.parse_args(argv)
    data = Path(os.environ.get("CTWATCH_DEMO_DIR", PROJECT_ROOT / "data" / "demo")).resolve()
    layout = Layout(
        data=data,
        airflow_home=data / "airflow",
        warehouse=data / "warehouse.duckdb",
        host="127.0.0.1",
        port=args.port or _free_port(),
        config_file=data / "ctwatch.toml",
    )
    replay = Replay(args.start, args.end, args.interval, args.crtsh_interval)
    raise_on_stop_signals()
    try:
        return run(layout, replay, args.scenario, serve=args.serve)
    except StopRequested as stop:  # raised wherever it arrived, once what was started has stopped
        say(f"stopped ({stop})")
        return 0


if __name__ == "__main__":
    sys.exit(main())
