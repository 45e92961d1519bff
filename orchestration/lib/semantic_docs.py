"""The reference part of docs/semantic-layer.md and the Lens table of docs/metrics.md, generated from the
semantic-layer YAML and dbt_project/lens.yml.

    python -m orchestration.lib.semantic_docs     # rewrite both after changing the YAML

tests/semantic/test_semantic_docs.py fails when a page and the YAML disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from c360_core.markers import replace_between, rewrite

ROOT = Path(__file__).resolve().parents[2]
SEMANTIC = ROOT / "dbt_project" / "models" / "semantic"
PAGE = ROOT / "docs" / "semantic-layer.md"
START, END = "<!-- semantic-reference:start -->", "<!-- semantic-reference:end -->"
LENS = ROOT / "dbt_project" / "lens.yml"
METRICS_PAGE = ROOT / "docs" / "metrics.md"
LENS_START, LENS_END = "<!-- lens-measures:start -->", "<!-- lens-measures:end -->"


MODELS = ROOT / "dbt_project" / "models"
# the Lens's order of its entities (customer-360-v2.md), which the reference follows
LENS_ORDER = ("customer", "segment", "order", "product", "session", "product_views", "favorites", "cart_adds",
              "orders_placed")  # fmt: skip


def _yaml(name: str) -> dict:
    return yaml.safe_load((SEMANTIC / name).read_text())


def semantic_models() -> list[dict]:
    """Every semantic model of the project, wherever its YAML is (beside its mart, or in models/semantic/)."""
    found = [m for path in sorted(MODELS.rglob("*.yml"))
             for m in (yaml.safe_load(path.read_text()) or {}).get("semantic_models", [])]  # fmt: skip
    rank = {name: i for i, name in enumerate(LENS_ORDER)}
    return sorted(found, key=lambda m: (rank.get(m["name"], len(rank)), m["name"]))


def _cell(text: object) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")


def reference() -> str:
    lens = semantic_models()
    spec = _yaml("_semantic__metrics.yml")
    lines = ["### Dimensions", "", "Group or filter by `<entity>__<name>`, e.g. `customer__state`.", "",
             "| semantic model (entity) | Lens name | type | column or expression | definition |",
             "|---|---|---|---|---|"]  # fmt: skip
    for model in lens:
        entity = next(e["name"] for e in model["entities"] if e["type"] == "primary")
        for d in model["dimensions"]:
            lines.append(f"| {model['name']} (`{entity}`) | `{d['name']}` | {d['type']} | "
                         f"`{_cell(d.get('expr', d['name']))}` | {_cell(d.get('description'))} |")  # fmt: skip
    measures = {m["name"]: (model["name"], m) for model in lens for m in model.get("measures", [])}
    lines += ["", "### Metrics", "", "| metric | type | definition | built from |", "|---|---|---|---|"]
    for metric in spec["metrics"]:
        params = metric.get("type_params", {})
        if "measure" in params:
            model, measure = measures[params["measure"]]
            source = f"{measure['agg']}({_cell(measure.get('expr', measure['name']))}) on {model}"
        elif metric["type"] == "ratio":
            source = f"{_name(params['numerator'])} / {_name(params['denominator'])}"
        elif metric["type"] == "derived":
            source = f"`{_cell(params['expr'])}` over " + ", ".join(
                f"{m['name']}" + (f" (offset {m['offset_window']})" if "offset_window" in m else "")
                for m in params["metrics"]
            )
        else:
            conv = params["conversion_type_params"]
            source = (f"{conv['conversion_measure']['name']} after {conv['base_measure']['name']} within "
                      f"{conv['window']}, same {conv['entity']} and product")  # fmt: skip
        if metric.get("filter"):
            source += f"; where `{_cell(metric['filter'])}`"
        lines.append(f"| `{metric['name']}` | {metric['type']} | {_cell(metric['description'])} | {source} |")
    lines += ["", "### Saved queries (and their `semantic.*` tables)", "", "| saved query | metrics | by |",
              "|---|---|---|"]  # fmt: skip
    for query in spec["saved_queries"]:
        qp = query["query_params"]
        by = ", ".join(f"`{_cell(g)}`" for g in qp.get("group_by", []))
        lines.append(f"| `{query['name']}` | {', '.join(qp['metrics'])} | {by} |")
    return "\n".join(lines)


def _name(item) -> str:
    return item["name"] if isinstance(item, dict) else item


def lens_table() -> str:
    """Every METRIC row of the spec's Lens and the metric that answers it (dbt_project/lens.yml)."""
    lines = ["| Lens entity | Lens measure | Lens description | metric |", "|---|---|---|---|"]
    for row in yaml.safe_load(LENS.read_text())["measures"]:
        lines.append(f"| {row['entity']} | `{_cell(row['lens'])}` | {_cell(row['description'])} | `{row['metric']}` |")
    return "\n".join(lines)


def render(page: str) -> str:
    return replace_between(page, START, END, reference())


def render_metrics(page: str) -> str:
    return replace_between(page, LENS_START, LENS_END, lens_table())


if __name__ == "__main__":
    rewrite(PAGE, render)
    rewrite(METRICS_PAGE, render_metrics)
