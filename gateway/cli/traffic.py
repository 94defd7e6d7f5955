"""`gw467 traffic SCENARIO`: a scenario's virtual traffic as the JSON-lines log `diff --traffic` reads."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gateway.cli.errors import EXIT_OK, UsageError
from gateway.cli.inputs import SCENARIO_HELP, scenario_file
from gateway.core.planfile import load_plan_set
from gateway.replay.scenario import load_scenario
from gateway.replay.traffic import TrafficModel


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `traffic` to a command line's subcommands."""
    traffic = commands.add_parser(
        "traffic",
        help="write a scenario's virtual traffic as a JSON-lines request log (for diff --traffic)",
        description=(
            "Write the requests a scenario's traffic model sends in its first N minutes, one JSON "
            'object per line: {"client", "method", "path", "time"}, time in epoch seconds from the '
            "scenario's start. API keys are never written."
        ),
    )
    traffic.add_argument("scenario", metavar="SCENARIO", type=scenario_file, help=SCENARIO_HELP)
    traffic.add_argument(
        "--minutes", type=int, default=1, metavar="N", help="minutes of traffic to write (default: 1)"
    )
    traffic.add_argument("--seed", type=int, help="traffic seed (default: the scenario's)")
    traffic.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if not 1 <= args.minutes <= scenario.minutes:
        raise UsageError(
            f"gw467 traffic: error: --minutes must be from 1 to {scenario.minutes}, "
            f"the length of {scenario.name}"
        )
    model = TrafficModel(scenario, load_plan_set(scenario.plans))
    seed = scenario.seed if args.seed is None else args.seed
    start = scenario.start.timestamp()
    for minute in range(args.minutes):
        lines = [
            json.dumps(
                {
                    "client": request.client_id,
                    "method": request.method,
                    "path": request.raw_path,
                    "time": round(start + minute * 60 + request.second, 3),
                }
            )
            + "\n"
            for request in model.minute(minute, seed)
        ]
        sys.stdout.write("".join(lines))
    sys.stdout.flush()
    return EXIT_OK
