"""Revocation policy: BR revocation windows versioned by effective date, and the reason vocabulary."""

from ctwatch.policy.reasons import BR_ALLOWED_CRL_REASONS, CRLReason, RevocationReason
from ctwatch.policy.windows import (
    Deadline,
    WindowAnswer,
    WindowKind,
    deadline,
    revocation_window,
    validity_period_s,
)

__all__ = [
    "BR_ALLOWED_CRL_REASONS",
    "CRLReason",
    "Deadline",
    "RevocationReason",
    "WindowAnswer",
    "WindowKind",
    "deadline",
    "revocation_window",
    "validity_period_s",
]
