"""Index range arithmetic for planning: the gaps coverage leaves, cut into the ranges a run fetches.

Pure functions over half-open ranges. A plan never holds more than `max_ranges` ranges (Airflow
maps one task per range, and `max_map_length` is 1024): ranges grow with the backlog instead,
and what does not fit is left for the next run, which plans the remaining gaps again.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_RANGES = 512
MIN_RANGE_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class PlannedRange:
    log_position: int  # index of the log in the plan file
    start: int
    end_exclusive: int


def uncovered(start: int, end_exclusive: int, covered: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of [start, end_exclusive) outside every covered range (covered need not be sorted)."""
    gaps: list[tuple[int, int]] = []
    position = start
    for low, high in sorted(covered):
        if high <= position:
            continue
        if low >= end_exclusive:
            break
        if low > position:
            gaps.append((position, low))
        position = max(position, high)
    if position < end_exclusive:
        gaps.append((position, end_exclusive))
    return gaps


def split_gaps(
    gaps_by_log: Mapping[int, Sequence[tuple[int, int]]],
    *,
    min_range_entries: int = MIN_RANGE_ENTRIES,
    max_ranges: int = MAX_RANGES,
    alignment: Mapping[int, int] | None = None,
) -> list[PlannedRange]:
    """Cut every gap into ranges of at most one chunk, at multiples of the chunk size.

    The chunk is large enough that all gaps fit in `max_ranges` ranges, at least
    `min_range_entries`, and a multiple of the log's `alignment` (256 for static-ct data tiles).
    If gaps are so fragmented that more ranges come out, the first `max_ranges` are kept, taken
    from the logs in turn.
    """
    if max_ranges < 1 or min_range_entries < 1:
        raise ValueError("max_ranges and min_range_entries must be positive")
    total = sum(high - low for gaps in gaps_by_log.values() for low, high in gaps)
    if total == 0:
        return []
    # Cutting at multiples of the chunk adds at most one piece per gap (its unaligned start).
    gap_count = sum(len(gaps) for gaps in gaps_by_log.values())
    base_chunk = max(min_range_entries, -(-total // max(1, max_ranges - gap_count)))
    per_log: list[list[PlannedRange]] = []
    for log_position, gaps in sorted(gaps_by_log.items()):
        align = (alignment or {}).get(log_position, 1)
        chunk = -(-base_chunk // align) * align
        pieces: list[PlannedRange] = []
        for low, high in gaps:
            cut = low
            while cut < high:
                next_cut = min(high, (cut // chunk + 1) * chunk)
                pieces.append(PlannedRange(log_position, cut, next_cut))
                cut = next_cut
        per_log.append(pieces)
    round_robin = (piece for group in itertools.zip_longest(*per_log) for piece in group if piece is not None)
    return list(itertools.islice(round_robin, max_ranges))
