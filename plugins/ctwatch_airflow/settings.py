"""Where ctwatch keeps its files, resolved the same way by the launcher, tasks and tests."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The folder holding the warehouse, staged files and reports (`CTWATCH_DATA_DIR`, default ./data)."""
    return Path(os.environ.get("CTWATCH_DATA_DIR", PROJECT_ROOT / "data"))


def warehouse_path() -> Path:
    """The DuckDB warehouse file (`CTWATCH_WAREHOUSE`, default <data dir>/warehouse.duckdb)."""
    explicit = os.environ.get("CTWATCH_WAREHOUSE")
    return Path(explicit) if explicit else data_dir() / "warehouse.duckdb"


def evaluation_config_file() -> Path | None:
    """The evaluator's configuration file (`CTWATCH_EVALUATION_CONFIG`); None: the packaged one."""
    config = os.environ.get("CTWATCH_EVALUATION_CONFIG")
    return Path(config) if config else None


_INTERVAL_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> timedelta:
    """ "15m", "4h", "7d" as a timedelta; ValueError for anything else."""
    count, unit = text.strip()[:-1], text.strip()[-1:]
    if unit not in _INTERVAL_UNITS_S or not count.isdigit() or int(count) == 0:
        raise ValueError(f"{text!r}: expected a positive count and a unit s/m/h/d, e.g. '7d'")
    return timedelta(seconds=int(count) * _INTERVAL_UNITS_S[unit])


def interval_from_env(name: str, default: timedelta) -> timedelta:
    """A DAG's timetable interval from `$name` (`parse_interval`), read when the DAG file is parsed.

    `make demo` sets these so a backfill replays history at a coarser cadence; unset, the live one.
    A malformed value raises ValueError (the DAG's import error names it).
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_interval(text)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
