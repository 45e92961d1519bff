"""The detectors on hand-made warehouse rows, on both targets: the first look records where things stand, a
later one finds exactly the customers newly at high churn risk and the datasets whose score fell."""

from __future__ import annotations

import datetime as dt

from c360_core.warehouse import arrow_table, connect
from ml.predictions import TABLES, ensure_tables
from quality.store import SCORE_COLUMNS
from quality.store import ensure_tables as ensure_quality
from webhooks import store
from webhooks.detect import detect


def _bands(wh, bands: dict[str, tuple[float, str]]) -> None:
    ensure_tables(wh)
    wh.execute("delete from ml.churn_predictions")
    columns = TABLES["ml.churn_predictions"]
    rows = [(c, p, b, "recency_days=90 (+0.20)", None, None, "c360-churn", 3, dt.date(2026, 2, 15),
             dt.datetime(2026, 2, 15, 6)) for c, (p, b) in bands.items()]  # fmt: skip
    wh.insert_arrow("ml.churn_predictions", arrow_table(columns, rows))


def _score(wh, dataset: str, score: float, at: dt.datetime, blocking: str = "") -> None:
    ensure_quality(wh)
    values = {"verification_id": f"v-{dataset}-{at:%H%M}", "run_id": "r", "dataset": dataset, "score": score,
              "checks_total": 10, "checks_failed": 0, "blocking_failed": int(bool(blocking)),
              "blocking_checks_failed": blocking, "min_score": 95.0, "verified_at": at}  # fmt: skip
    wh.insert_arrow("quality.dataset_scores", arrow_table(SCORE_COLUMNS, [tuple(values.get(c) for c in SCORE_COLUMNS)]))


def _events(wh) -> list[tuple[str, dict]]:
    return [(e.event_type, e.payload) for e in store.pending(wh, store.Subscription("all", "", store.EVENTS, "", 0))]


def test_only_a_change_after_the_first_look_is_an_event(fresh):
    nine = dt.datetime(2026, 2, 15, 9)
    with connect(fresh) as wh:
        _bands(wh, {"C1": (0.9, "high"), "C2": (0.2, "low"), "C3": (0.5, "medium")})
        _score(wh, "raw.orders", 100.0, nine)
        assert detect(wh) == {} and _events(wh) == []  # the first look: where things stand

        _bands(wh, {"C1": (0.95, "high"), "C2": (0.7, "high"), "C3": (0.1, "low"), "C4": (0.8, "high")})
        _score(wh, "raw.orders", 92.5, nine + dt.timedelta(hours=1), blocking="orders_total_positive")
        _score(wh, "raw.brands", 100.0, nine + dt.timedelta(hours=1))  # no earlier score: not a drop
        found = detect(wh)
        events = _events(wh)
        assert found == {"churn_risk.became_high": 2, "quality.dropped": 1}
        assert sorted(p["customer_id"] for t, p in events if t == "churn_risk.became_high") == ["C2", "C4"]
        [(_, drop)] = [(t, p) for t, p in events if t == "quality.dropped"]
        assert (drop["dataset"], drop["score"], drop["previous_score"]) == ("raw.orders", 92.5, 100.0)
        assert drop["blocking_checks_failed"] == ["orders_total_positive"]

        assert detect(wh) == {}  # nothing changed since: nothing new
        assert len(_events(wh)) == 3


def _anomalies(wh, flagged: dict[str, bool]) -> None:
    ensure_tables(wh)
    wh.execute("delete from ml.transaction_anomalies")
    columns = TABLES["ml.transaction_anomalies"]
    rows = []
    for i, (order, flag) in enumerate(flagged.items()):
        common = (order, f"C{i}", dt.datetime(2026, 2, 14, 10 + i), 12.5 * (i + 1), 1.9 if flag else 0.3, flag,
                  "payment hopping: 3 changes of payment method within a day" if flag else None)  # fmt: skip
        fixed = ("c360-anomalies", 2, dt.date(2026, 2, 15), dt.datetime(2026, 2, 15, 6))
        rows += [("order", order, *common, *fixed), ("transaction", f"T{order}", *common, *fixed)]
    wh.insert_arrow("ml.transaction_anomalies", arrow_table(columns, rows))


def test_a_newly_flagged_order_is_announced_once(fresh):
    with connect(fresh) as wh:
        _anomalies(wh, {"O1": True, "O2": False})
        assert detect(wh) == {}  # the first look: O1 was already flagged
        _anomalies(wh, {"O1": True, "O2": True, "O3": False, "O4": True})
        assert detect(wh) == {"anomaly.detected": 2}
        found = {p["order_id"]: p for t, p in _events(wh) if t == "anomaly.detected"}
        assert set(found) == {"O2", "O4"}
        assert found["O4"]["customer_id"] == "C3" and found["O4"]["amount"] == 50.0
        assert found["O4"]["reasons"] == ["payment hopping: 3 changes of payment method within a day"]
        _anomalies(wh, {"O2": True, "O4": True})  # the same flags on the next scoring: nothing new
        assert detect(wh) == {}
