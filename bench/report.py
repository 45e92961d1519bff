"""Render docs/benchmarks.md from bench/results/*.json."""

from __future__ import annotations

import json
from pathlib import Path

from c360_core.markers import replace_between

HEADER = """# Benchmarks

Written by `make bench` from `bench/results/*.json`; do not edit by hand.
Each stage runs in its own process. Peak memory is the larger of the maximum
resident set of any one process of the stage (`wait4` rusage) and the largest
sum over the stage's process tree (dbt, writer processes), sampled every 0.2 s.
Times are wall-clock seconds. From 1M customers the landing files are written
zstd-compressed (a year at 1M: ~5.6 GB on disk, ~50 GB as text); with `--keep-landing`
a tier's landing zone stays in `--scratch` and the next run reuses it instead of
generating it again (7.5 min at 1M): `make bench BENCH_ARGS="--tiers 1000000x365
--warehouse-tiers 1000000x365 --core-only --no-latency --scratch DIR --keep-landing"`.
"""


def _generate_section(record: dict) -> list[str]:
    lines = ["## Generation (`c360 generate`)", ""]
    lines += [
        "| customers | days | seconds | s per day | peak MiB | files | MiB on disk | as text | web events "
        "| orders (versions) | measured |"
    ]
    lines += ["|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in record["results"]:
        codec = r.get("compress", "none")
        on_disk = f"{r['mib']:,}" + (f" ({codec})" if codec != "none" else "")
        lines.append(
            f"| {r['customers']:,} | {r['days']} | {r['seconds']:,} | {r['seconds'] / r['days']:.2f} "
            f"| {r['peak_rss_mib']:,} | {r['files']:,} | {on_disk} | {r.get('mib_uncompressed', r['mib']):,} "
            f"| {r['rows']['web_events']:,} | {r['rows']['orders']:,} | {_measured(r, record)} |"
        )
    lines.append("")
    full_year = sorted((r for r in record["results"] if r["days"] >= 365), key=lambda r: r["customers"])
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


FLOOR = "floor: one DuckDB statement, files to customer_360 core"
FIRST = "first materialize (ingest, contracts, every model)"
HOURLY = "hourly cycle: load 1 hour, verify, refresh the incremental models"
HOURLY_DOWNSTREAM = "hourly cycle: load 1 hour, verify, refresh every model downstream"
DAILY = "daily cycle: load 1 day of customers and transactions, verify, refresh every model below them"
FULL = "full rebuild (dbt --full-refresh)"


def _tries(r: dict, inside: bool = False) -> str:
    """How a figure was taken, when it is the fastest of several runs (a new warehouse and instance each)."""
    if r.get("tries", 1) <= 1:
        return ""
    return f", the fastest of {r['tries']}" if inside else f" (the fastest of {r['tries']} runs)"


def _first_lines(results: list[dict]) -> list[str]:
    lines = []
    for c in sorted({r["customers"] for r in results}):
        stages = {r["stage"]: r for r in results if r["customers"] == c}
        if FIRST not in stages or FLOOR not in stages:
            continue
        first, floor = stages[FIRST], stages[FLOOR]
        runs = [r for k, r in stages.items() if k.startswith("first materialize: ")]
        slowest = sorted(runs, key=lambda r: -r["seconds"])[:3]
        lines.append(
            f"- **First materialize at {c:,} customers:** {first['seconds']:,.0f} s{_tries(first)}, "
            f"{first['seconds'] / floor['seconds']:.1f}x the floor "
            f"({floor['seconds']:,.1f} s{_tries(floor, inside=True)}, measured in the same run on the same files); "
            "peak "
            f"{first['peak_rss_mib']:,.0f} MiB against the floor's {floor['peak_rss_mib']:,.0f} MiB. Slowest runs: "
            + "; ".join(f"{r['stage'].removeprefix('first materialize: ')} {r['seconds']:,.1f} s" for r in slowest)
            + "."
        )
        models = {name: sec for r in runs for name, sec in r.get("models_seconds", {}).items()}
        if models:  # dbt's own time per model (two threads: on two cores they overlap and slow one another)
            top = sorted(models.items(), key=lambda item: -item[1])[:5]
            named = ", ".join(f"`{name}` {sec:,.1f} s" for name, sec in top)
            lines.append(f"  Slowest models (dbt's time per node): {named}.")
        if HOURLY in stages:
            full = f" (a full rebuild of the models alone: {stages[FULL]['seconds']:,.0f} s)" if FULL in stages else ""
            lines.append(
                f"- **Hourly cycle at {c:,} customers:** {stages[HOURLY]['seconds']:,.1f} s to load one hour, verify "
                f"it and refresh the incremental models with their tests, process start-up included{full}."
            )
        if HOURLY_DOWNSTREAM in stages:
            lines.append(
                f"- **The next hour, with every model downstream** (`customer_360`, the audiences and their "
                f"contracts, as the automation sensor refreshes them): {stages[HOURLY_DOWNSTREAM]['seconds']:,.1f} s."
            )
        if DAILY in stages:
            lines.append(
                f"- **Daily cycle at {c:,} customers:** {stages[DAILY]['seconds']:,.1f} s to load the last day of "
                f"customers and transactions, verify them and refresh every model below them (peak "
                f"{stages[DAILY]['peak_rss_mib']:,.0f} MiB)."
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
        if HOURLY in stages:
            hourly = stages[HOURLY]["seconds"]
            line += f", against the {hourly:,.1f} s hourly cycle that includes it"
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


def ml_timing(results: list[dict]) -> list[str]:
    """Features plus training and gating of every family, and scoring, per tier (issue 10's time budget)."""
    lines = []
    for c in sorted({r["customers"] for r in results}):
        stages = {r["stage"]: r for r in results if r["customers"] == c}
        training = [k for k in stages if k == "ml: features (dbt)" or k.startswith("ml: train + gate ")]
        scoring = next((k for k in stages if k.startswith("ml: score")), None)
        if len(training) < 2 or scoring is None:
            continue
        train = sum(stages[k]["seconds"] for k in training)
        peak = max(stages[k]["peak_rss_mib"] for k in (*training, scoring))
        families = len(training) - 1
        lines.append(f"- **ML at {c:,} customers:** features + training and gating of all {families} families "
                     f"{train:,.0f} s ({train / 60:.1f} min; budget 10 min), scoring all {families} "
                     f"{stages[scoring]['seconds']:,.0f} s; peak {peak:,.0f} MiB. Each stage "
                     "includes ~10 s of process, Dagster and MLflow start-up.")  # fmt: skip
    return lines


def semantic_timing(results: list[dict]) -> list[str]:
    """The saved-query tables' build and the slowest saved query, per tier (issue 11's budgets)."""
    lines = []
    for c in sorted({r["customers"] for r in results}):
        stages = {r["stage"]: r for r in results if r["customers"] == c}
        queries = {
            k.removeprefix("saved query: "): v["seconds"] for k, v in stages.items() if k.startswith("saved query")
        }
        if "semantic: saved-query tables" not in stages or not queries:
            continue
        slowest = max(queries, key=queries.get)
        lines.append(f"- **Semantic layer at {c:,} customers:** all {len(queries)} saved-query tables built in "
                     f"{stages['semantic: saved-query tables']['seconds']:,.1f} s (budget 30 s, with ~10 s of "
                     f"process start-up); the slowest saved query, `{slowest}`, answers in {queries[slowest]:.3f} s "
                     "(budget 1 s; best of three).")  # fmt: skip
    return lines


def _api_lines(results: list[dict]) -> list[str]:
    if not results:
        return []
    lines = ["## API latency (`c360 serve api`, bench/api.py)", "",
             "The API in its own process on 127.0.0.1 over the DuckDB warehouse of the tier, after its models and "
             "predictions are built; the clients are threads of the bench's process on the same machine (they "
             "share its cores with the server), each kind of request a fixed number of times, the rate limit off "
             "so that every request is answered. A profile look-up is `GET /api/v2/customers/{id}`, on-demand "
             "scoring `POST /api/v2/predictions/churn`, a metric query `GET /api/v2/metrics` (four analyst "
             "questions in turn); all as a steward.", "",
             "| customers | request | requests | concurrency | errors | p50 ms | p95 ms | p99 ms | max ms | "
             "p95 target ms | measured |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in (r for r in results if r["stage"].startswith("api: ")):
        kind = r["stage"].removeprefix("api: ")
        lines.append(f"| {r['customers']:,} | {kind} | {r['requests']} | {r['concurrency']} | {r['errors']} "
                     f"| {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['max_ms']} "
                     f"| {r['target_p95_ms']} | {r['measured_at'][:10]} |")  # fmt: skip
    pages = [r for r in results if r["stage"].startswith("dashboard: ")]
    if pages:
        lines += ["", "Each dashboard page's first render, in headless Chromium on the same machine, page after page "
                  "in the signed-in tab: from navigation until the page's figures are on screen and no callback "
                  "is pending.", "",
                  "| customers | page | first render s | measured |", "|---:|---|---:|---|"]  # fmt: skip
        lines += [f"| {r['customers']:,} | {r['stage'].removeprefix('dashboard: ')} | {r['seconds']} "
                  f"| {r['measured_at'][:10]} |" for r in pages]  # fmt: skip
    return [*lines, ""]


SPARK = "spark: "  # bench/spark.py's stages


def _spark_lines(results: list[dict], duckdb: list[dict], record: dict) -> list[str]:
    """The Spark stages of each tier beside DuckDB's same stage on the same files, in the same run."""
    if not results:
        return []
    lines = ["## Warehouse on the standalone Spark cluster (`C360_TARGET=spark`)", "",
             "The same landing files as DuckDB's rows above, in the same run, on the cluster `c360 spark start` runs "
             "on this machine: a master, two workers (one core each) and the Spark Connect server, the one driver "
             "(docs/scale.md). Peak memory counts the cluster's JVMs with the stage's processes.", "",
             "| customers | days | stage | Spark s | DuckDB s | Spark / DuckDB | peak MiB | measured |",
             "|---:|---:|---|---:|---:|---:|---:|---|"]  # fmt: skip
    same = {(r["customers"], r["days"], r["stage"]): r for r in duckdb}
    for r in results:
        stage = r["stage"].removeprefix(SPARK)
        duck = same.get((r["customers"], r["days"], stage))
        ratio = f"{r['seconds'] / duck['seconds']:.1f}x" if duck and duck["seconds"] else ""
        peak = f"{r['peak_rss_mib']:,}" if r["peak_rss_mib"] is not None else "(in the run above)"
        lines.append(f"| {r['customers']:,} | {r['days']} | {stage} | {r['seconds']:,} | "
                     f"{duck['seconds'] if duck else ''} | {ratio} | {peak} | {_measured(r, record)} |")  # fmt: skip
    return [*lines, ""]


def _warehouse_section(record: dict, generation: dict | None) -> list[str]:
    latency = [r for r in record["results"] if r["stage"] == "orders sensor latency"]
    api = [r for r in record["results"] if r["stage"].startswith(("api: ", "dashboard: "))]
    on_spark = [r for r in record["results"] if r["stage"].startswith(SPARK)]
    results = [r for r in record["results"] if r["stage"] != "orders sensor latency" and r not in api + on_spark]
    lines = ["## Warehouse on DuckDB (`c360 materialize`)", ""]
    lines += ["| customers | days | stage | seconds | peak MiB | measured |", "|---:|---:|---|---:|---:|---|"]
    for r in results:
        if r["peak_rss_mib"] is not None:
            peak = f"{r['peak_rss_mib']:,}"
        elif r.get("peak_rss_mib_so_far") is not None:  # one run of a process: the process's peak so far
            peak = f"{r['peak_rss_mib_so_far']:,} so far"
        else:
            peak = "(in the run above)"
        lines.append(f"| {r['customers']:,} | {r['days']} | {r['stage']} | {r['seconds']:,} | {peak} "
                     f"| {_measured(r, record)} |")  # fmt: skip
    lines.append("")
    lines += _first_lines(results)
    lines += _quality_lines(results)
    lines += semantic_timing(results)
    lines += ml_timing(results)
    by_tier: dict[int, dict[str, float]] = {}
    for r in results:
        if r["stage"] == FIRST:
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
    return [*lines, "", *_spark_lines(on_spark, results, record), *_latency_lines(latency), *_api_lines(api)]


def _machine(m: dict) -> str:
    return f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, Python {m['python']}, {m['os']}"


def _measured(r: dict, record: dict) -> str:
    """The day and the maker of the CPU that measured it: times compare only on one machine."""
    cpu = (r.get("machine") or record["machine"])["cpu"]
    return f"{r['measured_at'][:10]} {cpu.split()[0].removesuffix('(R)')}"


def _machines(records: dict) -> str:
    """The machine(s) the figures come from, with the days measured on each: compare times measured on
    one machine only; the ratios to the floor are measured in one run, so they compare across machines."""
    days: dict[str, set] = {}
    for record in records.values():
        for r in record.get("results", []):
            days.setdefault(_machine(r.get("machine") or record["machine"]), set()).add(r["measured_at"][:10])
    if len(days) == 1:
        return f"**Machine:** {next(iter(days))}.\n"
    lines = ["**Machines** (times compare only within one machine; ratios to the floor are measured in one run):"]
    lines += [f"- {m}: measured {', '.join(sorted(d))}" for m, d in sorted(days.items(), key=lambda x: max(x[1]))]
    return "\n".join(lines) + "\n"


def render(results_dir: Path, target: Path) -> None:
    parts = [HEADER]
    records = {p.stem: json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))}
    if records:
        parts.append(_machines(records))
    if "generate" in records:
        parts.append("\n".join(_generate_section(records["generate"])))
    if "warehouse" in records:
        parts.append("\n".join(_warehouse_section(records["warehouse"], records.get("generate"))))
    target.write_text("\n".join(parts))


START, END = "<!-- ml-report:start -->", "<!-- ml-report:end -->"


def _metric_rows(metrics: dict, rows: list[tuple[str, str]], columns: list[tuple[str, str]]) -> list[str]:
    """A table: one row per model (prefix), one column per metric; blank where not measured."""
    lines = ["| model | " + " | ".join(label for _, label in columns) + " |", "|---|" + "---:|" * len(columns)]
    for prefix, label in rows:
        cells = [f"{metrics[prefix + m]:.3f}" if prefix + m in metrics else "" for m, _ in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _ml_churn(found: dict) -> list[str]:
    churn = found["families"]["churn"]
    m, p = churn["metrics"], churn["params"]
    cv = churn["cv"]
    candidates = sorted({k.removeprefix("cv_").removesuffix("_roc_auc_mean") for k in cv if k.endswith("_mean")})
    lines = [
        "### Churn (`c360-churn`)",
        "",
        f"Train cutoff {p['cutoff_train']} ({p['rows_train']} buyers), out-of-time holdout {p['cutoff_holdout']} "
        f"({p['rows_holdout']} buyers, {m['holdout_churn_rate']:.1%} churned). Champion: **{churn['algorithm']}**, "
        f"isotonic-calibrated, threshold {float(p['threshold']):.3f} (F1-optimal on the train cutoff's "
        "out-of-fold predictions).",
        "",
        "5-fold stratified CV on the train cutoff (ROC AUC):",
        "",
        "| candidate | mean | std |",
        "|---|---:|---:|",
    ]
    lines += [f"| {c} | {cv[f'cv_{c}_roc_auc_mean']:.3f} | {cv[f'cv_{c}_roc_auc_std']:.3f} |" for c in candidates]
    lines += ["", "On the out-of-time holdout:", ""]
    lines += _metric_rows(
        m,
        [
            ("", f"champion ({churn['algorithm']})"),
            ("baseline_recency_logistic_", "recency alone (logistic)"),
            ("baseline_bgnbd_", "BG/NBD P(no purchase in 90 days)"),
        ],
        [
            ("roc_auc", "ROC AUC"),
            ("pr_auc", "PR AUC"),
            ("accuracy", "accuracy"),
            ("f1", "F1"),
            ("precision", "precision"),
            ("recall", "recall"),
            ("brier", "Brier"),
        ],
    )
    lift = m["roc_auc"] - m["baseline_recency_logistic_roc_auc"]
    lines += [
        "",
        f"The champion's ROC AUC is {m['roc_auc']:.3f}, {lift:+.3f} over recency alone. Its accuracy at the "
        f"threshold is {m['accuracy']:.1%}, with {m['holdout_churn_rate']:.1%} of the holdout's buyers churning: "
        f"calling every buyer {'a churner' if m['holdout_churn_rate'] >= 0.5 else 'a stayer'} would score "
        f'{max(m["holdout_churn_rate"], 1 - m["holdout_churn_rate"]):.1%}. The analytics spec\'s "85% accuracy" '
        "means little without that share; ROC AUC does not depend on it.",
        "",
        "![ROC](images/ml/churn_roc.png) ![Precision-recall](images/ml/churn_precision_recall.png)",
        "![Calibration](images/ml/churn_calibration.png) ![Feature importance](images/ml/churn_feature_importance.png)",
        "",
    ]
    return lines


def _ml_clv(found: dict) -> list[str]:
    clv = found["families"]["clv"]
    m, cv = clv["metrics"], clv["cv"]
    candidates = sorted({k.removeprefix("cv_").removesuffix("_mae_mean") for k in cv if k.endswith("_mae_mean")})
    lines = [
        "### Lifetime value (`c360-clv`)",
        "",
        f"Revenue of counted orders in the {clv['params']['horizon_days']} days after the cutoff. Champion: "
        f"**{clv['algorithm']}**.",
        "",
        "5-fold CV on the train cutoff (MAE):",
        "",
        "| candidate | mean | std |",
        "|---|---:|---:|",
    ]
    lines += [f"| {c} | {cv[f'cv_{c}_mae_mean']:.2f} | {cv[f'cv_{c}_mae_std']:.2f} |" for c in candidates]
    lines += [
        "",
        "On the out-of-time holdout (top-decile share: the share of all future revenue earned by the 10% "
        "predicted highest; predicted/actual: total predicted over total earned):",
        "",
    ]
    lines += _metric_rows(
        m,
        [
            ("", f"champion ({clv['algorithm']})"),
            ("baseline_naive_run_rate_", "naive: past spend rate x horizon"),
            ("baseline_bgnbd_gamma_gamma_", "BG/NBD + Gamma-Gamma"),
        ],
        [
            ("mae", "MAE"),
            ("rmse", "RMSE"),
            ("spearman", "Spearman"),
            ("top_decile_share", "top-decile share"),
            ("predicted_total_ratio", "predicted/actual"),
        ],
    )
    best = min(
        [
            ("the champion", m["mae"]),
            ("BG/NBD + Gamma-Gamma", m["baseline_bgnbd_gamma_gamma_mae"]),
            ("the naive baseline", m["baseline_naive_run_rate_mae"]),
        ],
        key=lambda x: x[1],
    )
    lines += [
        "",
        f"Lowest holdout MAE: {best[0]} ({best[1]:.2f}).",
        "",
        "![Predicted vs actual](images/ml/clv_predicted_vs_actual.png) "
        "![Feature importance](images/ml/clv_feature_importance.png)",
        "",
    ]
    return lines


def _ml_clusters(found: dict) -> list[str]:
    clusters = found["families"]["clusters"]
    scores = {int(k.removeprefix("silhouette_k")): v for k, v in clusters["cv"].items()}
    lines = ["### Segmentation (`c360-clusters`)", "",
             f"k = **{clusters['params']['k']}**, chosen by silhouette over k = 2..8 "
             f"({clusters['params']['rows']} buyers today):", "",
             "| k | " + " | ".join(str(k) for k in sorted(scores)) + " |", "|---|" + "---:|" * len(scores),
             "| silhouette | " + " | ".join(f"{scores[k]:.3f}" for k in sorted(scores)) + " |", "",
             "| cluster | name | size | orders | revenue | recency days | sessions |",
             "|---:|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in clusters["profiles"]:
        sessions = row.get("mean_sessions_count")
        lines.append(f"| {row['cluster_id']} | {row['cluster_name']} | {row['size']:,} "
                     f"| {row['mean_frequency_orders']:.1f} | {row['mean_monetary_value']:,.0f} "
                     f"| {row['mean_recency_days']:.0f} "
                     f"| {'' if sessions is None else f'{sessions:.1f}'} |")  # fmt: skip
    lines += [
        "",
        "![Silhouette by k](images/ml/clusters_silhouette_by_k.png) "
        "![Cluster profiles](images/ml/clusters_cluster_profiles.png)",
        "",
    ]
    return lines


def _ml_recommendations(found: dict) -> list[str]:
    recs = found["families"].get("recommendations")
    if recs is None:
        return []
    m, p = recs["metrics"], recs["params"]
    lines = ["### Recommendations (`c360-recommendations`)", "",
             f"Fitted on the history before the holdout cutoff {p['cutoff_holdout']}, judged on the next order of "
             f"each of {int(p['customers_judged']):,} customers in the 90 days after it "
             f"({int(p['rules']):,} association rules, {int(p['products']):,} products):", ""]  # fmt: skip
    lines += _metric_rows(m, [("", "champion (rules + item-item + category taste)"),
                              ("baseline_popularity_", "popularity"),
                              ("baseline_category_popularity_", "popular in the customer's top category")],
                          [("recall_at_10", "recall@10"), ("precision_at_10", "precision@10"),
                           ("ndcg_at_10", "NDCG@10")])  # fmt: skip
    ratio = m["recall_at_10"] / m["baseline_popularity_recall_at_10"]
    lines += ["", f"recall@10 is {ratio:.2f}x the popularity baseline's.", "",
              "![recall@10](images/ml/recommendations_recall_at_10.png)", ""]  # fmt: skip
    return lines


def _ml_channel(found: dict) -> list[str]:
    family = found["families"].get("channel")
    if family is None or "truth_agreement" not in family["metrics"]:
        return []
    m, p = family["metrics"], family["params"]
    return ["### Next-best channel (`c360-channel`)", "",
            f"Prior strength {float(p['prior_strength']):g} visits. For the {int(m['customers_with_3_visits']):,} "
            "customers with 3 or more visits, the published channel is the simulator's planted responsive one "
            f"for **{m['truth_agreement']:.1%}**; their most frequent channel is, for "
            f"{m['baseline_most_frequent_truth_agreement']:.1%} "
            f"({(m['truth_agreement'] - m['baseline_most_frequent_truth_agreement']) * 100:+.1f} points).", "",
            f"Out of time, without the truth: of the {int(m['customers_judged']):,} customers who ordered from a "
            f"visit in the 90 days after the holdout cutoff, the first such visit came through the channel chosen "
            f"for them for {m['hit_rate']:.1%} (their most frequent channel: "
            f"{m['baseline_most_frequent_hit_rate']:.1%}). A visit that ends in an order comes through the "
            "responsive channel only 60% of the time: this figure is a noisy echo of the one above.", ""]  # fmt: skip


def _ml_audience(found: dict) -> list[str]:
    e = found.get("expecting_parents")
    if not e:
        return []
    return ["### Expecting Parents (audience)", "",
            f"Against the simulator's truth, as of the day before the as-of date: recall {e['recall']:.2f} over the "
            f"{int(e['expecting_and_browsed'])} parents expecting then who viewed a product in the 180 days "
            f"before, {e['recall_expecting_under_120_days']:.2f} for those expecting for under 120 days; "
            f"precision {e['precision_in_phase']:.2f} against every parent expecting or with a newborn under six "
            f"months ({int(e['audience'])} in the audience).", "",
            *([f"Only {int(e['interest_since_expecting'])} of the {int(e['expecting_and_browsed'])} showed any "
               "product interest after their pregnancy began (the others browsed only before it, and behaviour "
               "cannot show what it does not contain): the audience finds "
               f"{e['recall_interest_since_expecting']:.2f} of those.", ""]
              if "interest_since_expecting" in e else [])]  # fmt: skip


def _ml_anomalies(found: dict) -> list[str]:
    found_family = found["families"].get("anomalies")
    if found_family is None or "precision_at_k" not in found_family["metrics"]:
        return []
    m, p = found_family["metrics"], found_family["params"]
    lines = ["### Anomalies (`c360-anomalies`)", "",
             f"Fitted on the {int(p['orders_before_holdout']):,} orders before the holdout cutoff "
             f"{p['cutoff_holdout']}, "
             f"judged on the {int(m['orders_scored']):,} orders of the 90 days after it, "
             f"{int(m['planted'])} of them planted fraud (k):", "",
             "| detector | precision@k | recall (flagged) | flagged | precision of the flagged |",
             "|---|---:|---:|---:|---:|",
             f"| champion (isolation forest + 4 rules) | {m['precision_at_k']:.2f} | {m['recall']:.2f} | "
             f"{int(m['flagged']):,} | {m['flagged_precision']:.2f} |",
             f"| amount z-score at 3 | {m['baseline_amount_zscore_precision_at_k']:.2f} | "
             f"{m['baseline_amount_zscore_recall']:.2f} | {int(m['baseline_amount_zscore_flagged']):,} | "
             f"{m['baseline_amount_zscore_flagged_precision']:.2f} |", "",
             "![Anomaly scores](images/ml/anomalies_anomaly_scores.png)", ""]  # fmt: skip
    return lines


def _ml_forecasts(found: dict) -> list[str]:
    revenue, demand = found["families"].get("revenue_forecast"), found["families"].get("demand_forecast")
    if revenue is None or demand is None:
        return []
    r, d = revenue["metrics"], demand["metrics"]
    lines = ["### Forecasts (`c360-revenue-forecast`, `c360-demand-forecast`)", "",
             f"Six rolling origins, {revenue['params']['fold_step']} days apart for daily revenue (90 days ahead) "
             f"and {demand['params']['fold_step']} weeks apart for weekly units per category (8 weeks ahead), "
             f"up to {revenue['params']['last_period']}. Revenue champion: **{revenue['params']['algorithm']}**; "
             f"demand champion: **{demand['params']['algorithm']}**.", "",
             "| daily revenue | MAPE 90 days | MAPE 30 days | 80% interval holds | 95% interval holds |",
             "|---|---:|---:|---:|---:|",
             f"| champion | {r['mape']:.1f}% | {r['mape_30d']:.1f}% | {r['coverage_80']:.1f}% | "
             f"{r['coverage_95']:.1f}% |",
             f"| naive | {r['baseline_naive_mape']:.1f}% | {r['baseline_naive_mape_30d']:.1f}% | | |",
             f"| seasonal naive (weekly) | {r['baseline_seasonal_naive_mape']:.1f}% | "
             f"{r['baseline_seasonal_naive_mape_30d']:.1f}% | | |", "",
             "| weekly units per category | mean MASE | 80% interval holds | 95% interval holds |",
             "|---|---:|---:|---:|",
             f"| champion | {d['mase']:.3f} | {d['coverage_80']:.1f}% | {d['coverage_95']:.1f}% |",
             f"| naive | {d['baseline_naive_mase']:.3f} | | |",
             f"| seasonal naive | {d['baseline_seasonal_naive_mase']:.3f} | | |", "",
             f"The demand champion beats seasonal naive on MASE in {int(d['categories_beating_seasonal_naive'])} of "
             f"{int(d['categories'])} categories. A year of weeks has no earlier year, so seasonal naive is the "
             "last week (naive) here.", "",
             "![Revenue forecast](images/ml/revenue_forecast_revenue_forecast.png) "
             "![Demand forecast](images/ml/demand_forecast_demand_forecast.png)", ""]  # fmt: skip
    return lines


def render_ml(report: Path, target: Path) -> None:
    """Replace the generated section of docs/ml.md with the figures of bench/results/ml.json."""
    found = json.loads(report.read_text())
    m = found["machine"]
    head = ["", f"Generated by `make ml-report` (or `make bench`) on {found['measured_at']}: "
            f"{found['customers']:,} customers x {found['days']} days, seed 42, DuckDB; "
            f"{m['cpu']}, {m['cores']} cores.", ""]  # fmt: skip
    body = head + _ml_churn(found) + _ml_clv(found) + _ml_clusters(found) + _ml_recommendations(found)
    body += _ml_channel(found) + _ml_anomalies(found) + _ml_forecasts(found) + _ml_audience(found)
    target.write_text(replace_between(target.read_text(), START, END, "\n".join(body)))
