from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated Airflow metadata DB in the test's temporary AIRFLOW_HOME (see tests/conftest.py)."""
    from airflow.utils.db import initdb

    initdb()
