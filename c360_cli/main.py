"""The `c360` command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import click

from c360_cli.compat import exit_now
from c360_core import telemetry  # noqa: F401  (turns telemetry off before any tool is imported)


@click.group()
def cli() -> None:
    """c360: the Customer 360 warehouse."""


@cli.command()
@click.option("--customers", default=10_000, show_default=True, help="Number of CRM customers.")
@click.option("--seed", default=42, show_default=True, help="Random seed; same seed and args give identical files.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="First day (default: 365 days before today).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, inclusive (default: yesterday).")
@click.option("--defects", default=0.0, show_default=True, help="Rate of planted defects per record (0 = clean).")
@click.option(
    "--fraud-rate",
    default=0.002,
    show_default=True,
    help="Planted fraud-like events per regular order (listed in _manifest/anomalies.csv; 0 = none).",
)
@click.option("--out", type=click.Path(path_type=Path), help="Landing-zone root (default: $C360_DATA_DIR/landing).")
@click.option("--order-batch-minutes", default=15, show_default=True, help="Width of order micro-batch files.")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
@click.option("--overwrite", is_flag=True, help="Replace a different dataset already in the landing root.")
@click.option(
    "--compress",
    type=click.Choice(["none", "gzip", "zstd"]),
    default="none",
    show_default=True,
    help="Write landing files compressed (.gz or .zst); the loaders read them as they are.",
)
@click.option("--workers", type=int, help="Processes writing files (default: one per core); output is the same.")
def generate(
    customers, seed, start, end, defects, fraud_rate, out, order_batch_minutes, quiet, overwrite, compress, workers
) -> None:
    """Generate the seven source systems' files into the landing zone."""
    from simulator.config import GeneratorConfig
    from simulator.generate import LandingZoneInUse
    from simulator.generate import generate as run

    today = dt.date.today()
    end_date = end.date() if end else today - dt.timedelta(days=1)
    start_date = start.date() if start else end_date - dt.timedelta(days=364)
    kwargs = ({"out": out} if out else {}) | ({"workers": workers} if workers else {})
    try:
        cfg = GeneratorConfig(customers=customers, seed=seed, start=start_date, end=end_date, defects=defects,
                              fraud_rate=fraud_rate,
                              order_batch_minutes=order_batch_minutes, quiet=quiet, compress=compress,
                              **kwargs)  # fmt: skip
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    try:
        run(cfg, overwrite=overwrite)
    except LandingZoneInUse as err:
        raise click.ClickException(str(err)) from err


@cli.command()
@click.option("--select", default=None, help="Asset selection, e.g. 'web_events' or 'key:raw/customers+' "
              "(default: everything).")  # fmt: skip
@click.option("--partition-range", default=None, metavar="FIRST...LAST",
              help="Load exactly these partitions of the selected time-partitioned sources, replacing them "
              "(e.g. 2026-01-01...2026-01-03 for customers or web_events, 2026-01...2026-03 for brands). "
              "Default: catch up on every new or changed landing file.")  # fmt: skip
@click.option("--full-refresh", is_flag=True, help="Rebuild the incremental dbt models from scratch.")
@click.option("--timings", default=None, type=click.Path(dir_okay=False), help="Also write each run's label, "
              "seconds and the peak memory so far to this JSON file (make bench reads it).")  # fmt: skip
def materialize(select: str | None, partition_range: str | None, full_refresh: bool, timings: str | None) -> None:
    """Load the landing zone and build the models, in-process, on the configured target."""
    from rich.console import Console

    from c360_cli.run import materialize as run
    from c360_cli.run import show_progress
    from c360_core import spark as cluster
    from c360_core.settings import settings
    from orchestration.defs.dbt.project import ensure_manifest
    from orchestration.lib.instance import export_dagster_env
    from orchestration.plan import BadSelection

    export_dagster_env()
    ensure_manifest()  # the definitions read the parsed project; they never parse it themselves
    cfg = settings()
    console = Console()
    where = {"duckdb": cfg.duckdb_path, "postgres": f"postgres {cfg.pg_host}:{cfg.pg_port}/{cfg.pg_database}",
             "spark": f"spark {cluster.remote_url(cfg)}"}[cfg.target]  # fmt: skip
    console.print(f"Materializing on {where} (as of {cfg.as_of_date})")
    show_progress(console)
    try:
        ok = run(select, console, partition_range=partition_range, full_refresh=full_refresh, timings=timings)
    except BadSelection as err:
        raise click.ClickException(str(err)) from err
    if not ok:
        raise SystemExit(1)


def _rate(value: str) -> float:
    number = value.removesuffix("/s")
    try:
        rate = float(number)
    except ValueError as err:
        raise click.BadParameter(f"{value!r}: give changes per second, e.g. 5/s") from err
    if rate <= 0:
        raise click.BadParameter("the rate must be above 0")
    return rate


@cli.command("simulate-shop")
@click.option("--rate", default="2/s", show_default=True, help="Changes (new orders or status updates) per second.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds (default: run until Ctrl-C).")
@click.option("--update-share", default=0.5, show_default=True, help="Share of changes that update an open order.")
@click.option("--batch-seconds", default=5.0, show_default=True, help="Embedded mode: seconds per micro-batch file.")
@click.option("--seed", type=int, default=None, help="Random seed (default: random).")
def simulate_shop(rate: str, duration: float | None, update_share: float, batch_seconds: float, seed) -> None:
    """Place and update orders continuously: in the Postgres `shop` schema, or as landing/shop/ files."""
    from c360_core.settings import settings
    from orchestration.lib.shop import shop_dsn
    from simulator.live_shop import LandingShop, LiveShop, PostgresShop, run

    cfg = settings()
    per_second = _rate(rate)
    try:
        shop = LiveShop(cfg.landing, seed=seed, update_share=update_share)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    sink = PostgresShop(shop_dsn(cfg)) if cfg.target == "postgres" else LandingShop(cfg.landing, batch_seconds)
    where = f"postgres {cfg.shop_database}.shop" if cfg.target == "postgres" else f"{cfg.landing}/shop/"
    click.echo(f"simulating the shop at {per_second:g} changes/s into {where} (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        run(shop, sink, per_second, duration)
    click.echo(f"{shop.created} orders placed, {shop.updated} status updates")


@cli.command()
def prepare() -> None:
    """Parse the dbt project into dbt_project/target (when a file of it changed): what the Dagster definitions
    read when they load. `make` runs it; so does every c360 command that runs the graph."""
    from orchestration.defs.dbt.project import ensure_manifest

    click.echo(f"dbt project parsed: {ensure_manifest()}")


@cli.command()
def env() -> None:
    """Print every setting as a shell export, defaults filled in (c360_core/settings.py, the one place they are
    defined): `eval "$(.venv/bin/c360 env)"` gives a shell, or the Makefile, the values c360 uses. The as-of
    date printed is pinned: today's, unless C360_AS_OF_DATE is set."""
    import shlex

    from c360_core.settings import settings
    from orchestration.lib.instance import dagster_env

    for name, value in {**settings().environment(), **dagster_env()}.items():
        click.echo(f"export {name}={shlex.quote(value)}")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """dbt on the configured warehouse, with every setting passed, e.g. c360 dbt build --select customer_360.

    By hand, outside Dagster: no run is recorded, and the warehouse must not be written by a run meanwhile.
    """
    import os
    import subprocess

    from orchestration.defs.dbt.project import DBT_DIR, DBT_EXECUTABLE, dbt_env

    dirs = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)] if args else []
    command = [str(DBT_EXECUTABLE), *args, *dirs]
    raise SystemExit(subprocess.run(command, env={**os.environ, **dbt_env()}, check=False).returncode)


@cli.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """The Dagster UI (`dagster dev`) on this project, at http://127.0.0.1:PORT, after `c360 prepare`."""
    import os

    from c360_core.settings import settings
    from orchestration.defs.dbt.project import ensure_manifest
    from orchestration.lib.instance import REPO_ROOT, dagster_env

    ensure_manifest()
    values = {**settings().environment(), **dagster_env()}
    if "C360_AS_OF_DATE" not in os.environ:  # unpinned: each run of a long-lived UI takes its own day's date
        del values["C360_AS_OF_DATE"]
    os.chdir(REPO_ROOT)  # dagster dev reads workspace.yaml there
    dagster = str(Path(sys.executable).parent / "dagster")
    os.execve(dagster, [dagster, "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
              {**os.environ, **values})  # fmt: skip


@cli.command()
@click.argument("datasets", nargs=-1)
def quality(datasets: tuple[str, ...]) -> None:
    """Verify the Soda contracts now (all, or the DATASETS named, e.g. raw.customers) and print the scores.

    Outside Dagster, for a quick look or after fixing data by hand; the results join the same history.
    """
    from c360_cli.quality import verify_and_report

    raise SystemExit(verify_and_report(list(datasets)))


@cli.command()
@click.argument("query")
@click.option("--as", "role", default=None, help="On PostgreSQL, run as this role (e.g. c360_marketing): the server "
              "enforces what it may see. Recorded in audit.access_log either way.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="table: the first 200 rows, readable; csv or json: every row, for a file or a program.")  # fmt: skip
def sql(query: str, role: str | None, fmt: str) -> None:
    """Run a SQL query on the configured warehouse and print the result (audited)."""
    from c360_cli.sql import run_sql

    raise SystemExit(run_sql(query, role, fmt))


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def mf(args: tuple[str, ...]) -> None:
    """MetricFlow's `mf` on the configured warehouse, e.g. c360 mf query --saved-query daily_kpis.

    Parses the dbt project for this warehouse first, so the semantic manifest names its database.
    """
    from c360_cli.semantic import run_mf

    raise SystemExit(run_mf(list(args)))


@cli.command()
@click.option("--customer-id", required=True, help="The CRM customer_id to erase.")
@click.option("--reason", default="", help="Why (kept with the request, e.g. a ticket number).")
def forget(customer_id: str, reason: str) -> None:
    """Erase a customer from every table, in one transaction, and keep their records out of later loads.

    The request (not the personal data) is kept in audit.erasure_requests; docs/governance.md.
    """
    from rich.console import Console

    from c360_core.settings import settings
    from governance.erasure import forget as erase

    done = erase(settings(), customer_id, reason)
    console = Console()
    for table, count in sorted(done.rows_removed.items()):
        console.print(f"removed {count:,} row(s) from {table}")
    console.print(f"replaced {done.values_scrubbed:,} value(s) in free text; request {done.request_id} recorded")


@cli.group()
def spark() -> None:
    """The Spark cluster on this machine: a master, two workers and a Spark Connect server (docs/scale.md)."""


@spark.command("start")
def spark_start() -> None:
    """Start what is not running: the master and the workers, then the Connect server once both registered."""
    from c360_core import spark as cluster
    from c360_core.settings import settings

    cfg = settings()
    try:
        for line in cluster.start(cfg):
            click.echo(line)
    except cluster.SparkError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"master: {cluster.master_url(cfg)}")
    click.echo(f"clients connect to: {cluster.remote_url(cfg)}")


@spark.command("stop")
def spark_stop() -> None:
    """Stop the Connect server, the workers and the master."""
    from c360_core import spark as cluster
    from c360_core.settings import settings

    for line in cluster.stop(settings()) or ["nothing was running"]:
        click.echo(line)


@spark.command("status")
def spark_status() -> None:
    """Each process of the cluster: running (with its pid and web UI) or stopped. Exit 1 unless all run."""
    from c360_core import spark as cluster
    from c360_core.settings import settings

    found = cluster.status(settings())
    for name, state in found.items():
        click.echo(f"{name}: {state}")
    if not all(state.startswith("running") for state in found.values()):
        raise SystemExit(1)


@cli.group()
def grants() -> None:
    """Roles, privileges and row-level security on PostgreSQL, from governance/access.yml."""


@grants.command("apply")
def grants_apply() -> None:
    """Make the server's c360 roles match the access file (idempotent; revokes what it no longer grants)."""
    from rich.console import Console

    from c360_core.settings import settings
    from governance.grants import apply

    cfg, console = settings(), Console()
    if cfg.target != "postgres":
        console.print("DuckDB has no roles: the share views exist, but nothing is enforced (docs/governance.md).")
        return
    done = apply(cfg)
    console.print(f"roles: {', '.join(done.roles)}")
    console.print(f"row-level security policies: {done.policies}")
    if done.dropped:
        console.print(f"dropped (no longer in the access file): {', '.join(done.dropped)}")


def _in_warehouse(work):
    """work(wh) on the configured warehouse; its result."""
    from c360_core.settings import settings
    from c360_core.warehouse import connect

    with connect(settings()) as wh:
        return work(wh)


def _print_rows(rows) -> None:
    for row in rows:
        click.echo("\t".join("" if v is None else str(v) for v in row))


@cli.group()
def tokens() -> None:
    """API tokens: each acts as one governance role (docs/serving.md)."""


@tokens.command("create")
@click.option("--role", required=True, help="The governance role the token acts as (governance/access.yml).")
@click.option("--days", type=int, default=None, help="Days until it expires (default: C360_API_TOKEN_DAYS).")
def tokens_create(role: str, days: int | None) -> None:
    """Create a token and print it once (only its hash is kept)."""
    from c360_core.settings import settings
    from c360_core.warehouse import connect
    from serving import tokens as store
    from serving.access import roles

    cfg = settings()
    if role not in roles():
        raise click.BadParameter(f"{role!r} is not a role of {cfg.access_file}: one of {', '.join(roles())}")
    with connect(cfg) as wh:
        token, made = store.create(wh, role, dt.timedelta(days=days or cfg.api_token_days), cfg.user)
    click.echo(token)
    click.echo(f"role {made.role}, id {made.token_id}, expires {made.expires_at:%Y-%m-%d %H:%M} UTC; "
               "shown once: keep it", err=True)  # fmt: skip


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after `c360_`): refused from the next request on."""
    from serving import tokens as store

    if not _in_warehouse(lambda wh: store.revoke(wh, token_id)):
        raise click.ClickException(f"no active token with id {token_id}")
    click.echo(f"revoked {token_id}")


@tokens.command("list")
def tokens_list() -> None:
    """Every token: id, role, kind, who issued it, created, expires, revoked (never a secret)."""
    from serving import tokens as store

    _print_rows(_in_warehouse(store.listing))


@cli.group()
def webhooks() -> None:
    """Business webhooks: subscriptions and their deliveries (docs/serving.md)."""


@webhooks.command("subscribe")
@click.option("--url", required=True, help="Where to POST the events.")
@click.option("--events", required=True, help="Comma-separated: audience.entered, audience.exited, "
              "churn_risk.became_high, quality.dropped, anomaly.detected.")  # fmt: skip
@click.option("--secret", default=None, help="The HMAC-SHA256 signing secret (default: a random one, printed).")
def webhooks_subscribe(url: str, events: str, secret: str | None) -> None:
    """Subscribe a URL to events found from now on; prints its id and signing secret."""
    from c360_core.settings import settings
    from c360_core.warehouse import connect
    from webhooks import store

    with connect(settings()) as wh:
        try:
            made = store.subscribe(wh, url, [e.strip() for e in events.split(",") if e.strip()], secret)
        except ValueError as err:
            raise click.BadParameter(str(err)) from err
    click.echo(f"subscription {made.subscription_id}: {', '.join(made.events)} -> {made.url}")
    click.echo(f"signing secret: {made.secret}")


@webhooks.command("unsubscribe")
@click.argument("subscription_id")
def webhooks_unsubscribe(subscription_id: str) -> None:
    """Stop a subscription."""
    from webhooks import store

    if not _in_warehouse(lambda wh: store.unsubscribe(wh, subscription_id)):
        raise click.ClickException(f"no active subscription {subscription_id}")
    click.echo(f"unsubscribed {subscription_id}")


@webhooks.command("list")
def webhooks_list() -> None:
    """Active subscriptions: id, events, URL, last event delivered."""
    from webhooks import store

    subs = _in_warehouse(store.subscriptions)
    _print_rows([(s.subscription_id, ",".join(s.events), s.url, s.delivered_through) for s in subs])


@webhooks.command("deliveries")
@click.option("--limit", default=50, show_default=True)
def webhooks_deliveries(limit: int) -> None:
    """The latest delivery attempts: when, subscription, event, attempt, HTTP status, error."""
    from webhooks import store

    def latest(wh):
        store.ensure(wh)
        return wh.query(f"select attempted_at, subscription_id, event_no, attempt, status_code, error "
                        f"from {store.DELIVERIES} order by attempted_at desc limit ?", [limit])[1]  # fmt: skip

    _print_rows(_in_warehouse(latest))


@cli.group()
def serve() -> None:
    """Serve c360 to people: the REST API and the dashboard, one server (docs/serving.md)."""


def _serve(host: str, port: int, page: str) -> None:
    import uvicorn

    from serving.api import create_app

    base = f"http://{host}:{port}"
    click.echo(f"API:       {base}/api/v2/... (OpenAPI docs at {base}/docs)")
    click.echo(f"Dashboard: {base}/dashboard/ (sign in with a token: c360 tokens create --role c360_steward)")
    click.echo(f"Opening:   {base}{page}")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@serve.command("api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_api(host: str, port: int) -> None:
    """The REST API v2 on the configured warehouse, OpenAPI docs at /docs (the dashboard at /dashboard/)."""
    _serve(host, port, "/docs")


@serve.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve_dashboard(host: str, port: int) -> None:
    """The dashboard at /dashboard/ (the same server as the API: one connection to a DuckDB warehouse)."""
    _serve(host, port, "/dashboard/")


def main() -> None:
    """`c360`: the commands, then an exit without the interpreter's teardown (c360_cli/compat.py says why)."""
    try:
        cli()
        code = 0
    except SystemExit as done:  # how click ends every command
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if isinstance(done.code, str):
            print(done.code, file=sys.stderr)
    exit_now(code)


if __name__ == "__main__":
    main()
