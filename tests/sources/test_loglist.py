"""Log list parsing (Google v3, Apple v5) and log selection by state and notAfter window, on real lists."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ctwatch.sources.loglist import (
    LogApi,
    LogListError,
    LogState,
    parse_log_list,
    select_logs,
)

LOG_LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "log_lists"
GOOGLE_2024 = LOG_LISTS / "google_all_logs_list_2024-10-09_pki-data-8bb134b0.json"
CT_GO_2022 = LOG_LISTS / "ct-go_testdata_loglist3_trimmed_2022-05-06.json"
ROME = LOG_LISTS.parent / "ct_api" / "static_ct" / "rome2024h1_checkpoint_verification.json"


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def google_2024() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOOGLE_2024.read_text())
    return data


def rome_tiled_log(state: dict[str, Any]) -> dict[str, Any]:
    """Rome 2024h1 (a real static-ct-api log) as a tiled_logs record, with its real key."""
    rome = json.loads(ROME.read_text())
    key = base64.b64decode(rome["public_key_spki_b64"])
    return {
        "description": "Rome 2024h1",
        "log_id": base64.b64encode(hashlib.sha256(key).digest()).decode(),
        "key": rome["public_key_spki_b64"],
        "submission_url": "https://rome.ct.filippo.io/2024h1/",
        "monitoring_url": rome["monitoring_url"],
        "mmd": 86400,
        "state": state,
        "temporal_interval": {
            "start_inclusive": "2024-01-01T00:00:00Z",
            "end_exclusive": "2024-07-01T00:00:00Z",
        },
    }


def apple_sample() -> dict[str, Any]:
    """A small list in Apple's format, written by us from apple_log_list_schema_v5.json (no real
    Apple list is in the fixtures); its log records reuse real keys (Argon2024, Rome 2024h1)."""
    argon = next(
        log
        for operator in google_2024()["operators"]
        for log in operator["logs"]
        if log["description"] == "Google 'Argon2024' log"
    )
    return {
        "version": "5.12",
        "assetVersion": 90,
        "assetVersionV2": 1090,
        "operators": [
            {
                "name": "Google",
                "email": ["google-ct-logs@googlegroups.com"],
                "logs": [
                    {
                        "description": argon["description"],
                        "key": argon["key"],
                        "log_id": argon["log_id"],
                        "mmd": 86400,
                        "url": argon["url"],
                        "state": {"usable": {"timestamp": "2023-02-03T00:00:00Z", "version": "3"}},
                        "temporal_interval": argon["temporal_interval"],
                        "log_type": "prod",
                    }
                ],
                "tiled_logs": [],
            },
            {
                "name": "Filippo Valsorda",
                "email": ["ct@filippo.io"],
                "logs": [],
                "tiled_logs": [
                    rome_tiled_log({"qualified": {"timestamp": "2024-01-01T00:00:00Z", "version": "4"}})
                ],
            },
        ],
    }


def test_real_google_list_parses_every_log() -> None:
    log_list = parse_log_list(GOOGLE_2024.read_bytes())
    assert log_list.source == "google"
    assert log_list.version == "47.11"
    assert log_list.list_timestamp == datetime(2024, 10, 9, 12, 55, 36, tzinfo=UTC)
    assert len(log_list.logs) == 165
    assert log_list.problems == ()
    by_name = {log.description: log for log in log_list.logs}

    argon = by_name["Google 'Argon2024' log"]
    assert argon.api is LogApi.RFC6962
    assert argon.url == "https://ct.googleapis.com/logs/us1/argon2024/"
    assert argon.state is LogState.USABLE
    assert argon.mmd_s == 86400
    assert (argon.not_after_start, argon.not_after_end_exclusive) == (utc(2024), utc(2025))
    assert argon.log_id == hashlib.sha256(argon.key_der).digest()

    sabre = by_name["Sectigo 'Sabre' CT log"]
    assert sabre.state is LogState.READONLY
    assert sabre.final_tree_head is not None
    assert sabre.final_tree_head.tree_size > 0
    assert len(sabre.final_tree_head.root_hash) == 32
    assert sabre.not_after_start is None  # an unsharded log takes any notAfter

    argon2020 = by_name["Google 'Argon2020' log"]
    assert argon2020.state is LogState.REJECTED
    assert argon2020.state_since == utc(2021, 4, 21)
    assert sum(log.log_type == "test" for log in log_list.logs) > 0


def test_certificates_expiring_2020_to_2022_are_mostly_in_logs_gone_by_2024() -> None:
    log_list = parse_log_list(GOOGLE_2024.read_bytes())
    selection = select_logs(log_list, utc(2020, 7), utc(2022, 7))
    # Of the logs that took those certificates, only the unsharded, frozen Sabre is still readable.
    assert [log.description for log in selection.logs] == ["Sectigo 'Sabre' CT log"]
    assert selection.unreachable_reason is None
    excluded = {log.description: why for log, why in selection.excluded}
    assert excluded["Google 'Argon2021' log"] == "state rejected since 2022-03-01"
    assert excluded["Cloudflare 'Nimbus2022' Log"] == "state rejected since 2023-02-01"
    assert "Google 'Argon2024' log" not in excluded  # its notAfter shard does not overlap


def test_window_without_a_readable_log_says_so() -> None:
    log_list = parse_log_list(GOOGLE_2024.read_bytes())
    selection = select_logs(log_list, utc(2021), utc(2022), states={LogState.USABLE, LogState.QUALIFIED})
    assert selection.logs == ()
    assert selection.unreachable_reason is not None
    assert "none is readable" in selection.unreachable_reason
    assert "Google 'Argon2021' log: state rejected since 2022-03-01" in selection.unreachable_reason
    assert "Sectigo 'Sabre' CT log: state readonly since 2024-05-06" in selection.unreachable_reason


def test_current_window_selects_the_matching_shards() -> None:
    log_list = parse_log_list(GOOGLE_2024.read_bytes())
    selection = select_logs(log_list, utc(2025, 3), utc(2025, 4), states={LogState.USABLE})
    names = {log.description for log in selection.logs}
    assert {"Google 'Argon2025h1' log", "Google 'Xenon2025h1' log", "Cloudflare 'Nimbus2025'"} <= names
    assert not any("2024" in name or "2026" in name for name in names)
    assert all(log.state is LogState.USABLE for log in selection.logs)


def test_ct_go_trimmed_2022_list_records_the_unusable_key() -> None:
    log_list = parse_log_list(CT_GO_2022.read_bytes())
    assert [log.description for log in log_list.logs] == [
        "Google 'Aviator' log",
        "Google 'Icarus' log",
        "Google 'Rocketeer' log",
        "Google 'Argon2020' log",
        "Bob's Dubious Log",
    ]
    assert log_list.problems == ("Google / Google 'Racketeer' log: key is not a DER SubjectPublicKeyInfo",)
    aviator = log_list.logs[0]
    assert aviator.state is LogState.READONLY
    assert aviator.final_tree_head is not None
    assert aviator.final_tree_head.tree_size == 46466472
    selection = select_logs(log_list, utc(2019), utc(2019, 6))
    assert {log.description for log in selection.logs} == {
        "Google 'Aviator' log",
        "Google 'Icarus' log",
        "Google 'Rocketeer' log",
        "Google 'Argon2020' log",
    }


def test_apple_format_sample_follows_the_schema_and_parses() -> None:
    sample = apple_sample()
    jsonschema.validate(sample, json.loads((LOG_LISTS / "apple_log_list_schema_v5.json").read_text()))
    log_list = parse_log_list(json.dumps(sample))
    assert log_list.source == "apple"
    assert log_list.problems == ()
    argon, rome = log_list.logs
    assert argon.api is LogApi.RFC6962
    assert argon.state is LogState.USABLE
    assert argon.log_type == "prod"
    assert rome.api is LogApi.STATIC_CT
    assert rome.state is LogState.QUALIFIED
    assert rome.url == "https://rome.ct.filippo.io/2024h1/"  # monitoring prefix: where tiles are read
    assert rome.submission_url == "https://rome.ct.filippo.io/2024h1/"
    static_only = select_logs(log_list, utc(2024, 3), utc(2024, 4), api=LogApi.STATIC_CT)
    assert static_only.logs == (rome,)
    assert [why for _, why in static_only.excluded] == ["serves rfc6962, not static_ct"]
    nothing = select_logs(log_list, utc(2030), utc(2031))
    assert nothing.logs == ()
    assert nothing.excluded == ()
    assert nothing.unreachable_reason == (
        "no log in the apple list (version 5.12) accepts notAfter"
        " [2030-01-01T00:00:00+00:00, 2031-01-01T00:00:00+00:00)"
    )


def test_google_tiled_logs_follow_the_v3_schema_and_parse() -> None:
    data = google_2024()
    # The 2024-10 list predates tiled logs; today's schema requires the (possibly empty) array.
    for operator in data["operators"]:
        operator["tiled_logs"] = []
    data["operators"][0]["tiled_logs"] = [
        rome_tiled_log(
            {
                "readonly": {
                    "timestamp": "2024-08-01T00:00:00Z",
                    "final_tree_head": {
                        "tree_size": 115474666,
                        "sha256_root_hash": base64.b64encode(bytes(32)).decode(),
                    },
                }
            }
        )
    ]
    jsonschema.validate(data, json.loads((LOG_LISTS / "google_log_list_v3_schema.json").read_text()))
    log_list = parse_log_list(data)
    tiled = [log for log in log_list.logs if log.api is LogApi.STATIC_CT]
    assert len(tiled) == 1
    assert tiled[0].final_tree_head is not None
    assert tiled[0].final_tree_head.tree_size == 115474666


def test_bad_records_are_recorded_not_raised() -> None:
    data = google_2024()
    broken = copy.deepcopy(data["operators"][0]["logs"][:4])
    broken[0]["log_id"] = broken[1]["log_id"]
    broken[1]["state"] = {"usable": {"timestamp": "2024-01-01T00:00:00Z"}, "retired": {"timestamp": "x"}}
    broken[2]["url"] = "ftp://example"
    del broken[3]["state"]["rejected"]["timestamp"]
    data["operators"] = [{"name": "Broken", "email": [], "logs": broken}]
    log_list = parse_log_list(data)
    assert log_list.logs == ()
    assert [problem.split(": ", 1)[1] for problem in log_list.problems] == [
        "log_id is not the SHA-256 of the key",
        "state must be an object with exactly one key",
        "log URL 'ftp://example' is not an http(s) URL",
        "state rejected timestamp is not a timestamp string",
    ]


@pytest.mark.parametrize("document", [b"not json", b"{}", b"[]", {"operators": "x"}])
def test_documents_that_are_no_log_list_raise(document: bytes | dict[str, Any]) -> None:
    with pytest.raises(LogListError):
        parse_log_list(document)
