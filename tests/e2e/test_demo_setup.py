"""The demo's pieces that need no running Airflow: the files it writes, the replay arithmetic, the table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctwatch.config import ConfigError, load_settings
from ctwatch.config.spec import interval
from ctwatch.demo import (
    EVALUATION_CONFIG_FILE,
    OwnerSummary,
    alert_counts,
    format_alert_counts,
    format_table,
    write_demo_config,
)
from ctwatch.evaluate.config import load_config
from ctwatch.revocation.config import Source
from ctwatch_airflow.replay_plan import Replay

# What `ctwatch sim serve --write-config` writes, for a simulator on port 4000.
SIMULATOR_CONFIG = """
[stamping]
mode = "simulated"

[ct]
log_list = "http://127.0.0.1:4000/log_list.json"

[sources.onecrl]
url = "http://127.0.0.1:4000/onecrl/v1/buckets/security-state/collections/onecrl/records"

[sources.bugzilla]
url = "http://127.0.0.1:4000/bugzilla/rest/"

[url_rewrite]
"http://crl.secom.example/" = "http://127.0.0.1:4000/hosts/crl.secom.example/"
"""


def test_the_demo_config_adds_its_folder_intervals_and_declarations(tmp_path: Path) -> None:
    simulator = tmp_path / "simulator.toml"
    simulator.write_text(SIMULATOR_CONFIG)
    data = tmp_path / "demo"
    path = write_demo_config(tmp_path / "ctwatch.toml", simulator, data, {"evaluate_compliance": "7d"})
    settings = load_settings(path, environ={})
    assert settings.simulated
    assert settings.data_dir == data
    assert settings.warehouse == data / "warehouse.duckdb"
    assert (
        settings.sources.url(Source.ONECRL)
        == "http://127.0.0.1:4000/onecrl/v1/buckets/security-state/collections/onecrl/records"
    )
    assert (
        settings.sources.rewrite("http://crl.secom.example/r.crl")
        == "http://127.0.0.1:4000/hosts/crl.secom.example/r.crl"
    )
    assert settings.interval("evaluate_compliance") == timedelta(days=7)
    assert settings.interval("ingest_revocations") == timedelta(hours=4)  # not replayed: the default
    assert settings.declarations.incidents == load_config(EVALUATION_CONFIG_FILE).incidents


def test_the_evaluation_config_declares_the_incident_and_its_key_destruction() -> None:
    config = load_config(EVALUATION_CONFIG_FILE)
    (incident,) = config.incidents
    assert incident.clock_start == datetime(2020, 7, 1, tzinfo=UTC)
    assert len(incident.bug_ids) == 5
    (destruction,) = config.key_destructions
    assert destruction.recorded_at == datetime(2021, 3, 17, 9, tzinfo=UTC)


def test_a_replay_ends_with_the_first_interval_reaching_its_end() -> None:
    replay = Replay(datetime(2020, 6, 15, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC), "7d", "28d")
    assert replay.runs_of("ingest_revocations") == 46  # 320 days
    assert replay.last_start_of("ingest_revocations") == datetime(2021, 4, 26, tzinfo=UTC)
    assert replay.last_as_of == datetime(2021, 5, 3, tzinfo=UTC)
    assert replay.runs_of("ingest_crtsh") == 12


@pytest.mark.parametrize("text", ["", "7", "d", "0d", "-1d", "1w", "1.5h"])
def test_a_malformed_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="a count and a unit"):
        interval(text)


def test_an_interval_comes_from_its_variable_or_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./ctwatch.toml
    missing = tmp_path / "none.toml"
    environ = {"CTWATCH_CONFIG": str(missing)}
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_settings(environ=environ)
    assert load_settings(environ={}).interval("ingest_revocations") == timedelta(hours=4)
    variable = {"CTWATCH_INTERVALS_INGEST_REVOCATIONS": "15m"}
    assert load_settings(environ=variable).interval("ingest_revocations") == timedelta(minutes=15)
    with pytest.raises(ConfigError, match=r"\$CTWATCH_INTERVALS_INGEST_REVOCATIONS = 'weekly': expected"):
        load_settings(environ={"CTWATCH_INTERVALS_INGEST_REVOCATIONS": "weekly"})


def test_alert_counts_skip_a_line_cut_short(tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    lines = [
        json.dumps({"key": "a", "alert": {"event": {"transition": "new_incident"}}}),
        json.dumps({"key": "b", "alert": {"event": {"transition": "revoked_late"}}}),
        json.dumps({"key": "c", "alert": {"event": {"transition": "revoked_late"}}}),
        '{"key": "d", "alert": {"ev',
    ]
    replay.write_text("\n".join(lines))
    counts = alert_counts(replay)
    assert counts == {"new_incident": 1, "revoked_late": 2}
    assert format_alert_counts(counts) == "new_incident 1, revoked_late 2"
    assert format_alert_counts(alert_counts(tmp_path / "absent.jsonl")) == "no historical alerts"


def test_the_table_aligns_one_line_per_owner() -> None:
    as_of = datetime(2021, 5, 3, tzinfo=UTC)
    rows = [
        OwnerSummary("SECOM Trust Systems", 5, 0, 5, 243.1, 0, as_of),
        OwnerSummary("Sim Prompt Trust", 4, 4, 0, None, 0, as_of),
    ]
    lines = format_table(rows).splitlines()
    assert lines[0].split("  ")[0].strip() == "CA owner"
    assert "243.1" in lines[2]
    assert lines[3].startswith("Sim Prompt Trust")
    assert lines[3].split()[-3:] == ["0", "-", "0"]
    assert len({len(line) for line in lines}) == 1
