"""The DuckDB warehouse: connection, numbered migrations, and the SQL that loads and reads evidence.

SQL lives in `sql/<area>/<name>.sql` (see `load_sql`), schema changes in `migrations/NNNN_name.sql`.
Values are always bound, never formatted into SQL.
"""

from ctwatch.warehouse._db import transaction
from ctwatch.warehouse.certificates import (
    certificates_for_rules,
    mark_cross_certificates,
    record_parse_errors,
    store_certificates,
)
from ctwatch.warehouse.connection import connect, naming_trouble
from ctwatch.warehouse.errors import (
    ChecksumMismatchError,
    MigrationError,
    SchemaBehindError,
    WarehouseError,
    WarehouseFullError,
    WarehouseLockedError,
)
from ctwatch.warehouse.findings import FindingLike, FindingsStored, store_findings
from ctwatch.warehouse.schema import migrate
from ctwatch.warehouse.sqlfiles import load_sql, query_dicts

__all__ = [
    "ChecksumMismatchError",
    "FindingLike",
    "FindingsStored",
    "MigrationError",
    "SchemaBehindError",
    "WarehouseError",
    "WarehouseFullError",
    "WarehouseLockedError",
    "certificates_for_rules",
    "connect",
    "load_sql",
    "mark_cross_certificates",
    "migrate",
    "naming_trouble",
    "query_dicts",
    "record_parse_errors",
    "store_certificates",
    "store_findings",
    "transaction",
]
