"""`gw467 replay SCENARIO`: the hour replayed through the real gateway, one layer or all of them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console, RenderableType

from gateway.cli.console import report_console
from gateway.cli.errors import EXIT_OK, UsageError
from gateway.cli.inputs import SCENARIO_HELP, plan_file, scenario_file
from gateway.cli.output import output_path, output_with_suffix, replacing, write_text
from gateway.core.planfile import load_plan_set
from gateway.impact.engine import EngineError
from gateway.impact.sources import SourceError
from gateway.replay.chart import write_chart, write_comparison_chart
from gateway.replay.compare import compare
from gateway.replay.engine import ReplayEngine
from gateway.replay.html import comparison_report, replay_report
from gateway.replay.layers import LAYERS
from gateway.replay.recorded import recorded_traffic
from gateway.replay.scenario import load_scenario, with_pushed_plans
from gateway.replay.summary import record_json
from gateway.replay.terminal import render, render_comparison, run_with_progress
from gateway.request_path.decision_log import decisions_written_to
from gateway.request_path.slo import SLI_NAMES


def register(commands: argparse._SubParsersAction[Any]) -> None:
    replay = commands.add_parser(
        "replay", help="replay a scenario's hour minute by minute through the real gateway"
    )
    replay.add_argument(
        "scenario",
        metavar="SCENARIO",
        type=scenario_file,
        help=SCENARIO_HELP,
    )
    replay.add_argument("--seed", type=int, help="traffic seed (default: the scenario's)")
    replay.add_argument(
        "--json",
        metavar="PATH",
        type=output_path,
        help="write the full record as JSON (its directory must exist)",
    )
    replay.add_argument(
        "--chart",
        metavar="PATH",
        type=output_with_suffix(".png"),
        help="write a PNG chart of error rates by client class (PATH ends in .png)",
    )
    replay.add_argument(
        "--html",
        metavar="PATH",
        type=output_with_suffix(".html"),
        help="write a self-contained web report (charts, events, summary, time cursor; opens offline; "
        "PATH ends in .html)",
    )
    replay.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="stdout: timeline table or the JSON record",
    )
    replay.add_argument(
        "--safety",
        choices=LAYERS,
        default="none",
        help="replay with this safety layer in force (default: none, as on 2023-03-06)",
    )
    replay.add_argument(
        "--push",
        metavar="FILE",
        type=plan_file,
        help="replay with this plan file pushed at the scenario's (first) plan push, in place of the "
        "scenario's; any --safety layer applies to it",
    )
    replay.add_argument(
        "--sli",
        choices=SLI_NAMES,
        default="first-party-denials",
        help="what counts as a failed request for the alert, the status page and the canary "
        "(default: first-party-denials; 5xx is the common dashboard default, blind to 467)",
    )
    replay.add_argument(
        "--compare",
        action="store_true",
        help="replay once per safety layer (canary and alert under both SLIs), and for a scenario "
        "with a fleet once per rollout (everywhere within seconds, with and without a halt; its rings), "
        "and compare",
    )
    replay.add_argument(
        "--log",
        metavar="FILE",
        type=output_path,
        help="write the replay's traffic as a gw467 decision log (one JSON line per request, "
        "on the virtual clock), for gw467 impact",
    )
    replay.add_argument(
        "--traffic-log",
        metavar="FILE",
        help="play a recorded gw467 decision log as the traffic, instead of the scenario's model: its "
        "first minute is minute 0, and each client is sent with its [[traffic]] key",
    )
    replay.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.compare and (args.log or args.traffic_log):
        raise UsageError("gw467 replay: error: --log and --traffic-log are for one replay, not --compare")
    if args.compare:
        return _compare(args)
    scenario = load_scenario(args.scenario)
    if args.push:
        scenario = with_pushed_plans(scenario, args.push)
    if scenario.fleet is not None and args.safety != "none":
        raise UsageError(
            f"{args.scenario}: declares a fleet, whose rollout rings are its safety layer; "
            f"--safety {args.safety} drives one gateway (--compare shows both)"
        )
    traffic = None
    if args.traffic_log:
        try:
            traffic = recorded_traffic([args.traffic_log], scenario, load_plan_set(scenario.plans))
        except (SourceError, EngineError) as error:
            raise UsageError(f"gw467 replay: error: {error}") from None
    engine = ReplayEngine(scenario, seed=args.seed, safety=args.safety, sli=args.sli, traffic=traffic)
    if args.log:
        with replacing(args.log) as temporary, temporary.open("w") as stream, decisions_written_to(stream):
            record = run_with_progress(engine, Console(stderr=True))
    else:
        record = run_with_progress(engine, Console(stderr=True))
    return _publish(
        args,
        record_json(record),
        lambda path: write_chart(record, path),
        lambda: replay_report(record),
        render(record),
        "record",
    )


def _compare(args: argparse.Namespace) -> int:
    if args.push:
        raise UsageError(f"{args.scenario}: --push replays one layer at a time; drop --compare or --push")
    with Console(stderr=True).status("replaying the hour once per safety layer and rollout (2 processes)..."):
        comparison = compare(args.scenario, seed=args.seed)
    return _publish(
        args,
        comparison.to_json(),
        lambda path: write_comparison_chart(comparison, path),
        lambda: comparison_report(comparison),
        render_comparison(comparison),
        "comparison",
    )


def _publish(
    args: argparse.Namespace,
    document: dict[str, Any],
    write_chart: Callable[[str], None],
    report: Callable[[], str],
    renderable: RenderableType,
    what: str,
) -> int:
    """Write the JSON (--json), the chart (--chart) and the web report (--html); print the table,
    or the JSON with --format json."""
    text = json.dumps(document, indent=1) + "\n"
    if args.json:
        write_text(args.json, text)
    if args.chart:
        with replacing(args.chart) as temporary:
            write_chart(str(temporary))
    if args.html:
        write_text(args.html, report())
    if args.format == "json":
        sys.stdout.write(text)
        return EXIT_OK
    console = report_console()
    console.print(renderable)
    for label, path in ((what, args.json), ("chart", args.chart), ("web report", args.html)):
        if path:
            console.print(f"{label} written to {path}")
    return EXIT_OK
