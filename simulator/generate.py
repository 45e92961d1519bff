"""Drive the simulation one day at a time and write every source's files.

Memory is bounded by one day of events plus order updates still in flight:
nothing accumulates across the period except per-customer state.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from landing import MANIFEST_DIR
from simulator import reference as ref
from simulator.catalog import build_catalog, product_snapshot
from simulator.config import NEVER, GeneratorConfig
from simulator.crm import crm_day
from simulator.defects import ALL_KINDS
from simulator.population import Population, build_population
from simulator.shop import DAY, Shop
from simulator.web import Web
from simulator.writers import DayWriters, Landing

HOUR = 3600
TOP_DIRS = ("crm", "catalog", "shop", "payments", "web")  # the systems' folders under the root


def _grouped(rows: list[dict], start: int, width: int) -> dict[int, list[dict]]:
    groups: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["_t"] - start) // width].append(r)
    return groups


class _Run:
    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.catalog = build_catalog(cfg)
        self.pop = build_population(cfg)
        self.shop = Shop(cfg, self.pop, self.catalog)
        self.web = Web(cfg, self.pop, self.catalog, self.shop)
        self.landing = Landing(cfg)

    def day(self, d: int, step: callable) -> list[tuple]:
        """Simulate day `d`; returns the day's files as arguments of Landing.write."""
        cfg, out = self.cfg, []
        date = cfg.day(d)
        start = int(cfg.day_start(d).astype("int64"))
        if d % 7 == 0:
            step("products")
            out.append(("products", date.isoformat(), product_snapshot(self.catalog, cfg, d), start))
        if d == 0 or date.day == 1:
            step("brands")
            out.append(("brands", date.strftime("%Y-%m"), [dict(r) for r in self.catalog.brand_rows], start))
        step("customers")
        out.append(("customers", date.isoformat(), crm_day(self.pop, cfg, d), start + DAY))
        step("orders")
        orders = self.shop.day(d)
        width = cfg.order_batch_minutes * 60
        for source, box in (("orders", self.shop.orders), ("order_line_items", self.shop.items)):
            for w, rows in sorted(_grouped(box.take(d), start, width).items()):
                stamp = f"{date.isoformat()}T{w * width // HOUR:02d}-{w * width % HOUR // 60:02d}"
                out.append((source, stamp, rows, start + (w + 1) * width))
        step("transactions")
        out.append(("transactions", date.isoformat(), self.shop.transactions.take(d), start + DAY))
        step("web_events")
        self.web.day(d, orders)
        events = self.web.take(d)
        bounds = np.searchsorted(events.ts, start + HOUR * np.arange(25)).tolist()
        for h in range(24):
            stamp = f"{date.isoformat()}T{h:02d}"
            out.append(("web_events", stamp, events.slice(bounds[h], bounds[h + 1]), start + (h + 1) * HOUR, True))
        return out


@contextlib.contextmanager
def _progress(cfg: GeneratorConfig, console: Console) -> Iterator[callable]:
    if cfg.quiet:
        yield lambda d, source=None: None
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("generating", total=cfg.n_days)

        def update(d: int, source: str | None = None) -> None:
            if source is None:
                bar.update(task, completed=d + 1)
            else:
                bar.update(task, description=f"{cfg.day(d)} {source:<16}")

        yield update


class LandingZoneInUse(Exception):
    """The landing root already holds a different generated dataset."""


def _run_args(cfg: GeneratorConfig) -> dict:
    return {"customers": cfg.customers, "seed": cfg.seed, "start": str(cfg.start), "end": str(cfg.end),
            "defects": cfg.defects, "fraud_rate": cfg.fraud_rate, "order_batch_minutes": cfg.order_batch_minutes,
            **({"compress": cfg.compress} if cfg.compress != "none" else {})}  # fmt: skip


def _prepare(cfg: GeneratorConfig, overwrite: bool) -> bool:
    """True when generation is needed. run.json is written last, so it marks a complete dataset."""
    marker = cfg.out / MANIFEST_DIR / "run.json"
    if marker.exists() and orjson.loads(marker.read_bytes()) == _run_args(cfg):
        return False
    generated = [cfg.out / d for d in (*TOP_DIRS, MANIFEST_DIR) if (cfg.out / d).exists()]
    if generated and not overwrite:
        raise LandingZoneInUse(
            f"{cfg.out} already holds another dataset; pass --overwrite to replace it, or choose --out"
        )
    for folder in generated:
        shutil.rmtree(folder)
    return True


def generate(cfg: GeneratorConfig, console: Console | None = None, overwrite: bool = False) -> dict:
    """Generate the landing zone for `cfg`; returns rows/files/bytes per source."""
    console = console or Console(stderr=True)
    if not _prepare(cfg, overwrite):
        if not cfg.quiet:
            console.print(f"{cfg.out} already holds this dataset ({_run_args(cfg)}); nothing to do.")
        return {"seconds": 0.0, "sources": {}, "skipped": True}
    t0 = time.perf_counter()
    run = _Run(cfg)
    writers = DayWriters(run.landing, cfg.writer_processes)
    gc.disable()  # millions of acyclic rows: the collector's full passes were a quarter of the time
    try:
        with _progress(cfg, console) as update:
            for d in range(cfg.n_days):
                writers.submit(str(cfg.day(d)), run.day(d, lambda source, d=d: update(d, source)))
                update(d)
    finally:
        writers.close()
        gc.enable()
    summary = {"seconds": round(time.perf_counter() - t0, 2), "sources": dict(run.landing.stats)}
    (cfg.out / MANIFEST_DIR).mkdir(parents=True, exist_ok=True)
    stats = orjson.dumps(summary["sources"], option=orjson.OPT_INDENT_2)  # no timings: output stays deterministic
    (cfg.out / MANIFEST_DIR / "stats.json").write_bytes(stats)
    _write_manifest(cfg, run)
    if not cfg.quiet:
        _print_summary(console, cfg, summary, run.landing.manifest)
    return summary


def _write_manifest(cfg: GeneratorConfig, run: _Run) -> None:
    folder = cfg.out / MANIFEST_DIR
    folder.mkdir(parents=True, exist_ok=True)
    counts = {k: sum(1 for m in run.landing.manifest if m["kind"] == k) for k in ALL_KINDS}
    defects = {"seed": cfg.seed, "rate": cfg.defects, "counts": counts, "defects": run.landing.manifest}
    (folder / "defects.json").write_bytes(orjson.dumps(defects, option=orjson.OPT_INDENT_2))
    _write_truth(cfg, run.pop, folder)
    with open(folder / "anomalies.csv", "w", newline="") as f:  # the planted fraud-like orders (fraud.py)
        w = csv.DictWriter(f, ["event", "pattern", "customer_id", "order_id", "transaction_id", "placed_at"],
                           lineterminator="\n")  # fmt: skip
        w.writeheader()
        w.writerows(run.shop.planted)
    (folder / "run.json").write_bytes(orjson.dumps(_run_args(cfg), option=orjson.OPT_INDENT_2))


def _write_truth(cfg: GeneratorConfig, pop: Population, folder) -> None:
    """Latent traits, so models and segments can be scored against the truth."""

    def day_or_blank(d: int) -> str:
        return "" if d == NEVER or d >= cfg.n_days else str(cfg.day(int(d)))

    with open(folder / "customers_truth.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["customer_id", "purchases_per_year", "p_drop", "alive_at_end", "churned_on",
                    "expecting_since", "child_born_on", "preferred_channel", "cart_abandon_rate",
                    "responsive_channel"])  # fmt: skip
        for i in range(pop.n):
            churned = "before_start" if pop.churn_day[i] == -1 else day_or_blank(pop.churn_day[i])
            w.writerow([f"C{i + 1:07d}", round(pop.rate[i] * 365, 3), round(pop.p_drop[i], 4), bool(pop.alive[i]),
                        churned, day_or_blank(pop.expecting_day[i]), day_or_blank(pop.birth_day[i]),
                        ref.CHANNELS[pop.channel[i]], round(pop.abandon[i], 4),
                        ref.CHANNELS[pop.responsive[i]]])  # fmt: skip


def _print_summary(console: Console, cfg: GeneratorConfig, summary: dict, manifest: list[dict]) -> None:
    table = Table(title=f"Landing zone written to {cfg.out} in {summary['seconds']} s")
    for col in ("source", "files", "rows", "MiB"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for source, s in summary["sources"].items():
        table.add_row(source, f"{s['files']:,}", f"{s['rows']:,}", f"{s['bytes'] / 2**20:,.1f}")
    console.print(table)
    if cfg.defects:
        console.print(
            f"Planted {len(manifest):,} defects (rate {cfg.defects}); see {cfg.out / MANIFEST_DIR}/defects.json"
        )
