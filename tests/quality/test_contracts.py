"""The contracts as files: well formed, fully annotated, documented, and scored as documented."""

import re

import pytest
import yaml

from landing import SOURCES
from orchestration.lib.load import raw_columns
from quality import docs
from quality.score import WEIGHTS, check_score, score
from quality.soda import DIMENSIONS, SEVERITIES, CheckResult, contracts, declared_checks

CONTRACTS = contracts()


def test_every_source_and_the_two_marts_have_a_contract():
    datasets = {c.dataset for c in CONTRACTS}
    assert {f"raw.{s}" for s in SOURCES} | {"marts.customer_360", "marts.orders_enriched"} <= datasets


@pytest.mark.parametrize("contract", CONTRACTS, ids=lambda c: c.dataset)
def test_contract_names_its_own_table_and_annotates_every_check(contract):
    doc = yaml.safe_load(contract.path.read_text())
    layer, table = contract.dataset.split(".")
    assert doc["dataset"] == f"c360/${{var.DB_PREFIX}}{layer}/{table}"
    checks = declared_checks(contract)
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids)), "check ids must be unique within a contract"
    assert all(re.fullmatch(r"[a-z0-9_]+", i) for i in ids)
    for c in checks:
        assert c.dimension in DIMENSIONS, f"{c.id}: dimension {c.dimension!r}"
        assert c.severity in SEVERITIES, f"{c.id}: severity {c.severity!r}"
        assert c.attributes.get("spec"), f"{c.id}: no spec row"
    types = {c.check_type for c in checks}
    assert {"schema", "row_count"} <= types, "every dataset checks its schema and that it has rows"
    assert any(c.severity == "blocking" for c in checks), "every dataset has a blocking key check"


@pytest.mark.parametrize("contract", [c for c in CONTRACTS if c.dataset.startswith("raw.")], ids=lambda c: c.dataset)
def test_raw_contracts_list_every_landing_column_and_check_freshness_and_rejects(contract):
    doc = yaml.safe_load(contract.path.read_text())
    source = SOURCES[contract.dataset.split(".")[1]]
    columns = [c["name"] for c in doc["columns"]]
    assert columns == list(raw_columns(source))  # the source's, its look-up key, the loader's
    ids = {c.id for c in declared_checks(contract)}
    assert {"freshness", "rejects"} <= ids


def test_the_spec_quality_table_rows_each_have_a_check():
    """Each row of the spec's quality table (customer-360-v2.md) maps to at least one check."""
    specs = {str(c.attributes.get("spec")) for contract in CONTRACTS for c in declared_checks(contract)}
    rows = [
        "Customer: Value Range Check – Age", "Customer: Completeness Check – Contact Information",
        "Customer: Accuracy Check – Gender", "Product: Missing Values Check – Description",
        "Product: Consistency Check – Category", "Product: Uniqueness Check – Product ID",
        "Orders: Consistency Check – Order Status", "Orders: Timeliness Check – Delivery Date",
        "Orders: Accuracy Check – Payment Method", "Web Analytics: Outliers Check – Page Views",
        "Web Analytics: Completeness Check – User Sessions", "Web Analytics: Trend Analysis – Bounce Rate",
        "Brands: Uniqueness Check – Brand ID", "Brands: Accuracy Check – Brand Description",
        "Brands: Consistency Check – Brand Category", "Transactions: Completeness Check – Transaction Details",
        "Transactions: Accuracy Check – Transaction Amount",
        "Transactions: Timeliness Check – Transaction Processing Time",
    ]  # fmt: skip
    assert [r for r in rows if r not in specs] == []


def test_docs_list_every_check_as_generated():
    page = docs.DOC.read_text()
    assert docs.rendered(page) == page, "docs/quality.md is out of date: run python -m quality.docs"
    for contract in CONTRACTS:
        for c in declared_checks(contract):
            assert f"| {contract.dataset} | `{c.id}` |" in page


def _result(check, dimension, outcome, *, failed=None, tested=None, severity="warn"):
    return CheckResult("raw.x", check, check, "t", [], dimension, severity, "s", outcome, None, failed, tested)


def test_check_scores_are_row_weighted_where_rows_are_counted():
    assert check_score(_result("a", "completeness", "failed", failed=2, tested=100)) == pytest.approx(0.98)
    assert check_score(_result("b", "completeness", "passed", failed=1, tested=200)) == pytest.approx(0.995)
    assert check_score(_result("c", "timeliness", "failed")) == 0
    assert check_score(_result("d", "timeliness", "passed")) == 1
    assert check_score(_result("e", "validity", "not_evaluated", failed=0, tested=10)) == 0


def test_dataset_score_weights_dimensions_as_documented():
    results = [
        _result("missing", "completeness", "failed", failed=10, tested=100),  # 0.90
        _result("rows", "completeness", "passed"),  # 1.0 -> completeness 0.95
        _result("fresh", "timeliness", "failed"),  # 0.0 -> timeliness 0
        _result("dup", "uniqueness", "failed", failed=1, tested=4, severity="blocking"),  # 0.75
    ]
    # by hand: (0.25 * 0.95 + 0.10 * 0 + 0.15 * 0.75) / (0.25 + 0.10 + 0.15) = 0.35 / 0.5 = 0.70
    scored = score("raw.x", results)
    assert scored.score == pytest.approx(70.0)
    assert scored.dimensions["completeness"] == pytest.approx(95.0)
    assert scored.dimensions["accuracy"] is None
    assert scored.blocking_failed == ["dup"]
    assert scored.checks_failed == 3
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_a_clean_verification_scores_exactly_100():
    results = [_result(f"c{i}", d, "passed", failed=0, tested=7) for i, d in enumerate(DIMENSIONS)]
    assert score("raw.x", results).score == 100
