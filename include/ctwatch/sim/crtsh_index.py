"""crt.sh's view of a world: every certificate it knows, with the ids and the times it knows them from.

Leaves and precertificates come from every log (deduplicated, known from their first entry), CA
certificates from the chains of those entries; ids follow the order crt.sh would have seen them in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from ctwatch.sim.formats import epoch_ms, name_attribute
from ctwatch.sim.log_files import SimLog
from ctwatch.sim.pki import CaCert


@dataclass(frozen=True, slots=True)
class CrtShCert:
    """A certificate crt.sh knows: a logged leaf or precertificate, or a CA certificate seen in chains."""

    id: int
    der: bytes
    issuer_key_group: str
    entry_timestamp_ms: int | None  # None for CA certificates (never logged themselves)
    precert: bool  # a logged precertificate (poisoned), not a certificate
    known_from_ms: int
    identities: tuple[str, ...]  # commonName, dNSNames / organizationName, lower-case matching
    common_name: str
    serial: int
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True, slots=True)
class CrtShIndex:
    certs: list[CrtShCert]  # in id order
    leaf_issuer: dict[int, str]  # crt.sh id of a leaf -> the CA certificate id that issued it
    # (issuer key group, serial) of a logged final certificate -> when crt.sh knows it: the
    # precertificate of that pair is the duplicate `deduplicate=Y` drops
    final_known_from_ms: dict[tuple[str, int], int]


def build_crtsh_index(
    ca_certs: Mapping[str, CaCert], logs: Mapping[str, SimLog], period_start: datetime
) -> CrtShIndex:
    """The certificates of `logs` and `ca_certs` as crt.sh indexes them; a CA certificate in no
    logged chain is known from `period_start`."""
    first: dict[bytes, tuple[int, str, bool]] = {}  # leaf DER -> (timestamp, issuing cert, precert)
    ca_first_ms: dict[str, int] = {}
    for log in logs.values():
        for index in range(log.size):
            record = log.record(index)
            template = log.template_of(index)
            der = log.certificate(index)
            known = first.get(der)
            if known is None or record.timestamp_ms < known[0]:
                first[der] = (record.timestamp_ms, template.issuer_cert_id, template.precert)
            for cert_id in template.chain_ids:
                if record.timestamp_ms < ca_first_ms.get(cert_id, 2**63):
                    ca_first_ms[cert_id] = record.timestamp_ms
    pending: list[tuple[int, bytes, str | None, int | None, str | None, bool]] = []
    for der, (timestamp_ms, leaf_issuer_id, precert) in first.items():
        pending.append((timestamp_ms, der, None, timestamp_ms, leaf_issuer_id, precert))
    for cert_id, cert in ca_certs.items():
        known_ms = ca_first_ms.get(cert_id, epoch_ms(period_start))
        pending.append((known_ms, cert.der, cert_id, None, None, False))
    pending.sort(key=lambda p: (p[0], hashlib.sha256(p[1]).digest()))
    certs: list[CrtShCert] = []
    leaf_issuer: dict[int, str] = {}
    final_known_from_ms: dict[tuple[str, int], int] = {}
    for number, (known_ms, der, ca_id, entry_ms, issuer_id, precert) in enumerate(pending):
        parsed = x509.load_der_x509_certificate(der)
        cn = name_attribute(parsed.subject, x509.NameOID.COMMON_NAME)
        if ca_id is not None:
            ca_cert = ca_certs[ca_id]
            issuer_group = (
                ca_certs[ca_cert.chain_ids[1]].key_group if ca_cert.spec.parent else ca_cert.key_group
            )
            identities: tuple[str, ...] = (cn, name_attribute(parsed.subject, x509.NameOID.ORGANIZATION_NAME))
        else:
            assert issuer_id is not None
            issuer_group = ca_certs[issuer_id].key_group
            identities = (cn,)
        crtsh_id = 100_000 + number
        if issuer_id is not None:
            leaf_issuer[crtsh_id] = issuer_id
            if not precert:
                final_known_from_ms[(issuer_group, parsed.serial_number)] = known_ms
        certs.append(
            CrtShCert(
                id=crtsh_id,
                der=der,
                issuer_key_group=issuer_group,
                entry_timestamp_ms=entry_ms,
                precert=precert,
                known_from_ms=known_ms,
                identities=tuple(i.lower() for i in identities if i),
                common_name=cn,
                serial=parsed.serial_number,
                not_before=parsed.not_valid_before_utc,
                not_after=parsed.not_valid_after_utc,
            )
        )
    return CrtShIndex(certs, leaf_issuer, final_known_from_ms)


def crtsh_ca_ids(ca_certs: Mapping[str, CaCert]) -> dict[str, int]:
    """crt.sh CA id per key group: crt.sh's `ca` row is (subject name, public key)."""
    groups = sorted({c.key_group for c in ca_certs.values()})
    return {group: 1000 + n for n, group in enumerate(groups)}
