"""`ctwatch config check`: validate the configuration and print every resolved value with its origin."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ctwatch.config.settings import Settings


def _shown(value: Any) -> str:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds % size == 0:
                return json.dumps(f"{seconds // size}{unit}")
        return json.dumps(f"{seconds}s")
    if isinstance(value, tuple):
        value = list(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render(settings: Settings) -> str:
    """The resolved settings, one `path = value  # origin` line each, then the declarations."""
    lines = [
        f"configuration file: {settings.file or 'none (defaults; set $CTWATCH_CONFIG or add ./ctwatch.toml)'}"
    ]
    width = max(len(path) for path in settings.values)
    for path, value in settings.values.items():
        lines.append(f"{path:<{width}} = {_shown(value)}  # {settings.origins[path]}")
    declared = settings.declarations
    names = ", ".join(i.incident_key for i in declared.incidents) or "none"
    lines.append(f"incidents: {len(declared.incidents)} declared ({names})  # {settings.declarations_origin}")
    lines.append(f"key_destructions: {len(declared.key_destructions)}  # {settings.declarations_origin}")
    versions = ", ".join(f"{p.incident_id} of {p.announced_at:%Y-%m-%d}" for p in declared.plans) or "none"
    lines.append(f"plans: {len(declared.plans)} declared ({versions})  # {settings.declarations_origin}")
    lines += [
        f"warning: ${name} names no setting (see docs/configuration.md)"
        for name in settings.unknown_variables
    ]
    return "\n".join(lines)
