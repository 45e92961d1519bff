"""`c360 serve api`: the REST API v2 over the warehouse (docs/serving.md). OpenAPI docs at /docs.

Every route answers as the caller's role (serving/access.py), every call leaves a row in audit.access_log,
and every figure comes from a verified mart or from the semantic layer (MetricFlow renders the SQL of a
metric query; the API runs it as the role), so the API, the dashboard and `mf` cannot disagree.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import time
from dataclasses import dataclass
from typing import Annotated

import duckdb
import psycopg
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from c360_core.settings import Settings, settings
from ml.ondemand import NotScorable, OnDemandChurn
from ml.pipeline import MLError
from serving import tokens
from serving.access import Forbidden, Reader, reader
from serving.backend import Backend
from serving.limits import RateLimiter
from webhooks import store

VERSION = "2.0"
OAUTH_LIFETIME = dt.timedelta(hours=1)
MAX_PAGE = 500
SUMMARY = ("customer_id", "first_name", "last_name", "state", "rfm_segment", "churn_risk_band", "orders_count",
           "total_order_value")  # fmt: skip
PREDICTIONS = ("customer_id", "as_of_date", "churn_probability", "churn_risk_band", "predicted_clv", "cluster_id",
               "cluster_name")  # fmt: skip
bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Caller:
    token: tokens.Token
    reader: Reader


def _rows(columns: list[str], rows: list[tuple]) -> list[dict]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    """The token's role, after its check (401) and the rate limit (429)."""
    backend, limiter = request.app.state.backend, request.app.state.limiter
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    with backend.owner() as wh:
        token = tokens.verify(wh, credentials.credentials)
    if token is None:
        raise HTTPException(401, "unknown, expired or revoked token", headers={"WWW-Authenticate": "Bearer"})
    request.state.role = token.role
    wait = limiter.hit(token.token_id)
    if wait is not None:
        raise HTTPException(429, f"more than {limiter.limit} requests a minute", headers={"Retry-After": str(wait)})
    return Caller(token, reader(token.role))


Who = Annotated[Caller, Depends(caller)]


def create_app(cfg: Settings | None = None, dashboard: bool = True) -> FastAPI:
    """The API, and the dashboard under /dashboard/ in the same process (one warehouse connection)."""
    cfg = cfg or settings()
    backend = Backend(cfg)
    limiter = RateLimiter(cfg.api_rate_limit, 60.0)
    scorer = OnDemandChurn(cfg)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        backend.open()
        try:
            yield
        finally:
            backend.close()

    app = FastAPI(title="c360 API", version=VERSION, lifespan=lifespan,
                  description="Customer 360: profiles, predictions, segments, metrics and quality, as your role "
                  "sees them. Authenticate with `Authorization: Bearer <token>` (`c360 tokens create`, or the "
                  "OAuth 2.0 client-credentials endpoint /oauth/token).")  # fmt: skip
    app.state.backend, app.state.limiter = backend, limiter

    @app.middleware("http")
    async def audit(request: Request, call_next):
        started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
        response = await call_next(request)
        if request.url.path.startswith(("/api/", "/churnpred/", "/oauth/")):
            statement = request.method + " " + request.url.path + (f"?{request.url.query}" if request.url.query else "")
            role = getattr(request.state, "role", "anonymous")
            error = None if response.status_code < 400 else f"HTTP {response.status_code}"
            rows = getattr(request.state, "rows", None)
            backend.audit("api", statement, role, started, clock, rows=rows, error=error)
        return response

    @app.exception_handler(Forbidden)
    async def forbidden(_request: Request, exc: Forbidden):
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(psycopg.errors.InsufficientPrivilege)
    async def denied(_request: Request, exc: psycopg.Error):
        return JSONResponse({"detail": f"the warehouse refused: {str(exc).strip()}"}, status_code=403)

    @app.exception_handler(duckdb.CatalogException)
    @app.exception_handler(psycopg.errors.UndefinedTable)
    async def missing(_request: Request, exc: Exception):
        return JSONResponse({"detail": f"not built yet ({str(exc).splitlines()[0]}): run `c360 materialize`"},
                            status_code=503)  # fmt: skip

    def query(request: Request, who: Caller, sql: str, params: list | None = None) -> list[dict]:
        with backend.as_role(who.reader) as wh:
            columns, rows = wh.query(sql, params)
        request.state.rows = len(rows)
        return _rows(columns, rows)

    @app.post("/oauth/token", tags=["auth"])
    def oauth_token(request: Request, grant_type: Annotated[str, Form()], client_id: Annotated[str, Form()],
                    client_secret: Annotated[str, Form()]):  # fmt: skip
        """OAuth 2.0 client credentials: a token's id and secret buy a one-hour token of the same role."""
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        with backend.owner() as wh:
            client = tokens.verify(wh, f"{tokens.PREFIX}{client_id}_{client_secret}")
            if client is None:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            request.state.role = client.role
            access, _ = tokens.create(wh, client.role, OAUTH_LIFETIME, f"oauth:{client_id}", kind="oauth")
        return {"access_token": access, "token_type": "bearer", "expires_in": int(OAUTH_LIFETIME.total_seconds()),
                "scope": client.role}  # fmt: skip

    @app.get("/api/v2/customers/{customer_id}", tags=["customers"])
    def customer(request: Request, who: Who, customer_id: str):
        """One customer's 360 profile: attributes, orders, web activity, RFM, predictions and audiences."""
        where, params = backend.region(who.reader)
        home = who.reader.home
        found = query(request, who, f"select * from {home}.customer_360 where customer_id = ?{where}",
                      [customer_id, *params])  # fmt: skip
        if not found:
            raise HTTPException(404, f"no customer {customer_id} that role {who.token.role} can see")
        audiences = query(request, who, f"select segment_name, reason, assigned_at from {home}.customer_segments "
                          "where customer_id = ? order by segment_name", [customer_id])  # fmt: skip
        request.state.rows = 1
        return jsonable_encoder({**found[0], "audiences": audiences})

    @app.get("/api/v2/customers", tags=["customers"])
    def customers(request: Request, who: Who, segment: str | None = None, state: str | None = None,
                  churn_risk_band: str | None = None, page: Annotated[int, Query(ge=1)] = 1,
                  page_size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50):  # fmt: skip
        """Search customers by audience (segment), state and churn risk band, a page at a time."""
        home = who.reader.home
        where, params = backend.region(who.reader)
        for column, value in (("state", state), ("churn_risk_band", churn_risk_band)):
            if value is not None:
                where += f" and {column} = ?"
                params.append(value)
        if segment is not None:
            where += f" and customer_id in (select customer_id from {home}.customer_segments where segment_name = ?)"
            params.append(segment)
        base = f"from {home}.customer_360 where true{where}"
        total = query(request, who, f"select count(*) as n {base}", params)[0]["n"]
        rows = query(request, who, f"select {', '.join(SUMMARY)} {base} order by customer_id limit ? offset ?",
                     [*params, page_size, (page - 1) * page_size])  # fmt: skip
        return jsonable_encoder({"page": page, "page_size": page_size, "total": total, "customers": rows})

    @app.get("/api/v2/customers/{customer_id}/predictions", tags=["predictions"])
    def customer_predictions(request: Request, who: Who, customer_id: str):
        """The champions' latest predictions for one customer: churn, lifetime value and cluster."""
        where, params = backend.region(who.reader)
        found = query(request, who, f"select {', '.join(PREDICTIONS)} from {who.reader.home}.customer_360 "
                      f"where customer_id = ?{where}", [customer_id, *params])  # fmt: skip
        if not found:
            raise HTTPException(404, f"no customer {customer_id} that role {who.token.role} can see")
        return jsonable_encoder(found[0])

    @app.get("/api/v2/segments", tags=["segments"])
    def segments(request: Request, who: Who):
        """Every audience with its member count."""
        where, params = backend.region(who.reader)
        return jsonable_encoder(query(request, who, "select segment_name as name, count(*) as members from "
                                      f"{who.reader.home}.customer_segments where true{where} group by 1 order by 1",
                                      params))  # fmt: skip

    @app.get("/api/v2/segments/{name}/members", tags=["segments"], responses={200: {"content": {"text/csv": {}}}})
    def members(request: Request, who: Who, name: str):
        """An audience's members, as JSON or, with `Accept: text/csv`, as a CSV file."""
        where, params = backend.region(who.reader)
        sql = (f"select customer_id, reason, assigned_at from {who.reader.home}.customer_segments "
               f"where segment_name = ?{where} order by customer_id")  # fmt: skip
        with backend.as_role(who.reader) as wh:
            columns, rows = wh.query(sql, [name, *params])
        request.state.rows = len(rows)
        if not rows:
            raise HTTPException(404, f"no members of {name!r} that role {who.token.role} can see")
        if "text/csv" in request.headers.get("accept", ""):
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
            return Response(out.getvalue(), media_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})  # fmt: skip
        return jsonable_encoder({"segment": name, "members": _rows(columns, rows)})

    @app.get("/api/v2/quality", tags=["quality"])
    def quality(request: Request, who: Who):
        """Each dataset's latest score, its trend, its failed checks and (for stewards) its rejects by reason."""
        if not backend.postgres:  # PostgreSQL refuses by itself what the role was not granted
            who.reader.need("marts")
        scores = query(request, who, "select * from marts.data_quality_daily order by dataset")
        rejects = None
        if who.reader.everything:
            sql = backend.rejects_sql(who.reader)
            rejects = query(request, who, sql) if sql else []
        return jsonable_encoder({"datasets": scores, "rejects": rejects})

    @app.get("/api/v2/metrics", tags=["metrics"])
    def metrics(request: Request, who: Who, metrics: str, group_by: str | None = None,
                where: Annotated[list[str] | None, Query()] = None, start: dt.date | None = None,
                end: dt.date | None = None):  # fmt: skip
        """Metrics through the semantic layer, as `mf query --metrics ... --group-by ... --where ...` answers
        them: MetricFlow renders the SQL, over the marts the role reads (its share, for marketing and
        consumers), and the API runs it as the role. `metrics` and `group_by` are comma-separated."""
        try:
            sql = backend.metric_sql(who.reader, _split(metrics), _split(group_by), where or [], start=start, end=end)
        except FileNotFoundError as err:
            raise HTTPException(503, str(err)) from err
        return jsonable_encoder({"metrics": _split(metrics), "group_by": _split(group_by),
                                 "rows": query(request, who, sql)})  # fmt: skip

    @app.get("/churnpred/api/v2/retail_churn_preds_data", tags=["beacon"])
    def beacon(request: Request, who: Who, page: Annotated[int, Query(ge=1)] = 1,
               page_size: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE):  # fmt: skip
        """The Beacon churn predictions feed: every scored customer's churn probability and risk band."""
        where, params = backend.region(who.reader)
        base = f"from {who.reader.home}.customer_360 where churn_probability is not null{where}"
        total = query(request, who, f"select count(*) as n {base}", params)[0]["n"]
        rows = query(request, who, f"select customer_id, churn_probability, churn_risk_band, as_of_date {base} "
                     "order by customer_id limit ? offset ?", [*params, page_size, (page - 1) * page_size])  # fmt: skip
        return jsonable_encoder({"page": page, "page_size": page_size, "total": total, "data": rows})

    @app.post("/api/v2/predictions/churn", tags=["predictions"])
    def churn_now(request: Request, who: Who, asked: ScoreIn):
        """Score one customer now with the churn champion, from today's features, with its top reasons: the
        same model, row and reasons as the daily scoring run. Roles that read the marts (a regional analyst:
        its region's customers)."""
        if "marts" not in who.reader.schemas:
            raise Forbidden(f"role {who.token.role} may not score customers")
        where, params = backend.region(who.reader)
        visible = query(request, who, f"select customer_id from marts.customer_360 where customer_id = ?{where}",
                        [asked.customer_id, *params])  # fmt: skip
        if not visible:
            raise HTTPException(404, f"no customer {asked.customer_id} that role {who.token.role} can see")
        try:  # read as the owner: the features hold personal data no role reads directly
            scored = scorer.score(backend.owner, asked.customer_id)
        except NotScorable as err:
            raise HTTPException(422, str(err)) from err
        except MLError as err:
            raise HTTPException(503, str(err)) from err
        request.state.rows = 1
        return {**dataclasses.asdict(scored), "scored_at": dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat()}

    @app.get("/api/v2/webhooks", tags=["webhooks"])
    def webhook_list(request: Request, who: Who):
        """Active business-webhook subscriptions (stewards and producers)."""
        _manager(who)
        with backend.owner() as wh:
            subs = store.subscriptions(wh)
        request.state.rows = len(subs)
        return [{"id": s.subscription_id, "url": s.url, "events": list(s.events),
                 "delivered_through": s.delivered_through} for s in subs]  # fmt: skip

    @app.post("/api/v2/webhooks", tags=["webhooks"], status_code=201)
    def webhook_subscribe(who: Who, subscription: WebhookIn):
        """Subscribe a URL to business events; the answer holds the signing secret, shown this once."""
        _manager(who)
        with backend.owner() as wh:
            try:
                made = store.subscribe(wh, subscription.url, subscription.events, subscription.secret)
            except ValueError as err:
                raise HTTPException(422, str(err)) from err
        return {"id": made.subscription_id, "url": made.url, "events": list(made.events), "secret": made.secret}

    @app.delete("/api/v2/webhooks/{subscription_id}", tags=["webhooks"], status_code=204)
    def webhook_unsubscribe(who: Who, subscription_id: str):
        _manager(who)
        with backend.owner() as wh:
            if not store.unsubscribe(wh, subscription_id):
                raise HTTPException(404, f"no active subscription {subscription_id}")
        return Response(status_code=204)

    if dashboard:
        from a2wsgi import WSGIMiddleware  # noqa: PLC0415

        from serving.dashboard.app import create_dashboard  # noqa: PLC0415  (Dash and Plotly: ~1 s to import)

        app.mount("/dashboard", WSGIMiddleware(create_dashboard(backend, scorer).server))
    return app


class ScoreIn(BaseModel):
    customer_id: str


class WebhookIn(BaseModel):
    url: str
    events: list[str]
    secret: str | None = None


def _manager(who: Caller) -> None:
    if not who.reader.everything:
        raise Forbidden(f"role {who.token.role} may not manage webhooks")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]
