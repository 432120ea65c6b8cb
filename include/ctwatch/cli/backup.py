"""`ctwatch backup DEST_DIR` and `ctwatch restore BACKUP_DIR [--replace]`: a consistent copy of the
warehouse with a manifest, and the warehouse recreated from one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ctwatch.cli.settings import add_warehouse_option, warehouse_of
from ctwatch.warehouse.backup import back_up, restore


def _cmd_backup(args: argparse.Namespace) -> int:
    print(json.dumps(back_up(warehouse_of(args), args.dest_dir)))
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    print(json.dumps(restore(args.backup_dir, warehouse_of(args), replace=args.replace)))
    return 0


def add_parsers(commands: Any) -> None:
    backup = add_warehouse_option(
        commands.add_parser(
            "backup", help="copy the warehouse into a new folder, with a manifest (writers wait meanwhile)"
        )
    )
    backup.add_argument("dest_dir", type=Path, help="a new or empty folder")
    backup.set_defaults(handler=_cmd_backup)

    restored = add_warehouse_option(
        commands.add_parser("restore", help="recreate the warehouse from a `ctwatch backup` folder")
    )
    restored.add_argument("backup_dir", type=Path)
    restored.add_argument(
        "--replace", action="store_true",
        help="replace a warehouse that opens fine (it is kept as <name>.before-restore)",
    )  # fmt: skip
    restored.set_defaults(handler=_cmd_restore)
