"""The fuzz targets: each parser of hostile input, called through its real entry point, with the
error types its documentation lets out (docs/fuzzing.md).

A target takes the raw bytes of one input. Parsers that are fed by the HTTP client get them
through `_Served`, which answers every request with those bytes and decodes them as the client
does: a decoder's BodyError comes out as it is (the real client retries it, then raises
FetchError). Parsers that read a file get the bytes in one temporary file per process.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ctwatch.config import ConfigError, load_settings
from ctwatch.config.check import render
from ctwatch.crl import scan_crl
from ctwatch.ct.entries import EntryDecodeError, decode_rfc6962_entry
from ctwatch.evidence.revocation import StampKind
from ctwatch.sources import bug_mentions, bugzilla, ccadb, crlset, crtsh, loglist, ocsp, onecrl
from ctwatch.sources.http import BodyError, Politeness
from ctwatch.sources.rfc6962 import Rfc6962Client, TreeHeadError
from ctwatch.sources.static_ct import StaticCtClient
from ctwatch.x509 import ParsedCert, analyse_bytes, analyse_der

CORPUS = Path(__file__).parent / "corpus"
_REAL = Path(__file__).parents[1] / "fixtures" / "real"
SCRATCH_ENV = "FUZZ_SCRATCH_DIR"
_OBSERVED_AT = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
_LOCATION = "fuzz-input"
# Two entries cut from the real navigli2025h2 data tile: the corpus holds that partial tile.
DATA_TILE_WIDTH = 2
ROME_ORIGIN = "rome.ct.filippo.io/2024h1"
ROME_KEY = base64.b64decode(
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAXM8Ld9qn64g1zVFDh5FtgxS3zj5sqQDwYMs3wrBV3MCBiFhK/iRLxdKF4YsAcJa"
    "EglMlu4Lewvzxs0xO2uwEw=="
)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    run: Callable[[bytes], object]
    allowed: tuple[type[Exception], ...]  # what the entry point documents; anything else is a failure
    covers: str

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name


class _Served:
    """Stands in for HttpClient: every request is answered with `body`, decoded by the caller's decoder."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.politeness = Politeness(requests_per_second=float("inf"))

    def get(self, url: str, decode: Callable[[bytes], T], *, params: Mapping[str, object] | None = None) -> T:
        return decode(self.body)


@functools.cache
def _scratch_file(name: str) -> Path:
    """One file per process for parsers that read a path; each input overwrites it. Under `make
    fuzz` it lies in the runner's folder (in memory where /dev/shm exists: 1.6 times the inputs)."""
    folder = os.environ.get(SCRATCH_ENV)
    if folder is None:
        folder = tempfile.mkdtemp(prefix="ctwatch-fuzz-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return Path(folder) / name


def _as_file(name: str, data: bytes) -> Path:
    path = _scratch_file(name)
    path.write_bytes(data)
    return path


@functools.cache
def _crl_issuer() -> ParsedCert:
    pem = (_REAL / "crls" / "real" / "GIAG2_issuer_cert_ct-go.pem").read_bytes()
    issuer = analyse_bytes(pem)[0]
    assert isinstance(issuer, ParsedCert)
    return issuer


def crl_der(data: bytes) -> object:
    # scan_crl drives the streaming reader (header, entries, extensions, signature) and never raises
    path = _as_file("crl", data)
    return scan_crl(path, issuer=_crl_issuer(), as_of=_OBSERVED_AT, temp_dir=path.parent)


@dataclass(frozen=True, slots=True)
class OcspPki:
    issuer: x509.Certificate
    cert: x509.Certificate
    responder: x509.Certificate
    issuer_key: ec.EllipticCurvePrivateKey
    responder_key: ec.EllipticCurvePrivateKey


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    signer: ec.EllipticCurvePrivateKey,
    serial: int,
    *,
    ca: bool,
    ocsp_signing: bool = False,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ocsp_signing:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
        ).add_extension(x509.OCSPNoCheck(), critical=False)
    return builder.sign(signer, hashes.SHA256())


@functools.cache
def ocsp_pki() -> OcspPki:
    """A fixed issuer, a certificate and a delegated responder: the keys are fixed, so the corpus's
    responses (built with them, see corpus/README.md) verify in every process."""
    issuer_key = ec.derive_private_key(0x1C7A7C, ec.SECP256R1())
    cert_key = ec.derive_private_key(0x1C7A7D, ec.SECP256R1())
    responder_key = ec.derive_private_key(0x1C7A7E, ec.SECP256R1())
    issuer = _certificate("Fuzz Issuing CA", issuer_key, "Fuzz Issuing CA", issuer_key, 1, ca=True)
    cert = _certificate("fuzz.example", cert_key, "Fuzz Issuing CA", issuer_key, 0x0A1B2C, ca=False)
    responder = _certificate(
        "Fuzz OCSP Responder", responder_key, "Fuzz Issuing CA", issuer_key, 2, ca=False, ocsp_signing=True
    )
    return OcspPki(issuer, cert, responder, issuer_key, responder_key)


def ocsp_response(data: bytes) -> object:
    pki = ocsp_pki()
    return ocsp.check_response(
        data,
        pki.cert,
        pki.issuer,
        url="http://ocsp.fuzz.example/",
        method=ocsp.Method.POST,
        cert_id_hash="sha1",
    )


def ct_leaf(data: bytes) -> object:
    """Input framing: 2 bytes big-endian length of leaf_input, leaf_input, then extra_data."""
    leaf_length = int.from_bytes(data[:2], "big")
    return decode_rfc6962_entry(0, data[2 : 2 + leaf_length], data[2 + leaf_length :])


def ct_get_entries(data: bytes) -> object:
    client = Rfc6962Client("https://ct.fuzz.example/log/", b"", http=_Served(data))  # type: ignore[arg-type]
    return list(client.get_entries(0, 4))


@functools.cache
def _pilot_key() -> bytes:
    pem = (_REAL / "ct_api" / "rfc6962" / "pilot_log_public_key.pem").read_bytes()
    key = serialization.load_pem_public_key(pem)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ct_sth(data: bytes) -> object:
    client = Rfc6962Client("https://ct.fuzz.example/log/", _pilot_key(), http=_Served(data))  # type: ignore[arg-type]
    return client.get_sth()


def _static_ct_client(data: bytes) -> StaticCtClient:
    return StaticCtClient(
        "https://rome.ct.filippo.io/2024h1/",
        ROME_ORIGIN,
        ROME_KEY,
        http=_Served(data),  # type: ignore[arg-type]
    )


def ct_data_tile(data: bytes) -> object:
    return _static_ct_client(data).data_tile(0, DATA_TILE_WIDTH)


def ct_checkpoint(data: bytes) -> object:
    return _static_ct_client(data).checkpoint()


def log_list(data: bytes) -> object:
    parsed = loglist.parse_log_list(data)
    return loglist.select_logs(
        parsed, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )


def ccadb_all_records(data: bytes) -> object:
    return ccadb.parse_all_records(
        data, location=_LOCATION, observed_at=_OBSERVED_AT, stamp_kind=StampKind.ARCHIVE
    )


def mozilla_revoked(data: bytes) -> object:
    return ccadb.parse_mozilla_revoked(
        data, location=_LOCATION, observed_at=_OBSERVED_AT, stamp_kind=StampKind.ARCHIVE
    )


def onecrl_json(data: bytes) -> object:
    return onecrl.parse_records(
        data, location=_LOCATION, observed_at=_OBSERVED_AT, stamp_kind=StampKind.ARCHIVE
    )


def crlset_file(data: bytes) -> object:
    return crlset.crlset_snapshot(
        data, location=_LOCATION, observed_at=_OBSERVED_AT, stamp_kind=StampKind.ARCHIVE
    )


def bugzilla_bugs(data: bytes) -> object:
    bugs, errors = bugzilla.search_bugs(
        _Served(data),  # type: ignore[arg-type]
        "https://bugzilla.fuzz.example/rest/",
        product="CA Program",
        component="CA Certificate Compliance",
        owner_names=("SECOM Trust Systems", "DigiCert", "Sectigo"),
    )
    return bugs, errors, [bug_mentions.named_identifiers(bug.summary) for bug in bugs]


def bugzilla_comments(data: bytes) -> object:
    comments, errors = bugzilla.fetch_comments(_Served(data), "https://bugzilla.fuzz.example/rest/", 1652610)  # type: ignore[arg-type]
    return comments, errors, [bug_mentions.named_identifiers(comment.text) for comment in comments]


def crtsh_json(data: bytes) -> object:
    return crtsh.search_identity(
        _Served(data),  # type: ignore[arg-type]
        "https://crt.fuzz.example/",
        "%.fuzz.example",
        max_queries=3,
    )


def crtsh_csv(data: bytes) -> object:
    return crtsh.parse_ocsp_signing_ca_csv(data, location=_LOCATION, observed_at=_OBSERVED_AT)


def config_toml(data: bytes) -> object:
    # `ctwatch config check`: load the file (no variables), then print every resolved value
    return render(load_settings(_as_file("ctwatch.toml", data), environ={}))


def x509_cert(data: bytes) -> object:
    results = analyse_bytes(data)
    return results, analyse_der(data)


TARGETS: tuple[Target, ...] = (
    Target("crl_der", crl_der, (), "CRL DER/PEM through the streaming reader and its checks (scan_crl)"),
    Target("ocsp_response", ocsp_response, (), "OCSP responses: parsed, signer found, signature checked"),
    Target("ct_leaf", ct_leaf, (EntryDecodeError,), "RFC 6962 MerkleTreeLeaf and extra_data, binary"),
    Target("ct_get_entries", ct_get_entries, (BodyError,), "RFC 6962 get-entries JSON, decoded per entry"),
    Target("ct_sth", ct_sth, (BodyError, TreeHeadError), "RFC 6962 get-sth JSON and its signature"),
    Target("ct_data_tile", ct_data_tile, (BodyError,), "static-ct-api data tiles, plain or gzip"),
    Target("ct_checkpoint", ct_checkpoint, (BodyError, TreeHeadError), "static-ct-api signed checkpoints"),
    Target("log_list", log_list, (loglist.LogListError,), "Google v3 / Apple v5 log lists, then a selection"),
    Target("ccadb_all_records", ccadb_all_records, (), "CCADB AllCertificateRecords CSV"),
    Target("mozilla_revoked", mozilla_revoked, (), "Mozilla's revoked intermediates CSV"),
    Target("onecrl_json", onecrl_json, (), "OneCRL remote-settings records JSON"),
    Target("crlset", crlset_file, (), "Chrome CRLSet, plain or inside CRX3"),
    Target("bugzilla_bugs", bugzilla_bugs, (BodyError,), "Bugzilla bug search JSON, the summaries' mentions"),
    Target(
        "bugzilla_comments", bugzilla_comments, (BodyError,), "Bugzilla comments JSON, the texts' mentions"
    ),
    Target("crtsh_json", crtsh_json, (BodyError,), "crt.sh identity search JSON"),
    Target("crtsh_csv", crtsh_csv, (UnicodeDecodeError,), "crt.sh query CSV (ctwatch crtsh import-csv)"),
    Target("config_toml", config_toml, (ConfigError,), "ctwatch.toml as `ctwatch config check` reads it"),
    Target("x509_cert", x509_cert, (), "certificates, DER or PEM, through the analyser"),
)
BY_NAME = {target.name: target for target in TARGETS}
