"""Revocation policy: BR revocation windows versioned by effective date, and the reason vocabulary."""

from ctwatch.evidence.revocation import CRLReason
from ctwatch.policy.reasons import RevocationReason
from ctwatch.policy.windows import (
    Deadline,
    WindowAnswer,
    WindowKind,
    deadline,
    revocation_window,
    validity_period_s,
)

__all__ = [
    "CRLReason",
    "Deadline",
    "RevocationReason",
    "WindowAnswer",
    "WindowKind",
    "deadline",
    "revocation_window",
    "validity_period_s",
]
