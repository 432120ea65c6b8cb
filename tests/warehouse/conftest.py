"""Warehouse test helpers: a fresh warehouse file and real certificates from the fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from ctwatch import warehouse
from ctwatch.x509 import ParsedCert, analyse_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CA_CERTS = FIXTURES / "real" / "ca_certs"


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "warehouse.duckdb"


@pytest.fixture
def con(warehouse_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = warehouse.connect(warehouse_file)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def real_certs() -> list[ParsedCert]:
    """Every certificate of tests/fixtures/real/ca_certs, analysed (CA certs, OCSP responders)."""
    certs: list[ParsedCert] = []
    for pem in sorted(CA_CERTS.rglob("*.pem")):
        certs.extend(r for r in analyse_bytes(pem.read_bytes()) if isinstance(r, ParsedCert))
    assert len(certs) >= 40
    return certs
