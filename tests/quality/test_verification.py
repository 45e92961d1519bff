"""Soda contracts end to end, through real Dagster runs on each target: clean data scores 100,
planted defects are found (against the simulator's manifest), a blocking failure stops the models
below it until the data is fixed, and the score history accumulates."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from c360_core.settings import settings
from landing import path_for
from orchestration.definitions import defs
from quality.soda import contracts, declared_checks
from quality.verification import verify_dataset
from simulator.config import GeneratorConfig
from simulator.defects import KINDS
from simulator.generate import generate
from tests.support.readers import files, read_records
from tests.support.warehouse import (
    END,
    TARGETS,
    drop_database,
    env,
    landing_of,
    materialize_all,
    query,
    receiver,
    require_postgres,
    target_env,
)

CONTRACTS = {c.dataset: c for c in contracts()}


def latest_checks(built: dict, dataset: str) -> dict[str, dict]:
    """The checks of the dataset's latest verification, by check name."""
    rows = query(
        built,
        f"""
        select check_name, outcome, columns, failed_rows, rows_tested, severity, value
        from quality.check_results
        where verification_id = (
            select verification_id from quality.dataset_scores
            where dataset = '{dataset}' order by verified_at desc limit 1)
        """,
    )
    return {
        r[0]: {"outcome": r[1], "columns": set(filter(None, (r[2] or "").split(","))), "failed_rows": r[3],
               "rows_tested": r[4], "severity": r[5], "value": r[6]}
        for r in rows
    }  # fmt: skip


def latest_scores(built: dict) -> dict[str, tuple[float, int]]:
    rows = query(
        built,
        """
        select dataset, score, blocking_failed
        from (select *, row_number() over (partition by dataset order by verified_at desc) as recency
              from quality.dataset_scores) as ranked
        where recency = 1
        """,
    )
    return {r[0]: (r[1], r[2]) for r in rows}


# -- 1. clean data ---------------------------------------------------------------------------------


def test_clean_data_scores_100_everywhere_and_nothing_blocks(built):
    scores = latest_scores(built)
    assert set(scores) == set(CONTRACTS), "every contract ran in the full materialization"
    assert {d: s for d, s in scores.items() if s != (100.0, 0)} == {}
    for dataset, contract in CONTRACTS.items():
        checks = latest_checks(built, dataset)
        assert set(checks) == {c.id for c in declared_checks(contract)}, dataset
        assert {n: c["outcome"] for n, c in checks.items() if c["outcome"] != "passed"} == {}, dataset


def test_contract_checks_are_dagster_asset_checks_with_blocking_as_declared():
    graph = defs.resolve_asset_graph()
    for contract in CONTRACTS.values():
        key = dg.AssetKey(contract.asset_key)
        for check in declared_checks(contract):
            spec = graph.get_check_spec(dg.AssetCheckKey(key, check.id))
            assert spec.blocking == (check.severity == "blocking"), f"{contract.dataset}: {check.id}"
        assert dg.AssetCheckKey(key, "quality_score") in graph.asset_check_keys


# -- 2. planted defects ----------------------------------------------------------------------------

DEFECT_START, DEFECT_END = dt.date(2026, 1, 1), dt.date(2026, 1, 14)


@pytest.fixture(scope="session")
def defective_landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("defective") / "landing"
    # seed 31: at 2%, a seed that plants every kind in these two weeks (brands are few: one file of ~40, so a
    # brand kind may plant nothing under another seed) and orphans no more than 1% of the 150-odd payments
    # (two orders cut off mid-write would orphan theirs: the blocking tolerance of order_exists)
    generate(GeneratorConfig(customers=400, seed=31, start=DEFECT_START, end=DEFECT_END, out=root, quiet=True,
                             defects=0.02))  # fmt: skip
    return root


@pytest.fixture(scope="session", params=TARGETS)
def defective(request, defective_landing, tmp_path_factory) -> Iterator[dict[str, str]]:
    """Defective data built end to end, with quality alerts (minimum 99.9) posted to a local receiver."""
    if request.param == "postgres":
        require_postgres()
    data_dir = tmp_path_factory.mktemp(f"defective-{request.param}")
    shutil.copytree(defective_landing, data_dir / "landing")
    database = f"c360_test_{uuid.uuid4().hex[:8]}"
    as_of = DEFECT_END + dt.timedelta(days=1)
    values = {**target_env(request.param, data_dir, database), "C360_AS_OF_DATE": as_of.isoformat(),
              "C360_QUALITY_MIN_SCORE": "99.9"}  # fmt: skip
    with receiver() as hook, env({**values, "C360_ALERT_WEBHOOK_URL": hook.url}):
        # defects lower scores but break no blocking check, so everything builds
        assert materialize_all(), f"the materialization of defective data failed on {request.param}"
    yield {**values, "alerts": json.dumps(hook.bodies)}
    if request.param == "postgres":
        drop_database(database)


def manifest(built: dict) -> list[dict]:
    return json.loads((landing_of(built) / "_manifest" / "defects.json").read_text())["defects"]


# (source, kind, column) -> the check that counts exactly the records planted with that kind
EXACT = {
    ("customers", "missing_email", "email_address"): "email_address_missing",
    ("customers", "missing_phone", "phone_number"): "phone_number_missing",
    ("customers", "impossible_birth_date", "date_of_birth"): "date_of_birth_age_range",
    ("customers", "unknown_enum", "gender"): "gender_invalid",
    ("products", "duplicate_product_id", "product_id"): "product_per_snapshot",
    ("products", "missing_description", "product_name"): "product_name_missing",
    ("products", "mismatched_category", "product_subcategory"): "category_pair",
    ("brands", "unknown_enum", "brand_type"): "brand_type_invalid",
    ("brands", "duplicate_brand_id", "brand_id"): "brand_per_snapshot",
    ("orders", "unknown_enum", "order_status"): "order_status_invalid",
    ("orders", "unknown_enum", "payment_method"): "payment_method_invalid",
    ("orders", "late_delivery", "order_delivery_date"): "order_delivery_date_delivery_timeliness",
    ("orders", "malformed_line", None): "rejects",
    ("order_line_items", "malformed_line", None): "rejects",
    ("transactions", "unknown_enum", "payment_method"): "payment_method_invalid",
    ("transactions", "late_payment", "transaction_ts"): "transaction_ts_processing_time",
    ("web_events", "unknown_enum", "event_action"): "event_action_invalid",
    ("web_events", "malformed_line", None): "rejects",
    ("web_events", "missing_visit_start", "visit_start_ts"): "visit_start_ts_missing",
}
# kinds whose records one check counts together: a negative payment does not match its order either
# and a brand of an unknown type has a description that cannot name it
TOGETHER = {
    ("transactions", "amount_matches_order"): {"negative_amount", "mismatched_amount"},
    ("brands", "description_accuracy"): {"mismatched_description", "unknown_enum"},
}
# whole-record or whole-dataset kinds, each with the check that must fail for it (tests below check its value)
WHOLE = {
    ("orders", "unknown_customer"): "customer_exists",
    ("web_events", "late_file"): "late_arrival",
    ("web_events", "page_view_burst"): "page_view_outliers",
    ("web_events", "bounce_spike"): "bounce_rate_trend",
}


def test_every_planted_kind_fails_its_own_check(defective):
    planted = Counter((d["source"], d["kind"], d.get("column")) for d in manifest(defective))
    plantable = {(source, kind) for source, kinds in KINDS.items() for kind, _ in kinds} | set(WHOLE)
    assert {(source, kind) for source, kind, _ in planted} == plantable, "this seed plants every kind somewhere"
    covered = set(EXACT) | {(s, k, c) for (s, k, c) in planted if (s, k) in WHOLE}
    covered |= {(s, k, c) for (s, k, c) in planted for (src, _), kinds in TOGETHER.items() if s == src and k in kinds}
    assert set(planted) == covered, "a planted kind without its check"
    for (source, kind), check in WHOLE.items():
        assert latest_checks(defective, f"raw.{source}")[check]["outcome"] == "failed", (source, kind, check)


# The spec's quality table (customer-360-v2.md, "Data Quality Metrics"): 6 datasets x 3 checks, each with
# the planted kind that breaks it and the contract check that implements it.
SPEC_ROWS = {
    "Customer: Value Range Check – Age": ("customers", "impossible_birth_date", "date_of_birth_age_range"),
    "Customer: Completeness Check – Contact Information": ("customers", "missing_email", "email_address_missing"),
    "Customer: Accuracy Check – Gender": ("customers", "unknown_enum", "gender_invalid"),
    "Product: Missing Values Check – Description": ("products", "missing_description", "product_name_missing"),
    "Product: Consistency Check – Category": ("products", "mismatched_category", "category_pair"),
    "Product: Uniqueness Check – Product ID": ("products", "duplicate_product_id", "product_per_snapshot"),
    "Orders: Consistency Check – Order Status": ("orders", "unknown_enum", "order_status_invalid"),
    "Orders: Timeliness Check – Delivery Date": ("orders", "late_delivery", "order_delivery_date_delivery_timeliness"),
    "Orders: Accuracy Check – Payment Method": ("orders", "unknown_enum", "payment_method_invalid"),
    "Web Analytics: Outliers Check – Page Views": ("web_events", "page_view_burst", "page_view_outliers"),
    "Web Analytics: Completeness Check – User Sessions": (
        "web_events",
        "missing_visit_start",
        "visit_start_ts_missing",
    ),
    "Web Analytics: Trend Analysis – Bounce Rate": ("web_events", "bounce_spike", "bounce_rate_trend"),
    "Brands: Uniqueness Check – Brand ID": ("brands", "duplicate_brand_id", "brand_per_snapshot"),
    "Brands: Accuracy Check – Brand Description": ("brands", "mismatched_description", "description_accuracy"),
    "Brands: Consistency Check – Brand Category": ("brands", "unknown_enum", "brand_type_invalid"),
    "Transactions: Completeness Check – Transaction Details": (
        "transactions",
        "unknown_enum",
        "payment_method_invalid",
    ),
    "Transactions: Accuracy Check – Transaction Amount": ("transactions", "mismatched_amount", "amount_matches_order"),
    "Transactions: Timeliness Check – Transaction Processing Time": (
        "transactions",
        "late_payment",
        "transaction_ts_processing_time",
    ),
}


def test_every_row_of_the_spec_quality_table_has_a_planted_defect_its_check_fails_on(defective):
    assert len(SPEC_ROWS) == 18
    planted = {(d["source"], d["kind"]) for d in manifest(defective)}
    for row, (source, kind, check) in SPEC_ROWS.items():
        declared = {c.id: c for c in declared_checks(CONTRACTS[f"raw.{source}"])}
        assert declared[check].attributes["spec"] == row, (row, check)
        assert (source, kind) in planted, row
        counted_with = {k for (s, c), kinds in TOGETHER.items() if s == source and c == check for k in kinds}
        assert (
            any(c == check for (s, k, _), c in EXACT.items() if (s, k) == (source, kind))
            or kind in counted_with
            or WHOLE.get((source, kind)) == check
        ), f"{row}: no test counts {kind} with {check}"
        assert latest_checks(defective, f"raw.{source}")[check]["outcome"] == "failed", row


def test_counted_defects_match_the_manifest_exactly(defective):
    """Where a check counts planted records, its failed rows equal the manifest's count of them."""
    planted = Counter((d["source"], d["kind"], d.get("column")) for d in manifest(defective))
    for (source, kind, column), check in EXACT.items():
        found = latest_checks(defective, f"raw.{source}")[check]
        assert found["failed_rows"] == planted[(source, kind, column)] > 0, (source, kind, column, check)
        assert found["outcome"] == "failed", (source, kind, check)
    for (source, check), kinds in TOGETHER.items():
        want = sum(n for (s, k, _), n in planted.items() if s == source and k in kinds)
        assert latest_checks(defective, f"raw.{source}")[check]["failed_rows"] == want, check


def _raw_events(landing: Path) -> list[dict]:
    """The web events that load (malformed lines are rejects), read from the files."""
    return [r for p in files(landing, "web_events") for _, r in read_records(p, "web_events") if r]


def _outliers(views: Counter) -> set[str]:
    """The sessions whose page views pass Q3 + 3 x IQR (linear interpolation, as percentile_cont)."""
    q1, q3 = np.percentile(np.array(list(views.values()), dtype=float), [25, 75])
    return {s for s, n in views.items() if n > q3 + 3 * (q3 - q1)}


def test_page_view_outliers_fail_for_the_planted_bursts(defective):
    """The check's figure, the share of sessions whose page views pass the fence, recomputed from the files:
    every burst is past it, and without the bursts' copies the share is under the 2% the check allows (a few
    long sessions are outliers in clean data too)."""
    views = Counter(e["session_id"] for e in _raw_events(landing_of(defective)) if e["event_action"] == "page_view")
    outliers = _outliers(views)
    bursts = [d for d in manifest(defective) if d["kind"] == "page_view_burst"]
    assert {d["session"] for d in bursts} <= outliers
    check = latest_checks(defective, "raw.web_events")["page_view_outliers"]
    assert check["value"] == pytest.approx(100 * len(outliers) / len(views), rel=1e-9)
    assert check["value"] >= 2 and check["outcome"] == "failed"
    clean = views.copy()
    for d in bursts:
        clean[d["session"]] -= d["copies"]
    assert 100 * len(_outliers(clean)) / len(clean) < 2


def test_the_bounce_spike_is_what_the_trend_check_sees(defective):
    """|z| of the latest hour's bounce rate against the week before, recomputed from the files as the check
    defines it (the events of the last 8 days by visit start; a session's start is its earliest)."""
    events = [e for e in _raw_events(landing_of(defective)) if e["visit_start_ts"]]
    start = {e["visit_start_ts"] for e in events}
    newest = dt.datetime.strptime(max(start), "%Y-%m-%dT%H:%M:%SZ")
    sessions: dict[str, list] = {}
    for e in events:
        at = dt.datetime.strptime(e["visit_start_ts"], "%Y-%m-%dT%H:%M:%SZ")
        if at >= newest - dt.timedelta(days=8):
            began, n = sessions.get(e["session_id"], (at, 0))
            sessions[e["session_id"]] = (min(began, at), n + 1)
    hour = max(b.replace(minute=0, second=0) for b, _ in sessions.values())
    this = [n == 1 for b, n in sessions.values() if b.replace(minute=0, second=0) == hour]
    week = [n == 1 for b, n in sessions.values() if hour - dt.timedelta(days=7) <= b < hour]
    p = sum(week) / len(week)
    z = abs(sum(this) / len(this) - p) / math.sqrt(p * (1 - p) / len(this))
    [spike] = [d for d in manifest(defective) if d["kind"] == "bounce_spike"]
    assert hour == dt.datetime.combine(DEFECT_END, dt.time(23)) and len(this) >= spike["sessions"]
    check = latest_checks(defective, "raw.web_events")["bounce_rate_trend"]
    assert check["value"] == pytest.approx(z, rel=1e-9)
    assert z > 4 and check["outcome"] == "failed"


def test_late_files_count_every_event_they_carry(defective):
    landing = landing_of(defective)
    late = {d["file"] for d in manifest(defective) if d["kind"] == "late_file"}
    events = sum(1 for rel in late for _, record in read_records(landing / rel, "web_events") if record)
    assert latest_checks(defective, "raw.web_events")["late_arrival"]["failed_rows"] == events


def test_each_affected_dataset_scores_below_100(defective):
    affected = {f"raw.{d['source']}" for d in manifest(defective)}
    scores = latest_scores(defective)
    assert {d: scores[d][0] for d in affected if scores[d][0] >= 100} == {}
    assert {d: s for d, s in scores.items() if s[1]} == {}, "planted defects stay under every blocking tolerance"


def test_a_score_below_the_minimum_posts_one_alert_per_affected_dataset(defective):
    """Every source with planted defects scores under 99.9 here (the fewest: ~1 bad row in 600), so each
    posts one alert on its first verification; the clean marts post none."""
    alerts = json.loads(defective["alerts"])
    assert {a["event"] for a in alerts} == {"quality_score_below_threshold"}
    assert sorted(a["dataset"] for a in alerts) == sorted({f"raw.{d['source']}" for d in manifest(defective)})
    for a in alerts:
        assert a["score"] < a["min_score"] == 99.9 and a["previous_score"] is None and a["failed_checks"]


# -- 3. blocking gate, 4. history --------------------------------------------------------------------


def _duplicate_a_customer_version(landing: Path) -> tuple[Path, str, str]:
    """Append a second, different record for an existing (customer_id, updated_at) to the last CRM file."""
    path = files(landing, "customers")[-1]
    original = path.read_text()
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header, rows = reader.fieldnames, list(reader)
    twin = {**rows[0], "email_address": "someone.else@example.com"}
    with open(path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=header).writerow(twin)
    return path, original, twin["customer_id"]


def _materialized(instance, key: list[str]) -> int:
    return len(instance.fetch_materializations(dg.AssetKey(key), limit=1000).records)


def test_a_blocking_failure_stops_customer_360_until_the_data_is_fixed(forked, instance):
    landing = Path(forked["C360_DATA_DIR"]) / "landing"
    with env(forked):
        path, original, customer = _duplicate_a_customer_version(landing)
        # the load keeps the record (nothing is lost) and its contract fails the blocking key check
        assert not materialize_all("customers", instance=instance)
        evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["raw", "customers"]), "version_key")]
        )[dg.AssetCheckKey(dg.AssetKey(["raw", "customers"]), "version_key")]
        result = evaluation.event.dagster_event.event_specific_data
        assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
        assert result.metadata["failed_rows"].value == 1
        assert query(forked, f"select count(*) from raw.customers where customer_id = '{customer}' "
                             "and email_address = 'someone.else@example.com'") == [(1,)]  # fmt: skip

        # a later run of the models: customer_360 is held back, a model not below customers still builds
        assert not materialize_all("key:marts/customer_360 or key:marts/products", instance=instance)
        assert _materialized(instance, ["marts", "customer_360"]) == 0
        assert _materialized(instance, ["marts", "products"]) == 1
        failure = next(r for r in instance.all_logs(instance.get_runs(limit=1)[0].run_id)
                       if r.dagster_event and r.dagster_event.is_step_failure)  # fmt: skip
        message = failure.dagster_event.step_failure_data.error.message
        assert "raw.customers" in message and "version_key" in message

        # training and scoring read features below raw.customers: they refuse to run too
        for step in ("key:ml/churn_training", "key:ml/clv_predictions"):
            assert not materialize_all(step, instance=instance)
            failure = next(r for r in instance.all_logs(instance.get_runs(limit=1)[0].run_id)
                           if r.dagster_event and r.dagster_event.is_step_failure)  # fmt: skip
            message = failure.dagster_event.step_failure_data.error.message
            assert "ML features are blocked" in message and "version_key" in message

        # fix the file, reload: the contract passes and customer_360 builds again
        path.write_text(original)
        assert materialize_all("customers", instance=instance)
        assert materialize_all("key:marts/customer_360", instance=instance)
        assert _materialized(instance, ["marts", "customer_360"]) == 1
        assert materialize_all("key:ml/churn_training", instance=instance)

    # 4. history: three verifications of raw.customers, and the analyst view trends over them
    history = query(forked, "select score, blocking_failed from quality.dataset_scores "
                            "where dataset = 'raw.customers' order by verified_at")  # fmt: skip
    assert len(history) == 3
    (first, _), (bad, blocked), (fixed, unblocked) = history
    assert first == fixed == 100 and bad < 100 and blocked == 1 and unblocked == 0
    [(trend, score, previous, minimum, shown, is_blocked)] = query(
        forked,
        "select verifications_in_trend, score, previous_score, min_score_30, score_history, is_blocked "
        "from marts.data_quality_daily where dataset = 'raw.customers'",
    )
    assert (trend, score, previous, is_blocked) == (3, 100, bad, False)
    assert minimum == pytest.approx(bad) and shown.count(" > ") == 2


def test_an_hourly_batch_is_verified_alone_and_a_key_loaded_twice_is_caught(forked):
    """Web events verify the rows loaded since their last verification; a key seen before still fails."""
    landing = Path(forked["C360_DATA_DIR"]) / "landing"
    earlier = [r for p in files(landing, "web_events") for _, r in read_records(p, "web_events") if r]
    hour = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(0))
    batch = [{**earlier[i], "activity_uuid": f"new-{i}"} for i in range(3)] + [earlier[-1]]  # the last: a reload
    path = landing / path_for("web_events", hour.strftime("%Y-%m-%dT%H"))
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in batch))
    with env(forked):
        materialize_all('key:"raw/web_events"')
    checks = latest_checks(forked, "raw.web_events")
    assert checks["activity_uuid_missing"]["rows_tested"] == len(batch)  # the batch, not the table
    assert checks["activity_uuid_duplicate"]["failed_rows"] == 0  # no duplicate inside the batch ...
    assert checks["activity_uuid_unique_across_batches"]["failed_rows"] == 1  # ... but one key was loaded before

    with env(forked):
        full = verify_dataset(settings(), "raw.web_events", "test-full")  # every row, as the daily job does
    by_check = {r.check: r for r in full.results}
    assert by_check["activity_uuid_missing"].rows_tested == len(earlier) + len(batch)
    assert by_check["activity_uuid_duplicate"].failed_rows == 1  # the one event loaded twice

    # the next hour: an id that is no UUID (it has no look-up key, keys.py) loaded in the batch before, the same
    # UUID a third time, and a new UUID. Both repeats are caught, by the key's branch and the keyless one's
    again = [{**earlier[5], "activity_uuid": "new-0"}, earlier[-1], {**earlier[6], "activity_uuid": str(uuid.uuid4())}]
    path = landing / path_for("web_events", (hour + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in again))
    with env(forked):
        materialize_all('key:"raw/web_events"')
    checks = latest_checks(forked, "raw.web_events")
    assert checks["activity_uuid_missing"]["rows_tested"] == len(again)
    assert checks["activity_uuid_unique_across_batches"]["failed_rows"] == 2
