"""API latency under load: `c360 serve api` in its own process on 127.0.0.1, clients in threads.

Three kinds of request, each a fixed number of times at a fixed concurrency, bounded in time too:
a profile look-up, on-demand churn scoring and a semantic-layer metric query. Reports p50, p95, p99 and max
per kind, and the errors (any answer but 200 counts). Then each dashboard page's first render in headless
Chromium (Debian's chromium, driven by Playwright): from navigation to its content on screen.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import duckdb
import requests

REQUESTS = {"profile look-up": 2000, "on-demand churn scoring": 400, "metric query": 200}
TARGET_P95_MS = {"profile look-up": 50, "on-demand churn scoring": 200, "metric query": 1000}
CONCURRENCY = 4
CHROMIUM = os.environ.get("C360_CHROMIUM", "/usr/bin/chromium")
# each dashboard page, and the element that shows it has rendered its figures
PAGES = {"": "[data-kpi]", "analytics": "#body .js-plotly-plot", "models": "#card-churn img", "query": "#q-run",
         "quality": ".dash-table-container", "reports": "#body [data-kpi]", "customer": "#c-button"}  # fmt: skip
TIME_LIMIT_S = 120  # per kind: stop early rather than run on
METRICS = [  # (metrics, group_by) as an analyst would ask them
    ("total_customers", "customer__state"),
    ("order_count,total_order_value", "metric_time__month"),
    ("cart_adds", "metric_time__week"),
    ("sessions", ""),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ids(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Customers to look up, and buyers to score (read before the API holds the file)."""
    with duckdb.connect(env["C360_DUCKDB_PATH"], read_only=True) as con:
        everyone = [r[0] for r in con.execute("select customer_id from marts.customer_360").fetchall()]
        buyers = [r[0] for r in con.execute("select customer_id from ml.churn_predictions").fetchall()]
    return everyone, buyers


@contextlib.contextmanager
def _server(env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """The API and a steward token; yields (base URL, token)."""
    cli = [sys.executable, "-m", "c360_cli.main"]
    # the latency of answers, not of refusals: the token's per-minute limit (1000 by default) would turn most of
    # the run into 429s (the first run at 10k: 1,603 of 3,603 requests were 429)
    full = {**os.environ, **env, "C360_API_RATE_LIMIT": "100000000"}
    token = subprocess.run([*cli, "tokens", "create", "--role", "c360_steward"], env=full, check=True,
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    port = _free_port()
    process = subprocess.Popen([*cli, "serve", "api", "--port", str(port)], env=full,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/openapi.json", timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the API did not start")
            time.sleep(0.2)
        yield url, token
    finally:
        process.terminate()
        process.wait(30)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_api(env: dict[str, str], customers: int, days: int) -> list[dict]:
    everyone, buyers = _ids(env)
    rng = random.Random(7)
    results = []
    with _server(env) as (url, token):
        session_headers = {"Authorization": f"Bearer {token}"}

        def call(kind: str, i: int) -> tuple[float, int]:
            started = time.perf_counter()
            if kind == "profile look-up":
                answer = requests.get(f"{url}/api/v2/customers/{rng.choice(everyone)}", headers=session_headers,
                                      timeout=60)  # fmt: skip
            elif kind == "on-demand churn scoring":
                answer = requests.post(f"{url}/api/v2/predictions/churn", json={"customer_id": rng.choice(buyers)},
                                       headers=session_headers, timeout=60)  # fmt: skip
            else:
                metrics, group_by = METRICS[i % len(METRICS)]
                answer = requests.get(f"{url}/api/v2/metrics", params={"metrics": metrics, "group_by": group_by},
                                      headers=session_headers, timeout=60)  # fmt: skip
            return (time.perf_counter() - started) * 1000, answer.status_code

        for kind, count in REQUESTS.items():
            call(kind, 0)  # warm: the first metric query loads MetricFlow, the first score the champion
            started, timings, errors = time.monotonic(), [], 0
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                for ms, status in pool.map(lambda i, k=kind: call(k, i), range(count)):
                    timings.append(ms)
                    errors += status != 200
                    if time.monotonic() - started > TIME_LIMIT_S:
                        break
            wall = time.monotonic() - started
            record = {"stage": f"api: {kind}", "customers": customers, "days": days, "seconds": round(wall, 2),
                      "peak_rss_mib": None, "requests": len(timings), "errors": errors, "concurrency": CONCURRENCY,
                      "p50_ms": round(_percentile(timings, 0.5), 1), "p95_ms": round(_percentile(timings, 0.95), 1),
                      "p99_ms": round(_percentile(timings, 0.99), 1), "max_ms": round(max(timings), 1),
                      "target_p95_ms": TARGET_P95_MS[kind]}  # fmt: skip
            print(f"  api {kind}: p95 {record['p95_ms']} ms over {len(timings)} requests, {errors} errors", flush=True)
            results.append(record)
        results += bench_dashboard(url, token, customers, days)
    return results


def bench_dashboard(url: str, token: str, customers: int, days: int) -> list[dict]:
    """Each page's first render after sign-in: navigation to its figures on screen, in the signed-in tab (the
    token lives in the tab's session storage, so a new tab would start at the sign-in form), its cache warm
    from the sign-in as a user's would be."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415  (a dev dependency: the bench's only)

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/dashboard/")
        page.fill("#login-token", token)
        page.click("#login-button")
        page.wait_for_selector("#whoami:has-text('role')", timeout=300_000)
        for name, ready in PAGES.items():
            page.goto("about:blank")
            started = time.perf_counter()
            page.goto(f"{url}/dashboard/{name}")
            page.wait_for_selector(ready, timeout=300_000)
            # every callback answered (dcc.Tabs' own tabs keep the loading mark for good in Dash 4)
            page.wait_for_function("!document.querySelector('[data-dash-is-loading]:not(.tab)')", timeout=300_000)
            seconds = round(time.perf_counter() - started, 2)
            results.append({"stage": f"dashboard: /{name}", "customers": customers, "days": days,
                            "seconds": seconds, "peak_rss_mib": None})  # fmt: skip
            print(f"  dashboard /{name}: first render {seconds} s", flush=True)
        browser.close()
    return results
