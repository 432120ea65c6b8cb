"""Timestamp bisection: the index range of a log that holds every entry of a time window.

CT timestamps are not monotonic in the log order, but a log integrates an entry within its MMD
(maximum merge delay) of the entry's timestamp, and integration order is log order. So:

- an entry with timestamp < window_start - MMD was integrated before window_start, and so was every
  entry before it, whose timestamps are then < window_start: nothing at or before it is in the window;
- an entry with timestamp >= window_end + MMD was integrated at or after window_end + MMD, and so was
  every later entry, whose timestamps are then >= window_end: nothing at or after it is in the window.

A binary search for each of those two boundaries takes about 2 * log2(tree size) single-entry reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WindowRange:
    """Entries [start, end_exclusive) contain every entry with a timestamp in the window."""

    start: int
    end_exclusive: int
    probes: int  # entries read


def bisect_window(
    timestamp_ms_at: Callable[[int], int],
    tree_size: int,
    window_start_ms: int,
    window_end_exclusive_ms: int,
    mmd_ms: int,
) -> WindowRange:
    """The smallest range the bisection can prove holds every entry timestamped in [start, end)."""
    if window_end_exclusive_ms < window_start_ms:
        raise ValueError("window ends before it starts")
    probes = 0
    cache: dict[int, int] = {}

    def timestamp(index: int) -> int:
        nonlocal probes
        if index not in cache:
            probes += 1
            cache[index] = timestamp_ms_at(index)
        return cache[index]

    # Invariant: `low` is -1 or an entry proving everything up to it precedes the window;
    # `high` is tree_size or an entry with timestamp >= window_start - MMD.
    low, high = -1, tree_size
    while high - low > 1:
        middle = (low + high) // 2
        if timestamp(middle) < window_start_ms - mmd_ms:
            low = middle
        else:
            high = middle
    start = low + 1
    # Invariant: `high` is tree_size or an entry proving everything from it on follows the window.
    low, high = start - 1, tree_size
    while high - low > 1:
        middle = (low + high) // 2
        if timestamp(middle) >= window_end_exclusive_ms + mmd_ms:
            high = middle
        else:
            low = middle
    return WindowRange(start, max(start, high), probes)
