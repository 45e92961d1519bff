"""The semantic-layer stages of `make bench`: audiences, the semantic views, the saved-query tables,
and each saved query's answer time (MetricFlow's SQL run on the warehouse, best of three).

    python -m bench.semantic <out.json>     # the answer times, in the warehouse's environment
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.measure import run_stage

AUDIENCES = ("key:marts/customer_audience_signals or key:marts/audience_assignments "
             "or key:marts/customer_segments or key:marts/segment_membership_history")  # fmt: skip
STAGES = [
    ("semantic: audiences and segments", AUDIENCES),
    ("semantic: views and time spine (dbt)", "group:semantic and kind:dbt"),
    ("semantic: saved-query tables", "group:semantic and not kind:dbt"),
]
TABLES = "semantic: saved-query tables"


def bench_semantic(customers: int, days: int, env: dict[str, str], scratch: Path) -> list[dict]:
    results = []
    for stage, select in STAGES:
        m = run_stage([sys.executable, "-m", "c360_cli.main", "materialize", "--select", select], env)
        results.append({"stage": stage, "customers": customers, "days": days, "seconds": m.seconds,
                        "peak_rss_mib": m.peak_rss_mib})  # fmt: skip
        print(f"  {stage}: {m.seconds} s, peak {m.peak_rss_mib} MiB", flush=True)
    out = scratch / f"saved_queries_{customers}.json"
    m = run_stage([sys.executable, "-m", "bench.semantic", str(out)], env)
    for name, seconds in json.loads(out.read_text()).items():
        results.append({"stage": f"saved query: {name}", "customers": customers, "days": days, "seconds": seconds,
                        "peak_rss_mib": m.peak_rss_mib})  # fmt: skip
        print(f"  saved query {name}: {seconds} s", flush=True)
    return results


def answer_times() -> dict[str, float]:
    from c360_core.settings import settings  # noqa: PLC0415  (the environment is the warehouse's)
    from c360_core.warehouse import connect  # noqa: PLC0415
    from orchestration.lib.semantic import SemanticLayer  # noqa: PLC0415

    cfg = settings()
    layer = SemanticLayer(cfg.dbt_target / "semantic_manifest.json", cfg.target)
    times = {}
    with connect(cfg) as wh:
        for name in layer.saved_queries:
            sql, best = layer.sql(name), float("inf")
            for _ in range(3):
                t0 = time.perf_counter()
                wh.query(sql)
                best = min(best, time.perf_counter() - t0)
            times[name] = round(best, 3)
    return times


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(answer_times(), indent=1))
