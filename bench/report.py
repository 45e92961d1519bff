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


def _warehouse_section(record: dict, generation: dict | None) -> list[str]:
    lines = ["## Warehouse on DuckDB (`c360 materialize`)", "", f"Measured {record['measured_at']}.", ""]
    lines += ["| customers | days | stage | seconds | peak MiB |", "|---:|---:|---|---:|---:|"]
    for r in record["results"]:
        lines.append(f"| {r['customers']:,} | {r['days']} | {r['stage']} | {r['seconds']:,} | {r['peak_rss_mib']:,} |")
    lines.append("")
    by_tier: dict[int, dict[str, float]] = {}
    for r in record["results"]:
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
    return [*lines, ""]


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
