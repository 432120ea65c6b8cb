"""Every setting of ctwatch.toml: its path in the file, its variable, its default and what it takes.

A setting `a.b` lives in table `[a]` under key `b` and is overridden by the variable `CTWATCH_A_B`
(`data_dir` and `warehouse` are top-level keys: `CTWATCH_DATA_DIR`, `CTWATCH_WAREHOUSE`). A value in
a variable is text: lists are comma-separated, tables `prefix=target;prefix2=target2`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from ctwatch.alerts import OVERDUE_DIGEST_PERIOD
from ctwatch.ingest.config import START_AT_HEAD, START_AT_ORIGIN
from ctwatch.ingest.ranges import MAX_RANGES, MIN_RANGE_ENTRIES


class BadValue(ValueError):
    """A value a setting does not take; the message says what it takes."""


Parse = Callable[[object], object]

GOOGLE_LOG_LIST: Final = "https://www.gstatic.com/ct/log_list/v3/log_list.json"
# The CRLSet component (id hfnkpimlhhgieaddgfemjhofmfblmnib) from Chrome's component updater, as CRX3.
CRLSET_URL: Final = (
    "https://clients2.google.com/service/update2/crx"
    "?x=id%3Dhfnkpimlhhgieaddgfemjhofmfblmnib%26v%3D%26uc&acceptformat=crx3"
)
# Airflow refuses to map a task over more items than its max_map_length (1024 by default).
AIRFLOW_MAX_MAP_LENGTH: Final = 1024
STAMPING_LIVE: Final = "live"
STAMPING_SIMULATED: Final = "simulated"
_HEX_64: Final = re.compile(r"[0-9a-fA-F]{64}")
_INTERVAL: Final = re.compile(r"([1-9][0-9]{0,8})([smhd])")  # up to 999999999 d, timedelta's limit
_INTERVAL_UNITS_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_BODY_BYTES: Final = 1 << 40
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


def text(value: object) -> str:
    if isinstance(value, str) and "\0" in value:  # TOML can write one (\u0000); no name or path holds it
        raise BadValue("a string without NUL characters")
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadValue("a non-empty string")


def http_url(value: object) -> str:
    if isinstance(value, str) and re.fullmatch(r"https?://[^\s/]+(/\S*)?", value.strip()):
        return value.strip()
    raise BadValue("an http:// or https:// URL")


def url_or_file(value: object) -> str:
    if isinstance(value, str) and value.strip() and "\0" not in value:
        return value.strip()
    raise BadValue("an http(s) URL or a file path")


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise BadValue("true or false")


def positive_number(value: object) -> float:
    try:
        number = float(value) if isinstance(value, int | float | str) and not isinstance(value, bool) else 0.0
    except ValueError:
        number = 0.0
    if number > 0:
        return number
    raise BadValue("a number above 0")


def count_between(low: int, high: int) -> Parse:
    def parse(value: object) -> int:
        try:
            number = int(value) if isinstance(value, int | str) and not isinstance(value, bool) else None
        except ValueError:
            number = None
        if number is not None and low <= number <= high:
            return number
        raise BadValue(f"a whole number from {low} to {high}")

    return parse


def one_of(*choices: str) -> Parse:
    def parse(value: object) -> str:
        if isinstance(value, str) and value.strip() in choices:
            return value.strip()
        raise BadValue("one of " + ", ".join(repr(c) for c in choices))

    return parse


def interval(value: object) -> timedelta:
    match = _INTERVAL.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise BadValue('a count and a unit s, m, h or d, e.g. "15m", "4h", "7d"')
    return timedelta(seconds=int(match.group(1)) * _INTERVAL_UNITS_S[match.group(2)])


def _items(value: object) -> list[object]:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list):
        return value
    raise BadValue("a list")


def text_list(value: object) -> tuple[str, ...]:
    try:
        return tuple(text(item) for item in _items(value))
    except BadValue:
        raise BadValue('a list of strings, e.g. ["SECOM Trust Systems"]') from None


def hex64_list(value: object) -> tuple[str, ...]:
    items = _items(value)
    if all(isinstance(item, str) and _HEX_64.fullmatch(item) for item in items):
        return tuple(str(item).lower() for item in items)
    raise BadValue("a list of 64-hex-digit values (SHA-256 fingerprints, or log IDs in hex)")


def url_table(value: object) -> dict[str, str]:
    """URL prefix -> where it is served; the text form is `prefix=target;prefix2=target2`."""
    if isinstance(value, str):
        pairs = [item.split("=", 1) for item in value.split(";") if item.strip()]
        if not all(len(pair) == 2 for pair in pairs):
            raise BadValue("prefix=target pairs separated by ';'")
        value = {prefix.strip(): target.strip() for prefix, target in pairs}
    if isinstance(value, Mapping) and all(isinstance(k, str) and k for k in value):
        try:
            return {prefix: http_url(target) for prefix, target in value.items()}
        except BadValue:
            pass
    raise BadValue(
        'a table of URL prefix = http(s) URL, e.g. {"http://crl.example.com/" = "http://mirror/crl/"}'
    )


@dataclass(frozen=True, slots=True)
class Setting:
    path: str  # "sources.onecrl.url": table sources.onecrl, key url
    parse: Parse
    default: object  # None: no default; a str starting with "=": that other setting's value
    meaning: str

    @property
    def variable(self) -> str:
        return "CTWATCH_" + self.path.upper().replace(".", "_")

    @property
    def table(self) -> str:
        return self.path.rpartition(".")[0]

    @property
    def key(self) -> str:
        return self.path.rpartition(".")[2]


def _source(
    name: str,
    url: str | None,
    what: str,
    *,
    extra: tuple[Setting, ...] = (),
    max_body: tuple[object, str] = ("=sources.max_body_bytes", "largest answer kept, in bytes"),
) -> tuple[Setting, ...]:
    prefix = f"sources.{name}"
    settings = [
        Setting(f"{prefix}.enabled", boolean, True, f"fetch {what}; false: never fetched, its task skips")
    ]
    if url is not None:
        settings.append(Setting(f"{prefix}.url", http_url, url, f"where {what} is fetched"))
    settings += [
        Setting(
            f"{prefix}.requests_per_second", positive_number, "=sources.requests_per_second", "politeness"
        ),
        Setting(
            f"{prefix}.timeout_s", positive_number, "=sources.timeout_s", "seconds before a request fails"
        ),
        Setting(f"{prefix}.max_body_bytes", count_between(1, MAX_BODY_BYTES), *max_body),
        Setting(
            f"{prefix}.response_deadline_s", positive_number, "=sources.response_deadline_s",
            "seconds from a request to its answer's last byte",
        ),
    ]  # fmt: skip
    return (*settings, *extra)


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("data_dir", text, "data", "the folder of the warehouse, staged files, reports and alerts"),
    Setting("warehouse", text, None, "the DuckDB warehouse file (default: <data_dir>/warehouse.duckdb)"),
    Setting(
        "stamping.mode", one_of(STAMPING_LIVE, STAMPING_SIMULATED), STAMPING_LIVE,
        "live: every answer is stamped with the real time it arrived; simulated (a simulator or an "
        "archive only): each request carries the as-of of the run and its answer is stamped with it",
    ),
    Setting("ct.log_list", url_or_file, GOOGLE_LOG_LIST, "a v3 log list (URL or file): the logs to follow"),
    Setting("ct.log_ids", hex64_list, (), "LogIDs (hex) to follow; empty: every usable log of the list"),
    Setting(
        "ct.new_logs_start", one_of(START_AT_HEAD, START_AT_ORIGIN), START_AT_HEAD,
        "where a log seen for the first time is followed from; a followed log keeps its start",
    ),
    Setting("ct.watched_spki_sha256", hex64_list, (), "issuer keys whose leaves are kept"),
    Setting("ct.watched_der_sha256", hex64_list, (), "certificates kept wherever they appear"),
    Setting("ct.batch_size", count_between(1, 100_000), 1000, "entries per get-entries request"),
    Setting("ct.requests_per_second", positive_number, 20.0, "per log"),
    Setting("ct.concurrency", count_between(1, 64), 2, "requests in flight per fetch task"),
    Setting(
        "ct.min_range_entries", count_between(1, 10**9), MIN_RANGE_ENTRIES, "smallest range a task fetches"
    ),
    Setting("ct.max_ranges", count_between(1, AIRFLOW_MAX_MAP_LENGTH), MAX_RANGES, "fetch tasks per run"),
    Setting(
        "ct.max_body_bytes", count_between(1, MAX_BODY_BYTES), 64 * 1024**2,
        "largest answer (get-entries, tile, checkpoint) after decompression, in bytes: a larger one "
        "fails its range",
    ),
    Setting(
        "ct.response_deadline_s", positive_number, 300.0,
        "seconds from a request to its answer's last byte: a slower answer fails its range",
    ),
    Setting("sources.requests_per_second", positive_number, 1.0, "politeness towards each service"),
    Setting("sources.timeout_s", positive_number, 60.0, "seconds before a request fails"),
    Setting(
        "sources.max_body_bytes", count_between(1, MAX_BODY_BYTES), 256 * 1024**2,
        "largest answer kept, in bytes (held in memory; the CRLs' own cap is larger: they go to disk)",
    ),
    Setting(
        "sources.response_deadline_s", positive_number, 600.0,
        "seconds from a request to its answer's last byte",
    ),
    *_source(
        "ccadb", "https://ccadb.my.salesforce-sites.com/ccadb/AllCertificateRecordsCSVFormatV5",
        "CCADB's AllCertificateRecords report (trust scope, CA owners, disclosed CRLs)",
    ),
    *_source(
        "mozilla_revoked",
        "https://ccadb.my.salesforce-sites.com/mozilla/PublicIntermediateCertsRevokedWithPEMCSV",
        "Mozilla's revoked intermediates report",
    ),
    *_source(
        "onecrl",
        "https://firefox.settings.services.mozilla.com/v1/buckets/security-state/collections/onecrl/records",
        "OneCRL",
    ),
    *_source("crlset", CRLSET_URL, "Chrome's CRLSet"),
    *_source(
        "crtsh", "https://crt.sh/", "crt.sh identity searches",
        extra=(
            Setting("sources.crtsh.identities", text_list, (), "identities searched daily (crt.sh's q=)"),
            Setting(
                "sources.crtsh.result_limit", count_between(1, 10**6), 10_000,
                "rows at which crt.sh stops silently: a full answer is split",
            ),
        ),
    ),
    *_source(
        "bugzilla", "https://bugzilla.mozilla.org/rest/", "CA-compliance bugs",
        extra=(
            Setting("sources.bugzilla.product", text, "CA Program", "Bugzilla product"),
            Setting("sources.bugzilla.component", text, "CA Certificate Compliance", "Bugzilla component"),
        ),
    ),
    *_source(
        "crl", None, "the CRLs certificates and CCADB name",
        max_body=(2 * 1024**3, "largest CRL kept, in bytes (streamed to a staged file, not held in memory)"),
    ),
    *_source("ocsp", None, "OCSP for certificates with open findings"),
    Setting(
        "url_rewrite", url_table, {},
        "URL prefixes as certificates name them (CRL, OCSP) -> where they are fetched, e.g. a mirror",
    ),
    Setting("alerts.slack_connection", text, "ctwatch_slack", "Airflow connection of the Slack webhook"),
    Setting("alerts.email_connection", text, "ctwatch_smtp", "Airflow connection of the SMTP server"),
    Setting("alerts.webhook_connection", text, "ctwatch_webhook", "Airflow connection of the JSON webhook"),
    Setting(
        "alerts.source_down_after", interval, timedelta(hours=24),
        "a source failing for longer than this raises source_down (and source_recovered after)",
    ),
    Setting(
        "alerts.overdue_digest_period", interval, OVERDUE_DIGEST_PERIOD,
        "one still_overdue digest per incident per period, counted from Monday 1970-01-05 00:00 UTC "
        "(1d: UTC days, 7d: Monday weeks); a replay: one per evaluation",
    ),
    Setting("intervals.ingest_ct_logs", interval, timedelta(minutes=15), "CT ingestion"),
    Setting("intervals.ingest_revocations", interval, timedelta(hours=4), "CRLs, OCSP and the daily lists"),
    Setting("intervals.ingest_crtsh", interval, timedelta(days=1), "crt.sh searches and Bugzilla"),
    Setting("intervals.evaluate_rules", interval, timedelta(hours=1), "rules over new certificates"),
    Setting("intervals.evaluate_compliance", interval, timedelta(hours=1), "the compliance clock"),
    Setting("intervals.send_alerts", interval, timedelta(minutes=15), "alert delivery"),
)  # fmt: skip

BY_PATH: Final = {setting.path: setting for setting in SETTINGS}
# Tables that hold settings (a table also holding sub-tables, like `sources`, is listed once).
TABLES: Final = frozenset(s.table for s in SETTINGS if s.table)
# Keys of the file that are not settings: the declarations (docs/incidents.md).
DECLARATION_KEYS: Final = frozenset({"incidents", "key_destructions", "plans"})
