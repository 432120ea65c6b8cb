"""crt.sh's history of an issuing CA: every certificate it issued from a date on (`identity=%` with
`iCAID`, capped answers split), kept per search with the time it represents, for the leaf
population of a declared plan before ctwatch watched the logs (docs/plans.md).

A CA's history up to a plan's clock start is complete once a search made after the clock start
(plus a day for crt.sh's ingestion) succeeded: later runs skip it. The network is never asked
while the warehouse is open.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import duckdb

from ctwatch import warehouse
from ctwatch.evidence.health import SourceCheck
from ctwatch.evidence.revocation import observation_stamp
from ctwatch.revocation.config import Source, SourceLocations
from ctwatch.revocation.snapshots import source_client
from ctwatch.sources import crtsh
from ctwatch.sources.http import FetchError
from ctwatch.warehouse import source_health

log = logging.getLogger(__name__)

CRTSH_INGESTION_ALLOWANCE = timedelta(days=1)
# An issuer's history is one `%` search split by leading characters: a large CA needs many levels.
MAX_QUERIES_PER_ISSUER = 2000


@dataclass(frozen=True, slots=True)
class IssuerHistoryTarget:
    issuer_spki_sha256: str
    crtsh_ca_id: int
    min_not_before: date  # what the CA issued from this day on
    complete_after: datetime  # a search made after this covers everything up to the clock start


@dataclass(frozen=True, slots=True)
class IssuerHistorySummary:
    searched: int
    skipped_complete: int
    rows: int
    unreachable: tuple[str, ...]  # "<search URL>: <why>"


def search_url(base_url: str, target: IssuerHistoryTarget) -> str:
    query = {"identity": "%", "iCAID": target.crtsh_ca_id, "minNotBefore": target.min_not_before.isoformat()}
    return f"{base_url}?{urlencode(query)}"


def ingest_issuer_history(
    warehouse_file: Path,
    locations: SourceLocations,
    targets: Sequence[IssuerHistoryTarget],
    *,
    as_of: datetime | None = None,
) -> IssuerHistorySummary:
    """Search crt.sh for each target whose history is not complete yet and store every answer,
    failures included (a failed or still-capped search never counts as complete)."""
    con = warehouse.connect(warehouse_file)
    try:
        pending = [t for t in targets if not _complete(con, t)]
    finally:
        con.close()
    base_url = locations.url(Source.CRTSH)
    client, _ = source_client(locations, Source.CRTSH, as_of)
    at = observation_stamp(as_of if locations.simulated else None)[0]
    searches: list[tuple[IssuerHistoryTarget, crtsh.SearchResult | None, str | None]] = []
    try:
        for target in pending:
            try:
                result = crtsh.search_identity(
                    client, base_url, "%", exclude_expired=False, deduplicate=True,
                    min_not_before=target.min_not_before, issuer_ca_id=target.crtsh_ca_id,
                    result_limit=locations.crtsh_result_limit, max_queries=MAX_QUERIES_PER_ISSUER,
                )  # fmt: skip
            except FetchError as exc:
                searches.append((target, None, str(exc)))
                continue
            problems = [f"{e.record_ref}: {e.error}" for e in result.errors]
            searches.append((target, result, "; ".join(problems) or None))
    finally:
        client.close()
    con = warehouse.connect(warehouse_file)
    try:
        rows = 0
        for target, answer, error in searches:
            rows += _store(con, target, search_url(base_url, target), at, answer=answer, error=error)
        source_health.record_checks(
            con,
            [
                SourceCheck(str(Source.CRTSH), search_url(base_url, t), at, why if answer is None else None)
                for t, answer, why in searches
            ],
        )
    finally:
        con.close()
    unreachable = tuple(f"{search_url(base_url, t)}: {why}" for t, answer, why in searches if answer is None)
    log.info(
        "crt.sh issuer history: %d searched, %d complete already, %d rows, %d unreachable",
        len(searches), len(targets) - len(pending), rows, len(unreachable),
    )  # fmt: skip
    return IssuerHistorySummary(len(searches), len(targets) - len(pending), rows, unreachable)


def _complete(con: duckdb.DuckDBPyConnection, target: IssuerHistoryTarget) -> bool:
    found = con.execute(
        warehouse.load_sql("plans/crtsh_history_complete"),
        {
            "issuer_spki_sha256": target.issuer_spki_sha256,
            "crtsh_ca_id": target.crtsh_ca_id,
            "min_not_before": target.min_not_before,
            "complete_after": target.complete_after,
        },
    ).fetchone()
    return found is not None


def _store(
    con: duckdb.DuckDBPyConnection,
    target: IssuerHistoryTarget,
    url: str,
    at: datetime,
    *,
    answer: crtsh.SearchResult | None,
    error: str | None,
) -> int:
    truncated = list(answer.truncated) if answer else []
    if truncated and error is None:
        error = f"still more than the result limit after splitting: {', '.join(truncated)}"
    (search_id,) = con.execute(
        warehouse.load_sql("plans/insert_crtsh_search"),
        {
            "issuer_spki_sha256": target.issuer_spki_sha256,
            "crtsh_ca_id": target.crtsh_ca_id,
            "url": url,
            "min_not_before": target.min_not_before,
            "observed_at": at,
            "queries": answer.queries if answer else 0,
            "rows_returned": len(answer.rows) if answer else 0,
            "truncated": truncated,
            "error": error,
        },
    ).fetchone() or (None,)
    if answer is None or not answer.rows:
        return 0
    con.executemany(
        warehouse.load_sql("plans/insert_crtsh_leaves"),
        [
            {
                "search_id": search_id,
                "crtsh_id": row.crtsh_id,
                "serial_hex": row.serial_hex,
                "not_before": row.not_before,
                "not_after": row.not_after,
                "entry_timestamp": row.entry_timestamp,
            }
            for row in sorted(answer.rows.values(), key=lambda r: r.crtsh_id)
        ],
    )
    return len(answer.rows)
