"""The REST API over real HTTP: uvicorn on a free port, in front of the ML warehouse of each target.

Figures are checked against the landing files (orders, states, audiences) or against marts and tables other
tests verify against them (the predictions, the quality scores); roles, tokens, limits and the audit trail
against what governance/access.yml and the token rules say.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import math
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests

from c360_core.settings import settings
from c360_core.warehouse import connect
from governance.grants import load_access
from serving import tokens
from serving.backend import AUDIT_FLUSH_SECONDS
from serving.limits import RateLimiter
from tests.support import expected
from tests.support.ml_warehouse import ML_AS_OF
from tests.support.serving import issue, serve
from tests.support.warehouse import env, landing_of, query

ROLES = ("c360_steward", "c360_marketing", "c360_consumer", "c360_analyst_west")


@dataclasses.dataclass
class Api:
    url: str
    values: dict[str, str]
    tokens: dict[str, str]

    def get(self, path: str, role: str = "c360_steward", **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kw.pop("headers", {})}
        return requests.get(self.url + path, headers=headers, timeout=60, **kw)

    @property
    def postgres(self) -> bool:
        return self.values["C360_TARGET"] == "postgres"


@pytest.fixture(scope="module")
def api(ml_built) -> Iterator[Api]:
    issued = {role: issue(ml_built, role) for role in ROLES}
    with serve(ml_built) as url:
        yield Api(url, ml_built, issued)


@pytest.fixture(scope="module")
def files(ml_built) -> dict:
    landing = landing_of(ml_built)
    return {
        "orders": expected.customer_orders(landing, ML_AS_OF),
        "crm": expected.latest(landing, "customers", "customer_id"),
        "audiences": {k: v for k, v in expected.audiences(landing, ML_AS_OF).items() if v},
    }


def test_a_profile_has_the_files_orders_state_and_audiences(api, files):
    buyers = sorted(files["orders"])[:5]
    for customer in buyers:
        profile = api.get(f"/api/v2/customers/{customer}").json()
        want = files["orders"][customer]
        assert profile["orders_count"] == want["orders_count"]
        assert Decimal(str(profile["total_order_value"])) == want["total_order_value"]
        assert profile["state"] == files["crm"][customer]["state"]
        assert {a["segment_name"] for a in profile["audiences"]} == {
            name for name, members in files["audiences"].items() if customer in members
        }
    assert api.get("/api/v2/customers/no-such-customer").status_code == 404


def test_search_filters_and_pages_through_every_match(api, files):
    in_ca = sorted(c for c, r in files["crm"].items() if r["state"] == "CA")
    first = api.get("/api/v2/customers", params={"state": "CA", "page_size": 7}).json()
    assert first["total"] == len(in_ca)
    seen = []
    for page in range(1, -(-len(in_ca) // 7) + 1):
        body = api.get("/api/v2/customers", params={"state": "CA", "page_size": 7, "page": page}).json()
        seen += [c["customer_id"] for c in body["customers"]]
    assert seen == in_ca
    name, members = max(files["audiences"].items(), key=lambda kv: len(kv[1]))
    body = api.get("/api/v2/customers", params={"segment": name, "page_size": 500}).json()
    assert body["total"] == len(members) and {c["customer_id"] for c in body["customers"]} == members


def test_segments_and_their_members_as_json_and_csv(api, files):
    sizes = {s["name"]: s["members"] for s in api.get("/api/v2/segments").json()}
    assert sizes == {name: len(members) for name, members in files["audiences"].items()}
    name = "Frequent Buyers" if "Frequent Buyers" in files["audiences"] else sorted(files["audiences"])[0]
    body = api.get(f"/api/v2/segments/{name}/members").json()
    assert {m["customer_id"] for m in body["members"]} == files["audiences"][name]
    text = api.get(f"/api/v2/segments/{name}/members", headers={"Accept": "text/csv"}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["customer_id"] for r in rows] == sorted(files["audiences"][name])
    assert api.get("/api/v2/segments/No such audience/members").status_code == 404


def test_predictions_and_the_beacon_feed_are_the_champions(api):
    # the champion's rows (a lapsed buyer's band is a rule's, with no probability: not in the Beacon feed)
    scored = {r[0]: r[1:] for r in query(api.values, "select customer_id, churn_probability, churn_risk_band "
                                         "from ml.churn_predictions where churn_probability is not null")}  # fmt: skip
    clv = dict(query(api.values, "select customer_id, predicted_clv from ml.clv_predictions"))
    assert scored, "the ML warehouse has no churn predictions"
    customer = sorted(scored)[0]
    body = api.get(f"/api/v2/customers/{customer}/predictions").json()
    assert body["churn_probability"] == pytest.approx(scored[customer][0])
    assert body["churn_risk_band"] == scored[customer][1]
    assert body["predicted_clv"] == pytest.approx(clv[customer])
    feed, page = [], 1
    while True:
        body = api.get("/churnpred/api/v2/retail_churn_preds_data", params={"page": page, "page_size": 400}).json()
        feed += body["data"]
        if page * 400 >= body["total"]:
            break
        page += 1
    assert {r["customer_id"]: r["churn_risk_band"] for r in feed} == {c: v[1] for c, v in scored.items()}
    assert {r["customer_id"]: r["churn_probability"] for r in feed} == pytest.approx(
        {c: v[0] for c, v in scored.items()}
    )


def test_on_demand_churn_scoring_equals_the_champions_daily_scores(api, files):
    sql = (
        "select customer_id, churn_probability, churn_risk_band, reason_1, reason_2, reason_3, model_version "
        "from ml.churn_predictions where model_version > 0"
    )  # fmt: skip  (0: the lapsed buyers' rule)
    batch = {r[0]: r[1:] for r in query(api.values, sql)}
    steward = {"Authorization": f"Bearer {api.tokens['c360_steward']}"}
    for customer in sorted(batch)[:5]:
        answer = requests.post(api.url + "/api/v2/predictions/churn", json={"customer_id": customer},
                               headers=steward, timeout=60)  # fmt: skip
        assert answer.status_code == 200, answer.text
        body = answer.json()
        probability, band, *reasons, version = batch[customer]
        assert body["churn_probability"] == pytest.approx(probability)
        assert body["churn_risk_band"] == band and body["model_version"] == version
        assert body["reasons"] == [r for r in reasons if r]
    never_bought = sorted(set(files["crm"]) - set(files["orders"]))[0]
    refused = requests.post(api.url + "/api/v2/predictions/churn", json={"customer_id": never_bought},
                            headers=steward, timeout=60)  # fmt: skip
    assert refused.status_code == 422 and "buyers" in refused.text
    marketing = {"Authorization": f"Bearer {api.tokens['c360_marketing']}"}
    assert requests.post(api.url + "/api/v2/predictions/churn", json={"customer_id": sorted(batch)[0]},
                         headers=marketing, timeout=60).status_code == 403  # fmt: skip


def test_a_metric_query_equals_the_files(api, files):
    body = api.get("/api/v2/metrics", params={"metrics": "total_customers", "group_by": "customer__state"}).json()
    got = {r["customer__state"]: r["total_customers"] for r in body["rows"]}
    assert got == dict(Counter(r["state"] for r in files["crm"].values()))
    start, end = ML_AS_OF - dt.timedelta(days=30), ML_AS_OF - dt.timedelta(days=1)
    body = api.get("/api/v2/metrics", params={"metrics": "order_count", "start": str(start), "end": str(end)}).json()
    placed = {
        e["transaction_id"]
        for e in expected.streams(landing_of(api.values))["orders_placed"].values()
        if start <= e["activity_ts"].date() <= end
    }  # the Lens: distinct transactions of order-placed events
    assert [r["order_count"] for r in body["rows"]] == [len(placed)]


def test_quality_shows_the_scores_and_the_rejects(api):
    body = api.get("/api/v2/quality").json()
    scores = dict(query(api.values, "select dataset, score from marts.data_quality_daily"))
    assert {d["dataset"]: d["score"] for d in body["datasets"]} == pytest.approx(scores)
    with env(api.values), connect(settings()) as wh:
        tables = [t for (t,) in wh.query("select table_name from information_schema.tables "
                                         "where table_schema = 'raw' and table_name like '%rejects'")[1]]  # fmt: skip
        want = Counter()
        for table in tables:
            for reason, n in wh.query(f"select reason, count(*) from raw.{table} group by 1")[1]:
                want[(table.removesuffix("__rejects"), reason)] = n
    assert {(r["source"], r["reason"]): r["rows"] for r in body["rejects"]} == want


def test_a_token_missing_bad_revoked_or_expired_is_401(api):
    assert requests.get(api.url + "/api/v2/segments", timeout=30).status_code == 401
    bad = {"Authorization": "Bearer c360_nothere_secret"}
    assert requests.get(api.url + "/api/v2/segments", headers=bad, timeout=30).status_code == 401
    token = issue(api.values, "c360_steward")
    good = {"Authorization": f"Bearer {token}"}
    assert requests.get(api.url + "/api/v2/segments", headers=good, timeout=30).status_code == 200
    wrong = {"Authorization": f"Bearer {token[:-2]}xx"}
    assert requests.get(api.url + "/api/v2/segments", headers=wrong, timeout=30).status_code == 401
    with env(api.values), connect(settings()) as wh:
        assert tokens.revoke(wh, tokens.split(token)[0])
    assert requests.get(api.url + "/api/v2/segments", headers=good, timeout=30).status_code == 401
    expired = issue(api.values, "c360_steward", dt.timedelta(seconds=-1))
    assert requests.get(api.url + "/api/v2/segments", headers={"Authorization": f"Bearer {expired}"},
                        timeout=30).status_code == 401  # fmt: skip
    with env(api.values), connect(settings()) as wh:
        stored = wh.query("select secret_sha256 from audit.api_tokens where token_id = ?", [tokens.split(token)[0]])
    assert stored[1][0][0] == hashlib.sha256(tokens.split(token)[1].encode()).hexdigest()  # only the hash is kept


def test_oauth_client_credentials_give_a_token_of_the_same_role(api):
    client_id, secret = tokens.split(api.tokens["c360_marketing"])
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    answer = requests.post(api.url + "/oauth/token", data=form, timeout=30).json()
    assert answer["token_type"] == "bearer" and answer["scope"] == "c360_marketing" and answer["expires_in"] == 3600
    headers = {"Authorization": f"Bearer {answer['access_token']}"}
    assert requests.get(api.url + "/api/v2/quality", headers=headers, timeout=30).status_code == 403
    assert requests.get(api.url + "/api/v2/segments", headers=headers, timeout=30).status_code == 200
    refused = requests.post(api.url + "/oauth/token", data={**form, "client_secret": "wrong"}, timeout=30)
    assert refused.status_code == 401


def test_marketing_and_consumers_see_masked_values(api, files):
    customer = sorted(files["orders"])[0]
    record = files["crm"][customer]
    marketing = api.get(f"/api/v2/customers/{customer}", role="c360_marketing").json()
    assert marketing["email_address"] == record["email_address"]  # marketing contacts customers
    assert "age" not in marketing and "annual_income" not in marketing
    born = dt.date.fromisoformat(record["date_of_birth"][:10])
    age = expected.age(born, ML_AS_OF)
    band = next(b for b, low, high in BANDS if low <= age <= high)
    assert marketing["age_band"] == band
    salt = api.values["C360_PII_SALT"]
    hashed = hashlib.sha256(f"{salt}{customer}".encode()).hexdigest()
    assert api.get(f"/api/v2/customers/{customer}", role="c360_consumer").status_code == 404  # ids are hashed
    consumer = api.get(f"/api/v2/customers/{hashed}", role="c360_consumer").json()
    assert consumer["email_address"] == hashlib.sha256(f"{salt}{record['email_address']}".encode()).hexdigest()
    assert consumer["orders_count"] == files["orders"][customer]["orders_count"]


BANDS = [("under 18", 0, 17), ("18-24", 18, 24), ("25-34", 25, 34), ("35-44", 35, 44), ("45-54", 45, 54),
         ("55-64", 55, 64), ("65+", 65, 200)]  # fmt: skip


def test_a_role_may_not_read_what_it_is_not_granted(api):
    for role in ("c360_marketing", "c360_consumer"):
        answer = api.get("/api/v2/quality", role=role)
        assert answer.status_code == 403, answer.text
        if api.postgres:  # the server refused, not the API
            assert "permission denied" in answer.json()["detail"]


@pytest.mark.parametrize("role", ["c360_analyst_west"])
def test_a_regional_analyst_sees_only_its_region(api, files, role):
    states = set(load_access().analysts[role])
    mine = sorted(c for c, r in files["crm"].items() if r["state"] in states)
    other = sorted(c for c, r in files["crm"].items() if r["state"] not in states)[0]
    body = api.get("/api/v2/customers", role=role, params={"page_size": 500}).json()
    assert body["total"] == len(mine)
    assert api.get(f"/api/v2/customers/{other}", role=role).status_code == 404
    assert api.get(f"/api/v2/customers/{mine[0]}", role=role).status_code == 200


def test_every_call_leaves_an_audit_row(api):
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # the server's clock: earlier tests' rows are older

    def rows() -> list[tuple]:
        return query(api.values, "select statement, role_name, status from audit.access_log where interface = 'api' "
                     f"and accessed_at >= timestamp '{since}' order by accessed_at")  # fmt: skip

    api.get("/api/v2/segments", role="c360_marketing")
    api.get("/api/v2/quality", role="c360_consumer")
    requests.get(api.url + "/api/v2/segments", timeout=30)
    # the server writes its audit rows in batches, every AUDIT_FLUSH_SECONDS
    deadline = time.monotonic() + 20 * AUDIT_FLUSH_SECONDS
    while len(found := rows()) < 3 and time.monotonic() < deadline:
        time.sleep(AUDIT_FLUSH_SECONDS / 5)
    assert found == [("GET /api/v2/segments", "c360_marketing", "ok"),
                     ("GET /api/v2/quality", "c360_consumer", "error"),
                     ("GET /api/v2/segments", "anonymous", "error")]  # fmt: skip


def test_above_the_rate_limit_a_token_gets_429_with_retry_after(ml_built):
    token = issue(ml_built, "c360_steward")
    with serve(ml_built, api_rate_limit=5) as url:
        started = time.monotonic()
        answers = [requests.get(url + "/api/v2/segments", headers={"Authorization": f"Bearer {token}"}, timeout=30)
                   for _ in range(6)]  # fmt: skip
        elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    # the first request's slot frees 60 s after it was counted, which was at most `elapsed` ago
    assert 60 - math.ceil(elapsed) <= int(answers[-1].headers["Retry-After"]) <= 60


def test_the_limit_slides_and_retry_after_is_when_the_oldest_request_leaves_the_window():
    now = [100.0]
    limiter = RateLimiter(3, 60.0, clock=lambda: now[0])
    for at in (100.0, 110.0, 125.5):
        now[0] = at
        assert limiter.hit("a") is None
    now[0] = 130.0
    assert limiter.hit("a") == 30  # the request of 100.0 leaves the window at 160.0
    assert limiter.hit("b") is None  # each token has its own window
    now[0] = 160.0
    assert limiter.hit("a") is None  # ... and a refused request did not count
    assert limiter.hit("a") == 10  # 110.0 leaves at 170.0
    now[0] = 185.6  # 110.0 and 125.5 have left: two free slots
    assert limiter.hit("a") is None and limiter.hit("a") is None
    assert limiter.hit("a") == 35  # the oldest left is 160.0, leaving at 220.0: 34.4 s, rounded up


def test_stewards_manage_webhook_subscriptions_and_others_may_not(api):
    steward = {"Authorization": f"Bearer {api.tokens['c360_steward']}"}
    wanted = {"url": "http://127.0.0.1:9/hooks", "events": ["audience.entered", "quality.dropped"]}
    made = requests.post(api.url + "/api/v2/webhooks", json=wanted, headers=steward, timeout=30)
    assert made.status_code == 201 and len(made.json()["secret"]) == 64
    listed = {s["id"]: s for s in api.get("/api/v2/webhooks").json()}
    assert listed[made.json()["id"]]["events"] == ["audience.entered", "quality.dropped"]
    bad = requests.post(api.url + "/api/v2/webhooks", json={**wanted, "events": ["audience.joined"]}, headers=steward,
                        timeout=30)  # fmt: skip
    assert bad.status_code == 422 and "audience.joined" in bad.text
    assert api.get("/api/v2/webhooks", role="c360_marketing").status_code == 403
    gone = requests.delete(f"{api.url}/api/v2/webhooks/{made.json()['id']}", headers=steward, timeout=30)
    assert gone.status_code == 204 and made.json()["id"] not in {s["id"] for s in api.get("/api/v2/webhooks").json()}


def test_the_openapi_document_lists_every_route(api):
    paths = set(requests.get(api.url + "/openapi.json", timeout=30).json()["paths"])
    assert {"/api/v2/customers/{customer_id}", "/api/v2/customers", "/api/v2/customers/{customer_id}/predictions",
            "/api/v2/segments", "/api/v2/segments/{name}/members", "/api/v2/metrics", "/api/v2/quality",
            "/churnpred/api/v2/retail_churn_preds_data", "/oauth/token", "/api/v2/predictions/churn",
            "/api/v2/webhooks"} <= paths  # fmt: skip
