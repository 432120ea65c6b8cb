"""Numbered schema migrations: `migrations/NNNN_name.sql`, applied in order, one transaction each.

Each applied file is recorded in `schema_migrations` with the SHA-256 of its statements (the text
without SQL comments, white space folded), so changing what a migration does after it ran is
detected instead of silently diverging, while its comments may be corrected. New schema = new
numbered file. Warehouses created before comments counted for nothing recorded the SHA-256 of the
whole file as first shipped: those hashes are accepted too (`FIRST_SHIPPED_SHA256`). A
migration's own text is the one statement run here that is not in `sql/`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

import duckdb

from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.errors import ChecksumMismatchError, MigrationError, SchemaBehindError
from ctwatch.warehouse.sqlfiles import load_sql, query_count

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")
# SHA-256 of the whole file as first shipped, for the migrations whose comments changed since.
FIRST_SHIPPED_SHA256: Final = {
    1: "2a96e6eb8f4b88eb9701d38616637eaf92a36198138b216d90cd33132f7eb792",
    2: "d700281d83beeaf59a4e863bff0e30be647715d402e355dbc7490cc412da88b5",
    3: "36f3214bf6bf81c8d9bb54f1786c9a3401ddb1e73423d7b3586279b070f7a13a",
    4: "c9f6ee6509877934be92ebfef85373efd007e2e08098012313b730bf98fb6c46",
    5: "9374793ad126162f06d0cbed1a520fcf0aab490dee0885ef8a89ee1308f78a59",
    6: "7267c527bbcc8cababa0a9ef2bb915538f1fd4b3201d57e710dd47d6b16077cf",
    7: "7cdc9e6376ffec55784e0bc403049581db53706308f4d68098f3acacd811eadb",
    8: "e3616a26150a604fda402cf076cde287f645ece6312cbcb089150f128b1fd43b",
    9: "5e0d28a60888611e79917e5d7f210c506ee40a2a376a33bbf58f97454ca9b113",
    10: "54b1b552e443072771da36ba7a1342ee33bd5f4be82db1db439e15dd9e23a479",
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sha256: str  # of the statements: see `statements`
    sql: str
    file_sha256: str  # of the file's bytes

    def accepts(self, recorded_sha256: str) -> bool:
        """Whether a warehouse that recorded `recorded_sha256` for this version ran these statements."""
        return recorded_sha256 in (self.sha256, self.file_sha256, FIRST_SHIPPED_SHA256.get(self.version))


def statements(sql: str) -> str:
    """`sql` without comments (`-- ...` to the end of the line, `/* ... */`) and with white space
    folded to single spaces; quoted text (strings, identifiers) is kept as it is."""
    out: list[str] = []
    position, length = 0, len(sql)
    while position < length:
        char = sql[position]
        if char in "'\"":
            end = position + 1
            while end < length:
                if sql[end] == char:
                    if end + 1 < length and sql[end + 1] == char:  # a doubled quote inside
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[position : end + 1])
            position = end + 1
        elif sql.startswith("--", position):
            newline = sql.find("\n", position)
            position = length if newline < 0 else newline
        elif sql.startswith("/*", position):
            close = sql.find("*/", position + 2)
            position = length if close < 0 else close + 2
            out.append(" ")
        elif char.isspace():
            out.append(" ")
            position += 1
        else:
            out.append(char)
            position += 1
    return re.sub(r" +", " ", "".join(out)).strip()


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
        sql = data.decode("utf-8")
        found[version] = Migration(
            version=version,
            name=match.group(2),
            sha256=hashlib.sha256(statements(sql).encode("utf-8")).hexdigest(),
            sql=sql,
            file_sha256=hashlib.sha256(data).hexdigest(),
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
        if not migration.accepts(sha256):
            raise ChecksumMismatchError(
                f"migration {version:04d}_{migration.name}.sql changed after it was applied "
                f"(recorded sha256 {sha256}, statements sha256 {migration.sha256}); add a new migration "
                "instead"
            )
    return [migration for migration in known if migration.version not in applied]
