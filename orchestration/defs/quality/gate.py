"""The blocking gate across runs: dbt models below a dataset whose latest contract
verification failed a blocking check are left out of every dbt build until it passes again.

Within one run Dagster's blocking checks already stop downstream steps; this covers the runs that
come later (automation, the CLI's model step), which would otherwise read the bad rows through the
staging views.
"""

from __future__ import annotations

from collections.abc import Mapping

from c360_core.settings import Settings
from c360_core.warehouse import connect
from quality.store import blocked_datasets


def _node_for(manifest: Mapping, dataset: str) -> str | None:
    schema, table = dataset.split(".")
    for kind in ("sources", "nodes"):
        for unique_id, node in manifest[kind].items():
            if node.get("schema") == schema and node.get("name") == table:
                return unique_id
    return None


def _descendants(manifest: Mapping, start: str) -> set[str]:
    seen, todo = set(), list(manifest["child_map"].get(start, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(manifest["child_map"].get(node, []))
    return seen


def blocked_models(cfg: Settings, manifest: Mapping) -> dict[str, str]:
    """{model name: why it must not build}, from the latest verification of each dataset."""
    with connect(cfg) as wh:
        blocked = blocked_datasets(wh)
    out: dict[str, str] = {}
    for dataset, checks in sorted(blocked.items()):
        node = _node_for(manifest, dataset)
        if node is None:
            continue
        for child in sorted(_descendants(manifest, node)):
            if child.startswith("model.") and manifest["nodes"][child]["name"] not in out:
                out[manifest["nodes"][child]["name"]] = f"{dataset} failed blocking check(s): {', '.join(checks)}"
    return out
