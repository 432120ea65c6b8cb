"""The `ctwatch` command (also `python -m ctwatch`): the same library calls the DAGs make.

Bad input (a missing or unreadable file, garbage where a certificate, CRL or CSV was expected, an
unknown hash, a missing, locked or damaged warehouse or its full volume, an invalid ctwatch.toml)
ends with exit status 2 and one line on stderr per problem, `ctwatch <command>: <what> (<where>)`;
`-v` adds the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from ctwatch.cli import backup, certificates, compliance, crl, ct, settings, sim, sources
from ctwatch.cli.errors import BAD_INPUT_ERRORS, problems_of
from ctwatch.warehouse import connection

BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctwatch", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--lock-wait", type=float, default=connection.lock_wait_s, metavar="SECONDS",
        help="how long to wait for a warehouse another process holds (default: %(default)s)",
    )  # fmt: skip
    settings.add_config_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (certificates, sources, crl, compliance, settings, ct, sim, backup):
        module.add_parsers(commands)
    return parser


def _command_name(args: argparse.Namespace) -> str:
    names = [args.command]
    names += [value for key, value in vars(args).items() if key.endswith("_command") and value]
    return " ".join(["ctwatch", *names])


def _named_trouble(args: argparse.Namespace, exc: BaseException) -> BaseException:
    """`exc`, or, if it is DuckDB finding a damaged block while reading (past the checks made on
    opening) or the warehouse's volume full, the WarehouseError naming the file and what to do."""
    if "warehouse" not in vars(args):
        return exc
    return connection.trouble_of(settings.warehouse_of(args), exc) or exc


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    connection.lock_wait_s = args.lock_wait
    try:
        result: int = args.handler(args)
    except BAD_INPUT_ERRORS as exc:
        if args.verbose:
            traceback.print_exc()
        for problem in problems_of(_named_trouble(args, exc)):
            print(f"{_command_name(args)}: {problem}", file=sys.stderr)
        return BAD_INPUT
    return result


def console_script() -> NoReturn:
    """The `ctwatch` executable's entry point."""
    sys.exit(main())
