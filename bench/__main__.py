"""`python -m bench [SCENARIO ...]` (`make bench` runs them all): start a stack on free ports with its own
database, run the scenarios with each venue latency, print the table, write bench/results/latest.json.

Scenarios: placement (1 placement and 3 cancel latency), throughput (2), streams (4), updates (5),
reads (6, the admin's pages included; `admin` runs those alone), reconcile (7), resting_fill (8), sync_cost (9),
pnl (10), batches (11). The defaults keep a full run under 20 minutes on a 2-core machine (8 and 9 wait out minutes
of resting orders), plus 10-15 for pnl (most of it folding a million fills)."""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

BY_LATENCY = ("placement", "throughput", "updates")  # measured once per venue latency
ONCE = ("batches", "resting_fill", "sync_cost", "streams", "reads", "admin", "reconcile", "pnl")
SCENARIOS = BY_LATENCY + ONCE


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=f"any of {', '.join(SCENARIOS)} (default: all)")
    p.add_argument("--latency-ms", type=float, nargs="+", default=[0, 20], help="venue latencies to run (default 0 20)")
    p.add_argument("--n", type=int, default=200, help="sequential placements/cancels per latency (default 200)")
    p.add_argument("--warmup", type=int, default=20, help="untimed placements+cancels first (default 20)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients for throughput (default 16)")
    p.add_argument("--seconds", type=float, default=10, help="throughput seconds per side (default 10)")
    p.add_argument("--fills", type=int, default=100, help="fills timed to the order stream (default 100)")
    p.add_argument("--streams", type=int, nargs="+", default=[100, 500, 1000], help="price subscribers (default 100 500 1000)")
    p.add_argument("--rate-hz", type=float, default=5, help="price updates per second (default 5)")
    p.add_argument("--stream-seconds", type=float, default=10, help="seconds of price updates (default 10)")
    p.add_argument("--orders", type=int, default=1_000_000, help="orders seeded for the reads (default 1,000,000)")
    p.add_argument("--queries", type=int, default=100, help="timed queries per read kind and API (default 100)")
    p.add_argument("--pnl-fills", type=int, default=1_000_000, help="fills seeded for the PnL report (default 1,000,000)")
    p.add_argument("--pnl-queries", type=int, default=40, help="timed PnL reports per kind (default 40)")
    p.add_argument("--working", type=int, default=10_000, help="working orders to reconcile (default 10,000)")
    p.add_argument("--batch-rounds", type=int, default=5, help="rounds of a 50-order batch against 50 single "
                                                               "placements, per market (default 5)")
    p.add_argument("--resting", type=int, default=20, help="resting orders filled one by one (default 20)")
    p.add_argument("--rest-seconds", type=float, default=120, help="how long they rest first (default 120)")
    p.add_argument("--sync-orders", type=int, default=2000, help="orders resting for the sync cost (default 2,000)")
    p.add_argument("--sync-seconds", type=float, default=120, help="window the sync cost is measured over (default 120)")
    p.add_argument("--sync-placements", type=int, default=50, help="placements timed during that window (default 50)")
    p.add_argument("--profile", action="store_true", help="record py-spy stacks of the gRPC server (and the worker) "
                                                          "during placement, fill->stream and fan-out "
                                                          "(var/bench/profile-*.txt, collapsed)")
    p.add_argument("--keep-db", action="store_true", help="keep the bench database afterwards")
    args = p.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(SCENARIOS))
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}")
    return args


def _machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_avg": os.getloadavg()}


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, check=False)
    return out.stdout.strip()


def run(args: argparse.Namespace) -> dict:
    from rich.console import Console

    from bench import report
    from bench.stack import Stack

    console = Console() if Console().is_terminal else Console(width=150)
    chosen = args.scenarios or list(SCENARIOS)
    results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": _commit(),
               "machine": _machine(), "settings": {k: v for k, v in vars(args).items() if k != "scenarios"},
               "scenarios": {}}
    out = results["scenarios"]

    def attempt(name: str, fn) -> None:
        console.log(f"[bold]{name}[/bold] ...")
        started, load_before = time.monotonic(), os.getloadavg()[0]
        try:
            value = fn()
            for key, r in (value if isinstance(value, dict) and value.get("_many") else {name: value}).items():
                if key != "_many":
                    out[key] = r
                    if isinstance(r, dict):  # the 1-minute load average before and after: the figures move with it
                        r.setdefault("load_avg", [round(load_before, 2), round(os.getloadavg()[0], 2)])
        except Exception as exc:  # noqa: BLE001 - one failed scenario must not lose the others' figures
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
            console.print(traceback.format_exc())
        console.log(f"{name}: {time.monotonic() - started:.1f} s")
        report.write(results)  # what is measured so far survives an interrupted run

    with Stack() as stack:
        console.log(f"stack up: venue {stack.venue_url}, gRPC {stack.grpc_address}")
        from bench.profiling import profiling
        from bench.scenarios import order_updates, placement, streams

        if any(s in chosen for s in BY_LATENCY):
            attempt("warm-up", lambda: placement.warm_up(stack, args.warmup) or {"_many": True})
        for latency in args.latency_ms:
            stack.set_venue_latency(latency)
            tag = f"@{latency:g}ms"
            if "placement" in chosen:
                def latency_pair(tag=tag):
                    with profiling((stack.grpc, stack.worker), args.profile, tag):
                        place, cancel = placement.latency(stack, args.n)
                    return {"_many": True, f"1 place {tag}": place, f"3 cancel {tag}": cancel}
                attempt(f"1 place {tag}", latency_pair)
            if "throughput" in chosen:
                attempt(f"2 throughput {tag}", lambda: placement.throughput(stack, args.clients, args.seconds))
            if "updates" in chosen:
                def updates(tag=tag):
                    with profiling((stack.grpc, stack.worker), args.profile, f"updates-{tag}"):
                        return order_updates.fill_to_stream(stack, args.fills)
                attempt(f"5 fill->stream {tag}", updates)
        stack.set_venue_latency(0)
        if "batches" in chosen:
            from bench.scenarios import batches

            attempt("10 batches", lambda: batches.run(stack, args.batch_rounds))
        # Before the scenarios that seed many orders on other accounts, which the sweeps would then cover too.
        if "resting_fill" in chosen:
            from bench.scenarios import resting_fill

            attempt(f"8 resting fill x{args.resting}",
                    lambda: resting_fill.run(stack, args.resting, args.rest_seconds))
        if "sync_cost" in chosen:
            from bench.scenarios import sync_cost

            attempt("9 sync cost", lambda: sync_cost.run(stack, args.sync_orders, args.sync_seconds,
                                                         args.sync_placements, out.get("1 place @0ms")))
        if "streams" in chosen:
            for count in args.streams:
                attempt(f"4 streams x{count}",
                        lambda count=count: streams.fan_out(stack, count, args.rate_hz, args.stream_seconds,
                                                            profile=args.profile))
            stack.start_grpc()
        if "reads" in chosen:
            from bench.scenarios import reads

            attempt("6 reads", lambda: {"_many": True, **reads.run(stack, args.orders, args.queries)})
        elif "admin" in chosen:
            from bench.scenarios import reads

            attempt("6 admin", lambda: {"_many": True, **reads.admin(args.orders, max(10, args.queries // 5))})
        if "reconcile" in chosen:
            from bench.scenarios import reconcile

            attempt(f"7 reconcile {args.working}", lambda: reconcile.run(stack, args.working))
        if "pnl" in chosen:
            from bench.scenarios import pnl

            attempt("10 PnL", lambda: {"_many": True, **pnl.run(stack, args.pnl_fills, args.pnl_queries)})
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report.print_table(results, console)
    console.log(f"written {report.write(results)}")
    return results


def main(argv=None) -> None:
    args = parse_args(argv)
    from bench.stack import database_drop, database_prepare

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms_project.settings")
    database_prepare()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    try:
        run(args)
    finally:
        if not args.keep_db:
            database_drop()


if __name__ == "__main__":
    main()
