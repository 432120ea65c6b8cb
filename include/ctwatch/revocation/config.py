"""Where every revocation source lives and how politely it is fetched: the `[sources.*]`,
`[url_rewrite]` and `[stamping]` settings of ctwatch.toml, resolved by `ctwatch.config`.

`simulated` marks a simulator or an archive: requests then carry the run's as-of and the answers
are stamped with it instead of the fetch time. `url_rewrite` maps URL prefixes named in
certificates (OCSP, CRL) to where they are served, e.g. a mirror.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ctwatch.sources.http import Politeness


class Source(StrEnum):
    """A revocation source as ctwatch.toml names it (`[sources.<name>]`) and source health counts it."""

    CCADB = "ccadb"
    MOZILLA_REVOKED = "mozilla_revoked"
    ONECRL = "onecrl"
    CRLSET = "crlset"
    CRTSH = "crtsh"
    BUGZILLA = "bugzilla"
    CRL = "crl"
    OCSP = "ocsp"


@dataclass(frozen=True, slots=True)
class Endpoint:
    url: str  # empty for CRL and OCSP: their URLs come from the certificates
    enabled: bool = True
    requests_per_second: float = 1.0
    timeout_s: float = 60.0
    max_body_bytes: int = 256 * 1024**2
    response_deadline_s: float = 600.0
    settings_table: str = ""  # the ctwatch.toml table these values come from, named in errors

    @property
    def politeness(self) -> Politeness:
        return Politeness(
            requests_per_second=self.requests_per_second,
            timeout_s=self.timeout_s,
            max_body_bytes=self.max_body_bytes,
            response_deadline_s=self.response_deadline_s,
            settings_table=self.settings_table,
        )


@dataclass(frozen=True, slots=True)
class SourceLocations:
    endpoints: Mapping[Source, Endpoint]
    crtsh_identities: tuple[str, ...] = ()
    crtsh_result_limit: int = 10_000  # rows at which crt.sh silently stops: a full page gets split
    bugzilla_product: str = "CA Program"
    bugzilla_component: str = "CA Certificate Compliance"
    simulated: bool = False
    url_rewrite: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = sorted(set(Source) - set(self.endpoints))
        if missing:
            raise ValueError(f"no endpoint for {', '.join(missing)}")

    def endpoint(self, source: Source) -> Endpoint:
        return self.endpoints[source]

    def url(self, source: Source) -> str:
        return self.endpoints[source].url

    def rewrite(self, url: str) -> str:
        """`url` with the longest matching `url_rewrite` prefix replaced."""
        for prefix in sorted(self.url_rewrite, key=len, reverse=True):
            if url.startswith(prefix):
                return self.url_rewrite[prefix] + url[len(prefix) :]
        return url
