"""The demo's pieces that need no running Airflow: the files it writes, the replay arithmetic, the table."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ctwatch.demo import (
    EVALUATION_CONFIG_FILE,
    OwnerSummary,
    alert_counts,
    format_alert_counts,
    format_table,
    write_sources_file,
)
from ctwatch.evaluate.config import load_config
from ctwatch.revocation.config import load_source_locations
from ctwatch_airflow.replay_plan import Replay
from ctwatch_airflow.settings import interval_from_env, parse_interval

SIM_URLS = {
    "base_url": "http://127.0.0.1:4000",
    "url_rewrite": {
        "http://crl.secom.example/": "http://127.0.0.1:4000/hosts/crl.secom.example/",
        "http://ocsp.secom.example/": "http://127.0.0.1:4000/hosts/ocsp.secom.example/",
    },
    "services": {
        "ccadb_all_records_url": "http://127.0.0.1:4000/ccadb/AllCertificateRecordsCSVFormatV5",
        "mozilla_revoked_url": "http://127.0.0.1:4000/mozilla/PublicIntermediateCertsRevokedWithPEMCSV",
        "onecrl_url": "http://127.0.0.1:4000/onecrl/v1/buckets/security-state/collections/onecrl/records",
        "crlset_url": "http://127.0.0.1:4000/crlset/crl-set",
        "crtsh_url": "http://127.0.0.1:4000/crtsh/",
        "bugzilla_url": "http://127.0.0.1:4000/bugzilla/rest/",
    },
}


def test_the_sources_file_points_every_revocation_source_at_the_simulator(tmp_path: Path) -> None:
    locations = load_source_locations(write_sources_file(tmp_path / "sources.toml", SIM_URLS), environ={})
    assert locations.simulated
    assert locations.onecrl_url == SIM_URLS["services"]["onecrl_url"]
    assert locations.bugzilla_url == SIM_URLS["services"]["bugzilla_url"]
    assert locations.ccadb_all_records_url.startswith("http://127.0.0.1:4000/")
    assert (
        locations.rewrite("http://crl.secom.example/secom-root.crl")
        == "http://127.0.0.1:4000/hosts/crl.secom.example/secom-root.crl"
    )


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
    with pytest.raises(ValueError, match="positive count"):
        parse_interval(text)


def test_an_interval_comes_from_the_environment_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTWATCH_TEST_INTERVAL", raising=False)
    assert interval_from_env("CTWATCH_TEST_INTERVAL", timedelta(hours=4)) == timedelta(hours=4)
    monkeypatch.setenv("CTWATCH_TEST_INTERVAL", "15m")
    assert interval_from_env("CTWATCH_TEST_INTERVAL", timedelta(hours=4)) == timedelta(minutes=15)
    monkeypatch.setenv("CTWATCH_TEST_INTERVAL", "weekly")
    with pytest.raises(ValueError, match="CTWATCH_TEST_INTERVAL"):
        interval_from_env("CTWATCH_TEST_INTERVAL", timedelta(hours=4))


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
