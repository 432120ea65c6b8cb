"""Bodies of the simulated CCADB, Mozilla, OneCRL, CRLSet, crt.sh and Bugzilla services, as of a moment.

Shapes follow the real services: the CCADB all-records header of tests/fixtures/real/ccadb (every
field quoted, dates "YYYY.MM.DD"), Mozilla's revoked intermediates report as the CCADB-Tools test
sample has it ("2020 Jun 09" dates, upper-case hex serial, PEM in single quotes), OneCRL
remote-settings records, the CRLSet binary (uint16-LE header length, JSON header, per parent SPKI
SHA-256 + uint32-LE count + length-prefixed serials), crt.sh's JSON rows, and Bugzilla's REST bug
objects.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import struct
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ctwatch.sim.pki import CaCert
from ctwatch.sim.revocations import REASON_CODES, RevocationWorld, iso_z

CCADB_ALL_RECORDS_HEADER = (
    "CA Owner", "Salesforce Record ID", "Certificate Name", "Parent Salesforce Record ID",
    "Parent Certificate Name", "Certificate Record Type", "Subordinate CA Owner", "Apple Status",
    "Chrome Status", "Microsoft Status", "Mozilla Status", "Status of Root Cert", "Revocation Status",
    "SHA-256 Fingerprint", "Parent SHA-256 Fingerprint", "Valid From (GMT)", "Valid To (GMT)",
    "Authority Key Identifier", "Subject Key Identifier", "Technically Constrained", "Derived Trust Bits",
    "Full CRL Issued By This CA", "JSON Array of Partitioned CRLs", "Auditor", "Audits Same as Parent?",
    "Standard Audit URL", "Standard Audit Type", "Standard Audit Statement Date",
    "Standard Audit Period Start Date", "Standard Audit Period End Date", "NetSec Audit URL",
    "NetSec Audit Type", "NetSec Audit Statement Date", "NetSec Audit Period Start Date",
    "NetSec Audit Period End Date", "TLS BR Audit URL", "TLS BR Audit Type", "TLS BR Audit Statement Date",
    "TLS BR Audit Period Start Date", "TLS BR Audit Period End Date", "TLS EVG Audit URL",
    "TLS EVG Audit Type", "TLS EVG Audit Statement Date", "TLS EVG Audit Period Start Date",
    "TLS EVG Audit Period End Date", "Code Signing Audit URL", "Code Signing Audit Type",
    "Code Signing Audit Statement Date", "Code Signing Audit Period Start Date",
    "Code Signing Audit Period End Date", "S/MIME BR Audit URL", "S/MIME BR Audit Type",
    "S/MIME BR Audit Statement Date", "S/MIME BR Audit Period Start Date",
    "S/MIME BR Audit Period End Date", "VMC Audit URL", "VMC Audit Type", "VMC Audit Statement Date",
    "VMC Audit Period Start Date", "VMC Audit Period End Date", "Policy Documentation",
    "CA Document Repository", "CP Same as Parent?", "Certificate Policy (CP) URL", "CP Last Update Date",
    "CPS Same as Parent?", "Certificate Practice Statement (CPS) URL", "CPS Last Update Date",
    "CP/CPS Same as Parent?", "Certificate Practice & Policy Statement", "CP/CPS Last Updated Date",
    "Test Website URL - Valid", "Test Website URL - Expired", "Test Website URL - Revoked", "TLS Capable",
    "TLS EV Capable", "Code Signing Capable", "S/MIME Capable", "Country",
)  # fmt: skip
MOZILLA_REVOKED_HEADER = (
    "CA Owner", "Revocation Status", "RFC 5280 Revocation Reason Code", "Date of Revocation",
    "OneCRL Status", "OneCRL Bug Number", "Certificate Serial Number", "CA Owner/Certificate Name",
    "Certificate Issuer Common Name", "Certificate Issuer Organization", "Certificate Subject Common Name",
    "Certificate Subject Organization", "SHA-256 Fingerprint", "Subject + SPKI SHA256", "Valid From [GMT]",
    "Valid To [GMT]", "Public Key Algorithm", "Signature Hash Algorithm", "CRL URL(s)", "Alternate CRL",
    "Comments", "PEM Info",
)  # fmt: skip
_REASON_NAMES = {code: name for name, code in REASON_CODES.items()}
_STORE_LABELS = (
    ("apple", "Apple"),
    ("chrome", "Google Chrome"),
    ("microsoft", "Microsoft"),
    ("mozilla", "Mozilla"),
)


def _csv(header: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _record_id(cert_id: str) -> str:
    """An 18-character Salesforce-like record id, stable per certificate."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    number = int.from_bytes(hashlib.sha256(f"ccadb/{cert_id}".encode()).digest()[:12], "big")
    chars = []
    for _ in range(13):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return "0018Z" + "".join(chars)


def _key_ids_b64(cert: x509.Certificate) -> tuple[str, str]:
    """(Authority, Subject) Key Identifier in base64, as CCADB shows them ("" when absent)."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    try:
        ski: bytes | None = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = None
    return base64.b64encode(aki).decode() if aki else "", base64.b64encode(ski).decode() if ski else ""


def _root_status_text(world: RevocationWorld, root_id: str) -> str:
    status = world.root_status.get(root_id)
    if status is None:
        return ""
    return "; ".join(f"{label}: {getattr(status, name)}" for name, label in _STORE_LABELS)


def _certificate_name(world: RevocationWorld, cert: CaCert) -> str:
    """CCADB's name of a CA certificate: its subject's common name (a cross-sign's is its subject's)."""
    spec = cert.spec
    return spec.common_name if spec.cross_of is None else world.scenario.ca(spec.cross_of).common_name


def ccadb_all_records(world: RevocationWorld, moment: datetime) -> bytes:
    """AllCertificateRecords CSV as of `moment`: a record per CA certificate issued by then."""
    rows = []
    certs = world.world.ca_certs
    for cert in certs.values():
        parsed = x509.load_der_x509_certificate(cert.der)
        if parsed.not_valid_before_utc > moment:
            continue
        spec = cert.spec
        is_root = spec.parent is None
        parent = None if is_root else certs[cert.chain_ids[1]]
        root_id = cert.chain_ids[-1]
        status = world.root_status.get(root_id) if is_root else None
        scope_parts = world.partitions.get(spec.id)
        issues = spec.id in world.crl_versions
        aki, ski = _key_ids_b64(parsed)
        row = dict.fromkeys(CCADB_ALL_RECORDS_HEADER, "")
        row.update(
            {
                "CA Owner": spec.owner,
                "Salesforce Record ID": _record_id(cert.cert_id),
                "Certificate Name": _certificate_name(world, cert),
                "Parent Salesforce Record ID": _record_id(parent.cert_id) if parent else "",
                "Parent Certificate Name": _certificate_name(world, parent) if parent else "",
                "Certificate Record Type": "Root Certificate" if is_root else "Intermediate Certificate",
                "Subordinate CA Owner": spec.subordinate_owner or "",
                "Apple Status": status.apple if status else "Not Included",
                "Chrome Status": status.chrome if status else "Not Included",
                "Microsoft Status": status.microsoft if status else "Not Included",
                "Mozilla Status": status.mozilla if status else "Provided by CA",
                "Status of Root Cert": _root_status_text(world, root_id),
                "Revocation Status": world.ccadb_status(cert, moment),
                "SHA-256 Fingerprint": cert.der_sha256.upper(),
                "Parent SHA-256 Fingerprint": parent.der_sha256.upper() if parent else "",
                "Valid From (GMT)": parsed.not_valid_before_utc.strftime("%Y.%m.%d"),
                "Valid To (GMT)": parsed.not_valid_after_utc.strftime("%Y.%m.%d"),
                "Authority Key Identifier": aki,
                "Subject Key Identifier": ski,
                "Technically Constrained": "true" if spec.permitted_dns and not is_root else "false",
                "Derived Trust Bits": "" if is_root else "Server Authentication;Client Authentication",
                "Full CRL Issued By This CA": world.crl_url(spec.id) if issues and not scope_parts else "",
                "JSON Array of Partitioned CRLs": json.dumps(
                    [
                        world.crl_url(spec.id, n)
                        for n in range(scope_parts.count)
                        if n not in scope_parts.undisclosed
                    ]
                )
                if scope_parts
                else "",
                "TLS Capable": "True",
                "TLS EV Capable": "False",
                "Code Signing Capable": "False",
                "S/MIME Capable": "False",
            }
        )
        rows.append(row)
    return _csv(CCADB_ALL_RECORDS_HEADER, rows)


def _pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def _report_date(moment: datetime) -> str:
    return moment.strftime("%Y %b %d")


def mozilla_revoked_intermediates(world: RevocationWorld, moment: datetime) -> bytes:
    """PublicIntermediateCertsRevokedWithPEMCSV as of `moment`: CA certificates CCADB shows revoked."""
    rows = []
    for rev in world.revocations:
        if not rev.is_ca or rev.ccadb_revoked_from is None or rev.ccadb_revoked_from > moment:
            continue
        cert = world.world.ca_certs[rev.cert_id]
        parsed = x509.load_der_x509_certificate(rev.der)
        issuer = world.world.ca_certs[cert.chain_ids[1]]
        onecrl_status = (
            "Added to OneCRL" if rev.onecrl and rev.onecrl.last_modified <= moment else "Ready to Add"
        )
        subject_spki = hashlib.sha256(parsed.subject.public_bytes() + _spki(cert, world)).hexdigest().upper()
        day = rev.ccadb_date_of_revocation
        rows.append(
            {
                "CA Owner": cert.spec.owner,
                "Revocation Status": "Revoked",
                "RFC 5280 Revocation Reason Code": ""
                if rev.reason_code is None
                else f"({rev.reason_code}) {_REASON_NAMES[rev.reason_code]}",
                "Date of Revocation": _report_date(datetime(day.year, day.month, day.day, tzinfo=UTC)),
                "OneCRL Status": onecrl_status,
                "OneCRL Bug Number": str(rev.onecrl.bug) if rev.onecrl and rev.onecrl.bug else "",
                "Certificate Serial Number": f"{rev.serial:X}".zfill(2 * ((len(f"{rev.serial:X}") + 1) // 2)),
                "CA Owner/Certificate Name": _certificate_name(world, cert),
                "Certificate Issuer Common Name": _attr(parsed.issuer, x509.NameOID.COMMON_NAME),
                "Certificate Issuer Organization": _attr(parsed.issuer, x509.NameOID.ORGANIZATION_NAME),
                "Certificate Subject Common Name": _attr(parsed.subject, x509.NameOID.COMMON_NAME),
                "Certificate Subject Organization": _attr(parsed.subject, x509.NameOID.ORGANIZATION_NAME),
                "SHA-256 Fingerprint": rev.der_sha256.upper(),
                "Subject + SPKI SHA256": subject_spki,
                "Valid From [GMT]": _report_date(parsed.not_valid_before_utc),
                "Valid To [GMT]": _report_date(parsed.not_valid_after_utc),
                "Public Key Algorithm": "EC secp256r1",
                "Signature Hash Algorithm": "ecdsaWithSHA256",
                "CRL URL(s)": world.crl_url(issuer.spec.id),
                "Alternate CRL": "",
                "Comments": "",
                "PEM Info": f"'{_pem(rev.der).strip()}'",
            }
        )
    return _csv(MOZILLA_REVOKED_HEADER, rows)


def _spki(cert: CaCert, world: RevocationWorld) -> bytes:
    return (
        world.world.hierarchy.key(cert.key_group)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def onecrl_records(world: RevocationWorld, moment: datetime) -> dict[str, Any]:
    """Remote-settings `{"data": [...]}` of the records whose last_modified is at or before `moment`."""
    records = []
    for rev in world.onecrl_as_of(moment):
        assert rev.onecrl is not None
        parsed = x509.load_der_x509_certificate(rev.der)
        last_modified_ms = int(rev.onecrl.last_modified.timestamp() * 1000)
        record: dict[str, Any] = {
            "schema": last_modified_ms - 1000,
            "details": {
                "bug": f"https://bugzilla.mozilla.org/show_bug.cgi?id={rev.onecrl.bug}"
                if rev.onecrl.bug
                else "",
                "who": "",
                "why": "",
                "name": "",
                "created": iso_z(rev.onecrl.created),
            },
            "enabled": True,
        }
        if rev.onecrl.form == "issuer_serial":
            serial_bytes = rev.serial.to_bytes(rev.serial.bit_length() // 8 + 1, "big", signed=True)
            record["issuerName"] = base64.b64encode(parsed.issuer.public_bytes()).decode()
            record["serialNumber"] = base64.b64encode(serial_bytes).decode()
        else:
            spki = parsed.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            record["subject"] = base64.b64encode(parsed.subject.public_bytes()).decode()
            record["pubKeyHash"] = base64.b64encode(hashlib.sha256(spki).digest()).decode()
        record["id"] = world.onecrl_record_id(rev)
        record["last_modified"] = last_modified_ms
        records.append(record)
    records.sort(key=lambda r: -int(r["last_modified"]))  # remote-settings: newest first
    return {"data": records}


def crlset(world: RevocationWorld, moment: datetime) -> bytes:
    """Chrome's CRLSet binary as of `moment` (parents keyed by the issuer's SPKI SHA-256)."""
    by_parent: dict[bytes, list[int]] = {}
    for rev in world.crlset_as_of(moment):
        issuer = world.world.ca_certs[rev.scope]
        by_parent.setdefault(world.spki_sha256(issuer), []).append(rev.serial)
    header = {
        "Version": 0,
        "ContentType": "CRLSet",
        "Sequence": world.crlset_sequence(moment),
        "DeltaFrom": 0,
        "NumParents": len(by_parent),
        "BlockedSPKIs": [],
        "KnownInterceptionSPKIs": None,
        "BlockedInterceptionSPKIs": [],
        "NotAfter": int(moment.timestamp()) + world.settings.crlset_validity_days * 86400,
    }
    header_bytes = json.dumps(header, separators=(",", ":")).encode()
    out = bytearray(struct.pack("<H", len(header_bytes)) + header_bytes)
    for spki_hash in sorted(by_parent):
        serials = sorted(by_parent[spki_hash])
        out += spki_hash + struct.pack("<I", len(serials))
        for serial in serials:
            raw = serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True)
            out += bytes([len(raw)]) + raw
    return bytes(out)


# -- crt.sh --


def _like(pattern: str) -> re.Pattern[str]:
    """crt.sh identity match: ILIKE, `%` and `_` wildcards, case-insensitive, whole value."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.lower()]
    return re.compile("".join(parts))


def _crtsh_name(world: RevocationWorld, key_group: str) -> str:
    cert = world.world.ca_certs[key_group]
    subject = x509.load_der_x509_certificate(cert.der).subject
    parts = [
        ("C", x509.NameOID.COUNTRY_NAME),
        ("O", x509.NameOID.ORGANIZATION_NAME),
        ("CN", x509.NameOID.COMMON_NAME),
    ]
    return ", ".join(f"{label}={_attr(subject, oid)}" for label, oid in parts if _attr(subject, oid))


def crtsh_search(
    world: RevocationWorld, identity: str, query: dict[str, list[str]], moment: datetime
) -> list[dict[str, Any]]:
    """Rows of an identity search (JSON output) known to crt.sh at `moment`, capped at the limit."""
    matcher = _like(identity.strip())
    exclude_expired = query.get("exclude", [""])[0] == "expired"
    min_not_before = query.get("minNotBefore", [""])[0]
    moment_ms = int(moment.timestamp() * 1000)
    ca_ids = world.crtsh_ca_ids()
    rows = []
    for cert in world.crtsh_certs:
        if cert.known_from_ms > moment_ms:
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
                "issuer_name": _crtsh_name(world, cert.issuer_key_group),
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
    return rows[: world.settings.crtsh_result_limit]


def crtsh_download(world: RevocationWorld, key: str, moment: datetime) -> bytes | None:
    """`?d=<id or SHA-256>`: the PEM of a certificate crt.sh knows at `moment`, else None."""
    moment_ms = int(moment.timestamp() * 1000)
    for cert in world.crtsh_certs:
        if cert.known_from_ms > moment_ms:
            continue
        if key == str(cert.id) or key.lower() == hashlib.sha256(cert.der).hexdigest():
            return _pem(cert.der).encode()
    return None


# -- Bugzilla --


def bugzilla_bugs(world: RevocationWorld, query: dict[str, list[str]], moment: datetime) -> dict[str, Any]:
    """`/rest/bug?...`: bugs filed by `moment`, filtered like Bugzilla's search parameters."""
    ids = {int(i) for value in query.get("id", []) for i in value.split(",") if i.strip().isdigit()}
    whiteboards = query.get("whiteboard", [])
    summaries = query.get("summary", [])
    created_after = _bz_time(query.get("creation_time", [""])[0])
    changed_after = _bz_time(query.get("last_change_time", [""])[0])
    products = set(query.get("product", []))
    components = set(query.get("component", []))
    fields = {f for value in query.get("include_fields", []) for f in value.split(",") if f}
    bugs = []
    for bug in world.bugs:
        if bug.creation_time > moment or (ids and bug.id not in ids):
            continue
        if any(w.lower() not in bug.whiteboard.lower() for w in whiteboards):
            continue
        if any(s.lower() not in bug.summary.lower() for s in summaries):
            continue
        if (products and bug.product not in products) or (components and bug.component not in components):
            continue
        last_change = bug.last_change_as_of(moment)
        if created_after and bug.creation_time < created_after:
            continue
        if changed_after and last_change < changed_after:
            continue
        status, resolution = bug.status_as_of(moment)
        record = {
            "id": bug.id,
            "summary": bug.summary,
            "whiteboard": bug.whiteboard,
            "creation_time": iso_z(bug.creation_time),
            "last_change_time": iso_z(last_change),
            "status": status,
            "resolution": resolution,
            "product": bug.product,
            "component": bug.component,
            "assigned_to": bug.assigned_to,
            "creator": bug.reporter,
            "is_open": status != "RESOLVED",
        }
        bugs.append({k: v for k, v in record.items() if not fields or k in fields})
    bugs.sort(key=lambda b: str(b.get("id", "")).zfill(12))
    offset = int(query.get("offset", ["0"])[0] or 0)
    limit = int(query.get("limit", ["0"])[0] or 0)
    return {"bugs": bugs[offset : offset + limit] if limit else bugs[offset:]}


def bugzilla_comments(
    world: RevocationWorld, bug_id: int, query: dict[str, list[str]], moment: datetime
) -> dict[str, Any] | None:
    """`/rest/bug/<id>/comment[?new_since=]`: the comments made by `moment` (with `new_since`, only
    those created after it); None for a bug not filed by then."""
    new_since = _bz_time(query.get("new_since", [""])[0])
    for bug in world.bugs:
        if bug.id == bug_id and bug.creation_time <= moment:
            comments = [
                {
                    "id": bug.id * 100 + count,
                    "bug_id": bug.id,
                    "count": count,
                    "text": comment.text,
                    "creator": comment.creator,
                    "creation_time": iso_z(comment.at),
                    "time": iso_z(comment.at),
                    "is_private": False,
                }
                for count, comment in enumerate(c for c in bug.comments if c.at <= moment)
                if new_since is None or comment.at > new_since
            ]
            return {"bugs": {str(bug.id): {"comments": comments}}, "comments": {}}
    return None


def _bz_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
