"""The simulated CRL service: every CRL version of each issuing CA (whole or partitioned), signed by
the CA's key, served with ETag and Last-Modified for conditional GETs."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ctwatch.sim.http_messages import HttpError, Response
from ctwatch.sim.revocation_tables import REASON_FLAGS
from ctwatch.sim.revocations import RevocationWorld


class CrlService:
    """The CRLs of a world, each version signed once and kept."""

    def __init__(self, revocations: RevocationWorld) -> None:
        self._revocations = revocations
        self._lock = threading.Lock()
        self._crls: dict[tuple[str, int, int | None], bytes] = {}

    def answer(self, hostname: str, filename: str, headers: dict[str, str], moment: datetime) -> Response:
        """The CRL at `http://<hostname>/<filename>` current at `moment`, or 304 to a conditional GET."""
        revocations = self._revocations
        name = filename[: -len(".crl")]
        match = re.fullmatch(r"(.+)-p([0-9]+)", name)
        scope, partition = (match.group(1), int(match.group(2))) if match else (name, None)
        parts = revocations.partitions.get(scope)
        if (
            scope not in revocations.crl_versions
            or revocations.crl_url(scope, partition) != f"http://{hostname}/{filename}"
            or (partition is not None and (parts is None or partition >= parts.count))
        ):
            raise HttpError(404, f"no CRL at http://{hostname}/{filename}")
        version = revocations.crl_version_as_of(scope, moment)
        if version is None:
            raise HttpError(404, "no CRL published yet at this date")
        der = self._der(scope, version, partition)
        this_update = revocations.crl_versions[scope][version]
        etag = f'"{hashlib.sha256(der).hexdigest()[:32]}"'
        cache = (("ETag", etag), ("Last-Modified", format_datetime(this_update, usegmt=True)))
        if headers.get("if-none-match") == etag or (
            "if-none-match" not in headers
            and _not_modified_since(headers.get("if-modified-since"), this_update)
        ):
            return Response(304, b"", "application/pkix-crl", cache)
        return Response(200, der, "application/pkix-crl", cache)

    def _der(self, scope: str, version: int, partition: int | None) -> bytes:
        key = (scope, version, partition)
        with self._lock:
            cached = self._crls.get(key)
        if cached is None:
            cached = crl_der(self._revocations, scope, version, partition)
            with self._lock:
                self._crls[key] = cached
        return cached


def crl_der(revocations: RevocationWorld, scope: str, version: int, partition: int | None) -> bytes:
    """One CRL version of `scope` (the whole CRL, or one partition with its critical IDP)."""
    signer = revocations.crl_signer(scope)
    this_update = revocations.crl_versions[scope][version]
    issuer = x509.load_der_x509_certificate(signer.der)
    key = revocations.hierarchy.key(signer.key_group)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(this_update + timedelta(days=revocations.settings.crl_next_update_days))
        .add_extension(x509.CRLNumber(version + 1), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    if partition is not None:
        idp = x509.IssuingDistributionPoint(
            full_name=[x509.UniformResourceIdentifier(revocations.crl_url(scope, partition))],
            relative_name=None,
            only_contains_user_certs=False,
            only_contains_ca_certs=False,
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        )
        builder = builder.add_extension(idp, critical=True)
    for rev in revocations.crl_entries(scope, version, partition):
        entry = (
            x509.RevokedCertificateBuilder().serial_number(rev.serial).revocation_date(rev.revoked_at_claimed)
        )
        if rev.reason_code is not None:
            entry = entry.add_extension(x509.CRLReason(REASON_FLAGS[rev.reason_code]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    crl = builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    return crl.public_bytes(serialization.Encoding.DER)


def _not_modified_since(value: str | None, modified: datetime) -> bool:
    if not value:
        return False
    try:
        since = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and modified.replace(microsecond=0) <= since
