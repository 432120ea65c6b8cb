"""`ctwatch sim ...`: generate, inspect and serve a simulated world.

- `sim serve --scenario FILE [--port N] [--log-list FILE] [--write-config FILE] [--present-sth now]`:
  serve until Ctrl-C; prints one JSON line with the URLs; `--write-config` writes a ctwatch.toml
  pointing ctwatch at it.
- `sim generate --scenario FILE [--seed N]`: generate (or load from the cache) and print entries/s.
- `sim ground-truth --scenario FILE`: print the world's ground truth as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from ctwatch.sim.scenario import load_scenario
from ctwatch.sim.server import SimulatorRunning
from ctwatch.sim.world import World


def _with_world_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--scenario", type=Path, required=True, help="scenario TOML file")
    parser.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: $CTWATCH_DATA_DIR/sim-cache")
    return parser


def _cmd_generate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    started = time.perf_counter()
    world = World.load(scenario, seed=args.seed, cache_dir=args.cache_dir)
    elapsed_s = time.perf_counter() - started
    entries = sum(log.size for log in world.logs.values())
    summary = {
        "scenario": scenario.name,
        "seed": world.seed,
        "cache": str(world.directory),
        "entries": entries,
        "logs": {name: log.size for name, log in world.logs.items()},
        "generated": world.generated,
        "seconds": round(elapsed_s, 3),
        "entries_per_s": round(entries / elapsed_s) if elapsed_s else None,
    }
    print(json.dumps(summary))
    return 0


def _cmd_ground_truth(args: argparse.Namespace) -> int:
    world = World.load(load_scenario(args.scenario), seed=args.seed, cache_dir=args.cache_dir)
    print(json.dumps(world.ground_truth(), indent=2))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    with SimulatorRunning(
        args.scenario, seed=args.seed, cache_dir=args.cache_dir, port=args.port, present_sth=args.present_sth
    ) as sim:
        if args.log_list is not None:
            sim.write_log_list(args.log_list)
        if args.write_config is not None:
            log_list = str(args.log_list.resolve()) if args.log_list else f"{sim.base_url}/log_list.json"
            args.write_config.write_text(sim.config_toml(log_list), encoding="utf-8")
        urls: dict[str, Any] = {
            "base_url": sim.base_url,
            "log_list": f"{sim.base_url}/log_list.json",
            "log_list_file": str(args.log_list) if args.log_list else None,
            "config_file": str(args.write_config) if args.write_config else None,
            "logs": {name: sim.log_url(name) for name in sim.world.logs},
            "url_rewrite": sim.url_rewrite(),
            "services": sim.source_urls(),
        }
        print(json.dumps(urls), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def add_parsers(subparsers: Any) -> None:
    """Register `sim` on the main CLI's sub-parsers (`commands.add_parser` object)."""
    sim: argparse.ArgumentParser = subparsers.add_parser(
        "sim", help="the simulated Web PKI (CT logs and revocation services on 127.0.0.1)"
    )
    commands = sim.add_subparsers(dest="sim_command", required=True, metavar="COMMAND")

    serve = _with_world_options(commands.add_parser("serve", help="serve the world until Ctrl-C"))
    serve.add_argument("--port", type=int, default=None, help="default: the scenario's (0 = any free port)")
    serve.add_argument("--log-list", type=Path, default=None, help="also write the v3 log list to this file")
    serve.add_argument(
        "--write-config", type=Path, default=None,
        help="write a ctwatch.toml pointing every source at this simulator",
    )  # fmt: skip
    serve.add_argument(
        "--present-sth",
        choices=("last_entry", "now"),
        default=None,
        help="timestamp of heads served without an as-of header (default: per log)",
    )
    serve.set_defaults(handler=_cmd_serve)

    generate = _with_world_options(commands.add_parser("generate", help="generate the world and time it"))
    generate.set_defaults(handler=_cmd_generate)

    truth = _with_world_options(commands.add_parser("ground-truth", help="print the ground truth JSON"))
    truth.set_defaults(handler=_cmd_ground_truth)
