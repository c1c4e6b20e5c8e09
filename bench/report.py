"""The figures as a rich table (one row per measurement, OMS beside its baseline) and as JSON."""
from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).resolve().parent / "results"


def _ms(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"


def _ratio(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.2f}"


def _share(value: dict) -> str:
    return f"{value['share']:.1%} ({value['weight_per_min']:,.0f}/min)"


def _cpu_row(key: str, cpu: dict) -> tuple[str, ...]:
    return (f"{key} CPU/order", f"{cpu['total_ms']:.2f}", "-", "-", "-",
            " + ".join(f"{name} {p['ms']:.2f}" for name, p in cpu["processes"].items()) + f" ms, {cpu['orders']} orders")


def rows(results: dict) -> list[tuple[str, ...]]:
    """(scenario, OMS, baseline, overhead, ratio, notes) per measurement."""
    out = []
    for key, r in results["scenarios"].items():
        if "error" in r:
            out.append((key, "-", "-", "-", "-", f"failed: {r['error'][:80]}"))
        elif "per_s" in r.get("oms", {}):
            out.append((key, f"{r['oms']['per_s']:.1f}/s", f"{r['raw']['per_s']:.1f}/s", "-", _ratio(r["ratio"]),
                        f"{r['clients']} clients x {r['seconds']:.0f} s; errors {r['oms']['errors']}/{r['raw']['errors']}"))
            if r.get("cpu", {}).get("processes"):
                out.append(_cpu_row(key, r["cpu"]))
        elif "share" in r.get("oms", {}):
            out.append((key, _share(r["oms"]), _share(r["raw"]), "-", f"{r['ratio']:.4f}", r.get("note", "")))
        elif "wall_s" in r.get("oms", {}):
            out.append((key, f"{r['oms']['wall_s']:.2f} s", f"{r['raw']['wall_s']:.2f} s", "-", _ratio(r["ratio"]),
                        r.get("note", "")))
        else:
            notes = r.get("note", "")
            if "lost" in r:
                notes = (f"lost {r['lost']}, RSS {r['server_rss_mb']:.0f} MB, CPU {r['server_cpu_pct']:.0f}%, "
                         f"{r['updates']} updates at {r['rate_hz']:g}/s")
            for p in ("p50", "p99"):
                out.append((f"{key} {p}", _ms(r["oms"][f"{p}_ms"]), _ms(r["raw"][f"{p}_ms"]),
                            _ms(r.get(f"overhead_{p}_ms")), _ratio(r.get(f"ratio_{p}")), notes if p == "p50" else ""))
            if r.get("cpu", {}).get("processes"):
                out.append(_cpu_row(key, r["cpu"]))
    return out


def stage_rows(results: dict) -> list[tuple[str, str, str, str]]:
    """(scenario, process, CPU ms per order, its stages largest first) for every scenario that measured CPU."""
    out = []
    for key, r in results["scenarios"].items():
        for name, p in (r.get("cpu") or {}).get("processes", {}).items():
            stages = ", ".join(f"{stage} {ms:.2f}" for stage, ms in p["stages"].items())
            out.append((key, name, f"{p['ms']:.2f}", stages))
    return out


def print_table(results: dict, console: Console | None = None) -> None:
    table = Table(title="OMS against the raw venue (ms unless stated)")
    for name in ("scenario", "OMS", "baseline", "overhead", "ratio", "notes"):
        table.add_column(name, justify="left" if name in ("scenario", "notes") else "right")
    for row in rows(results):
        table.add_row(*row)
    console = console or Console()
    console.print(table)
    stages = stage_rows(results)
    if stages:
        table = Table(title="CPU per order by process and stage (ms; 'other': outside every stage)")
        for name in ("scenario", "process", "CPU", "stages"):
            table.add_column(name, justify="right" if name == "CPU" else "left")
        for row in stages:
            table.add_row(*row)
        console.print(table)


def markdown(results: dict) -> str:
    """The same rows as a Markdown table (for the README's Performance section)."""
    lines = ["| scenario | OMS | baseline | overhead | ratio | notes |", "|---|---:|---:|---:|---:|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(results)]
    stages = stage_rows(results)
    if stages:
        lines += ["", "| scenario | process | CPU ms/order | stages (ms/order) |", "|---|---|---:|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in stages]
    return "\n".join(lines)


def write(results: dict, path: Path = RESULTS / "latest.json") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str))
    return path


if __name__ == "__main__":  # python -m bench.report: the latest results as Markdown
    print(markdown(json.loads((RESULTS / "latest.json").read_text())))
