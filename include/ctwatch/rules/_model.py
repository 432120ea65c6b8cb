"""The records of the rule registry: a rule with its metadata, and what it finds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from ctwatch.timeutil import day_start
from ctwatch.x509.model import CertKind, ParsedCert


class Severity(StrEnum):
    """How bad a finding is; the rule id prefix says the same (e_, w_, n_)."""

    ERROR = "error"  # a MUST / MUST NOT / SHALL is broken
    WARNING = "warning"  # a SHOULD / NOT RECOMMENDED is ignored, or a known risk
    NOTICE = "notice"

    @property
    def id_prefix(self) -> str:
        return f"{self.value[0]}_"


class DateBasis(StrEnum):
    """Which date decides whether a rule applies.

    NOT_BEFORE: a profile rule, for certificates issued in [effective, ineffective) (zlint's way).
    EVALUATION_DATE: a duty that holds on the evaluation date in [effective, ineffective), for any
    certificate in use then, whenever it was issued.
    """

    NOT_BEFORE = "not_before"
    EVALUATION_DATE = "evaluation_date"


class CrossCertificateScope(StrEnum):
    """Whether a rule is meant for cross-certificates; a single certificate cannot tell, the warehouse can."""

    ANY = "any"
    EXCLUDED = "excluded"
    ONLY = "only"


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a requirement is written: document, version and section (url when a stable one is known)."""

    document: str
    version: str
    section: str
    url: str | None = None

    def short(self) -> str:
        return f"{self.document} {self.version} §{self.section}"


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Facts about a certificate that only the warehouse knows."""

    is_cross_certificate: bool = False


# A check returns None when the certificate complies, else a plain-words detail of what it found.
Check = Callable[[ParsedCert, RuleContext], str | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One compliance rule: metadata beside the check. The module that defines it is named after `id`."""

    id: str
    description: str
    severity: Severity
    citation: Citation
    source: str  # "CA/Browser Forum", "IETF", ...
    effective: date
    ineffective: date | None
    date_basis: DateBasis
    applies_to: frozenset[CertKind]
    check: Check
    cross_certificates: CrossCertificateScope = CrossCertificateScope.ANY

    def __post_init__(self) -> None:
        problems = self.metadata_problems()
        if problems:
            raise ValueError(f"rule {self.id!r}: " + "; ".join(problems))

    def metadata_problems(self) -> list[str]:
        """Every way the metadata is incomplete or inconsistent (empty list when it is sound)."""
        problems = []
        if not self.id.startswith(self.severity.id_prefix):
            problems.append(f"id must start with {self.severity.id_prefix!r} for severity {self.severity}")
        if not self.id.isidentifier() or self.id != self.id.lower():
            problems.append("id must be a lower-case Python identifier (it is the module name)")
        for name in ("description", "source"):
            if not getattr(self, name).strip():
                problems.append(f"{name} is empty")
        for name in ("document", "version", "section"):
            if not getattr(self.citation, name).strip():
                problems.append(f"citation.{name} is empty")
        if self.ineffective is not None and self.ineffective <= self.effective:
            problems.append("ineffective must be after effective")
        if not self.applies_to:
            problems.append("applies_to is empty")
        return problems

    def in_force(self, cert: ParsedCert, as_of: datetime) -> bool:
        """Whether the rule's dates cover this certificate at `as_of`.

        A NOT_BEFORE rule does not apply to a certificate whose notBefore could not be decoded
        (`not_before is None`): the date that decides it is unknown, and the analyser has already
        recorded a warning for the undecodable field. EVALUATION_DATE rules apply as usual.
        """
        if self.date_basis is DateBasis.NOT_BEFORE:
            if cert.not_before is None:
                return False
            moment = cert.not_before
        else:
            moment = as_of
        if moment < day_start(self.effective):
            return False
        return self.ineffective is None or moment < day_start(self.ineffective)

    def covers(self, cert: ParsedCert, context: RuleContext) -> bool:
        """Whether the certificate is of a kind (and cross-certificate scope) this rule is about."""
        if cert.kind not in self.applies_to:
            return False
        if self.cross_certificates is CrossCertificateScope.EXCLUDED:
            return not context.is_cross_certificate
        if self.cross_certificates is CrossCertificateScope.ONLY:
            return context.is_cross_certificate
        return True


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken by one certificate."""

    rule_id: str
    severity: Severity
    der_sha256: str
    detail: str
