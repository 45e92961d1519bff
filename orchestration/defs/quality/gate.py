"""The blocking gate across runs: dbt models below a dataset whose latest contract
verification failed a blocking check, or below a source with a refused landing file, are left out of
every dbt build until the check passes again or the file is fixed or removed.

Within one run Dagster's blocking checks already stop downstream steps; this covers the runs that
come later (automation, the CLI's model step), which would otherwise read the bad rows through the
staging views.
"""

from __future__ import annotations

from collections.abc import Mapping

from c360_core.settings import Settings
from c360_core.warehouse import connect
from orchestration.lib.load import refused_files
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
    """{model name: why it must not build}, from the latest verification of each dataset and the refused
    landing files of each source."""
    with connect(cfg) as wh:
        reasons = {d: [f"{d} failed blocking check(s): {', '.join(c)}"] for d, c in blocked_datasets(wh).items()}
        for name, refused in sorted(refused_files(wh, cfg.landing).items()):
            first = min(refused)
            detail = refused[first] if refused[first].startswith(first) else f"{first}: {refused[first]}"
            reasons.setdefault(f"raw.{name}", []).append(
                f"raw.{name} has {len(refused)} refused landing file(s), fix or remove them (first: {detail})"
            )
    out: dict[str, str] = {}
    for dataset, whys in sorted(reasons.items()):
        why = "; ".join(whys)
        node = _node_for(manifest, dataset)
        if node is None:
            continue
        for child in sorted(_descendants(manifest, node)):
            if child.startswith("model.") and manifest["nodes"][child]["name"] not in out:
                out[manifest["nodes"][child]["name"]] = why
    return out
