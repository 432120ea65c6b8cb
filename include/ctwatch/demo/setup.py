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


def write_demo_config(
    path: Path, simulator_config: Path, data_dir: Path, intervals: Mapping[str, str]
) -> Path:
    """The demo's ctwatch.toml: its data folder, the simulator's settings (`sim serve
    --write-config`), the replay's DAG intervals, and the demo's declarations."""
    lines = [
        "# make demo's configuration: written by the demo for its simulator",
        f"data_dir = {json.dumps(str(data_dir))}",
        "",
        simulator_config.read_text(encoding="utf-8"),
        "[intervals]",
        *(f"{dag_id} = {json.dumps(text)}" for dag_id, text in sorted(intervals.items())),
        "",
        EVALUATION_CONFIG_FILE.read_text(encoding="utf-8"),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
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
