"""The Spark stages of `make bench`: a tier's landing files, the same DuckDB just built from, on the standalone
cluster `c360 spark start` runs on this machine (a master, two workers and the Connect server, each a JVM).

The stages are DuckDB's: the first materialize (ingest, contracts, every model; its runs timed inside it), then
an hourly cycle for each of the two held-back hours. Each stage's peak memory counts the cluster's JVMs with
the stage's own processes. Starting the cluster is a stage of its own.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from bench.measure import run_stage
from c360_core.settings import environ, settings
from c360_core.spark import running_pids

PREFIX = "spark: "  # the stages' names: a family of their own in bench/results (bench/run.py)


def bench_spark(customers: int, days: int, data_dir: Path, *, as_of: str, first: str, hourly: dict,
                held: dict) -> list[dict]:  # fmt: skip
    """The Spark stages over data_dir/landing, with the `held` hours set aside again for the hourly cycles."""
    env = {"C360_TARGET": "spark", "C360_DATA_DIR": str(data_dir), "C360_AS_OF_DATE": as_of,
           "C360_DAGSTER_STORAGE": str(data_dir / "dagster-spark"),
           "C360_DAGSTER_LOGS": str(data_dir / "dagster-spark" / "logs")}  # fmt: skip
    with environ(env):
        cfg = settings()
    cli = [sys.executable, "-m", "c360_cli.main"]
    results: list[dict] = []

    def stage(name: str, args: list[str]) -> None:
        m = run_stage([*cli, *args], env, beside=lambda: running_pids(cfg))
        results.append({"stage": PREFIX + name, "customers": customers, "days": days, "seconds": m.seconds,
                        "peak_rss_mib": m.peak_rss_mib})  # fmt: skip
        print(f"  {PREFIX}{name}: {m.seconds} s, peak {m.peak_rss_mib} MiB", flush=True)

    for path, aside in held.values():
        shutil.move(path, aside)
    shutil.rmtree(data_dir / "spark", ignore_errors=True)
    stage("start the cluster (master, two workers, Connect server)", ["spark", "start"])
    try:
        timings = data_dir / "timings-spark.json"
        stage("first materialize (ingest, contracts, every model)", ["materialize", "--select", first,
                                                                     "--timings", str(timings)])  # fmt: skip
        for run in json.loads(timings.read_text()):
            results.append({"stage": f"{PREFIX}first materialize: {run['run']}", "customers": customers,
                            "days": days, "seconds": run["seconds"], "peak_rss_mib": None,
                            "peak_rss_mib_so_far": run["peak_rss_mib_so_far"]})  # fmt: skip
        for hour, (name, selection) in hourly.items():
            shutil.move(held[hour][1], held[hour][0])
            stage(name, ["materialize", "--select", selection])
    finally:
        run_stage([*cli, "spark", "stop"], env)
    return results


# the prediction tables with one row per scored buyer
PER_BUYER = ("churn", "clv", "clusters")


def ml_figures(env: dict[str, str]) -> dict:
    """What the ML steps made on one warehouse: each family's champion (version, holdout metric, the fingerprint
    of the rows it saw) from the MLflow registry, and how many of today's buyers each per-buyer prediction table
    scores."""
    from c360_core.warehouse import connect  # noqa: PLC0415
    from ml import registry  # noqa: PLC0415
    from ml.catalog import SPECS  # noqa: PLC0415

    with environ(env):
        cfg = settings()
        mlc = registry.client(cfg)
        champions = {}
        for family, spec in SPECS.items():
            v = registry.version_by_alias(mlc, spec.model_name, registry.CHAMPION)
            champions[family] = v and {"metric": v.tags.get("c360.primary_metric"),
                                       "holdout": float(v.tags["c360.holdout_metric"]),
                                       "fingerprint": v.tags.get("c360.fingerprint")}  # fmt: skip
        buyers = "select customer_id from ml.customer_features where cutoff_role = 'score' and is_buyer"
        with connect(cfg) as wh:
            count = wh.query(f"select count(*) from ({buyers}) as b")[1][0][0]
            scored = {f: wh.query(f"select count(distinct customer_id) from {SPECS[f].table} "
                                  f"where customer_id in ({buyers})")[1][0][0] for f in PER_BUYER}  # fmt: skip
    return {"champions": champions, "buyers": count, "buyers_scored": scored}


def compare_ml(duck: dict[str, str], spark: dict[str, str]) -> dict:
    """The two warehouses' ML figures side by side, with each champion's holdout difference."""
    found = {"duckdb": ml_figures(duck), "spark": ml_figures(spark)}
    found["holdout_difference"] = {
        f: abs(c["holdout"] - found["spark"]["champions"][f]["holdout"])
        for f, c in found["duckdb"]["champions"].items() if c and found["spark"]["champions"].get(f)
    }  # fmt: skip
    return found


if __name__ == "__main__":  # python -m bench.spark <duckdb data dir> <spark data dir> <as-of date>

    def _env(target: str, data_dir: str) -> dict[str, str]:
        return {"C360_TARGET": target, "C360_DATA_DIR": data_dir, "C360_AS_OF_DATE": sys.argv[3],
                "C360_DUCKDB_PATH": str(Path(data_dir) / "warehouse.duckdb")}  # fmt: skip

    print(json.dumps(compare_ml(_env("duckdb", sys.argv[1]), _env("spark", sys.argv[2])), indent=2))
