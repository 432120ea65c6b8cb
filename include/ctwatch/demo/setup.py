"""What the demo points ctwatch at: the scenario, the simulator's URLs, the disclosed keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
SCENARIO_FILE = _HERE / "july2020.toml"
# The packaged incidents.toml plus the scenario's bugs and key destruction.
EVALUATION_CONFIG_FILE = _HERE / "evaluation.toml"


def _toml_string(value: str) -> str:
    # A JSON string of printable ASCII is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)


def write_sources_file(path: Path, sim_urls: Mapping[str, Any]) -> Path:
    """Write the `[revocation_sources]` table (ctwatch.revocation.config) for a running simulator.

    `sim_urls` is the JSON line `python -m ctwatch sim serve` prints. `simulated = true` makes every
    request carry the run's as-of, and the answers stamped with it.
    """
    settings: Mapping[str, str] = sim_urls["services"]  # keyed by SourceLocations field
    lines = ["[revocation_sources]", "simulated = true", "requests_per_second = 1000.0", "timeout_s = 30.0"]
    lines += [f"{name} = {_toml_string(url)}" for name, url in settings.items()]
    lines.append("")
    lines.append("[revocation_sources.url_rewrite]")
    rewrite: Mapping[str, str] = sim_urls["url_rewrite"]
    lines += [
        f"{_toml_string(prefix)} = {_toml_string(target)}" for prefix, target in sorted(rewrite.items())
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def disclosed_keys(ground_truth: Mapping[str, Any]) -> list[str]:
    """spki_sha256 of the CA certificates the July 2020 disclosure listed (OCSPSigning, no nocheck).

    Staff put these on the CT watch list, so the leaves issued under them are kept with their
    entry times (the first CT time of a re-issued key-group member sets its deadline).
    """
    return sorted(
        {
            cert["spki_sha256"]
            for cert in ground_truth["ca_certificates"]
            if cert["ocsp_signing"] and not cert["ocsp_nocheck"] and cert["kind"] != "root"
        }
    )
