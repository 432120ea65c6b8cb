"""The simulated OneCRL: Mozilla's remote-settings records of revoked intermediates, as of a moment."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ctwatch.sim.formats import b64, epoch_ms
from ctwatch.sim.revocations import RevocationWorld, onecrl_record_id
from ctwatch.timeutil import iso_z


def onecrl_records(revocations: RevocationWorld, moment: datetime) -> dict[str, Any]:
    """Remote-settings `{"data": [...]}` of the records whose last_modified is at or before `moment`."""
    records = []
    for rev in revocations.onecrl_as_of(moment):
        assert rev.onecrl is not None
        parsed = x509.load_der_x509_certificate(rev.der)
        last_modified_ms = epoch_ms(rev.onecrl.last_modified)
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
            record["issuerName"] = b64(parsed.issuer.public_bytes())
            record["serialNumber"] = b64(serial_bytes)
        else:
            spki = parsed.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            record["subject"] = b64(parsed.subject.public_bytes())
            record["pubKeyHash"] = b64(hashlib.sha256(spki).digest())
        record["id"] = onecrl_record_id(rev)
        record["last_modified"] = last_modified_ms
        records.append(record)
    records.sort(key=lambda r: -int(r["last_modified"]))  # remote-settings: newest first
    return {"data": records}
