"""The resolved ctwatch.toml for the DAGs, the launcher and the demo (`ctwatch.config`).

Read when a DAG file is parsed (schedules, CT params) and again by each task, so a task sees the
file as it is when it runs. An invalid file makes the DAG files fail to import, each problem in
the import error.
"""

from __future__ import annotations

from pathlib import Path

from ctwatch.config import Settings, load_settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def settings() -> Settings:
    return load_settings()


def data_dir() -> Path:
    """The folder holding the warehouse, staged files and reports (`data_dir`)."""
    return settings().data_dir


def warehouse_path() -> Path:
    """The DuckDB warehouse file (`warehouse`)."""
    return settings().warehouse
