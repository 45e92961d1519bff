"""The dashboard's pages and callbacks (Dash, mounted by the API server under /dashboard/).

Sign-in takes an API token (`c360 tokens create --role ...`); it is kept in the browser tab's session storage
and checked on every callback, so the pages show what that role may see, as the API does. Pages: executive
(/), analytics, models, query builder, quality, reports and a customer look-up.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import functools
import tempfile
import time
from pathlib import Path

import dash
import pandas as pd
import psycopg
from dash import Input, Output, State, dash_table, dcc, html

from ml.ondemand import NotScorable, OnDemandChurn
from ml.pipeline import FAMILIES, MLError
from serving.access import Forbidden, Reader
from serving.backend import Backend
from serving.dashboard import content
from serving.dashboard.data import Data, Filters
from serving.dashboard.reports import CHART_CONFIG, Report, Section, figure, kpi_text, to_html, to_pdf

PREFIX = "/dashboard/"
PAGES = {
    "": "Executive",
    "analytics": "Analytics",
    "models": "Models",
    "query": "Query builder",
    "quality": "Data quality",
    "reports": "Reports",
    "customer": "Customer look-up",
}
CARD_SECONDS = 60.0
STYLE = {"font-family": "sans-serif", "margin": "0 1.5em 2em", "color": "#222"}


def create_dashboard(backend: Backend, scorer: OnDemandChurn) -> dash.Dash:
    data = Data(backend)
    app = dash.Dash(
        __name__,
        requests_pathname_prefix=PREFIX,
        routes_pathname_prefix="/",
        title="c360",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            dcc.Store(id="token", storage_type="session"),
            dcc.Store(id="report-key", data="executive"),
            dcc.Download(id="download"),
            html.Header(
                [
                    html.Strong("c360", style={"font-size": "1.4em", "color": "#1f77b4", "margin-right": "1em"}),
                    *[
                        dcc.Link(
                            label, href=PREFIX + path, id=f"nav-{path or 'executive'}", style={"margin-right": "1em"}
                        )
                        for path, label in PAGES.items()
                    ],
                    html.Span(id="whoami", style={"margin-left": "auto", "color": "#666"}),
                    html.Button("Sign out", id="signout", style={"margin-left": "1em"}),
                ],
                style={
                    "display": "flex",
                    "align-items": "center",
                    "padding": "0.8em 0",
                    "border-bottom": "1px solid #ddd",
                },
            ),
            dcc.Loading(html.Main(id="page"), type="dot"),
        ],
        style=STYLE,
    )

    def signed_in(token: str | None) -> Reader:
        who = data.sign_in(token)
        if who is None:
            raise dash.exceptions.PreventUpdate
        return who

    @app.callback(
        Output("page", "children"), Output("whoami", "children"), Input("url", "pathname"), Input("token", "data")
    )
    def route(pathname: str | None, token: str | None):
        who = data.sign_in(token)
        if who is None:
            return _login(), ""
        page = (pathname or PREFIX).removeprefix(PREFIX).strip("/")
        if page not in PAGES:
            return html.Div(f"No page {pathname}.", className="error"), f"role {who.role}"
        try:
            built = PAGE_BUILDERS[page](data, who)
        except Forbidden as err:
            built = _refused(str(err))
        return built, f"role {who.role}"

    @app.callback(
        Output("token", "data"),
        Output("login-error", "children"),
        Input("login-button", "n_clicks"),
        State("login-token", "value"),
        prevent_initial_call=True,
    )
    def sign_in(clicks, token: str | None):
        if not clicks:  # the form was just drawn (Dash calls a new component's callbacks): nothing to judge yet
            raise dash.exceptions.PreventUpdate
        if data.sign_in((token or "").strip()) is None:
            return dash.no_update, "Unknown, expired or revoked token."
        return token.strip(), ""

    @app.callback(
        Output("token", "data", allow_duplicate=True), Input("signout", "n_clicks"), prevent_initial_call=True
    )
    def sign_out(_clicks):
        return None

    @app.callback(
        Output("body", "children"),
        Input("f-range", "start_date"),
        Input("f-range", "end_date"),
        Input("f-segment", "value"),
        Input("f-state", "value"),
        Input("tabs", "value"),
        Input("report-key", "data"),
        State("token", "data"),
        State("url", "pathname"),
    )
    def body(start, end, segment, state, tab, key, token, pathname):  # noqa: PLR0917  (Dash passes each input)
        who = signed_in(token)
        f = _filters(data, start, end, segment, state)
        page = (pathname or PREFIX).removeprefix(PREFIX).strip("/")
        try:
            if page == "analytics":
                return render(content.analytics(data, who, f, tab or "trends"))
            if page == "reports":
                return render(content.report(data, who, key, f), title=True)
            return render(content.report(data, who, "executive", f))
        except (Forbidden, psycopg.errors.InsufficientPrivilege) as err:
            return _refused(str(err))

    @app.callback(Output("report-key", "data"), Input("report-pick", "value"), prevent_initial_call=True)
    def pick(key):
        return key

    @app.callback(
        Output("f-state", "value"),
        Input({"type": "chart", "key": "revenue_by_state"}, "clickData"),
        prevent_initial_call=True,
    )
    def drill(click):
        """Drill-down: a click on a state's bar filters the whole page to that state."""
        if not click or not click.get("points"):
            raise dash.exceptions.PreventUpdate
        return click["points"][0]["x"]

    @app.callback(
        Output("download", "data"),
        Input("export-pdf", "n_clicks"),
        Input("export-html", "n_clicks"),
        State("f-range", "start_date"),
        State("f-range", "end_date"),
        State("f-segment", "value"),
        State("f-state", "value"),
        State("report-key", "data"),
        State("token", "data"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def export(_pdf, _html, start, end, segment, state, key, token, pathname):  # noqa: PLR0917
        who = signed_in(token)
        page = (pathname or PREFIX).removeprefix(PREFIX).strip("/")
        made = content.report(
            data, who, key if page == "reports" else "executive", _filters(data, start, end, segment, state)
        )
        name = f"c360-{made.key}-{dt.date.today():%Y%m%d}"
        if dash.ctx.triggered_id == "export-pdf":
            return dcc.send_bytes(to_pdf(made), f"{name}.pdf", type="application/pdf")
        return {"content": to_html(made), "filename": f"{name}.html", "type": "text/html"}

    @app.callback(
        Output("predict-out", "children"),
        Input("predict-button", "n_clicks"),
        State("predict-id", "value"),
        State("token", "data"),
        prevent_initial_call=True,
    )
    def predict(_clicks, customer_id, token):
        who = signed_in(token)
        customer_id = (customer_id or "").strip()
        if "marts" not in who.schemas:
            return _refused(f"role {who.role} may not score customers")
        if data.customers(who, None, "customer_id", "and customer_id = ?", [customer_id]).empty:
            return html.Div(f"No customer {customer_id} that role {who.role} can see.", className="error")
        clock = time.perf_counter()
        try:  # read as the owner: the features hold personal data no role reads directly
            scored = scorer.score(backend.owner, customer_id)
        except (NotScorable, MLError) as err:
            return html.Div(str(err), className="error")
        took = (time.perf_counter() - clock) * 1000
        return html.Div(
            [
                html.Div(["Customer ", html.Strong(customer_id, id="predict-customer")]),
                html.Div(
                    ["Churn probability ", html.Strong(f"{scored.churn_probability:.4f}", id="predict-probability")]
                ),
                html.Div(["Risk band ", html.Strong(scored.churn_risk_band, id="predict-band")]),
                html.Div(
                    f"{scored.model_name} version {scored.model_version}, features as of {scored.cutoff_date}; "
                    f"scored in {took:.0f} ms"
                ),
                html.Ul([html.Li(r) for r in scored.reasons], id="predict-reasons"),
            ]
        )

    @app.callback(Output("q-dims", "options"), Input("q-metrics", "value"), State("token", "data"))
    def dims(metrics, token):
        who = signed_in(token)
        return backend.layer(who).dimensions(metrics or [])

    @app.callback(
        Output("q-out", "children"),
        Input("q-run", "n_clicks"),
        State("q-metrics", "value"),
        State("q-dims", "value"),
        State("f-range", "start_date"),
        State("f-range", "end_date"),
        State("token", "data"),
        prevent_initial_call=True,
    )
    def run_query(_clicks, metrics, group_by, start, end, token):
        who = signed_in(token)
        if not metrics:
            return html.Div("Choose at least one metric.", className="error")
        f = _filters(data, start, end, None, None)
        try:
            found = data.metric(who, metrics, group_by or [], f)
        except (Forbidden, psycopg.errors.InsufficientPrivilege) as err:
            return _refused(str(err))
        except Exception as err:  # MetricFlow refuses a query it cannot answer: say why, in the page
            return html.Div(f"The semantic layer refused the query: {str(err).splitlines()[0]}", className="error")
        sections = [Section("query_result", "Result", "table", found)]
        if group_by:
            x = next((c for c in found.columns if c in ("day", "week", "month")), None)
            x = x or next(c for c in found.columns if c not in metrics)
            kind = "line" if x in ("day", "week", "month") else "bar"
            sections.insert(0, Section("query_chart", ", ".join(metrics), kind, found.sort_values(x), x, metrics[0]))
        return render(Report("query", "Query", sections))

    @app.callback(
        Output("c-out", "children"),
        Input("c-button", "n_clicks"),
        State("c-id", "value"),
        State("token", "data"),
        prevent_initial_call=True,
    )
    def look_up(_clicks, customer_id, token):
        who = signed_in(token)
        try:
            found = content.profile(data, who, (customer_id or "").strip())
        except (Forbidden, psycopg.errors.InsufficientPrivilege) as err:
            return _refused(str(err))
        if found is None:
            return html.Div(f"No customer {customer_id} that role {who.role} can see.", className="error")
        return render(found)

    return app


def _filters(data: Data, start, end, segment, state) -> Filters:
    base = content.default_filters(data)
    return Filters(
        dt.date.fromisoformat(start[:10]) if start else base.start,
        dt.date.fromisoformat(end[:10]) if end else base.end,
        segment or None,
        state or None,
    )


def _login():
    return html.Div(
        [
            html.H2("Sign in"),
            html.P(
                [
                    "Paste an API token. Make one with ",
                    html.Code("c360 tokens create --role c360_steward"),
                    "; the pages show what its role may see.",
                ]
            ),
            dcc.Input(id="login-token", type="password", placeholder="c360_...", style={"width": "32em"}),
            html.Button("Sign in", id="login-button", style={"margin-left": "0.5em"}),
            html.Div(id="login-error", className="error", style={"color": "#d62728"}),
        ]
    )


def _refused(why: str):
    return html.Div(f"Not for this role: {why}", className="refused", style={"color": "#d62728"})


def _filter_bar(data: Data, who: Reader, *, dates_only: bool = False):
    base = content.default_filters(data)
    options = {"segment": [], "state": []} if dates_only else data.options(who)
    parts = [
        html.Label("Dates "),
        dcc.DatePickerRange(id="f-range", start_date=base.start, end_date=base.end, display_format="YYYY-MM-DD"),
    ]
    parts += [
        html.Label(" RFM segment ", style={"margin-left": "1em"}),
        dcc.Dropdown(options["segment"], None, id="f-segment", placeholder="all", style={"width": "14em"}),
        html.Label(" State ", style={"margin-left": "1em"}),
        dcc.Dropdown(options["state"], None, id="f-state", placeholder="all", style={"width": "8em"}),
    ]
    style = {"display": "flex", "align-items": "center", "gap": "0.3em", "margin": "1em 0"}
    if dates_only:  # the query builder: dates only (its dimensions are its own)
        parts[3:] = [
            html.Div(dcc.Dropdown(id="f-segment"), hidden=True),
            html.Div(dcc.Dropdown(id="f-state"), hidden=True),
        ]
    return html.Div(parts, style=style)


def _exports():
    return html.Div(
        [
            html.Button("Export PDF", id="export-pdf"),
            html.Button("Export HTML", id="export-html", style={"margin-left": "0.5em"}),
        ],
        style={"margin": "0.5em 0"},
    )


def executive_page(data: Data, who: Reader):
    return html.Div(
        [
            html.H2("Executive dashboard"),
            _filter_bar(data, who),
            _exports(),
            html.Div(dcc.Tabs(id="tabs"), hidden=True),
            html.Div(id="body"),
        ]
    )


def analytics_page(data: Data, who: Reader):
    tabs = dcc.Tabs(id="tabs", value="trends", children=[dcc.Tab(label=v, value=k) for k, v in content.TABS.items()])
    return html.Div([html.H2("Analytics deep dive"), _filter_bar(data, who), tabs, html.Div(id="body")])


def reports_page(data: Data, who: Reader):
    pick = dcc.Dropdown(
        [{"label": v, "value": k} for k, v in content.REPORTS.items()],
        "executive",
        id="report-pick",
        clearable=False,
        style={"width": "16em"},
    )
    return html.Div(
        [
            html.H2("Reports"),
            html.Div(["Report ", pick], style={"display": "flex", "gap": "0.5em"}),
            _filter_bar(data, who),
            _exports(),
            html.Div(dcc.Tabs(id="tabs"), hidden=True),
            html.Div(id="body"),
        ]
    )


def quality_page(data: Data, who: Reader):
    made = content.quality(data, who)
    scores = made.sections[0].frame
    alerts = scores[scores["alert"] != "ok"]
    banner = (
        html.Div(
            f"All {len(scores)} datasets at or above their minimum score.", className="ok", style={"color": "#2ca02c"}
        )
        if alerts.empty
        else html.Div(
            [
                html.Strong("Quality alerts: "),
                ", ".join(f"{r.dataset} ({r.alert}, score {r.score:.1f})" for r in alerts.itertuples()),
            ],
            className="alert",
            style={"color": "#d62728"},
        )
    )
    return html.Div([html.H2("Data quality"), banner, render(made)])


def models_page(data: Data, who: Reader):
    form = html.Div(
        [
            html.H3("On-demand churn prediction"),
            dcc.Input(id="predict-id", placeholder="customer id", debounce=True),
            html.Button("Predict", id="predict-button", style={"margin-left": "0.5em"}),
            html.Div(id="predict-out", style={"margin": "0.5em 0"}),
        ]
    )
    return html.Div([html.H2("Models and predictions"), form, *model_cards(data.backend)])


def query_page(data: Data, who: Reader):
    choices = [{"label": label, "value": name} for name, label in data.backend.layer(who).metrics()]
    return html.Div(
        [
            html.H2("Query builder"),
            html.P("Metrics and dimensions of the semantic layer, as `mf query` answers them."),
            dcc.Dropdown(choices, ["revenue"], id="q-metrics", multi=True, placeholder="metrics"),
            dcc.Dropdown(
                data.backend.layer(who).dimensions(["revenue"]),
                [],
                id="q-dims",
                multi=True,
                placeholder="group by",
                style={"margin-top": "0.5em"},
            ),
            _filter_bar(data, who, dates_only=True),
            html.Button("Run", id="q-run"),
            html.Div(id="q-out"),
        ]
    )


def customer_page(data: Data, who: Reader):
    return html.Div(
        [
            html.H2("Customer look-up"),
            dcc.Input(id="c-id", placeholder="customer id", debounce=True),
            html.Button("Look up", id="c-button", style={"margin-left": "0.5em"}),
            html.Div(id="c-out"),
        ]
    )


PAGE_BUILDERS = {
    "": executive_page,
    "analytics": analytics_page,
    "models": models_page,
    "query": query_page,
    "quality": quality_page,
    "reports": reports_page,
    "customer": customer_page,
}


def render(report: Report, *, title: bool = False):
    """A report's sections as Dash components: KPI cards, Plotly charts (tooltips, zoom, PNG download) and
    tables with a CSV download."""
    out = [html.H3(report.title, id="report-title"), html.P(report.subtitle)] if title else []
    for s in report.sections:
        if s.kind == "kpis":
            out.append(
                html.Div(
                    [
                        html.Div(
                            [
                                html.Div(str(r.label), className="label", style={"color": "#666"}),
                                html.Div(
                                    kpi_text(r.value),
                                    className="value",
                                    style={"font-size": "1.6em", "color": "#1f77b4"},
                                ),
                            ],
                            className="kpi",
                            **{"data-kpi": str(r.label)},
                            style={"border": "1px solid #ddd", "border-radius": "6px", "padding": "0.6em 1em"},
                        )
                        for r in s.frame.itertuples()
                    ],
                    id=f"kpis-{s.key}",
                    style={"display": "flex", "gap": "1em", "flex-wrap": "wrap"},
                )
            )
        elif s.kind == "table":
            out.append(html.Div([html.H4(s.title), _table(s)]))
        else:
            config = {**CHART_CONFIG, "toImageButtonOptions": {"format": "png", "filename": s.key}}
            out.append(dcc.Graph(id={"type": "chart", "key": s.key}, figure=figure(s), config=config))
        if s.note:
            out.append(html.P(s.note, style={"color": "#666"}))
    return html.Div(out)


def _table(s: Section):
    return dash_table.DataTable(
        id={"type": "table", "key": s.key},
        data=records(s.frame),
        columns=[{"name": c, "id": c} for c in s.frame],
        page_size=15,
        sort_action="native",
        export_format="csv",
        export_headers="names",
        style_table={"overflowX": "auto"},
        style_cell={"font-family": "sans-serif", "font-size": "0.85em", "textAlign": "left"},
        style_data_conditional=[
            {"if": {"filter_query": '{alert} != "ok"', "column_id": "alert"}, "color": "#d62728", "fontWeight": "bold"}
        ]
        if "alert" in s.frame
        else [],
    )


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows a browser can hold: numbers as numbers, times as ISO text, missing values as empty."""

    def cell(v):
        if v is None or (not isinstance(v, str | list) and pd.isna(v)):
            return None
        if isinstance(v, decimal.Decimal):
            return float(v)
        if isinstance(v, dt.datetime | dt.date | pd.Timestamp):
            return v.isoformat()
        return v.item() if hasattr(v, "item") else v

    return [{c: cell(v) for c, v in zip(frame.columns, row, strict=True)} for row in frame.itertuples(index=False)]


@functools.lru_cache(maxsize=1)
def _cards_at(_slot: int, backend: Backend) -> tuple:
    return tuple(_model_cards(backend))


def model_cards(backend: Backend) -> list:
    """A card per model family from MLflow: the champion, its metrics against the baselines, and its plots
    (calibration and lift among them). Read at most once a minute."""
    return list(_cards_at(int(time.time() // CARD_SECONDS), backend))


def _model_cards(backend: Backend) -> list:
    from ml import registry  # noqa: PLC0415

    cfg = backend.cfg
    if not registry.store_exists(cfg):
        return [html.P("No model has been trained yet: c360 materialize --select 'group:ml'.")]
    mlc = registry.client(cfg)
    cards = []
    for key, family in FAMILIES.items():
        champion = registry.version_by_alias(mlc, family.model_name, registry.CHAMPION)
        if champion is None:
            cards.append(html.Div([html.H3(family.model_name), html.P("No champion yet.")], className="model-card"))
            continue
        run = mlc.get_run(champion.run_id)
        metrics = run.data.metrics
        primary = [
            (k, v) for k, v in metrics.items() if not k.startswith(("baseline_", "cv_", "gate_", "silhouette_k"))
        ]
        baselines = [(k.removeprefix("baseline_"), v) for k, v in metrics.items() if k.startswith("baseline_")]
        table = pd.DataFrame(
            [("champion", k, round(v, 4)) for k, v in sorted(primary)]
            + [("baseline", k, round(v, 4)) for k, v in sorted(baselines)],
            columns=["model", "metric", "value"],
        )
        with tempfile.TemporaryDirectory() as tmp:
            try:
                folder = Path(mlc.download_artifacts(champion.run_id, "plots", tmp))
                images = [
                    html.Img(
                        src="data:image/png;base64," + base64.b64encode(p.read_bytes()).decode(),
                        title=p.stem,
                        style={"width": "32%", "min-width": "280px"},
                    )
                    for p in sorted(folder.glob("*.png"))
                ]
            except Exception as err:  # a missing artifact must not take the page down
                images = [html.P(f"plots unavailable: {err}")]
        cards.append(
            html.Div(
                [
                    html.H3(f"{family.model_name}: champion version {champion.version}"),
                    html.P(
                        f"{key}; algorithm {run.data.params.get('algorithm', 'n/a')}; trained "
                        f"{dt.datetime.fromtimestamp(run.info.start_time / 1000, dt.UTC):%Y-%m-%d %H:%M} UTC; "
                        f"score cutoff {run.data.params.get('cutoff_score', 'n/a')}"
                    ),
                    _table(Section(f"metrics_{key}", "Metrics", "table", table)),
                    html.Div(images, style={"display": "flex", "flex-wrap": "wrap", "gap": "0.5em"}),
                ],
                className="model-card",
                id=f"card-{key}",
                style={"border-top": "1px solid #ddd", "margin-top": "1em"},
            )
        )
    return cards
