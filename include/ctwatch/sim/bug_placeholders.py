"""Placeholders in Bugzilla texts: `{kind:cert id}` in a bug's summary or comments stands for a value
of the generated world (a CA certificate's SHA-256, serial, issuer CN or crt.sh id)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from cryptography import x509

from ctwatch.sim.formats import name_attribute
from ctwatch.sim.pki import CaCert
from ctwatch.sim.revocation_tables import Bug
from ctwatch.sim.scenario import ScenarioError

BUG_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+):([^{}\s]+)\}")
BUG_PLACEHOLDER_KINDS = ("sha256", "serial", "issuer_cn", "crtsh_id")


def check_bug_placeholders(bugs: tuple[Bug, ...], ca_certs: Mapping[str, CaCert]) -> None:
    """Unknown placeholder kinds and certificate ids fail when the world is built, not when served."""
    for pos, bug in enumerate(bugs):
        texts = [("summary", bug.summary)]
        texts += [(f"comments[{n}]", comment.text) for n, comment in enumerate(bug.comments)]
        for field_name, text in texts:
            for match in BUG_PLACEHOLDER.finditer(text):
                kind, cert_id = match.groups()
                where = f"bugs[{pos}] (bug {bug.id}) {field_name}: {match.group(0)}"
                if kind not in BUG_PLACEHOLDER_KINDS:
                    raise ScenarioError(
                        f"{where}: unknown placeholder kind (one of {', '.join(BUG_PLACEHOLDER_KINDS)})"
                    )
                if cert_id not in ca_certs:
                    raise ScenarioError(f"{where}: {cert_id!r} is not a CA certificate id")


def fill_bug_placeholders(
    bugs: tuple[Bug, ...], ca_certs: Mapping[str, CaCert], crtsh_id_of_ca: Callable[[str], int]
) -> tuple[Bug, ...]:
    """The bugs with their placeholders replaced; `crtsh_id_of_ca` is called only for a `crtsh_id`."""

    def value(kind: str, cert_id: str) -> str:
        cert = ca_certs[cert_id]
        parsed = x509.load_der_x509_certificate(cert.der)
        if kind == "sha256":
            return cert.der_sha256
        if kind == "serial":
            return format(parsed.serial_number, "x")  # as ParsedCert.serial_hex writes a positive serial
        if kind == "issuer_cn":
            return name_attribute(parsed.issuer, x509.NameOID.COMMON_NAME)
        return str(crtsh_id_of_ca(cert_id))

    def fill(text: str) -> str:
        return BUG_PLACEHOLDER.sub(lambda match: value(*match.groups()), text)

    return tuple(
        replace(
            bug,
            summary=fill(bug.summary),
            comments=tuple(replace(c, text=fill(c.text)) for c in bug.comments),
        )
        for bug in bugs
    )
