"""Where every revocation source lives: one small settings object, from TOML and/or environment.

Precedence: defaults (the real services) < the `[revocation_sources]` table of the TOML file named
by `CTWATCH_SOURCES_FILE` (or passed in) < environment variables `CTWATCH_SOURCE_<FIELD>` (upper
case field name, e.g. `CTWATCH_SOURCE_ONECRL_URL`). `simulated = true` marks a simulator: requests
then carry the as-of header and answers are stamped with that as-of time instead of the fetch time.
`url_rewrite` maps URL prefixes named in certificates (OCSP, CRL) to where they are served, e.g.
`{"http://ocsp.secom.example/" = "http://127.0.0.1:8080/hosts/ocsp.secom.example/"}`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENV_FILE = "CTWATCH_SOURCES_FILE"
ENV_PREFIX = "CTWATCH_SOURCE_"
# The CRLSet component (id hfnkpimlhhgieaddgfemjhofmfblmnib) from Chrome's component updater, as CRX3.
_CRLSET_URL = (
    "https://clients2.google.com/service/update2/crx"
    "?x=id%3Dhfnkpimlhhgieaddgfemjhofmfblmnib%26v%3D%26uc&acceptformat=crx3"
)


@dataclass(frozen=True, slots=True)
class SourceLocations:
    ccadb_all_records_url: str = (
        "https://ccadb.my.salesforce-sites.com/ccadb/AllCertificateRecordsCSVFormatV5"
    )
    mozilla_revoked_url: str = (
        "https://ccadb.my.salesforce-sites.com/mozilla/PublicIntermediateCertsRevokedWithPEMCSV"
    )
    onecrl_url: str = (
        "https://firefox.settings.services.mozilla.com/v1/buckets/security-state/collections/onecrl/records"
    )
    crlset_url: str = _CRLSET_URL
    crtsh_url: str = "https://crt.sh/"
    crtsh_result_limit: int = 10_000  # rows at which crt.sh silently stops: a full page gets split
    bugzilla_url: str = "https://bugzilla.mozilla.org/rest/"
    bugzilla_product: str = "CA Program"
    bugzilla_component: str = "CA Certificate Compliance"
    simulated: bool = False
    url_rewrite: Mapping[str, str] = field(default_factory=dict)
    requests_per_second: float = 1.0  # politeness towards every one of these services
    timeout_s: float = 60.0

    def rewrite(self, url: str) -> str:
        """`url` with the longest matching `url_rewrite` prefix replaced."""
        for prefix in sorted(self.url_rewrite, key=len, reverse=True):
            if url.startswith(prefix):
                return self.url_rewrite[prefix] + url[len(prefix) :]
        return url


def load_source_locations(
    path: Path | None = None, environ: Mapping[str, str] | None = None
) -> SourceLocations:
    """Defaults, then the TOML file (`path`, else $CTWATCH_SOURCES_FILE), then the environment.

    Raises ValueError for an unknown key or a value of the wrong type (a typo must not silently
    point ctwatch at the real services).
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    file_name = path or (Path(env[ENV_FILE]) if env.get(ENV_FILE) else None)
    if file_name is not None:
        with file_name.open("rb") as handle:
            table = tomllib.load(handle).get("revocation_sources", {})
        values.update(table)
    fields = {f.name: f for f in dataclasses.fields(SourceLocations)}
    for name in fields:
        text = env.get(ENV_PREFIX + name.upper())
        if text is not None:
            values[name] = _from_text(name, text)
    unknown = set(values) - set(fields)
    if unknown:
        raise ValueError(f"unknown revocation source settings: {sorted(unknown)}")
    defaults = SourceLocations()
    for name, value in values.items():
        expected = type(getattr(defaults, name))
        ok = isinstance(value, Mapping) if name == "url_rewrite" else isinstance(value, expected)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            values[name] = float(value)
            ok = True
        if not ok:
            raise ValueError(f"revocation source setting {name} must be {expected.__name__}, got {value!r}")
    return dataclasses.replace(defaults, **values)  # type: ignore[arg-type]


def _from_text(name: str, text: str) -> object:
    if name == "simulated":
        return text.strip().lower() in {"1", "true", "yes"}
    if name in {"requests_per_second", "timeout_s"}:
        return float(text)
    if name == "crtsh_result_limit":
        return int(text)
    if name == "url_rewrite":
        # "prefix=replacement;prefix2=replacement2"
        return dict(item.split("=", 1) for item in text.split(";") if "=" in item)
    return text
