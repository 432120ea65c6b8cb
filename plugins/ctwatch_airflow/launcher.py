"""Run Airflow for ctwatch on loopback only: `python -m ctwatch_airflow.launcher` (what `make run` calls).

`airflow standalone` binds its log servers on every interface, so the components are started one by
one instead: the API server on 127.0.0.1, the scheduler and triggerer without their log servers, and
the DAG processor. Metadata lives in SQLite (or the database `$CTWATCH_AIRFLOW_DB` names, e.g.
PostgreSQL) and the warehouse in DuckDB, both under the data folder.
With `CTWATCH_EXECUTOR=celery` it also starts Celery workers (ctwatch_airflow.cluster). A component
that exits is started again (Airflow retries the tasks it took with it), unless it has exited
RESTART_LIMIT times within RESTART_WINDOW_S: a component that keeps failing stops everything.
Ctrl-C (or SIGTERM) stops every component: SIGTERM first, SIGKILL after a timeout.

On Linux each component runs under a guard (ctwatch_airflow.component_guard) that ends it and every
process it started, task processes included, once the launcher is gone, even killed with SIGKILL.
A launcher records its PID and its guards' in AIRFLOW_HOME; a new one refuses to start, saying
what to stop, while those still run, or while the API port is taken.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ctwatch.config import CONFIG_ENV, ConfigError, load_settings
from ctwatch.warehouse import WarehouseLockedError, connect
from ctwatch_airflow import component_guard
from ctwatch_airflow.cluster import WORKER_NAME_ENV, Cluster, ClusterConfigError, cluster_from
from ctwatch_airflow.defaults import WAREHOUSE_POOL, WAREHOUSE_POOL_DESCRIPTION, WAREHOUSE_POOL_SLOTS
from ctwatch_airflow.settings import PROJECT_ROOT

ADMIN_USER = "admin"
METADATA_DB_ENV = "CTWATCH_AIRFLOW_DB"
# The guard's own SIGTERM-then-SIGKILL comes first; the launcher's SIGKILL is for a stuck guard.
STOP_TIMEOUT_S = component_guard.GRACE_S + 15.0
# What a live launcher or guard has in its command line (a PID file's PIDs may have been reused).
OUR_MODULES = {b"ctwatch_airflow.launcher", b"ctwatch_airflow.component_guard"}
HEALTH_TIMEOUT_S = 180.0
# A component exiting this often this quickly is failing, not crashing now and then.
RESTART_LIMIT = 5
RESTART_WINDOW_S = 600.0
RESTART_POLL_S = 1.0
# Each component, and the flags that keep it off every interface but loopback.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "scheduler": ("scheduler", "--skip-serve-logs"),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer", "--skip-serve-logs"),
}


@dataclass(frozen=True)
class Layout:
    """Every path and address one ctwatch Airflow instance uses."""

    data: Path
    airflow_home: Path
    warehouse: Path
    host: str
    port: int
    config_file: Path | None = None  # the ctwatch.toml every component reads (None: defaults)
    cluster: Cluster | None = None  # CeleryExecutor workers (None: LocalExecutor)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def sqlite_file(self) -> Path:
        return self.airflow_home / "airflow.db"

    @property
    def passwords_file(self) -> Path:
        return self.airflow_home / "simple_auth_manager_passwords.json"

    @property
    def pid_file(self) -> Path:
        return self.airflow_home / "launcher-pids.json"


def external_metadata_url(base: Mapping[str, str]) -> str | None:
    """`$CTWATCH_AIRFLOW_DB`, a SQLAlchemy URL; a bare postgresql:// names psycopg2, the driver
    installed (SQLAlchemy's default for it is psycopg 3)."""
    url = base.get(METADATA_DB_ENV, "").strip()
    for bare in ("postgresql://", "postgres://"):
        if url.startswith(bare):
            return "postgresql+psycopg2://" + url.removeprefix(bare)
    return url or None


def metadata_db_url(layout: Layout, base: Mapping[str, str]) -> str:
    """`$CTWATCH_AIRFLOW_DB` (e.g. PostgreSQL), else SQLite in AIRFLOW_HOME.

    SQLite has one writer: the URL asks for a 30 s busy wait (sqlite3's default is 5 s), which the
    scheduler, the API server and CLI calls contend for.
    """
    return external_metadata_url(base) or f"sqlite:///{layout.sqlite_file}?timeout=30"


def _persistent_secret(path: Path) -> str:
    """A secret shared by all components (JWT signing) that survives restarts."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def admin_password(layout: Layout) -> str:
    """The UI login's password, created once and kept in AIRFLOW_HOME."""
    if not layout.passwords_file.exists():
        layout.passwords_file.write_text(json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}))
        layout.passwords_file.chmod(0o600)
    passwords: dict[str, str] = json.loads(layout.passwords_file.read_text())
    return passwords[ADMIN_USER]


def airflow_environment(layout: Layout, base: Mapping[str, str]) -> dict[str, str]:
    """The environment every Airflow component of this instance runs with."""
    layout.airflow_home.mkdir(parents=True, exist_ok=True)
    python_path = [str(PROJECT_ROOT / "include"), str(PROJECT_ROOT / "plugins")]
    if base.get("PYTHONPATH"):
        python_path.append(base["PYTHONPATH"])
    jwt_secret = _persistent_secret(layout.airflow_home / "jwt_secret")
    metadata_url = metadata_db_url(layout, base)
    cluster = layout.cluster
    return {
        **base,
        "PYTHONPATH": os.pathsep.join(python_path),
        "AIRFLOW_HOME": str(layout.airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(layout.passwords_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__API__HOST": layout.host,
        "AIRFLOW__API__PORT": str(layout.port),
        "AIRFLOW__API__BASE_URL": layout.base_url,
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(layout.airflow_home / "logs"),
        "CTWATCH_DATA_DIR": str(layout.data),
        "CTWATCH_WAREHOUSE": str(layout.warehouse),
        **({CONFIG_ENV: str(layout.config_file)} if layout.config_file else {}),
        **(cluster.environment(metadata_url) if cluster else {}),
    }


def airflow_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def airflow_cli_argv(*args: str) -> list[str]:
    """A one-off `airflow` command run next to the components (see `ctwatch_airflow.airflow_cli`)."""
    return [sys.executable, "-m", "ctwatch_airflow.airflow_cli", *args]


def prepare(layout: Layout, env: Mapping[str, str]) -> None:
    """Migrate the metadata DB and the warehouse, and create the pools ctwatch's DAGs use."""
    print(f"ctwatch: migrating Airflow metadata in {layout.airflow_home}", flush=True)
    subprocess.run(airflow_argv("db", "migrate"), env=env, check=True, stdout=subprocess.DEVNULL)
    if env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:"):
        # Write-ahead logging: readers (the API server, the scheduler's queries) no longer block
        # the one writer. Persistent in the file.
        with closing(sqlite3.connect(layout.sqlite_file)) as metadata:
            metadata.execute("PRAGMA journal_mode=WAL")
    subprocess.run(
        airflow_argv("pools", "set", WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS), WAREHOUSE_POOL_DESCRIPTION),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"ctwatch: warehouse {layout.warehouse}", flush=True)
    connect(layout.warehouse).close()


def component_argv(layout: Layout) -> dict[str, tuple[str, ...]]:
    """The `airflow` sub-command of each component, by component name."""
    workers = layout.cluster.components() if layout.cluster else {}
    return {
        "api-server": ("api-server", "--host", layout.host, "--port", str(layout.port)),
        **COMPONENTS,
        **workers,
    }


def guarded(argv: list[str]) -> list[str]:
    """`argv` under a component guard, so that it ends with this process (Linux only)."""
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-m", component_guard.__name__, str(os.getpid()), *argv]


def start_component(layout: Layout, env: Mapping[str, str], name: str) -> subprocess.Popen[bytes]:
    """Start one component in its own session (so a terminal's Ctrl-C reaches only the launcher)."""
    log_dir = layout.airflow_home / "logs" / "components"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as log:
        process = subprocess.Popen(
            guarded(airflow_argv(*component_argv(layout)[name])),
            env={**env, WORKER_NAME_ENV: name},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    print(f"ctwatch: started {name} (pid {process.pid}), log in {log_dir}", flush=True)
    return process


def start_components(layout: Layout, env: Mapping[str, str]) -> dict[str, subprocess.Popen[bytes]]:
    """Start every component: the API server on loopback, scheduler, DAG processor, triggerer."""
    return {name: start_component(layout, env, name) for name in component_argv(layout)}


def wait_healthy(layout: Layout, processes: Mapping[str, subprocess.Popen[bytes]]) -> bool:
    """Poll the API server's health endpoint until it answers, a component dies, or time runs out."""
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes.values()):
            return False
        try:
            # A plain-http loopback URL built above, never user input.
            health = f"{layout.base_url}/api/v2/monitor/health"
            with urllib.request.urlopen(health, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1.0)
    return False


def stop_components(processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every component's process group, then SIGKILL what is still alive after the timeout."""
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"ctwatch: {name} ignored SIGTERM, killing it", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print("ctwatch: stopped", flush=True)


class RestartBudget:
    """Whether a component that exited is started again: not once it has exited RESTART_LIMIT times
    within RESTART_WINDOW_S."""

    def __init__(self) -> None:
        self._exits: dict[str, list[float]] = {}

    def allows(self, name: str, now_s: float) -> bool:
        """Count an exit of `name` at monotonic `now_s`; whether to start it again."""
        recent = [t for t in self._exits.get(name, []) if now_s - t < RESTART_WINDOW_S] + [now_s]
        self._exits[name] = recent
        return len(recent) < RESTART_LIMIT


def _without_password(env: Mapping[str, str]) -> str:
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived while `raise_on_stop_signals` was in force; str() names it."""


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise StopRequested(signal.Signals(signum).name)


def raise_on_stop_signals() -> None:
    """SIGINT (Ctrl-C) and SIGTERM raise StopRequested. Set explicitly: a process started in the
    background of a non-interactive shell inherits SIGINT ignored, and SIGTERM's default would end
    it without stopping what it started."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _raise_stop)


def ignore_stop_signals() -> None:
    """SIGINT and SIGTERM ignored: while stopping, so a second Ctrl-C cannot cut the stopping short."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _is_ours(pid: int) -> bool:
    """Whether `pid` is another live launcher or component guard (Linux: read from /proc)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return pid != os.getpid() and not OUR_MODULES.isdisjoint(argv)


def earlier_instance(layout: Layout) -> str | None:
    """What to stop when an earlier launcher of this AIRFLOW_HOME, or one of its components, still
    runs; None when none does (its PID file, if any, is removed)."""
    try:
        recorded = json.loads(layout.pid_file.read_text())
    except (OSError, ValueError):
        return None
    launcher: int = recorded["launcher"]
    pids: dict[str, int] = {"launcher": launcher, **recorded["components"]}
    alive = {name: pid for name, pid in pids.items() if _is_ours(pid)}
    if not alive:
        layout.pid_file.unlink()
        return None
    named = ", ".join(f"{name} {pid}" for name, pid in alive.items())
    if "launcher" in alive:
        how = f"Ctrl-C in its terminal or `kill {launcher}`"
    else:
        how = f"`kill {' '.join(map(str, alive.values()))}` (its launcher is gone)"
    return f"an earlier `make run` of {layout.airflow_home} is still running ({named}): stop it with {how}"


def port_taken(layout: Layout) -> str | None:
    """Why the API server could not listen on the layout's port; None when it can."""
    with socket.socket() as probe:
        # as the API server will: a port in TIME_WAIT after a previous run is free to reuse
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((layout.host, layout.port))
        except OSError as exc:
            return (
                f"cannot listen on {layout.host}:{layout.port} ({exc.strerror}): stop what uses it, "
                f"or choose another port: `CTWATCH_PORT=8081 make run` (or the launcher's --port)"
            )
    return None


def record_pids(layout: Layout, processes: Mapping[str, subprocess.Popen[bytes]]) -> None:
    """Write this launcher's and its components' PIDs, for `earlier_instance` of a later launcher."""
    layout.airflow_home.mkdir(parents=True, exist_ok=True)
    pending = layout.pid_file.with_suffix(".tmp")
    pending.write_text(
        json.dumps({"launcher": os.getpid(), "components": {name: p.pid for name, p in processes.items()}})
    )
    pending.replace(layout.pid_file)


def run(layout: Layout) -> int:
    if problem := earlier_instance(layout) or port_taken(layout):
        print(f"ctwatch: {problem}", file=sys.stderr)
        return 2
    record_pids(layout, {})
    try:
        return _serve(layout)
    finally:
        layout.pid_file.unlink(missing_ok=True)


def _serve(layout: Layout) -> int:
    env = airflow_environment(layout, os.environ)
    try:
        prepare(layout, env)
    except subprocess.CalledProcessError as exc:
        print(
            f"ctwatch: `airflow {' '.join(exc.cmd[3:])}` failed (exit {exc.returncode}), see above: is the "
            f"metadata database reachable and created? ({METADATA_DB_ENV}: {_without_password(env)})",
            file=sys.stderr,
        )
        return 2
    except WarehouseLockedError as exc:
        print(
            f"ctwatch: {exc}; stop that process (a task of an earlier `make run`, a `ctwatch` command)",
            file=sys.stderr,
        )
        return 2
    password = admin_password(layout)
    raise_on_stop_signals()
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        processes = start_components(layout, env)
        record_pids(layout, processes)
        if not wait_healthy(layout, processes):
            dead = [name for name, p in processes.items() if p.poll() is not None]
            print(f"ctwatch: Airflow did not come up (exited: {dead or 'none'}); see the logs", flush=True)
            return 1
        print(
            f"\nctwatch is running: {layout.base_url}  (login: {ADMIN_USER} / {password})\n"
            f"warehouse: {layout.warehouse}\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        restarts = RestartBudget()
        while True:
            for name, process in list(processes.items()):
                if process.poll() is None:
                    continue
                if not restarts.allows(name, time.monotonic()):
                    print(
                        f"ctwatch: {name} exited with {process.returncode}, {RESTART_LIMIT} times within "
                        f"{RESTART_WINDOW_S:.0f} s; stopping (see its log)",
                        flush=True,
                    )
                    return 1
                # the tasks it took with it are retried once Airflow sees them without heartbeat
                print(f"ctwatch: {name} exited with {process.returncode}; restarting it", flush=True)
                processes[name] = start_component(layout, env, name)
                record_pids(layout, processes)
            time.sleep(RESTART_POLL_S)
    except StopRequested as stop:
        print(f"ctwatch: {stop} received, stopping", flush=True)
        return 0
    finally:
        ignore_stop_signals()
        stop_components(processes)


def configured_layout(port: int) -> Layout | None:
    """The layout ctwatch.toml and the environment give; None (problems on stderr) when invalid."""
    try:
        resolved = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"ctwatch: configuration: {problem}", file=sys.stderr)
        return None
    for name in resolved.unknown_variables:
        print(f"ctwatch: warning: ${name} names no setting (see docs/configuration.md)", file=sys.stderr)
    try:
        cluster = cluster_from(os.environ, external_metadata_url(os.environ) or "sqlite")
    except ClusterConfigError as exc:
        print(f"ctwatch: {exc}", file=sys.stderr)
        return None
    return Layout(
        data=resolved.data_dir,
        airflow_home=Path(os.environ.get("CTWATCH_AIRFLOW_HOME", resolved.data_dir / "airflow")).resolve(),
        warehouse=resolved.warehouse,
        host="127.0.0.1",
        port=port,
        config_file=resolved.file,
        cluster=cluster,
    )


def _port() -> int:
    return int(os.environ.get("CTWATCH_PORT", "8080"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=_port())
    args = parser.parse_args(argv)
    layout = configured_layout(args.port)
    if layout is None:
        return 2
    print(f"ctwatch: configuration {layout.config_file or 'none (defaults)'}", flush=True)
    if layout.cluster:
        workers = ", ".join([*layout.cluster.general_workers, "worker-warehouse"])
        print(f"ctwatch: CeleryExecutor, broker {layout.cluster.broker_url}, workers {workers}", flush=True)
    return run(layout)


def airflow_command() -> None:
    """`ctwatch-airflow ARGS...`: the `airflow` command with the environment `make run` gives its
    components (AIRFLOW_HOME, metadata database, DAGs folder, ctwatch.toml), e.g. to create a
    backfill while `make run` runs."""
    layout = configured_layout(_port())
    if layout is None:
        sys.exit(2)
    env = airflow_environment(layout, os.environ)
    sys.exit(subprocess.run(airflow_cli_argv(*sys.argv[1:]), env=env, check=False).returncode)


if __name__ == "__main__":
    sys.exit(main())
