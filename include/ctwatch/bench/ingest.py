"""Ingestion benchmark: `python -m ctwatch.bench.ingest` (a script, not a test; `make bench`).

Serves the `bench_1m` simulated world (an RFC 6962 log of 1,000,000 entries and a static-ct log,
~1% of leaves under OCSP-signing, hence watched, intermediates) from this process, then:

- ingests each log with ctwatch in a child process (`--child`), from index 0 into a fresh
  warehouse. CPU = user + sys of that child (all threads, DuckDB included) from os.wait4, minus
  the CPU of a child that only imports the same modules (start-up); the simulator's CPU is this
  process's and is not counted;
- runs certspotter (Debian package; installed with apt-get when missing and we are root) on the
  same RFC 6962 log until its verified position reaches the tree size, CPU from os.wait4.

Prints `name=value` lines; the static-ct log's figures are prefixed `static_` (certspotter 0.16
reads RFC 6962 logs only). Per-stage figures are CPU-µs per entry measured inside the child;
`verify` is the Merkle folding cost (timed here on the same leaf hashes), `decode_hash` the rest
of the consumer thread's work, `fetch_json` the HTTP threads (requests + msgspec JSON/base64; for
static-ct, gunzip and tile decoding also run there). Peak RSS is the child's VmHWM.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ctwatch import warehouse
from ctwatch.ct.merkle import CompactRange
from ctwatch.ingest import START_AT_ORIGIN, IngestConfig, ingest_once
from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning

SCENARIO = Path(__file__).resolve().parents[1] / "sim" / "scenarios" / "bench_1m.toml"
RFC6962_LOG = "bench-rfc6962"
STATIC_LOG = "bench-static"
CERTSPOTTER_TIMEOUT_S = 3600.0


def _child_env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[3]
    paths = [str(root / "include"), str(root / "plugins")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _run_measured(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[str, resource.struct_rusage]:
    """Run a child to completion; its stdout and its own rusage (not other children's)."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{command[:4]} exited with {process.returncode}")
    return output, usage


def _peak_rss_mb(pid: int | str = "self") -> float:
    """VmHWM of a live process: the peak RSS of its current program only. ru_maxrss would also
    count the bench process's memory, copied into the child before it exec'd."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _child(args: argparse.Namespace) -> int:
    """In the child: ingest one log and print the figures as JSON."""
    if args.startup_only:
        warehouse.connect(Path(args.warehouse)).close()
        print(json.dumps({}))
        return 0
    config = IngestConfig(
        log_list=args.log_list,
        new_logs_start=START_AT_ORIGIN,
        log_ids=(args.log_id,),
        watched_spki_sha256=tuple(args.watch_spki),
        batch_size=1000,
        requests_per_second=float("inf"),
        concurrency=2,
    )
    warehouse.connect(Path(args.warehouse)).close()  # migrations are start-up, not ingestion
    size_before = Path(args.warehouse).stat().st_size
    started = time.monotonic()
    summary = ingest_once(Path(args.warehouse), config, Path(args.run_dir), as_of=datetime.now(UTC))
    wall_s = time.monotonic() - started
    size_after = Path(args.warehouse).stat().st_size
    figures = {**asdict(summary), "wall_s": wall_s, "bytes_grown": size_after - size_before}
    print(json.dumps({**figures, "peak_rss_mb": _peak_rss_mb()}))
    return 0


def install_certspotter() -> str | None:
    """certspotter's path, installed from Debian's packages when missing and we are root; None
    when it is missing and cannot be installed here."""
    found = shutil.which("certspotter")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print("# installing certspotter with apt-get", file=sys.stderr, flush=True)
    install = ["apt-get", "install", "-y", "-q", "certspotter"]
    if subprocess.run(install, check=False, capture_output=True).returncode != 0:
        # a fresh machine has no package lists yet
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
        subprocess.run(install, check=False, capture_output=True)
    return shutil.which("certspotter")


def _certspotter_size(state_dir: Path) -> int:
    states = list((state_dir / "logs").glob("*/state.json"))
    if not states:
        return 0
    size: int = json.loads(states[0].read_text())["verified_position"]["size"]
    return size


def _run_certspotter(binary: str, log_list: Path, work: Path, entries: int) -> dict[str, float]:
    state_dir = work / "certspotter-state"
    watchlist = work / "watchlist"
    watchlist.write_text(".corp.example\n")
    command = [binary, "-logs", str(log_list), "-state_dir", str(state_dir), "-watchlist", str(watchlist)]
    command += ["-no_save", "-stdout"]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + CERTSPOTTER_TIMEOUT_S
    while _certspotter_size(state_dir) < entries and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    wall_s = time.monotonic() - started
    reached = _certspotter_size(state_dir)
    peak_rss_mb = float("nan")
    if process.poll() is None:
        peak_rss_mb = _peak_rss_mb(process.pid)
        process.send_signal(signal.SIGTERM)  # certspotter 0.16 runs until told to stop
    _, _, usage = os.wait4(process.pid, 0)
    return {"cpu_s": _cpu_s(usage), "wall_s": wall_s, "entries": reached, "peak_rss_mb": peak_rss_mb}


def _single_log_list(full: dict[str, Any], log_name_suffix: str, path: Path) -> Path:
    """The simulator's list with only the log whose URL ends in /logs/<name>/."""
    operators = []
    for operator in full["operators"]:
        keep = {
            kind: [
                log
                for log in operator.get(kind, [])
                if log_name_suffix in log.get("url", "") + log.get("monitoring_url", "")
            ]
            for kind in ("logs", "tiled_logs")
        }
        if keep["logs"] or keep["tiled_logs"]:
            operators.append({**operator, **keep})
    path.write_text(json.dumps({**full, "operators": operators}))
    return path


def _verify_us_per_entry(leaf_hashes: bytes) -> float:
    """CPU-µs per entry of folding leaf hashes into a compact range (the proof itself is 2 requests)."""
    hashes = [leaf_hashes[i : i + 32] for i in range(0, len(leaf_hashes), 32)]
    started = time.process_time()
    CompactRange.from_leaf_hashes(0, hashes)
    return (time.process_time() - started) * 1e6 / max(len(hashes), 1)


def _ingest_in_child(
    log_name: str, sim: SimulatorRunning, work: Path, log_list: Path, watch_spki: list[str]
) -> tuple[dict[str, Any], resource.struct_rusage]:
    """Ingest the whole log into a fresh warehouse in a child; its figures and rusage."""
    log = sim.world.logs[log_name]
    tag = f"{log_name}-{len(watch_spki)}"
    command = [
        sys.executable, "-m", "ctwatch.bench.ingest", "--child",
        "--warehouse", str(work / f"{tag}.duckdb"),
        "--log-list", str(log_list),
        "--log-id", log.log_id.hex(),
        "--run-dir", str(work / f"{tag}-run"),
    ]  # fmt: skip
    for spki in watch_spki:
        command += ["--watch-spki", spki]
    output, usage = _run_measured(command, _child_env())
    figures: dict[str, Any] = json.loads(output)
    if figures["entries"] != log.size or figures["ranges_failed"]:
        raise RuntimeError(f"{log_name}: ingested {figures['entries']} of {log.size} entries ({figures})")
    return figures, usage


def _bytes_per_leaf_row(figures: dict[str, Any]) -> float:
    return float(figures["bytes_grown"]) / max(int(figures["leaf_rows"]), 1)


def _measure_ctwatch(log_name: str, sim: SimulatorRunning, work: Path, log_list: Path) -> dict[str, float]:
    """CPU, rate and memory with the issuers the rules flag watched (~1% of leaves); then storage
    per leaf row with every issuer watched, since a few thousand rows cannot show it under the
    fixed size of a warehouse's blocks and other tables."""
    log = sim.world.logs[log_name]
    base = [sys.executable, "-m", "ctwatch.bench.ingest", "--child", "--warehouse"]
    _, startup = _run_measured(
        [*base, str(work / f"{log_name}-startup.duckdb"), "--startup-only"], _child_env()
    )
    figures, usage = _ingest_in_child(log_name, sim, work, log_list, [])
    every_issuer = sorted({ca["spki_sha256"] for ca in sim.world.ground_truth()["ca_certificates"]})
    all_watched, _ = _ingest_in_child(log_name, sim, work, log_list, every_issuer)
    entries = figures["entries"]
    per_entry = 1e6 / entries
    stages = figures["cpu_s"]
    verify_us = _verify_us_per_entry(log.leaf_hashes(0, min(log.size, 200_000)))
    return {
        "cpu_us_per_entry": (_cpu_s(usage) - _cpu_s(startup)) * per_entry,
        "startup_cpu_s": _cpu_s(startup),
        "entries": entries,
        "entries_per_s": entries / figures["wall_s"],
        "peak_rss_mb": figures["peak_rss_mb"],
        "leaf_rows": figures["leaf_rows"],
        "bytes_per_leaf_row": _bytes_per_leaf_row(all_watched),
        "bytes_per_leaf_row_all_watched_rows": all_watched["leaf_rows"],
        "bytes_per_leaf_row_at_1pct": _bytes_per_leaf_row(figures),
        "stage_fetch_json_us": stages.get("fetch_json", 0.0) * per_entry,
        "stage_decode_hash_us": stages.get("decode_hash_verify", 0.0) * per_entry - verify_us,
        "stage_verify_us": verify_us,
        "stage_reduce_us": stages.get("reduce", 0.0) * per_entry,
        "stage_load_us": stages.get("load", 0.0) * per_entry,
    }


def _print(prefix: str, name: str, value: float | str) -> None:
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    print(f"{prefix}{name}={text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--startup-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--warehouse", help=argparse.SUPPRESS)
    parser.add_argument("--log-list", help=argparse.SUPPRESS)
    parser.add_argument("--log-id", help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    parser.add_argument("--watch-spki", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument(
        "--cache-dir", type=Path, help="simulator world cache (default: $CTWATCH_DATA_DIR/sim-cache)"
    )
    parser.add_argument("--skip-certspotter", action="store_true")
    parser.add_argument("--skip-static", action="store_true")
    parser.add_argument("--skip-rfc6962", action="store_true", help="static-ct log only (no certspotter)")
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="ctwatch-bench-") as tmp,
        SimulatorRunning(load_scenario(args.scenario), cache_dir=args.cache_dir, present_sth="now") as sim,
    ):
        work = Path(tmp)
        print(f"# world ready in {time.monotonic() - started:.1f} s: "
              + ", ".join(f"{n}={log.size}" for n, log in sim.world.logs.items()), flush=True)  # fmt: skip
        full = sim.log_list()
        if not args.skip_rfc6962:
            rfc_list = _single_log_list(full, f"/logs/{RFC6962_LOG}/", work / "rfc6962.json")
            ours = _measure_ctwatch(RFC6962_LOG, sim, work, rfc_list)
            for name in ("cpu_us_per_entry",):
                _print("", f"ctwatch_{name}", ours[name])
            certspotter = None if args.skip_certspotter else install_certspotter()
            if certspotter is not None:
                theirs = _run_certspotter(certspotter, rfc_list, work, sim.world.logs[RFC6962_LOG].size)
                spotter_us = theirs["cpu_s"] * 1e6 / max(theirs["entries"], 1)
                _print("", "certspotter_cpu_us_per_entry", spotter_us)
                _print("", "certspotter_entries", str(int(theirs["entries"])))
                _print("", "certspotter_peak_rss_mb", theirs["peak_rss_mb"])
                _print("", "ctwatch_to_certspotter_cpu_ratio", ours["cpu_us_per_entry"] / spotter_us)
            else:
                _print("", "certspotter_cpu_us_per_entry", "unavailable")
            for name in ("entries_per_s", "peak_rss_mb", "bytes_per_leaf_row", "startup_cpu_s"):
                _print("", name, ours[name])
            _print("", "bytes_per_leaf_row_at_1pct", ours["bytes_per_leaf_row_at_1pct"])
            _print(
                "", "bytes_per_leaf_row_measured_rows", str(int(ours["bytes_per_leaf_row_all_watched_rows"]))
            )
            _print("", "entries", str(int(ours["entries"])))
            _print("", "leaf_rows", str(int(ours["leaf_rows"])))
            for name in sorted(k for k in ours if k.startswith("stage_")):
                _print("", name, ours[name])
        if not args.skip_static:
            static_list = _single_log_list(full, f"/logs/{STATIC_LOG}/", work / "static.json")
            static = _measure_ctwatch(STATIC_LOG, sim, work, static_list)
            _print("static_", "ctwatch_cpu_us_per_entry", static["cpu_us_per_entry"])
            _print("static_", "certspotter_cpu_us_per_entry", "unsupported")
            for name in ("entries_per_s", "peak_rss_mb", "bytes_per_leaf_row", "startup_cpu_s"):
                _print("static_", name, static[name])
            _print("static_", "bytes_per_leaf_row_at_1pct", static["bytes_per_leaf_row_at_1pct"])
            _print("static_", "entries", str(int(static["entries"])))
            _print("static_", "leaf_rows", str(int(static["leaf_rows"])))
            for name in sorted(k for k in static if k.startswith("stage_")):
                _print("static_", name, static[name])
    return 0


if __name__ == "__main__":
    sys.exit(main())
