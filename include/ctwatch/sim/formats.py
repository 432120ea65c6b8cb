"""Small encodings the world's ground truth and the simulated services share."""

from __future__ import annotations

import base64
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def name_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    """The first value of `oid` in `name`, "" when it has none."""
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()
