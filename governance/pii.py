"""The PII classification, read from the dbt project's column metadata (the one place it is declared).

Every column that holds personal data carries `meta: {pii: true, pii_category: ...}` in the YAML of its
model or source; the masked share views (dbt_project/macros/governance.sql) and docs/governance.md are
both derived from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"
CATEGORIES = ("direct_identifier", "quasi_identifier", "sensitive")
# Column names that look like personal data; a column matching one must be classified
PII_NAME = re.compile(
    r"(^|_)(first|last|full)_?name$|email|phone|street|address|birth|income|zip|(^|_)age$|gender|marital|"
    r"children|hobbies|occupation|education|(^|_)(city|state|country)$|^(customer_id|entity_id|anonymous_id)$"
)
# Values that look like personal data (an email address, a phone number)
PII_VALUE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$|^\+?[0-9()\-. ]{10,}$")


@dataclass(frozen=True)
class PiiColumn:
    relation: str  # schema.table as in the warehouse
    column: str
    category: str
    masking: str | None  # how marketing sees it: age_band, income_band, or as it is (None)


def _schema(path: Path, entry: dict, kind: str, source: dict | None) -> str:
    if kind == "source":
        return source.get("schema", source["name"])
    parts = path.relative_to(DBT_PROJECT / "models").parts
    return parts[0]  # models/<layer>/...: the layer is the schema (dbt_project.yml)


def classified(project: Path = DBT_PROJECT) -> list[PiiColumn]:
    """Every classified column of every model and source, in file order."""
    out = []
    for path in sorted((project / "models").rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        entries = [("model", m, None) for m in doc.get("models") or []]
        entries += [("source", t, s) for s in doc.get("sources") or [] for t in s.get("tables") or []]
        for kind, entry, source in entries:
            schema = _schema(path, entry, kind, source)
            for column in entry.get("columns") or []:
                meta = column.get("meta") or {}
                if meta.get("pii"):
                    category = meta.get("pii_category")
                    if category not in CATEGORIES:
                        raise ValueError(f"{path}: {entry['name']}.{column['name']}: pii_category must be one of "
                                         f"{CATEGORIES}, got {category!r}")  # fmt: skip
                    out.append(PiiColumn(f"{schema}.{entry['name']}", column["name"], category, meta.get("masking")))
    return out
