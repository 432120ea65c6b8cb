"""The simulated CCADB: the AllCertificateRecords CSV and Mozilla's revoked-intermediates report,
as of a moment.

Shapes follow the real services: the all-records header of tests/fixtures/real/ccadb (every field
quoted, dates "YYYY.MM.DD"); the report as the CCADB-Tools test sample has it ("2020 Jun 09" dates,
upper-case hex serial, PEM in single quotes).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

from cryptography import x509

from ctwatch.sim.formats import b64, name_attribute, pem
from ctwatch.sim.pki import CaCert, spki_der
from ctwatch.sim.revocation_tables import REASON_CODES
from ctwatch.sim.revocations import RevocationWorld

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
    return b64(aki) if aki else "", b64(ski) if ski else ""


def _root_status_text(revocations: RevocationWorld, root_id: str) -> str:
    status = revocations.root_status.get(root_id)
    if status is None:
        return ""
    return "; ".join(f"{label}: {getattr(status, name)}" for name, label in _STORE_LABELS)


def _certificate_name(revocations: RevocationWorld, cert: CaCert) -> str:
    """CCADB's name of a CA certificate: its subject's common name (a cross-sign's is its subject's)."""
    spec = cert.spec
    return spec.common_name if spec.cross_of is None else revocations.scenario.ca(spec.cross_of).common_name


def ccadb_all_records(revocations: RevocationWorld, moment: datetime) -> bytes:
    """AllCertificateRecords CSV as of `moment`: a record per CA certificate issued by then."""
    rows = []
    certs = revocations.ca_certs
    for cert in certs.values():
        parsed = x509.load_der_x509_certificate(cert.der)
        if parsed.not_valid_before_utc > moment:
            continue
        spec = cert.spec
        is_root = spec.parent is None
        parent = None if is_root else certs[cert.chain_ids[1]]
        root_id = cert.chain_ids[-1]
        status = revocations.root_status.get(root_id) if is_root else None
        scope_parts = revocations.partitions.get(spec.id)
        issues = spec.id in revocations.crl_versions
        aki, ski = _key_ids_b64(parsed)
        row = dict.fromkeys(CCADB_ALL_RECORDS_HEADER, "")
        row.update(
            {
                "CA Owner": spec.owner,
                "Salesforce Record ID": _record_id(cert.cert_id),
                "Certificate Name": _certificate_name(revocations, cert),
                "Parent Salesforce Record ID": _record_id(parent.cert_id) if parent else "",
                "Parent Certificate Name": _certificate_name(revocations, parent) if parent else "",
                "Certificate Record Type": "Root Certificate" if is_root else "Intermediate Certificate",
                "Subordinate CA Owner": spec.subordinate_owner or "",
                "Apple Status": status.apple if status else "Not Included",
                "Chrome Status": status.chrome if status else "Not Included",
                "Microsoft Status": status.microsoft if status else "Not Included",
                "Mozilla Status": status.mozilla if status else "Provided by CA",
                "Status of Root Cert": _root_status_text(revocations, root_id),
                "Revocation Status": revocations.ccadb_status(cert, moment),
                "SHA-256 Fingerprint": cert.der_sha256.upper(),
                "Parent SHA-256 Fingerprint": parent.der_sha256.upper() if parent else "",
                "Valid From (GMT)": parsed.not_valid_before_utc.strftime("%Y.%m.%d"),
                "Valid To (GMT)": parsed.not_valid_after_utc.strftime("%Y.%m.%d"),
                "Authority Key Identifier": aki,
                "Subject Key Identifier": ski,
                "Technically Constrained": "true" if spec.permitted_dns and not is_root else "false",
                "Derived Trust Bits": "" if is_root else "Server Authentication;Client Authentication",
                "Full CRL Issued By This CA": revocations.crl_url(spec.id)
                if issues and not scope_parts
                else "",
                "JSON Array of Partitioned CRLs": json.dumps(
                    [
                        revocations.crl_url(spec.id, n)
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


def _report_date(moment: datetime) -> str:
    return moment.strftime("%Y %b %d")


def mozilla_revoked_intermediates(revocations: RevocationWorld, moment: datetime) -> bytes:
    """PublicIntermediateCertsRevokedWithPEMCSV as of `moment`: CA certificates CCADB shows revoked."""
    rows = []
    for rev in revocations.revocations:
        if not rev.is_ca or rev.ccadb_revoked_from is None or rev.ccadb_revoked_from > moment:
            continue
        cert = revocations.ca_certs[rev.cert_id]
        parsed = x509.load_der_x509_certificate(rev.der)
        issuer = revocations.ca_certs[cert.chain_ids[1]]
        onecrl_status = (
            "Added to OneCRL" if rev.onecrl and rev.onecrl.last_modified <= moment else "Ready to Add"
        )
        spki = spki_der(revocations.hierarchy.key(cert.key_group))
        subject_spki = hashlib.sha256(parsed.subject.public_bytes() + spki).hexdigest().upper()
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
                "CA Owner/Certificate Name": _certificate_name(revocations, cert),
                "Certificate Issuer Common Name": name_attribute(parsed.issuer, x509.NameOID.COMMON_NAME),
                "Certificate Issuer Organization": name_attribute(
                    parsed.issuer, x509.NameOID.ORGANIZATION_NAME
                ),
                "Certificate Subject Common Name": name_attribute(parsed.subject, x509.NameOID.COMMON_NAME),
                "Certificate Subject Organization": name_attribute(
                    parsed.subject, x509.NameOID.ORGANIZATION_NAME
                ),
                "SHA-256 Fingerprint": rev.der_sha256.upper(),
                "Subject + SPKI SHA256": subject_spki,
                "Valid From [GMT]": _report_date(parsed.not_valid_before_utc),
                "Valid To [GMT]": _report_date(parsed.not_valid_after_utc),
                "Public Key Algorithm": "EC secp256r1",
                "Signature Hash Algorithm": "ecdsaWithSHA256",
                "CRL URL(s)": revocations.crl_url(issuer.spec.id),
                "Alternate CRL": "",
                "Comments": "",
                "PEM Info": f"'{pem(rev.der).strip()}'",
            }
        )
    return _csv(MOZILLA_REVOKED_HEADER, rows)
