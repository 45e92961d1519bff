"""The dbt project follows dbt's structure guide where it matters (docs/decisions.md lists where it does not):
sources are read in staging only, once per source table; staging builds on sources alone; every mart enforces
a contract; every model has YAML."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from orchestration.defs.dbt.project import ensure_manifest

ROOT = Path(__file__).resolve().parents[2] / "dbt_project"
SOURCE = re.compile(r"""source\(\s*['"](\w+)['"]\s*,\s*['"](\w+)['"]\s*\)""")


def _models() -> dict[str, dict]:
    nodes = json.loads(ensure_manifest().read_text())["nodes"].values()
    return {n["name"]: n for n in nodes if n["resource_type"] == "model"}


def test_sources_are_read_in_staging_only_and_once_per_table():
    reads: Counter = Counter()
    for path in (ROOT / "models").rglob("*.sql"):
        found = SOURCE.findall(path.read_text())
        folder = path.relative_to(ROOT / "models").parts[0]
        assert not found or folder == "staging", f"{path.name} reads {found} outside staging"
        reads.update(set(found))
    assert reads and max(reads.values()) == 1, {table: n for table, n in reads.items() if n > 1}


def test_staging_builds_on_sources_alone_and_every_source_table_has_its_model():
    models = _models()
    staging = {name: m for name, m in models.items() if m["fqn"][1] == "staging"}
    leaning = {name: m["depends_on"]["nodes"] for name, m in staging.items()
               if any(not d.startswith("source.") for d in m["depends_on"]["nodes"])}  # fmt: skip
    assert leaning == {}, leaning
    sources = json.loads(ensure_manifest().read_text())["sources"]
    read = {d for m in staging.values() for d in m["depends_on"]["nodes"]}
    assert set(sources) - read == set(), sorted(set(sources) - read)


def test_every_mart_enforces_a_contract_and_every_model_has_yaml():
    models = _models()
    marts = [m for m in models.values() if m["fqn"][1] == "marts"]
    assert len(marts) >= 20
    assert [m["name"] for m in marts if not m["config"]["contract"]["enforced"]] == []
    assert sorted(name for name, m in models.items() if not m.get("patch_path")) == []
