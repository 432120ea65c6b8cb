"""What a command says when its input is bad: one line per problem, naming what and where."""

from __future__ import annotations

import duckdb

from ctwatch.evaluate.config import ConfigError
from ctwatch.ingest.discover import LogListUnreadable
from ctwatch.sources.staging import StagingError
from ctwatch.warehouse import WarehouseError

# Exceptions that mean "the input (or the machine's disk) is bad", not "ctwatch is broken".
BAD_INPUT_ERRORS = (ValueError, OSError, WarehouseError, duckdb.Error, LogListUnreadable, StagingError)


class CommandError(ValueError):
    """Bad input a command found itself; the message says what and where."""


def problems_of(exc: BaseException) -> list[str]:
    if isinstance(exc, ConfigError):
        return list(exc.problems)
    if isinstance(exc, OSError) and exc.filename is not None:
        return [f"{exc.strerror or exc}: {exc.filename}"]
    text = " ".join(str(exc).split()) or type(exc).__name__
    return [text]
