"""ctwatch.toml: precedence and origins, every problem reported, the example and the reference
complete, relative paths, disabled sources, the same file for every component."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from ctwatch.config import ConfigError, load_settings, settings_from
from ctwatch.config.spec import SETTINGS
from ctwatch.evaluate.config import load_config
from ctwatch.revocation.config import Source
from ctwatch.revocation.daily_lists import ingest_daily_lists
from tests.conftest import REPO_ROOT
from tests.sources.test_http import FixtureServer

CTWATCH = Path(sys.executable).parent / "ctwatch"

FILE = """
data_dir = "state"

[stamping]
mode = "simulated"

[sources]
requests_per_second = 5.0

[sources.onecrl]
url = "http://mirror.test/onecrl"
timeout_s = 7.5

[sources.crlset]
enabled = false

[ct]
log_ids = ["AB" ]

[intervals]
evaluate_compliance = "30m"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ctwatch.toml"
    path.write_text(text)
    return path


def test_defaults_then_the_file_then_variables_each_with_its_origin(tmp_path: Path) -> None:
    path = _write(tmp_path, FILE.replace('log_ids = ["AB" ]', 'log_ids = ["' + "ab" * 32 + '"]'))
    environ = {"CTWATCH_SOURCES_ONECRL_URL": "http://other.test/onecrl", "CTWATCH_CT_BATCH_SIZE": "50"}
    settings = load_settings(path, environ)
    where = str(path)
    expected = {
        "data_dir": (str(tmp_path / "state"), where),  # relative to the file's folder
        "warehouse": (str(tmp_path / "state" / "warehouse.duckdb"), f"{where} (<data_dir>/warehouse.duckdb)"),
        "stamping.mode": ("simulated", where),
        "sources.onecrl.url": (
            "http://other.test/onecrl",
            "$CTWATCH_SOURCES_ONECRL_URL",
        ),  # the variable wins
        "sources.onecrl.timeout_s": (7.5, where),
        "sources.onecrl.requests_per_second": (5.0, f"{where} (sources.requests_per_second)"),
        "sources.ccadb.timeout_s": (60.0, "default (sources.timeout_s)"),
        "sources.crlset.enabled": (False, where),
        "ct.log_ids": (("ab" * 32,), where),
        "ct.batch_size": (50, "$CTWATCH_CT_BATCH_SIZE"),
        "ct.new_logs_start": ("head", "default"),
        "intervals.evaluate_compliance": (timedelta(minutes=30), where),
        "intervals.ingest_revocations": (timedelta(hours=4), "default"),
    }
    assert {k: (settings.values[k], settings.origins[k]) for k in expected} == expected
    sources = settings.sources
    assert sources.simulated
    assert sources.endpoint(Source.ONECRL).politeness.requests_per_second == 5.0
    assert not sources.endpoint(Source.CRLSET).enabled
    assert settings.ingest_config({"batch_size": 10}).batch_size == 10  # a triggered run's params win
    assert settings.declarations.incidents == ()  # the file declares none


def test_the_overdue_digest_period_defaults_to_a_day_and_comes_from_the_file_or_its_variable(
    tmp_path: Path,
) -> None:
    assert load_settings(_write(tmp_path, ""), {}).alerts.overdue_digest_period == timedelta(days=1)
    path = _write(tmp_path, '[alerts]\noverdue_digest_period = "7d"\n')
    assert load_settings(path, {}).alerts.overdue_digest_period == timedelta(days=7)
    variable = {"CTWATCH_ALERTS_OVERDUE_DIGEST_PERIOD": "12h"}
    assert load_settings(path, variable).alerts.overdue_digest_period == timedelta(hours=12)
    with pytest.raises(ConfigError, match="overdue_digest_period = 'daily': expected"):
        load_settings(_write(tmp_path, '[alerts]\noverdue_digest_period = "daily"\n'), {})


def test_without_a_file_the_defaults_and_the_packaged_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.file is None
    assert settings.declarations == load_config(None)
    assert not settings.simulated
    assert settings.data_dir == tmp_path / "data"


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ('data_dir = "a\\u0000b"\n', "data_dir = 'a\\x00b': expected a string without NUL characters"),
        (f'[intervals]\nsend_alerts = "{"9" * 30}d"\n', "send_alerts = '999999999999999"),
        (f"colour = {'[' * 2000}{']' * 2000}\n", "not a TOML file: arrays or tables nested too deep"),
    ],
    ids=["nul", "huge-interval", "deep-nesting"],
)
def test_hostile_values_are_config_errors(tmp_path: Path, document: str, problem: str) -> None:
    # Path.resolve, timedelta and tomllib raise ValueError, OverflowError and RecursionError on these
    with pytest.raises(ConfigError) as raised:
        load_settings(_write(tmp_path, document), {})
    assert problem in str(raised.value)


def test_every_problem_is_one_line_and_never_a_traceback(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "colour = 1\n"  # 1: unknown top-level key
        '[stamping]\nmode = "recorded"\n'  # 2: not a mode
        '[sources.onecrl]\nurl = "ftp://x"\nenabeld = true\n'  # 3: not http(s), 4: unknown key
        '[intervals]\nsend_alerts = "soon"\n'  # 5: not an interval
        '[[incidents]]\nid = "a"\nrule = "r"\nclock_start = 2020-07-01\n',  # 6: a date, 7: no clock_source
    )
    result = subprocess.run(
        [str(CTWATCH), "config", "check", "--config", str(path)],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 7, result.stderr
    assert all(line.startswith(f"ctwatch config check: {path}: ") for line in lines)
    assert "Traceback" not in result.stderr
    assert (
        f"ctwatch config check: {path}: [sources.onecrl] url = 'ftp://x': expected an http:// or https:// URL"
        in lines
    )
    assert any(
        "incidents[0].clock_start = 2020-07-01: expected an instant with a time zone" in x for x in lines
    )


def test_a_bad_variable_is_a_problem_and_an_unknown_one_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, "")
    with pytest.raises(
        ConfigError, match=r"^\$CTWATCH_SOURCES_TIMEOUT_S = 'never': expected a number above 0$"
    ):
        load_settings(path, {"CTWATCH_SOURCES_TIMEOUT_S": "never"})
    assert load_settings(path, {"CTWATCH_SOURCE_ONECRL_URL": "x"}).unknown_variables == (
        "CTWATCH_SOURCE_ONECRL_URL",
    )


def test_config_check_prints_every_setting_with_its_origin(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sources.crtsh]\nidentities = ["%.example.com"]\n')
    result = subprocess.run(
        [str(CTWATCH), "config", "check"], capture_output=True, text=True, check=False,
        env={"PATH": "/usr/bin:/bin", "CTWATCH_CONFIG": str(path), "CTWATCH_ALERTS_SOURCE_DOWN_AFTER": "6h"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = {line.split(" = ")[0].strip(): line for line in result.stdout.splitlines() if " = " in line}
    assert set(shown) >= {setting.path for setting in SETTINGS}
    assert shown["sources.crtsh.identities"].endswith(f'= ["%.example.com"]  # {path}')
    assert shown["alerts.source_down_after"].endswith('= "6h"  # $CTWATCH_ALERTS_SOURCE_DOWN_AFTER')
    assert f"incidents: 0 declared (none)  # {path}" in result.stdout


def test_the_example_file_is_valid_and_shows_every_setting() -> None:
    example = REPO_ROOT / "ctwatch.example.toml"
    settings = load_settings(example, {})
    text = example.read_text()
    for setting in SETTINGS:
        assert f"{setting.key} =" in text or f"[{setting.path}]" in text, setting.path
    assert settings.declarations.incidents == load_config(None).incidents  # the packaged incident
    tomllib.loads(text)


def test_the_reference_names_every_setting_and_variable() -> None:
    reference = (REPO_ROOT / "docs" / "configuration.md").read_text()
    missing = [
        s.path for s in SETTINGS if f"`{s.path}`" not in reference or f"`{s.variable}`" not in reference
    ]
    assert missing == []


def test_answer_limits_reach_each_client_with_the_table_that_set_them() -> None:
    settings = settings_from(
        {
            "ct": {"max_body_bytes": 7_000_000},
            "sources": {"max_body_bytes": 1000, "onecrl": {"response_deadline_s": 9}},
        },
        {"CTWATCH_SOURCES_CRL_RESPONSE_DEADLINE_S": "30"},
    )
    ct = settings.ingest_config().politeness
    assert (ct.max_body_bytes, ct.response_deadline_s, ct.setting("max_body_bytes")) == (
        7_000_000, 300.0, "[ct] max_body_bytes"
    )  # fmt: skip
    onecrl = settings.sources.endpoint(Source.ONECRL).politeness
    assert (onecrl.max_body_bytes, onecrl.response_deadline_s, onecrl.setting("response_deadline_s")) == (
        1000, 9.0, "[sources.onecrl] response_deadline_s"
    )  # fmt: skip
    crl = settings.sources.endpoint(Source.CRL)  # streamed to disk: its own, larger default
    assert (crl.max_body_bytes, crl.response_deadline_s) == (2 * 1024**3, 30.0)


def test_a_disabled_source_is_never_fetched(tmp_path: Path) -> None:
    with FixtureServer({}) as server:
        settings = settings_from(
            {
                "sources": {
                    name: {"url": f"{server.base_url}{name}", "enabled": name == "onecrl"}
                    for name in ("ccadb", "mozilla_revoked", "onecrl", "crlset")
                }
            }
        )
        summary = ingest_daily_lists(tmp_path / "w.duckdb", settings.sources)
    assert [path for path, _ in server.requests] == ["/onecrl"]
    (error,) = summary.fetch_errors  # the simulated 404 of the one enabled list
    assert error.startswith("onecrl: ")
