"""The machine's PostgreSQL for tests: a fresh database per use, dropped afterwards. An unreachable
service skips the test, except under `CI=true`, where it fails: CI must not pass by skipping."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import pytest

PG_HOST = "127.0.0.1"
PG_USER = "postgres"


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: a skip would hide the check)")
    pytest.skip(reason)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The bare postgresql:// URL of a new database (the form an operator writes)."""
    import psycopg2

    name = f"ctwatch_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(host=PG_HOST, user=PG_USER, dbname="postgres", connect_timeout=5)
    except psycopg2.OperationalError as exc:
        unavailable(f"PostgreSQL on {PG_HOST}:5432 cannot be reached: {exc}".strip())
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://{PG_USER}@{PG_HOST}:5432/{name}"
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.close()
