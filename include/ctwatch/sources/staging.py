"""Staged files on this machine's disk: a write that fails there is ctwatch's trouble, never the source's.

A full staging volume (or a read-only one, or a quota) says nothing about the log or CA being
fetched, so it is never recorded as that source's failure: the step raises `StagingError`, naming
the folder and what ran out, after removing what it had half written. The run fails; once space is
made, the next run fetches again.
"""

from __future__ import annotations

import os
from pathlib import Path


class StagingError(Exception):
    """A staged file could not be written on this machine."""

    def __init__(self, folder: Path, written: Path, exc: OSError) -> None:
        self.folder = folder
        self.errno = exc.errno
        what = os.strerror(exc.errno).lower() if exc.errno is not None else str(exc)
        super().__init__(
            f"staging folder {folder}: {what} (writing {written.name}); nothing was recorded about the "
            "source: make room there (or point data_dir elsewhere) and the next run fetches it again"
        )
