"""`ctwatch config check`, and how every command finds ctwatch.toml
and the warehouse: `--config`, else `$CTWATCH_CONFIG`, else ./ctwatch.toml; `--warehouse`, else the
configuration's."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ctwatch.config import Settings, load_settings
from ctwatch.config.check import render


def add_config_option(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    parser.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS if suppress else None,
        help="ctwatch.toml (default: $CTWATCH_CONFIG, else ./ctwatch.toml)",
    )  # fmt: skip


def add_warehouse_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--warehouse", type=Path, default=None, help="DuckDB file (default: ctwatch.toml's)")
    add_config_option(parser, suppress=True)
    return parser


def resolved(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def warehouse_of(args: argparse.Namespace) -> Path:
    explicit: Path | None = getattr(args, "warehouse", None)
    return explicit if explicit is not None else resolved(args).warehouse


def _cmd_config_check(args: argparse.Namespace) -> int:
    print(render(resolved(args)))
    return 0


def add_parsers(commands: Any) -> None:
    config = commands.add_parser("config", help="the configuration file, ctwatch.toml")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="COMMAND")
    check = config_commands.add_parser(
        "check", help="validate ctwatch.toml and print every resolved value and where it came from"
    )
    add_config_option(check, suppress=True)
    check.set_defaults(handler=_cmd_config_check)
