"""Where ctwatch keeps its files, resolved the same way by the launcher, tasks and tests."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """The folder holding the warehouse, staged files and reports (`CTWATCH_DATA_DIR`, default ./data)."""
    return Path(os.environ.get("CTWATCH_DATA_DIR", PROJECT_ROOT / "data"))


def warehouse_path() -> Path:
    """The DuckDB warehouse file (`CTWATCH_WAREHOUSE`, default <data dir>/warehouse.duckdb)."""
    explicit = os.environ.get("CTWATCH_WAREHOUSE")
    return Path(explicit) if explicit else data_dir() / "warehouse.duckdb"
