"""The simulated crt.sh: identity searches (JSON rows) and certificate downloads, over the
certificates crt.sh knows at the request's moment (crtsh_index.py)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from ctwatch.sim.crtsh_index import crtsh_ca_ids
from ctwatch.sim.formats import epoch_ms, name_attribute, pem
from ctwatch.sim.http_messages import HttpError, Response, json_response
from ctwatch.sim.revocations import RevocationWorld

_IDENTITY_KEYS = ("identity", "q", "CN", "commonname", "dNSName", "domain", "O", "organizationname")


def crtsh_answer(revocations: RevocationWorld, query: dict[str, list[str]], moment: datetime) -> Response:
    """crt.sh's answer to `/?d=<id or SHA-256>` or an identity search with `output=json`."""
    if "d" in query:
        download = crtsh_download(revocations, query["d"][0], moment)
        name = query["d"][0]
        disposition = (("Content-Disposition", f'attachment; filename="{name}.crt"'),)
        return Response(200, download or b"", "application/pkix-cert", disposition)
    if query.get("output", [""])[0] != "json":
        raise HttpError(400, "the simulator serves crt.sh's output=json and ?d= only")
    if any(key in query for key in ("id", "c", "sha1", "sha256", "caid")):
        return Response(400, b"Unsupported output type", "text/plain; charset=UTF-8")
    for key in _IDENTITY_KEYS:
        if key in query:
            return json_response(crtsh_search(revocations, query[key][0], query, moment))
    raise HttpError(400, "no search parameter")


def _like(pattern: str) -> re.Pattern[str]:
    """crt.sh identity match: ILIKE, `%` and `_` wildcards, case-insensitive, whole value."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.lower()]
    return re.compile("".join(parts))


def _crtsh_name(revocations: RevocationWorld, key_group: str) -> str:
    cert = revocations.ca_certs[key_group]
    subject = x509.load_der_x509_certificate(cert.der).subject
    parts = [
        ("C", x509.NameOID.COUNTRY_NAME),
        ("O", x509.NameOID.ORGANIZATION_NAME),
        ("CN", x509.NameOID.COMMON_NAME),
    ]
    return ", ".join(
        f"{label}={name_attribute(subject, oid)}" for label, oid in parts if name_attribute(subject, oid)
    )


def crtsh_search(
    revocations: RevocationWorld, identity: str, query: dict[str, list[str]], moment: datetime
) -> list[dict[str, Any]]:
    """Rows of an identity search (JSON output) known to crt.sh at `moment`, capped at the limit;
    `iCAID` narrows it to one issuer CA id, `deduplicate=Y` drops precertificates whose final
    certificate crt.sh knows."""
    matcher = _like(identity.strip())
    exclude_expired = query.get("exclude", [""])[0] == "expired"
    min_not_before = query.get("minNotBefore", [""])[0]
    deduplicate = query.get("deduplicate", [""])[0] == "Y"
    issuer_ca_id = _issuer_ca_id(query)
    moment_ms = epoch_ms(moment)
    ca_ids = crtsh_ca_ids(revocations.ca_certs)
    final_known_from_ms = revocations.crtsh.final_known_from_ms
    rows = []
    for cert in revocations.crtsh_certs:
        if cert.known_from_ms > moment_ms:
            continue
        if issuer_ca_id is not None and ca_ids[cert.issuer_key_group] != issuer_ca_id:
            continue
        if (
            deduplicate
            and cert.precert
            and final_known_from_ms.get((cert.issuer_key_group, cert.serial), moment_ms + 1) <= moment_ms
        ):
            continue
        if exclude_expired and cert.not_after < moment:
            continue
        if min_not_before and cert.not_before.strftime("%Y-%m-%d") < min_not_before[:10]:
            continue
        matched = [i for i in cert.identities if matcher.fullmatch(i)]
        if not matched:
            continue
        leaf = cert.entry_timestamp_ms is not None
        timestamp = None
        if cert.entry_timestamp_ms is not None:
            stamp = datetime.fromtimestamp(cert.entry_timestamp_ms / 1000, UTC)
            timestamp = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{cert.entry_timestamp_ms % 1000:03d}"
        rows.append(
            {
                "issuer_ca_id": ca_ids[cert.issuer_key_group],
                "issuer_name": _crtsh_name(revocations, cert.issuer_key_group),
                "common_name": cert.common_name,
                "name_value": "\n".join(sorted(set(matched))),
                "id": cert.id,
                "entry_timestamp": timestamp,
                "not_before": cert.not_before.strftime("%Y-%m-%dT%H:%M:%S"),
                "not_after": cert.not_after.strftime("%Y-%m-%dT%H:%M:%S"),
                "serial_number": f"{cert.serial:x}".zfill(2 * ((len(f"{cert.serial:x}") + 1) // 2)),
                # identity rows of this certificate that matched: a leaf's CN and its dNSName
                "result_count": 2 * len(matched) if leaf else len(matched),
            }
        )
    return rows[: revocations.settings.crtsh_result_limit]


def _issuer_ca_id(query: dict[str, list[str]]) -> int | None:
    value = query.get("iCAID", [""])[0]
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise HttpError(400, "iCAID must be a crt.sh CA id") from exc


def crtsh_download(revocations: RevocationWorld, key: str, moment: datetime) -> bytes | None:
    """`?d=<id or SHA-256>`: the PEM of a certificate crt.sh knows at `moment`, else None."""
    moment_ms = epoch_ms(moment)
    for cert in revocations.crtsh_certs:
        if cert.known_from_ms > moment_ms:
            continue
        if key == str(cert.id) or key.lower() == hashlib.sha256(cert.der).hexdigest():
            return pem(cert.der).encode()
    return None
