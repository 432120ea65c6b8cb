"""Every DAG in dags/ imports cleanly and follows the project's conventions."""

from __future__ import annotations

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_dags_import_without_errors(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert "evaluate_rules" in dagbag.dag_ids


def test_every_dag_has_tags_and_every_task_retries(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_every_dag_has_runs_for_any_ct_history_but_no_catchup(dagbag) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    ct_began = datetime(2013, 3, 1, tzinfo=UTC)  # RFC 6962's first logs
    for dag_id, dag in dagbag.dags.items():
        assert dag.start_date <= ct_began, f"{dag_id} starts {dag.start_date}: no runs for older periods"
        assert dag.catchup is False, dag_id


def test_warehouse_tasks_use_the_one_slot_pool(dagbag) -> None:  # type: ignore[no-untyped-def]
    from ctwatch_airflow.defaults import WAREHOUSE_POOL

    evaluate = dagbag.dags["evaluate_rules"].get_task("evaluate")
    assert evaluate.pool == WAREHOUSE_POOL


def test_evaluate_rules_has_an_hourly_data_interval(dagbag) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from airflow.timetables.base import DataInterval, TimeRestriction

    timetable = dagbag.dags["evaluate_rules"].timetable
    run = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(
            datetime(2026, 3, 1, 10, tzinfo=UTC), datetime(2026, 3, 1, 11, tzinfo=UTC)
        ),
        restriction=TimeRestriction(earliest=None, latest=None, catchup=True),
    )
    assert run is not None
    assert run.data_interval.end - run.data_interval.start == timedelta(hours=1)


@pytest.mark.parametrize(("given", "seconds"), [(None, 120), ("15", 15), ("3600", 3600)])
def test_the_retry_delay_comes_from_its_variable(given: str | None, seconds: int) -> None:
    from datetime import timedelta

    from ctwatch_airflow.defaults import retry_delay

    env = {} if given is None else {"CTWATCH_RETRY_DELAY_S": given}
    assert retry_delay(env) == timedelta(seconds=seconds)


@pytest.mark.parametrize("given", ["0", "-5", "2m", "", "3601"])
def test_a_retry_delay_that_is_not_whole_seconds_names_the_variable(given: str) -> None:
    from ctwatch_airflow.defaults import retry_delay

    with pytest.raises(ValueError, match=r"\$CTWATCH_RETRY_DELAY_S = "):
        retry_delay({"CTWATCH_RETRY_DELAY_S": given})


def test_the_dag_processor_gives_every_task_the_configured_retry_delay() -> None:
    import os
    import subprocess
    import sys

    script = (
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(REPO_ROOT / 'dags')!r})\n"
        "assert not bag.import_errors, bag.import_errors\n"
        "print(sorted({t.retry_delay.total_seconds() for d in bag.dags.values() for t in d.tasks}))\n"
    )
    env = {**os.environ, "CTWATCH_RETRY_DELAY_S": "7"}
    argv = [sys.executable, "-c", script]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "[7.0]"
