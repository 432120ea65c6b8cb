"""Numbered schema migrations: `migrations/NNNN_name.sql`, applied in order, one transaction each.

Each applied file is recorded in `schema_migrations` with the SHA-256 of its bytes, so editing a
migration after it ran is detected instead of silently diverging. New schema = new numbered file.
A migration's own text is the one statement run here that is not in `sql/`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import duckdb

from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.errors import ChecksumMismatchError, MigrationError, SchemaBehindError
from ctwatch.warehouse.sqlfiles import load_sql, query_count

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sha256: str
    sql: str


@cache
def available_migrations() -> tuple[Migration, ...]:
    """The migration files shipped with the package, by version."""
    found: dict[int, Migration] = {}
    for entry in resources.files("ctwatch.warehouse").joinpath("migrations").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files share version {version}")
        data = entry.read_bytes()
        found[version] = Migration(
            version=version,
            name=match.group(2),
            sha256=hashlib.sha256(data).hexdigest(),
            sql=data.decode("utf-8"),
        )
    return tuple(found[version] for version in sorted(found))


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply the pending migrations in order; return the versions applied (empty when up to date)."""
    con.execute(load_sql("meta/create_schema_migrations"))
    pending = _pending(con, available_migrations())
    for migration in pending:
        try:
            with transaction(con):
                con.execute(migration.sql)
                con.execute(
                    load_sql("meta/record_migration"),
                    {"version": migration.version, "name": migration.name, "sha256": migration.sha256},
                )
        except duckdb.Error as exc:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name}.sql failed and was rolled back: {exc}"
            ) from exc
    return [migration.version for migration in pending]


def check_schema_current(con: duckdb.DuckDBPyConnection) -> None:
    """Raise unless every shipped migration is applied unchanged (for connections that cannot migrate)."""
    applied_any = query_count(con, "meta/schema_migrations_exists") > 0
    known = available_migrations()
    pending = _pending(con, known) if applied_any else list(known)
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise SchemaBehindError(
            f"warehouse schema is behind (pending: {names}); open it read-write once to migrate"
        )


def _pending(con: duckdb.DuckDBPyConnection, known: tuple[Migration, ...]) -> list[Migration]:
    """Migrations not applied yet, after checking that the applied ones are known and unchanged."""
    applied = dict(con.execute(load_sql("meta/applied_migrations")).fetchall())
    by_version = {migration.version: migration for migration in known}
    for version, sha256 in applied.items():
        migration = by_version.get(version)
        if migration is None:
            raise MigrationError(
                f"warehouse has migration {version:04d}, which this code does not know: is the code older?"
            )
        if migration.sha256 != sha256:
            raise ChecksumMismatchError(
                f"migration {version:04d}_{migration.name}.sql changed after it was applied "
                f"(recorded sha256 {sha256}, file sha256 {migration.sha256}); add a new migration instead"
            )
    return [migration for migration in known if migration.version not in applied]
