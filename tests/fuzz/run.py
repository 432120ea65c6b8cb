"""`make fuzz`: every fuzz target under libFuzzer (atheris) for a fixed time, then figures as
name=value lines.

    python -m tests.fuzz.run [--seconds N] [--only NAME ...] [--jobs N] [--list]

Each target runs in its own process (tests/fuzz/worker.py) with a per-input time bound and a memory
limit, starting from its seed corpus (tests/fuzz/corpus/<name>/) plus the inputs it finds in this
run. A failure (an exception outside the documented types, a timeout, running out of memory) stops
libFuzzer with the input saved under the artifacts folder; the target is then started again for the
rest of its time, keeping what it found. Exit status 1 when any target failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.targets import BY_NAME, SCRATCH_ENV, TARGETS, Target

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ARTIFACTS = REPO_ROOT / ".fuzz-artifacts"
INPUT_TIMEOUT_S = 10
RSS_LIMIT_MB = 2048
GRACE_S = 4 * INPUT_TIMEOUT_S + 60  # past its time, a worker still stopping (a last slow input, final stats)
MAX_STARTS = 20  # a target failing at once over and over is started no more often than this

_INITED = re.compile(r"INITED cov: (\d+) ft: (\d+)")
_PROGRESS = re.compile(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+)")
_STAT = re.compile(r"stat::(\w+):\s+(\d+)")
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_UNCAUGHT = "=== Uncaught Python exception: ==="


@dataclass
class Outcome:
    """What one target's runs add up to."""

    target: Target
    seeds: int = 0
    inputs: int = 0
    new_units: int = 0
    coverage: int = 0  # instrumented edges reached, seeds included
    seed_features: int | None = None
    features: int = 0
    starts: int = 0
    failures: list[str] = field(default_factory=list)  # "<artifact> <what went wrong>"

    @property
    def new_features(self) -> int:
        return self.features - (self.seed_features or 0)


def _failure_reason(log: str) -> str:
    lines = log.splitlines()
    uncaught = next((n for n, line in enumerate(lines) if _UNCAUGHT in line), None)
    if uncaught is not None:
        return next((line.strip() for line in lines[uncaught + 1 :] if line.strip()), "uncaught exception")
    if "ALARM: working on the last Unit" in log:
        return f"timeout: one input ran more than {INPUT_TIMEOUT_S} s"
    if "out-of-memory" in log:
        return f"out of memory: more than {RSS_LIMIT_MB} MB"
    return "libFuzzer stopped: " + next((line for line in lines if "ERROR:" in line), "no reason given")


def _read_log(outcome: Outcome, log: str) -> bool:
    """Add one run's figures to `outcome`; whether it wrote a failing input."""
    inited = _INITED.search(log)
    if inited and outcome.seed_features is None:
        outcome.seed_features = int(inited.group(2))
    progress = _PROGRESS.findall(log)
    if progress:
        outcome.coverage, outcome.features = (int(value) for value in progress[-1])
    stats = dict(_STAT.findall(log))
    outcome.inputs += int(stats.get("number_of_executed_units", 0))
    outcome.new_units += int(stats.get("new_units_added", 0))
    artifact = _ARTIFACT.search(log)
    if artifact:
        path = Path(artifact.group(1))
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        outcome.failures.append(f"{shown} {_failure_reason(log)}")
    return artifact is not None


def fuzz(target: Target, seconds: float, artifacts: Path) -> Outcome:
    outcome = Outcome(target, seeds=sum(1 for path in target.corpus.iterdir() if path.is_file()))
    folder = artifacts / target.name
    folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + seconds
    memory = Path("/dev/shm")
    with (
        tempfile.TemporaryDirectory(prefix=f"ctwatch-fuzz-{target.name}-") as found,
        tempfile.TemporaryDirectory(
            prefix="ctwatch-fuzz-", dir=memory if memory.is_dir() else None
        ) as scratch,
    ):
        while (remaining := int(deadline - time.monotonic())) >= 1 and outcome.starts < MAX_STARTS:
            outcome.starts += 1
            command = [
                sys.executable, "-m", "tests.fuzz.worker", target.name,
                f"-max_total_time={remaining}", f"-timeout={INPUT_TIMEOUT_S}",
                f"-rss_limit_mb={RSS_LIMIT_MB}",  # -malloc_limit_mb needs a sanitizer's malloc hooks
                "-print_final_stats=1", f"-artifact_prefix={folder}/",
                found, str(target.corpus),  # new units go to the first folder: the seeds stay as they are
            ]  # fmt: skip
            try:
                run = subprocess.run(
                    command,
                    cwd=REPO_ROOT,
                    env={**os.environ, SCRATCH_ENV: scratch},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,  # libFuzzer reports on stderr, atheris the exception on stdout
                    text=True,
                    errors="replace",
                    timeout=remaining + GRACE_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:  # libFuzzer's own -timeout did not stop it: killed
                outcome.failures.append(f"{folder} the worker still ran {GRACE_S} s after its time: killed")
                break
            wrote_input = _read_log(outcome, run.stdout)
            if run.returncode == 0:
                break
            if not wrote_input:  # it stopped without a failing input: it did not even start
                last = run.stdout.strip().splitlines()[-1:] or ["no output"]
                outcome.failures.append(f"{folder} the worker exited with {run.returncode}: {last[0]}")
                break
    return outcome


def _lines(outcomes: list[Outcome], seconds: float, artifacts: Path, wall_s: float) -> list[str]:
    lines = []
    for outcome in outcomes:
        prefix = f"fuzz.{outcome.target.name}"
        lines += [
            f"{prefix}.seeds={outcome.seeds}",
            f"{prefix}.inputs={outcome.inputs}",
            f"{prefix}.new_units={outcome.new_units}",
            f"{prefix}.new_features={outcome.new_features}",
            f"{prefix}.coverage_edges={outcome.coverage}",
            f"{prefix}.failures={len(outcome.failures)}",
        ]
        lines += [f"{prefix}.failure.{n}={text}" for n, text in enumerate(outcome.failures, 1)]
    lines += [
        f"fuzz.total.targets={len(outcomes)}",
        f"fuzz.total.inputs={sum(o.inputs for o in outcomes)}",
        f"fuzz.total.new_units={sum(o.new_units for o in outcomes)}",
        f"fuzz.total.failures={sum(len(o.failures) for o in outcomes)}",
        f"fuzz.seconds_per_target={seconds:g}",
        f"fuzz.input_timeout_s={INPUT_TIMEOUT_S}",
        f"fuzz.rss_limit_mb={RSS_LIMIT_MB}",
        f"fuzz.artifacts={artifacts}",
        f"fuzz.wall_s={wall_s:.0f}",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="fuzzing time per target (default 30)")
    parser.add_argument(
        "--only", action="append", choices=sorted(BY_NAME), help="this target only (repeatable)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="targets fuzzed at once (default 1)")
    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="where failing inputs go")
    parser.add_argument("--list", action="store_true", help="list the targets and their documented errors")
    args = parser.parse_args(argv)
    if args.list:
        for target in TARGETS:
            allowed = ", ".join(error.__name__ for error in target.allowed) or "none"
            print(f"{target.name}: {target.covers} (documented errors: {allowed})")
        return 0
    chosen = [BY_NAME[name] for name in args.only] if args.only else list(TARGETS)
    artifacts = args.artifacts.resolve()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda target: fuzz(target, args.seconds, artifacts), chosen))
    for line in _lines(outcomes, args.seconds, artifacts, time.monotonic() - started):
        print(line)
    return 1 if any(outcome.failures for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
