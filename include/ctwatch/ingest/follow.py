"""Where a followed log's monitoring starts, and moving that start back to ingest older entries."""

from __future__ import annotations

from pathlib import Path

from ctwatch import warehouse
from ctwatch.warehouse import ct_store


class FollowError(ValueError):
    """The log is not followed, or already starts at or before the index asked for."""


def extend_back(warehouse_file: Path, log_id: str, to_index: int = 0) -> tuple[int, int]:
    """Follow `log_id` (hex LogID) from `to_index`: the next ingest_ct_logs runs plan the entries
    between it and the old start. Returns (old start, new start)."""
    if to_index < 0:
        raise FollowError(f"--to-index must be 0 or more, got {to_index}")
    log_id = log_id.lower()
    con = warehouse.connect(warehouse_file)
    try:
        followed = ct_store.follow_details(con).get(log_id)
        if followed is None:
            raise FollowError(f"log {log_id} is not followed in {warehouse_file}")
        old_start = int(followed["follow_from_index"])
        if old_start <= to_index:
            raise FollowError(f"log {log_id} is already followed from index {old_start}")
        with warehouse.transaction(con):
            ct_store.lower_follow_start(con, log_id, to_index)
    finally:
        con.close()
    return old_start, to_index
