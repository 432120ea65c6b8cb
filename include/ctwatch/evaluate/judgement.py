"""The verdict of one certificate: pure, from its deadline and the revocation evidence known by the as-of.

What settles (see ctwatch.revocation.settlement): the CA's own CRL or OCSP listing it as revoked. A
report's claim settles only when no covering CA channel ctwatch observed contradicts it; a
root-program block never settles; certificateHold is no revocation.

Publication is judged from evidence: publish-by = deadline + the channel's allowance (24 h for a CA
certificate, BR 4.9.7; none for a subscriber certificate, BR 4.9.5).

- first listing observed at or before publish-by: published in time;
- ctwatch saw a covering channel without the entry after publish-by: published late, by at least
  (that observation - publish-by) and at most (first listing observed - publish-by);
- otherwise (no observation in between): undetermined; ctwatch's own gaps are never charged to the
  CA, the verdict rests on the claimed time, and the gap is shown.

The claimed time is judged against the deadline; the delay is the larger proven excess. A
certificate with no revocation known stays pending until publish-by (a revocation made by the
deadline may still appear), then is overdue since the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ctwatch.evaluate.verdict import Basis, Judgement, Status, format_delay
from ctwatch.revocation.settlement import CTWATCH, Absence, CertificateEvidence, Claim, Listing, contradiction
from ctwatch.timeutil import iso_z


@dataclass(frozen=True, slots=True)
class _Context:
    as_of: datetime
    clock_start: datetime | None
    deadline: datetime | None
    allowance: timedelta
    not_after: datetime | None
    no_window: str | None
    evidence: CertificateEvidence
    steps: list[str]

    @property
    def publish_by(self) -> datetime | None:
        return None if self.deadline is None else self.deadline + self.allowance

    def findings(self) -> tuple[str, ...]:
        holds = self.evidence.holds
        if not holds:
            return ()
        listed = "; ".join(h.describe() for h in holds)
        return (f"certificate_hold: {listed}; the BRs do not allow suspending it (certificateHold)",)

    def actions(self) -> tuple[str, ...]:
        return tuple(
            f"{b.describe()} (a root-program action, not a revocation)" for b in self.evidence.blocks
        )

    def last_absent_at(self) -> datetime | None:
        absence = self.evidence.last_absence
        return absence.last_observed_at if absence else None

    def first_own(self) -> datetime | None:
        return min(
            (x.first_observed_at for x in self.evidence.listings if x.observer == CTWATCH), default=None
        )

    def judgement(
        self,
        status: Status,
        basis: Basis,
        basis_text: str,
        *,
        delay: timedelta | None = None,
        delay_max: timedelta | None = None,
        claimed: datetime | None = None,
        reason: str | None = None,
        bounds: tuple[str, ...] = (),
    ) -> Judgement:
        return Judgement(
            status=status,
            delay=delay,
            delay_max=delay if delay_max is None else delay_max,
            basis=basis,
            basis_text=basis_text,
            revoked_at_claimed=claimed,
            revocation_reason=reason,
            first_observed_revoked_at=self.first_own(),
            last_observed_absent_at=self.last_absent_at(),
            publish_by=self.publish_by,
            bounds=bounds,
            arithmetic=tuple(self.steps),
            findings=self.findings(),
            root_program_actions=self.actions(),
        )


def unjudged(
    status: Status, basis: Basis, basis_text: str, evidence: CertificateEvidence, as_of: datetime
) -> Judgement:
    """A certificate this incident does not judge (a root, another owner's certificate): its
    revocation facts are shown, nothing is computed against a deadline."""
    ctx = _Context(as_of, None, None, timedelta(0), None, None, evidence, [])
    listing = evidence.first_listing
    return ctx.judgement(
        status, basis, basis_text,
        claimed=listing.revoked_at_claimed if listing else None,
        reason=listing.reason if listing else None,
    )  # fmt: skip


def judge(
    *,
    as_of: datetime,
    clock_start: datetime | None,
    deadline: datetime | None,
    publication_allowance: timedelta,
    not_after: datetime | None,
    evidence: CertificateEvidence,
    no_window: str | None = None,
) -> Judgement:
    """The verdict of one certificate as of `as_of` from the evidence known by then.

    `deadline` None with a clock started means no window: `no_window` says why.
    """
    ctx = _Context(as_of, clock_start, deadline, publication_allowance, not_after, no_window, evidence, [])
    listing = evidence.first_listing
    if listing is not None:
        return _listed(ctx, listing)
    if evidence.claims:
        settled = _reported(ctx)
        if settled is not None:
            return settled
    return _unrevoked(ctx)


def _early_exit(
    ctx: _Context, revoked_text: str, claimed: datetime | None, reason: str | None
) -> Judgement | None:
    """No clock, or no window: the verdict says so, with the revocation facts."""
    if ctx.clock_start is None:
        ctx.steps.append("no clock started: a revocation now precedes any deadline")
        return ctx.judgement(
            Status.REVOKED_BEFORE_START, Basis.NO_CLOCK,
            f"{revoked_text}; no clock has started: nobody has demonstrably made the CA aware yet",
            claimed=claimed, reason=reason,
        )  # fmt: skip
    if ctx.deadline is None:
        ctx.steps.append(f"no window: {ctx.no_window}")
        return ctx.judgement(
            Status.NO_DEADLINE, Basis.NO_WINDOW, f"{ctx.no_window}: no revocation deadline; {revoked_text}",
            claimed=claimed, reason=reason,
        )  # fmt: skip
    return None


def _listed(ctx: _Context, listing: Listing) -> Judgement:
    evidence = ctx.evidence
    claims = [x.revoked_at_claimed for x in evidence.listings if x.revoked_at_claimed is not None]
    claimed = min(claims, default=None)
    first_listed = listing.first_observed_at
    if claimed is None:
        # A CRL entry and an OCSP answer always carry a time; without one, the first listing bounds it.
        claimed = first_listed
        ctx.steps.append(f"no claimed time: the first listing {iso_z(first_listed)} stands for it")
    else:
        ctx.steps.append(f"claimed revocation {iso_z(claimed)} ({listing.channel}, the CA's own channel)")
    where = f"{listing.channel.upper()} ({listing.evidence})"
    revoked_text = f"revoked on the CA's {where}, first seen {iso_z(first_listed)}"
    early = _early_exit(ctx, revoked_text, claimed, listing.reason)
    if early is not None:
        return early
    assert ctx.deadline is not None  # checked by _early_exit
    assert ctx.clock_start is not None  # checked by _early_exit
    publish_by = ctx.deadline + ctx.allowance
    claim_excess = claimed - ctx.deadline
    ctx.steps.append(
        f"claimed {iso_z(claimed)} - deadline {iso_z(ctx.deadline)} = {format_delay(claim_excess)}"
    )
    absence = evidence.last_absence
    bounds = tuple(x.describe() for x in evidence.listings if x is not listing)
    bounds += tuple(c.describe() for c in evidence.claims)
    seen_by = "ctwatch" if listing.observer == CTWATCH else f"{listing.observer} (a third party)"
    proven: tuple[timedelta, timedelta] | None = None
    if first_listed <= publish_by:
        ctx.steps.append(
            f"first listed {iso_z(first_listed)} <= publish-by {iso_z(publish_by)} (deadline + "
            f"{format_delay(ctx.allowance)}): published in time"
        )
        basis = Basis.OBSERVED if listing.observer == CTWATCH else Basis.CLAIMED_ONLY
        publication = (
            f"{seen_by} saw it listed on the CA's {where} at {iso_z(first_listed)}, by the publication "
            f"deadline {iso_z(publish_by)}"
        )
    elif absence is not None and absence.last_observed_at > publish_by:
        low, high = absence.last_observed_at - publish_by, first_listed - publish_by
        proven = (low, high)
        ctx.steps.append(
            f"seen without it {iso_z(absence.last_observed_at)} ({absence.channel}) - publish-by "
            f"{iso_z(publish_by)} = {format_delay(low)}; first listed {iso_z(first_listed)} - publish-by = "
            f"{format_delay(high)}"
        )
        basis = Basis.OBSERVED
        publication = (
            f"published late: ctwatch saw the CA's {absence.channel.upper()} without it at "
            f"{iso_z(absence.last_observed_at)} ({absence.evidence}), after the publication deadline "
            f"{iso_z(publish_by)}, and {seen_by} first saw it listed at {iso_z(first_listed)} "
            f"({listing.evidence}): publication late by {format_delay(low)} to {format_delay(high)}"
        )
    else:
        last = (
            f"last seen without it {iso_z(absence.last_observed_at)}" if absence else "never seen without it"
        )
        ctx.steps.append(
            f"publication undetermined: {last}, first listed {iso_z(first_listed)}; publish-by "
            f"{iso_z(publish_by)} (ctwatch's own gap is not charged to the CA)"
        )
        basis = Basis.CLAIMED_ONLY
        publication = (
            f"listed on the CA's {where}, first seen by {seen_by} at {iso_z(first_listed)}; ctwatch's "
            f"observations do not show when it was published ({last}; publication deadline "
            f"{iso_z(publish_by)}), so the verdict rests on the CA's claimed revocation time {iso_z(claimed)}"
        )
    if claimed < ctx.clock_start and proven is None:
        ctx.steps.append(f"claimed {iso_z(claimed)} before the clock start {iso_z(ctx.clock_start)}")
        return ctx.judgement(
            Status.REVOKED_BEFORE_START, basis, f"Revoked before the clock started; {publication}.",
            claimed=claimed, reason=listing.reason, bounds=bounds,
        )  # fmt: skip
    delay = claim_excess if proven is None else max(claim_excess, proven[0])
    if delay <= timedelta(0):
        ctx.steps.append("on time: every proven excess <= 0")
        return ctx.judgement(
            Status.REVOKED_ON_TIME, basis, f"Revoked on time; {publication}.",
            claimed=claimed, reason=listing.reason, bounds=bounds,
        )  # fmt: skip
    delay_max = delay if proven is None else max(claim_excess, proven[1])
    ctx.steps.append(
        f"late by the larger proven excess: {format_delay(delay)}"
        + (f" (at most {format_delay(delay_max)})" if delay_max != delay else "")
    )
    claim_words = (
        f"the CA's claimed time {iso_z(claimed)} is {format_delay(claim_excess)} after the deadline "
        f"{iso_z(ctx.deadline)}; "
        if claim_excess > timedelta(0)
        else ""
    )
    return ctx.judgement(
        Status.REVOKED_LATE, basis, f"Revoked late: {claim_words}{publication}.",
        delay=delay, delay_max=delay_max, claimed=claimed, reason=listing.reason, bounds=bounds,
    )  # fmt: skip


def _reported(ctx: _Context) -> Judgement | None:
    """A report settles when nothing ctwatch observed contradicts it; None when every one is contradicted."""
    evidence = ctx.evidence
    absence = evidence.last_absence
    standing: list[Claim] = []
    contradicted: list[tuple[Claim, Absence]] = []
    for claim in evidence.claims:
        against = contradiction(claim, absence, ctx.allowance)
        if against is None:
            standing.append(claim)
        else:
            contradicted.append((claim, against))
    if not standing:
        return None
    claim = min(standing, key=lambda c: (c.claimed_by, c.source))
    claimed = claim.claimed_by
    dated = "" if claim.revoked_at_claimed else " (no date: the first report saying so bounds it)"
    ctx.steps.append(f"reported revocation {iso_z(claimed)}{dated} ({claim.source}); no CA channel lists it")
    if absence is None:
        watched = "ctwatch never observed a covering CRL or OCSP answer while the certificate was valid"
    else:
        watched = (
            f"ctwatch's last observation of the CA's channel without it, {iso_z(absence.last_observed_at)} "
            f"({absence.evidence}), is not after the claimed time plus the {format_delay(ctx.allowance)} "
            "publication allowance"
        )
    bounds = tuple(f"contradicted: {c.describe()}; {a.describe()}" for c, a in contradicted) + tuple(
        c.describe() for c in standing if c is not claim
    )
    revoked_text = f"reported revoked only: {claim.describe()}; {watched}"
    early = _early_exit(ctx, revoked_text, claimed, None)
    if early is not None:
        return early
    assert ctx.deadline is not None  # checked by _early_exit
    assert ctx.clock_start is not None  # checked by _early_exit
    excess = claimed - ctx.deadline
    ctx.steps.append(f"reported {iso_z(claimed)} - deadline {iso_z(ctx.deadline)} = {format_delay(excess)}")
    text = f"Reported revoked, not seen on the CA's own channels: {claim.describe()}; {watched}"
    if claimed < ctx.clock_start:
        return ctx.judgement(
            Status.REVOKED_BEFORE_START, Basis.REPORTED_ONLY, f"{text}; before the clock started.",
            claimed=claimed, bounds=bounds,
        )  # fmt: skip
    if excess <= timedelta(0):
        return ctx.judgement(
            Status.REVOKED_ON_TIME, Basis.REPORTED_ONLY, f"{text}; on time by the report.",
            claimed=claimed, bounds=bounds,
        )  # fmt: skip
    return ctx.judgement(
        Status.REVOKED_LATE, Basis.REPORTED_ONLY,
        f"{text}; late by {format_delay(excess)} by the report.",
        delay=excess, claimed=claimed, bounds=bounds,
    )  # fmt: skip


def _not_revoked_basis(ctx: _Context) -> tuple[Basis, str, tuple[str, ...]]:
    evidence = ctx.evidence
    absence = evidence.last_absence
    if evidence.claims and absence is not None:
        claim = min(evidence.claims, key=lambda c: (c.claimed_by, c.source))
        return (
            Basis.REPORT_CONTRADICTED,
            f"Not revoked: {claim.describe()}, but ctwatch saw the CA's {absence.channel.upper()} without "
            f"it at {iso_z(absence.last_observed_at)} ({absence.evidence}), after the claimed time plus the "
            f"{format_delay(ctx.allowance)} publication allowance, while the certificate was valid",
            tuple(c.describe() for c in evidence.claims),
        )
    if evidence.holds:
        hold = evidence.holds[0]
        return (
            Basis.CERTIFICATE_HOLD,
            f"Not revoked: the CA's {hold.channel.upper()} lists it only on hold (certificateHold) since "
            f"{iso_z(hold.first_observed_at)} ({hold.evidence}); suspension is no revocation",
            (),
        )
    blocked = "; ".join(ctx.actions())
    return (
        Basis.NO_REVOCATION,
        "Not revoked: no CRL or OCSP answer of the CA lists it and no report claims its revocation"
        + (f"; {blocked}" if blocked else ""),
        (),
    )


def _unrevoked(ctx: _Context) -> Judgement:
    basis, text, bounds = _not_revoked_basis(ctx)
    expired = ctx.not_after is not None and ctx.not_after < ctx.as_of  # notAfter is inclusive
    if ctx.clock_start is None:
        ctx.steps.append("no clock started")
        status = Status.EXPIRED_UNREVOKED if expired else Status.PENDING
        return ctx.judgement(
            status, Basis.NO_CLOCK,
            f"{text}; no clock has started: nobody has demonstrably made the CA aware yet.", bounds=bounds,
        )  # fmt: skip
    if ctx.deadline is None:
        ctx.steps.append(f"no window: {ctx.no_window}")
        return ctx.judgement(
            Status.NO_DEADLINE, Basis.NO_WINDOW, f"{ctx.no_window}: no revocation deadline; {text}.",
            bounds=bounds,
        )  # fmt: skip
    if expired:
        assert ctx.not_after is not None  # expired implies a notAfter
        overdue_for = ctx.not_after - ctx.deadline
        ctx.steps.append(
            f"expired {iso_z(ctx.not_after)} unrevoked; notAfter - deadline = {format_delay(overdue_for)}"
        )
        delay = overdue_for if overdue_for > timedelta(0) else None
        return ctx.judgement(
            Status.EXPIRED_UNREVOKED,
            basis,
            f"{text}; it expired {iso_z(ctx.not_after)}.",
            delay=delay,
            bounds=bounds,
        )
    if ctx.as_of <= ctx.deadline:
        ctx.steps.append(f"as of {iso_z(ctx.as_of)} <= deadline {iso_z(ctx.deadline)}: pending")
        return ctx.judgement(
            Status.PENDING,
            basis,
            f"{text}; the deadline {iso_z(ctx.deadline)} has not passed.",
            bounds=bounds,
        )
    publish_by = ctx.deadline + ctx.allowance
    if ctx.as_of <= publish_by:
        # A revocation made by the deadline may still appear: nothing shows a breach yet.
        ctx.steps.append(f"as of {iso_z(ctx.as_of)} <= publish-by {iso_z(publish_by)}: pending publication")
        return ctx.judgement(
            Status.PENDING, basis,
            f"{text}; the deadline {iso_z(ctx.deadline)} has passed, but a revocation made by then may be "
            f"published until {iso_z(publish_by)}.",
            bounds=bounds,
        )  # fmt: skip
    overdue_for = ctx.as_of - ctx.deadline
    ctx.steps.append(
        f"as of {iso_z(ctx.as_of)} - deadline {iso_z(ctx.deadline)} = {format_delay(overdue_for)} overdue"
    )
    return ctx.judgement(
        Status.OVERDUE, basis, f"{text}; overdue since the deadline {iso_z(ctx.deadline)}.",
        delay=overdue_for, bounds=bounds,
    )  # fmt: skip
