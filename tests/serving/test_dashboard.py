"""The dashboard in a real browser: headless Chromium (Playwright) against the API server's /dashboard/, over
the ML warehouse. Figures are checked against the landing files, or against SQL on marts other tests verify
against them; the prediction form against the API; exports are opened (the PDF parsed, the HTML rendered)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
import requests
from playwright.sync_api import Browser, Page

from governance.grants import load_access
from tests.support import expected
from tests.support.browser import Tab, screenshots
from tests.support.ml_warehouse import ML_AS_OF
from tests.support.serving import issue, serve
from tests.support.warehouse import landing_of, query

PAGES = {"": "[data-kpi]", "analytics": "#body .js-plotly-plot", "models": "#card-churn img",
         "query": "#q-run", "quality": "#body, .dash-table-container", "reports": "#body [data-kpi]",
         "customer": "#c-button"}  # fmt: skip
START = ML_AS_OF - dt.timedelta(days=364)  # the pages' default date range: the year up to C360_AS_OF_DATE
WAIT_MS = 90_000
# waits (up to 20 s) until no dcc.Graph is pending and each holds a drawn Plotly chart, then counts
DRAWN_CHARTS = """async () => {
  const count = (selector) => document.querySelectorAll(selector).length;
  const counts = () => ({graphs: count('.dash-graph'), plots: count('.js-plotly-plot'),
                         png_buttons: count(".modebar-btn[data-title='Download plot as a PNG']")});
  for (let waited = 0; waited < 20000; waited += 100) {
    const now = counts();
    if (!document.querySelector('.dash-graph--pending') && now.plots === now.graphs && now.png_buttons === now.plots)
      return now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return counts();
}"""
# the page-by-page tests run on DuckDB; the role test runs on both. (Not `parametrize(..., indirect=True)`: a
# second parametrization of the session's warehouse fixture makes pytest build it again for each switch.)
DUCKDB = pytest.mark.duckdb_only


@dataclasses.dataclass
class Site:
    url: str
    values: dict[str, str]
    tokens: dict[str, str]
    browser: Browser
    opened: list[Page] = dataclasses.field(default_factory=list)

    def blank(self) -> Tab:
        """A new browser tab, closed at the end of the test (an open Dash page keeps its renderer busy)."""
        page = self.browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        self.opened.append(page)
        return Tab(page)

    def close_all(self) -> None:
        while self.opened:
            self.opened.pop().close()

    def tab(self, role: str = "c360_steward", page: str = "") -> Tab:
        """A new browser tab signed in as `role`, on `page`."""
        tab = self.blank()
        tab.page.goto(self.url + "/dashboard/")
        tab.page.fill("#login-token", self.tokens[role])
        tab.page.click("#login-button")
        tab.page.wait_for_selector("#whoami:has-text('role')", timeout=WAIT_MS)
        if page:
            tab.page.goto(self.url + "/dashboard/" + page)
        tab.page.wait_for_selector(PAGES[page], timeout=WAIT_MS)
        return tab


@pytest.fixture(scope="module")
def site(ml_built, chromium) -> Iterator[Site]:
    roles = ("c360_steward", "c360_marketing", "c360_analyst_west")
    issued = {role: issue(ml_built, role) for role in roles}
    with serve(ml_built) as url:
        yield Site(url, ml_built, issued, chromium)


@pytest.fixture(autouse=True)
def tabs_closed(request) -> Iterator[None]:
    yield
    if "site" in request.fixturenames:
        request.getfixturevalue("site").close_all()


@pytest.fixture(scope="module")
def files(ml_built) -> dict:
    landing = landing_of(ml_built)
    return {"orders": expected.latest_orders(landing), "crm": expected.latest(landing, "customers", "customer_id")}


def sales(files: dict, states: set[str] | None = None, customers: set[str] | None = None) -> tuple[Decimal, int]:
    """Revenue and counted orders in the default date range, of customers in `states` (and `customers`), from
    the files."""
    total, count = Decimal(0), 0
    for order in files["orders"].values():
        day = dt.datetime.strptime(order["order_date"], "%Y-%m-%dT%H:%M:%SZ").date()
        if order["order_status"] in ("Canceled", "Returned") or not START <= day <= ML_AS_OF:
            continue
        if states is not None and files["crm"].get(order["customer_id"], {}).get("state") not in states:
            continue
        if customers is not None and order["customer_id"] not in customers:
            continue
        total += expected.money(order["total_amount"])
        count += 1
    return total, count


def kpis(page: Page, unlike: dict[str, str] | None = None) -> dict[str, str]:
    """The KPI cards once the page has settled (and, given `unlike`, once they show other figures than it)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while True:
        page.wait_for_function("!document.querySelector('[data-dash-is-loading]')", timeout=WAIT_MS)
        cards = page.locator("[data-kpi]").all()
        shown = {k.get_attribute("data-kpi"): k.locator(".value").inner_text() for k in cards}
        if shown and all(v.strip() for v in shown.values()) and shown != unlike:
            return shown
        assert time.monotonic() < deadline, f"the KPIs did not change from {unlike}"
        time.sleep(0.2)


def number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def choose(page: Page, dropdown: str, value: str) -> None:
    page.click(f"#{dropdown}")
    page.click(f"[role=option]:has-text('{value}')")
    page.keyboard.press("Escape")


def download(page: Page, button: str) -> Path:
    """The file a click on `button` downloads, under the name the page gave it."""
    with page.expect_download(timeout=WAIT_MS) as done:
        page.click(button)
    path = Path(tempfile.mkdtemp(prefix="c360-download-")) / done.value.suggested_filename
    done.value.save_as(path)
    return path


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))  # the export starts with a BOM


@DUCKDB
def test_every_page_renders_with_no_error(site):
    tab = site.tab()
    for name, ready in PAGES.items():
        clock = time.perf_counter()
        tab.page.goto(site.url + "/dashboard/" + name)
        tab.page.wait_for_selector(ready, timeout=WAIT_MS)
        tab.page.wait_for_load_state("networkidle")
        took = time.perf_counter() - clock
        # every chart: hover tooltips and zoom are Plotly's own; its toolbar downloads a PNG, and nothing uploads.
        # A chart may still be drawing after the page's ready mark: count once every dcc.Graph holds a drawn plot.
        drawn = tab.page.evaluate(DRAWN_CHARTS)
        assert drawn["plots"] == drawn["graphs"] and drawn["png_buttons"] == drawn["plots"], (name, drawn)
        assert tab.page.locator(".modebar-btn[data-title='Share chart...']").count() == 0, name
        shown = tab.page.locator(".error, .refused").all_inner_texts()
        assert shown == [], f"page /{name} shows {shown}"
        assert "Traceback" not in tab.page.content() and "Error" not in tab.page.title()
        if screenshots():
            screenshots().mkdir(parents=True, exist_ok=True)
            tab.page.screenshot(path=screenshots() / f"dashboard-{name or 'executive'}.png")
        print(f"/dashboard/{name}: first render {took:.2f} s")
    assert tab.errors == [], tab.errors


@DUCKDB
def test_a_filter_changes_every_figure_to_what_the_files_say(site, files):
    tab = site.tab()
    revenue, orders = sales(files)
    before = kpis(tab.page)
    assert number(before["Revenue"]) == revenue and number(before["Orders"]) == orders
    # the drill-down: a click on the biggest state's bar filters the whole page to that state
    states = {r["state"] for r in files["crm"].values()}
    top = max(states, key=lambda s: sales(files, {s})[0])
    bar = tab.page.locator("[id*='revenue_by_state'] .bars .point path").first.bounding_box()
    tab.page.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # as a person clicks: on top
    after = kpis(tab.page, unlike=before)
    assert tab.page.inner_text("#f-state") == top
    revenue, orders = sales(files, {top})
    assert number(after["Revenue"]) == revenue and number(after["Orders"]) == orders
    high = query(site.values, f"select count(*) from marts.customer_360 where state = '{top}' and "
                 "churn_risk_band = 'high'")[0][0]  # fmt: skip
    assert number(after["Customers at high churn risk"]) == high
    # and the filters themselves: a state, then an RFM segment on top of it
    choose(tab.page, "f-state", "TX")
    texas = kpis(tab.page, unlike=after)
    assert number(texas["Revenue"]) == sales(files, {"TX"})[0]
    choose(tab.page, "f-segment", "Champions")
    scores = expected.rfm(landing_of(site.values), ML_AS_OF)
    champions = {c for c, rfm in scores.items() if expected.segment(*rfm) == "Champions"}
    want = sales(files, {"TX"}, champions)
    shown = kpis(tab.page, unlike=texas)
    assert (number(shown["Revenue"]), number(shown["Orders"])) == want
    assert tab.errors == [], tab.errors


@DUCKDB
def test_a_tables_csv_download_equals_the_sql_result(site):
    tab = site.tab(page="reports")
    choose(tab.page, "report-pick", "Customer")
    table = "[id*='segment_table']"
    tab.page.wait_for_selector(table, timeout=WAIT_MS)
    path = download(tab.page, f"{table} .export")
    rows = read_csv(path)
    want = query(site.values, "select rfm_segment, count(*), avg(cast(total_order_value as double)) from "
                 "marts.customer_360 group by 1")  # fmt: skip
    assert {r["rfm_segment"]: int(r["customers"]) for r in rows} == {w[0]: w[1] for w in want}
    assert {r["rfm_segment"]: float(r["avg_value"]) for r in rows} == pytest.approx({w[0]: w[2] for w in want})
    assert tab.errors == [], tab.errors


@DUCKDB
def test_the_executive_page_and_every_report_export_to_pdf_and_html(site, files):
    tab = site.tab()
    revenue, _ = sales(files)
    pdf = pypdf.PdfReader(download(tab.page, "#export-pdf"))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Executive dashboard" in text and f"Revenue: {revenue:,.2f}" in text
    assert len(pdf.pages) == 1 + 4  # the KPIs, then one page per chart
    html = download(tab.page, "#export-html")
    viewer = site.blank()
    viewer.page.goto(html.as_uri())
    viewer.page.wait_for_selector(".js-plotly-plot .main-svg", timeout=WAIT_MS)
    assert viewer.page.locator(".js-plotly-plot").count() == 4
    assert f"{revenue:,.2f}" in viewer.page.inner_text(".kpis")
    assert viewer.errors == [], viewer.errors
    tab.page.goto(site.url + "/dashboard/reports")
    tab.page.wait_for_selector(PAGES["reports"], timeout=WAIT_MS)
    for report in ("Sales", "Customer", "Product", "Marketing"):
        choose(tab.page, "report-pick", report)
        tab.page.wait_for_selector(f"#report-title:has-text('{report} report')", timeout=WAIT_MS)
        pdf = pypdf.PdfReader(download(tab.page, "#export-pdf"))
        assert f"{report} report" in pdf.pages[0].extract_text()
        page = download(tab.page, "#export-html").read_text()
        assert f"<title>{report} report</title>" in page and "Plotly.newPlot" in page
    assert tab.errors == [] and viewer.errors == [], (tab.errors, viewer.errors)


@DUCKDB
def test_the_prediction_form_gives_the_apis_score(site):
    scored = [r[0] for r in query(site.values, "select customer_id from ml.churn_predictions order by 1 limit 2")]
    tab = site.tab(page="models")
    for title in ("calibration", "lift", "roc"):
        assert tab.page.locator(f"#card-churn img[title={title}]").count() == 1, title
    assert tab.page.locator("#card-clv, #card-clusters").count() == 2
    for customer in scored:
        tab.page.fill("#predict-id", customer)
        tab.page.click("#predict-button")
        tab.page.wait_for_selector(f"#predict-customer:has-text('{customer}')", timeout=WAIT_MS)
        shown = float(tab.page.inner_text("#predict-probability"))
        steward = {"Authorization": f"Bearer {site.tokens['c360_steward']}"}
        api = requests.post(site.url + "/api/v2/predictions/churn", json={"customer_id": customer}, headers=steward,
                            timeout=60).json()  # fmt: skip
        assert shown == pytest.approx(api["churn_probability"], abs=5e-5)
        assert tab.page.inner_text("#predict-band") == api["churn_risk_band"]
        assert tab.page.locator("#predict-reasons li").all_inner_texts() == api["reasons"]
    assert tab.errors == [], tab.errors


@DUCKDB
def test_the_query_builder_and_the_customer_look_up_equal_the_files(site, files):
    tab = site.tab(page="query")
    choose(tab.page, "q-dims", "customer__state")
    tab.page.click("#q-run")
    table = "[id*='query_result']"
    tab.page.wait_for_selector(table, timeout=WAIT_MS)
    rows = read_csv(download(tab.page, f"{table} .export"))
    by_state = {}
    for order in files["orders"].values():
        day = dt.datetime.strptime(order["order_date"], "%Y-%m-%dT%H:%M:%SZ").date()
        state = files["crm"].get(order["customer_id"], {}).get("state")
        if order["order_status"] not in ("Canceled", "Returned") and START <= day <= ML_AS_OF and state:
            by_state[state] = by_state.get(state, Decimal(0)) + expected.money(order["total_amount"])
    assert {r["state"]: Decimal(r["revenue"]).quantize(Decimal("0.01")) for r in rows} == by_state
    customer = sorted(c for c in expected.customer_orders(landing_of(site.values), ML_AS_OF))[0]
    want = expected.customer_orders(landing_of(site.values), ML_AS_OF)[customer]
    tab.page.goto(site.url + "/dashboard/customer")
    tab.page.wait_for_selector("#c-button", timeout=WAIT_MS)
    tab.page.fill("#c-id", customer)
    tab.page.click("#c-button")
    tab.page.wait_for_selector("#c-out [data-kpi]", timeout=WAIT_MS)
    shown = kpis(tab.page)
    assert number(shown["Orders"]) == want["orders_count"]
    assert number(shown["Total order value"]) == want["total_order_value"]
    assert tab.errors == [], tab.errors


def test_a_role_sees_only_what_it_may(site, files):
    """A regional analyst's pages hold only its region (PostgreSQL: row-level security, through the server);
    marketing sees masked values; a bad token gets the sign-in page again. Both targets."""
    role = "c360_analyst_west"
    states = set(load_access().analysts[role])
    tab = site.tab(role)
    revenue, orders = sales(files, states)
    shown = kpis(tab.page)
    assert number(shown["Revenue"]) == revenue and number(shown["Orders"]) == orders
    tab.page.click("#f-state")
    offered = set(tab.page.locator("[role=option]").all_inner_texts())
    tab.page.keyboard.press("Escape")
    assert offered == {s for s in states if any(r["state"] == s for r in files["crm"].values())}
    outsider = sorted(c for c, r in files["crm"].items() if r["state"] not in states)[0]
    tab.page.goto(site.url + "/dashboard/customer")
    tab.page.wait_for_selector("#c-button", timeout=WAIT_MS)
    tab.page.fill("#c-id", outsider)
    tab.page.click("#c-button")
    tab.page.wait_for_selector("#c-out .error", timeout=WAIT_MS)
    assert tab.errors == [], tab.errors

    marketing = site.tab("c360_marketing", page="customer")
    customer = sorted(files["crm"])[0]
    marketing.page.fill("#c-id", customer)
    marketing.page.click("#c-button")
    marketing.page.wait_for_selector("[id*='profile'], #c-out .error, #c-out .refused", timeout=WAIT_MS)
    assert marketing.page.locator("#c-out .error, #c-out .refused").all_inner_texts() == []
    profile = {r["field"]: r["value"] for r in read_csv(download(marketing.page, "[id*='\"profile\"'] .export"))}
    assert profile["customer_id"] == customer
    assert "annual_income" not in profile and "date_of_birth" not in profile  # banded for marketing
    assert profile["age_band"] and profile["income_band"]
    assert marketing.errors == [], marketing.errors

    stranger = site.blank()
    stranger.page.goto(site.url + "/dashboard/")
    stranger.page.fill("#login-token", "c360_nope_nope")
    stranger.page.click("#login-button")
    stranger.page.wait_for_selector("#login-error:has-text('Unknown')", timeout=WAIT_MS)
    assert stranger.page.locator("[data-kpi]").count() == 0
