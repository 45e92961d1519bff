"""Render docs/benchmarks.md from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

HEADER = """# Benchmarks

Written by `make bench` from `bench/results/*.json`; do not edit by hand.
Each stage runs in its own process; peak memory is that process's maximum
resident set size (`wait4` rusage). Times are wall-clock seconds.
"""


def _generate_section(record: dict) -> list[str]:
    lines = ["## Generation (`c360 generate`)", "", f"Measured {record['measured_at']}.", ""]
    lines += [
        "| customers | days | seconds | s per day | peak MiB | files | MiB on disk | web events | orders (versions) |"
    ]
    lines += ["|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in record["results"]:
        lines.append(
            f"| {r['customers']:,} | {r['days']} | {r['seconds']:,} | {r['seconds'] / r['days']:.2f} "
            f"| {r['peak_rss_mib']:,} | {r['files']:,} | {r['mib']:,} | {r['rows']['web_events']:,} "
            f"| {r['rows']['orders']:,} |"
        )
    lines.append("")
    full_year = [r for r in record["results"] if r["days"] >= 365]
    for r in record["results"]:
        if r["days"] < 365:
            estimate = r["seconds"] / r["days"] * 365
            lines.append(
                f"- **{r['customers']:,} customers, one year (estimate):** {estimate / 60:,.0f} min, from the measured "
                f"{r['seconds'] / r['days']:.1f} s per simulated day over {r['days']} days (cost is linear in days; "
                f"memory is per-day, so the peak above holds for a year)."
            )
    if len(full_year) >= 2:
        small, big = full_year[0], full_year[-1]
        lines.append(
            f"- **Scaling:** {big['customers'] // small['customers']}x the customers took "
            f"{big['seconds'] / small['seconds']:.1f}x the time and {big['peak_rss_mib'] / small['peak_rss_mib']:.1f}x "
            f"the peak memory."
        )
    return [*lines, ""]


FIRST_BUILD = ("ingest", "dbt build")
HOURLY = ("hourly cycle: load 1 partition", "hourly cycle: incremental models")
FULL = "full rebuild (dbt --full-refresh)"


def _cycle_lines(results: list[dict]) -> list[str]:
    lines = []
    for c in sorted({r["customers"] for r in results}):
        stages = {r["stage"]: r["seconds"] for r in results if r["customers"] == c}
        if all(k in stages for k in (*HOURLY, FULL)):
            hourly = sum(stages[k] for k in HOURLY)
            lines.append(
                f"- **Hourly cycle at {c:,} customers:** {hourly:,.0f} s (load {stages[HOURLY[0]]:,.0f} s + "
                f"incremental models {stages[HOURLY[1]]:,.0f} s) against {stages[FULL]:,.0f} s for a full "
                f"rebuild of the models: {stages[FULL] / stages[HOURLY[1]]:.1f}x less model time. Each stage is "
                f"a `c360 materialize` process, so ~5 s of Python and Dagster start-up is in every number."
            )
    return lines


QUALITY = ("quality: verify every contract", "quality: verify raw.web_events (hourly)")


def _quality_lines(results: list[dict]) -> list[str]:
    lines = []
    for c in sorted({r["customers"] for r in results}):
        stages = {r["stage"]: r for r in results if r["customers"] == c}
        if not all(k in stages for k in QUALITY):
            continue
        every, web = stages[QUALITY[0]], stages[QUALITY[1]]
        line = (f"- **Soda contracts at {c:,} customers:** all nine datasets {every['seconds']:,.1f} s "
                f"(peak {every['peak_rss_mib']:,.0f} MiB); `raw.web_events` alone, which every hourly load "
                f"verifies, {web['seconds']:,.1f} s")  # fmt: skip
        if all(k in stages for k in HOURLY):
            hourly = sum(stages[k]["seconds"] for k in HOURLY)
            line += f", {web['seconds'] / hourly:.0%} of the {hourly:,.0f} s hourly cycle"
        lines.append(line + ". Each includes ~4 s of process and Soda start-up.")
    return lines


def _latency_lines(results: list[dict]) -> list[str]:
    lines = []
    for r in results:
        lines += [
            "## Orders sensor latency (Postgres)",
            "",
            f"`c360 simulate-shop` at {r['rate_per_s']:g} change/s into the `shop` schema for a warehouse of "
            f"{r['customers']:,} customers x {r['days']} days; the orders sensor evaluated every "
            f"{r['sensor_interval_s']:g} s, each requested run executed in-process (bench/latency.py). Latency is "
            "from the shop's commit (`updated_at`) to the end of the run after which `marts.orders` and "
            "`customer_360` show the change; the daemon's launch of a new process per run is not included.",
            "",
            "| changes | measured | runs | p50 s | p95 s | max s | run time p50 s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {r['changes']} | {r['measured']} | {r['runs']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} "
            f"| {r['run_seconds_p50']} |",
            "",
            f"- Target: under 120 s end to end. p95 here is {r['p95_s']} s.",
            "",
        ]
    return lines


def _warehouse_section(record: dict, generation: dict | None) -> list[str]:
    latency = [r for r in record["results"] if r["stage"] == "orders sensor latency"]
    results = [r for r in record["results"] if r["stage"] != "orders sensor latency"]
    lines = ["## Warehouse on DuckDB (`c360 materialize`)", "", f"Measured {record['measured_at']}.", ""]
    lines += ["| customers | days | stage | seconds | peak MiB |", "|---:|---:|---|---:|---:|"]
    for r in results:
        lines.append(f"| {r['customers']:,} | {r['days']} | {r['stage']} | {r['seconds']:,} | {r['peak_rss_mib']:,} |")
    lines.append("")
    lines += _cycle_lines(results)
    lines += _quality_lines(results)
    by_tier: dict[int, dict[str, float]] = {}
    for r in results:
        if r["stage"] in FIRST_BUILD:
            by_tier.setdefault(r["customers"], {})[r["stage"]] = r["seconds"]
    if generation:
        for g in generation["results"]:
            if g["customers"] in by_tier:
                by_tier[g["customers"]]["generate"] = g["seconds"]
    tiers = sorted(by_tier)
    for c in tiers:
        stages = by_tier[c]
        lines.append(f"- **{c:,} customers end to end:** {sum(stages.values()):,.0f} s ("
                     + ", ".join(f"{k} {v:,.0f} s" for k, v in stages.items()) + ").")  # fmt: skip
    if len(tiers) >= 2:
        small, big = by_tier[tiers[0]], by_tier[tiers[-1]]
        ratios = ", ".join(f"{k} {big[k] / small[k]:.1f}x" for k in small if k in big and small[k])
        lines.append(f"- **Scaling {tiers[-1] // tiers[0]}x the customers:** {ratios}.")
    return [*lines, "", *_latency_lines(latency)]


def render(results_dir: Path, target: Path) -> None:
    parts = [HEADER]
    records = {p.stem: json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))}
    if records:
        m = next(iter(records.values()))["machine"]
        hardware = f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM"
        parts.append(f"**Machine:** {hardware}, Python {m['python']}, {m['os']}.\n")
    if "generate" in records:
        parts.append("\n".join(_generate_section(records["generate"])))
    if "warehouse" in records:
        parts.append("\n".join(_warehouse_section(records["warehouse"], records.get("generate"))))
    target.write_text("\n".join(parts))
