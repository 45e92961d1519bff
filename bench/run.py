"""`make bench`: time each stage per data tier, record JSON, render docs/benchmarks.md.

Tiers are customers x days. The 1M tier is a measured estimate by default:
1M customers over 28 days, scaled to a year by the measured per-day cost,
because a full year would write ~40 GB and take most of an hour.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

from bench.measure import dir_size, machine, run_stage
from bench.report import render

RESULTS = Path(__file__).parent / "results"
END = dt.date(2026, 6, 30)


def bench_generate(customers: int, days: int, scratch: Path) -> dict:
    out = scratch / f"landing_{customers}"
    start = END - dt.timedelta(days=days - 1)
    cmd = [sys.executable, "-m", "c360_cli.main", "generate", "--customers", str(customers), "--quiet",
           "--start", str(start), "--end", str(END), "--out", str(out), "--overwrite"]  # fmt: skip
    m = run_stage(cmd)
    files, size = dir_size(str(out))
    stats = json.loads((out / "_manifest" / "stats.json").read_text())
    result = {
        "stage": "generate", "customers": customers, "days": days, "seconds": m.seconds,
        "peak_rss_mib": m.peak_rss_mib, "files": files, "mib": round(size / 2**20, 1),
        "rows": {k: v["rows"] for k, v in stats.items()},
    }  # fmt: skip
    shutil.rmtree(out)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tiers", default="10000x365,100000x365,1000000x28", help="customers x days, comma separated")
    parser.add_argument("--scratch", default=None, help="where to write generated data (default: a temp dir)")
    args = parser.parse_args(argv)
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="c360-bench-"))
    results = []
    for tier in args.tiers.split(","):
        customers, days = (int(x) for x in tier.split("x"))
        print(f"generate: {customers:,} customers x {days} days ...", flush=True)
        results.append(bench_generate(customers, days, scratch))
        print(f"  {results[-1]['seconds']} s, peak {results[-1]['peak_rss_mib']} MiB", flush=True)
    RESULTS.mkdir(exist_ok=True)
    record = {"machine": machine(), "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "results": results}  # fmt: skip
    (RESULTS / "generate.json").write_text(json.dumps(record, indent=2) + "\n")
    render(RESULTS, Path(__file__).parent.parent / "docs" / "benchmarks.md")


if __name__ == "__main__":
    main()
