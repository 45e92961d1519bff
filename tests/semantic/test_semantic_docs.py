"""docs/semantic-layer.md lists exactly the dimensions, metrics and saved queries of the YAML."""

import re

import yaml

from orchestration.lib import semantic_docs


def test_the_reference_is_in_step_with_the_yaml():
    page = semantic_docs.PAGE.read_text()
    assert semantic_docs.render(page) == page, "run: python -m orchestration.lib.semantic_docs"
    metrics = semantic_docs.METRICS_PAGE.read_text()
    assert semantic_docs.render_metrics(metrics) == metrics, "run: python -m orchestration.lib.semantic_docs"


def test_the_reference_names_every_metric_and_every_lens_dimension():
    page = semantic_docs.PAGE.read_text()
    listed = set(re.findall(r"^\| `([a-z0-9_]+)` \|", page, flags=re.M))
    metrics = yaml.safe_load((semantic_docs.SEMANTIC / "_semantic__metrics.yml").read_text())
    assert {m["name"] for m in metrics["metrics"]} | {q["name"] for q in metrics["saved_queries"]} <= listed
    lens = [m for path in (semantic_docs.ROOT / "dbt_project" / "models").rglob("*.yml")
            for m in (yaml.safe_load(path.read_text()) or {}).get("semantic_models", [])]  # fmt: skip
    dimensions = {d["name"] for model in lens for d in model["dimensions"]}
    # the Lens names of customer-360-v2.md that are dimensions
    assert {
        "birth_date",
        "email_id",
        "zip_code",
        "register_date",
        "entity_id",
        "activity_repeated_at",
        "duration_in_days",
        "visit_start_ts",
        "activity_year",
        "activity_month",
        "segment_name",
    } <= dimensions
    assert all(f"`{d}`" in page for d in dimensions)
