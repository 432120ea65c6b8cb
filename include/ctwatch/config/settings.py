"""ctwatch.toml resolved: defaults < the file < `CTWATCH_*` variables, with where each value came from.

The file is `$CTWATCH_CONFIG`, else `./ctwatch.toml`; without one every setting has its default and
the packaged July 2020 incident is declared. Relative paths in the file count from its folder.
Every problem of the file and the variables is collected and raised together in one `ConfigError`,
one line each: the field, the value and what is expected.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from ctwatch.config.spec import (
    BY_PATH,
    DECLARATION_KEYS,
    SETTINGS,
    STAMPING_SIMULATED,
    TABLES,
    BadValue,
    Setting,
)
from ctwatch.evaluate.config import (
    ConfigError,
    EvaluationConfig,
    load_config,
    parse_declarations,
    toml_document,
)
from ctwatch.ingest.config import IngestConfig
from ctwatch.revocation.config import Endpoint, Source, SourceLocations

CONFIG_ENV: Final = "CTWATCH_CONFIG"
DEFAULT_FILE: Final = Path("ctwatch.toml")
DEFAULT_ORIGIN: Final = "default"
# Variables that name no setting but are ctwatch's own (the launcher's, the demo's).
OTHER_VARIABLES: Final = frozenset(
    {
        CONFIG_ENV,
        "CTWATCH_PORT",
        "CTWATCH_AIRFLOW_DB",
        "CTWATCH_AIRFLOW_HOME",
        "CTWATCH_DEMO_DIR",
        "CTWATCH_EXECUTOR",
        "CTWATCH_WORKERS",
        "CTWATCH_BROKER_URL",
        "CTWATCH_WORKER",
        "CTWATCH_RETRY_DELAY_S",
    }
)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    slack_connection: str
    email_connection: str
    webhook_connection: str
    source_down_after: timedelta
    overdue_digest_period: timedelta


@dataclass(frozen=True, slots=True)
class Settings:
    file: Path | None  # the file read; None: none exists, defaults only
    values: Mapping[str, Any]  # every setting by path, resolved
    origins: Mapping[str, str]  # where each value came from: default, the file, or a variable
    declarations: EvaluationConfig
    declarations_origin: str
    unknown_variables: tuple[str, ...]  # CTWATCH_* variables that name no setting: likely typos

    @property
    def data_dir(self) -> Path:
        return Path(self.values["data_dir"])

    @property
    def warehouse(self) -> Path:
        return Path(self.values["warehouse"])

    @property
    def simulated(self) -> bool:
        return bool(self.values["stamping.mode"] == STAMPING_SIMULATED)

    @property
    def sources(self) -> SourceLocations:
        def endpoint(source: Source) -> Endpoint:
            prefix = f"sources.{source}"
            return Endpoint(
                url=self.values.get(f"{prefix}.url", ""),
                enabled=self.values[f"{prefix}.enabled"],
                requests_per_second=self.values[f"{prefix}.requests_per_second"],
                timeout_s=self.values[f"{prefix}.timeout_s"],
                max_body_bytes=self.values[f"{prefix}.max_body_bytes"],
                response_deadline_s=self.values[f"{prefix}.response_deadline_s"],
                settings_table=f"[{prefix}]",
            )

        return SourceLocations(
            endpoints={source: endpoint(source) for source in Source},
            crtsh_identities=self.values["sources.crtsh.identities"],
            crtsh_result_limit=self.values["sources.crtsh.result_limit"],
            bugzilla_product=self.values["sources.bugzilla.product"],
            bugzilla_component=self.values["sources.bugzilla.component"],
            simulated=self.simulated,
            url_rewrite=self.values["url_rewrite"],
        )

    @property
    def ct_params(self) -> dict[str, Any]:
        """The CT settings as `ingest_ct_logs` params (JSON values): a triggered run may override them."""
        return {
            path.removeprefix("ct."): list(value) if isinstance(value, tuple) else value
            for path, value in self.values.items()
            if path.startswith("ct.")
        }

    def ingest_config(self, params: Mapping[str, Any] | None = None, **extra: Any) -> IngestConfig:
        return IngestConfig.from_mapping({**self.ct_params, **(params or {})}, **extra)

    @property
    def alerts(self) -> AlertSettings:
        return AlertSettings(
            slack_connection=self.values["alerts.slack_connection"],
            email_connection=self.values["alerts.email_connection"],
            webhook_connection=self.values["alerts.webhook_connection"],
            source_down_after=self.values["alerts.source_down_after"],
            overdue_digest_period=self.values["alerts.overdue_digest_period"],
        )

    def interval(self, dag_id: str) -> timedelta:
        value: timedelta = self.values[f"intervals.{dag_id}"]
        return value


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    """Where the configuration file is looked for: `$CTWATCH_CONFIG`, else ./ctwatch.toml."""
    env = os.environ if environ is None else environ
    return Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else DEFAULT_FILE


def load_settings(file: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The resolved settings. `file`: this file, which must exist; None: `config_file()`, used
    when it exists. ConfigError lists every problem."""
    env = os.environ if environ is None else environ
    path = file if file is not None else config_file(env)
    document: dict[str, Any] = {}
    found: Path | None = None
    if file is not None or path.exists() or env.get(CONFIG_ENV):
        try:
            document = toml_document(path.read_text(encoding="utf-8"))
            found = path.resolve()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
        except ValueError as exc:  # also UnicodeDecodeError, TOMLDecodeError, a 5000-digit integer
            raise ConfigError(f"{path}: not a TOML file: {exc}") from None
        except RecursionError:  # tomllib recurses once per nested array or inline table
            raise ConfigError(f"{path}: not a TOML file: arrays or tables nested too deep") from None
    return _resolve_document(document, env, found, str(found or path))


def settings_from(document: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Settings:
    """The settings a TOML document (already parsed) gives, as if it were the configuration file
    in the working folder: for tests and tools that build a configuration in memory."""
    env = {} if environ is None else environ
    return _resolve_document(document, env, Path("ctwatch.toml").resolve(), "(document)")


def _resolve_document(
    document: Mapping[str, Any], env: Mapping[str, str], found: Path | None, where: str
) -> Settings:
    problems: list[str] = []
    from_file = _flatten(document, where, problems)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in SETTINGS:
        values[setting.path], origins[setting.path], wrong = _resolve(setting, from_file, env, where)
        problems += wrong
    _resolve_references(values, origins)
    if values["warehouse"] is None:
        values["warehouse"] = str(Path(values["data_dir"]) / "warehouse.duckdb")
        origins["warehouse"] = f"{origins['data_dir']} (<data_dir>/warehouse.duckdb)"
    for key in ("data_dir", "warehouse", "ct.log_list"):
        if key == "ct.log_list" and values[key].startswith(("https://", "http://")):
            continue
        # the file's paths count from its folder, a variable's from the working folder
        base = found.parent if found is not None and not origins[key].startswith("$") else Path.cwd()
        values[key] = str((base / values[key]).resolve())
    if found is None:
        declarations, declarations_origin = (
            load_config(None),
            "packaged July 2020 incident (no configuration file)",
        )
    else:
        declarations = parse_declarations(document, problems, where=f"{where}: ")
        declarations_origin = where
    if problems:
        raise ConfigError(problems)
    known = {s.variable for s in SETTINGS} | OTHER_VARIABLES
    unknown = tuple(sorted(name for name in env if name.startswith("CTWATCH_") and name not in known))
    return Settings(found, values, origins, declarations, declarations_origin, unknown)


def _flatten(document: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, object]:
    """Setting path -> value as written in the file; unknown tables and keys are problems."""
    flat: dict[str, object] = {}

    def walk(table: Mapping[str, Any], prefix: str) -> None:
        for key, value in table.items():
            path = f"{prefix}{key}"
            if path in BY_PATH:
                flat[path] = value
            elif path in TABLES and isinstance(value, dict):
                walk(value, f"{path}.")
            elif not prefix and key in DECLARATION_KEYS:
                continue
            else:
                known = sorted(
                    {p.removeprefix(prefix).split(".")[0] for p in BY_PATH if p.startswith(prefix)}
                    | (DECLARATION_KEYS if not prefix else set())
                )
                table_name = f"[{prefix.rstrip('.')}]" if prefix else "top level"
                problems.append(f"{where}: {table_name}: unknown key {key!r} (known: {', '.join(known)})")

    walk(document, "")
    return flat


def _resolve(
    setting: Setting, from_file: Mapping[str, object], env: Mapping[str, str], where: str
) -> tuple[object, str, list[str]]:
    """The value of one setting, where it came from, and the problems of what was written for it."""
    candidates: list[tuple[str, object, str]] = []
    if setting.path in from_file:
        candidates.append((where, from_file[setting.path], f"{where}: {_shown_path(setting)}"))
    if setting.variable in env:
        candidates.append((f"${setting.variable}", env[setting.variable], f"${setting.variable}"))
    value, origin, problems = setting.default, DEFAULT_ORIGIN, []
    for candidate_origin, raw, shown in candidates:  # a variable, last, wins over the file
        try:
            value, origin = setting.parse(raw), candidate_origin
        except BadValue as exc:
            problems.append(f"{shown} = {_shown_value(raw)}: expected {exc}")
    return value, origin, problems


def _resolve_references(values: dict[str, Any], origins: dict[str, str]) -> None:
    """A default written "=other.path" takes the resolved value of that other setting."""
    for path, value in list(values.items()):
        if origins[path] == DEFAULT_ORIGIN and isinstance(value, str) and value.startswith("="):
            target = value[1:]
            values[path] = values[target]
            origins[path] = f"{origins[target]} ({target})"


def _shown_path(setting: Setting) -> str:
    return f"[{setting.table}] {setting.key}" if setting.table else setting.key


def _shown_value(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
