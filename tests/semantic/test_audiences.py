"""Audiences from YAML: members match rules recomputed here from the marts, a new audience appears
after one run, a broken rule names itself and spares the others, and the history keeps exits and
re-entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from c360_core.settings import settings
from c360_core.warehouse import connect
from orchestration.lib import audiences
from tests.support import expected
from tests.support.warehouse import AS_OF, env, frame, landing_of, materialize_all

AUDIENCES = Path(__file__).resolve().parents[2] / "dbt_project" / "audiences.yml"  # the committed audiences


def members(values: dict, audience: str) -> set[str]:
    found = frame(values, f"select customer_id from marts.customer_segments where segment_name = '{audience}'")
    return set(found["customer_id"])


def test_every_audience_has_the_members_its_rule_gives_from_the_files(built):
    """The four named audiences and the eight RFM ones, each rule computed from the landing files
    (expected.audiences), not from the marts the rules read."""
    want = expected.audiences(landing_of(built), AS_OF)
    declared = [a["name"] for a in yaml.safe_load(AUDIENCES.read_text())["audiences"]]
    assert len(declared) == 12 and set(want) <= set(declared)
    for name in declared:
        assert members(built, name) == want.get(name, set()), name
    # the named ones are not empty here, so each comparison can fail (Hibernating and New Customers have
    # no members in 45 days of data: tests/ml/test_audiences_at_scale.py checks them on a year)
    assert all(want[n] for n in ("High Spending Customers", "Frequent Cart Abandoners", "Frequent Buyers"))
    assert len({n for n in declared if want.get(n)}) >= 9
    reasons = frame(built, "select reason from marts.customer_segments where segment_name = 'Frequent Buyers'")
    assert reasons["reason"].str.match(r"^orders_90d=\d+, revenue_90d=[\d.]+$").all()


@pytest.fixture
def editable(built, tmp_path) -> dict[str, str]:
    """A copy of the DuckDB warehouse and of audiences.yml that a test may change."""
    data_dir = tmp_path / "copy"
    shutil.copytree(built["C360_DATA_DIR"], data_dir, ignore=shutil.ignore_patterns("landing", "dagster*"))
    audiences = tmp_path / "audiences.yml"
    shutil.copy(AUDIENCES, audiences)
    return {**built, "C360_DATA_DIR": str(data_dir), "C360_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
            "C360_AUDIENCES": str(audiences)}  # fmt: skip


def edit(values: dict, change) -> None:
    path = Path(values["C360_AUDIENCES"])
    spec = yaml.safe_load(path.read_text())
    change(spec["audiences"])
    path.write_text(yaml.safe_dump(spec, sort_keys=False))


def rerun(values: dict) -> bool:
    with env(values):
        return materialize_all("key:marts/audience_assignments+")


ON_A_DUCKDB_COPY = pytest.mark.parametrize("built", ["duckdb"], indirect=True)


@ON_A_DUCKDB_COPY
def test_a_new_audience_appears_after_one_run_and_a_broken_rule_spares_the_others(editable):
    before = members(editable, "Frequent Buyers")
    edit(editable, lambda a: a.extend([
        {"name": "Big Families", "description": "three children or more", "owner": "test",
         "rule": "number_of_children >= 3", "reason": ["number_of_children"]},
        {"name": "Typo", "description": "a column that does not exist", "owner": "test",
         "rule": "ordres_90d >= 3"},
    ]))  # fmt: skip
    assert rerun(editable)  # the run goes on; its check audience_rules_valid fails, naming the audience
    with env(editable), connect(settings()) as wh:
        errors = audiences.assign(wh, audiences.load()).errors
    assert list(errors) == ["Typo"] and "ordres_90d" in errors["Typo"]
    profiles = frame(editable, "select customer_id, number_of_children from marts.customer_360")
    assert members(editable, "Big Families") == set(profiles.loc[profiles["number_of_children"] >= 3, "customer_id"])
    assert members(editable, "Frequent Buyers") == before  # ... and builds the others
    assert not members(editable, "Typo")


@ON_A_DUCKDB_COPY
def test_exits_and_reentries_are_kept_in_the_history(editable):
    audience = "Frequent Buyers"
    everyone = members(editable, audience)
    assert everyone

    def threshold(value):
        def change(audiences):
            next(a for a in audiences if a["name"] == audience)["rule"] = f"orders_90d >= {value}"

        return change

    edit(editable, threshold(1000))
    assert rerun(editable) and not members(editable, audience)
    edit(editable, threshold(3))
    assert rerun(editable) and members(editable, audience) == everyone
    history = frame(editable, f"select customer_id, event from marts.segment_membership_history "
                              f"where segment_name = '{audience}' order by event_sequence")  # fmt: skip
    for customer in everyone:
        assert history.loc[history["customer_id"] == customer, "event"].tolist() == ["entered", "exited", "entered"]
