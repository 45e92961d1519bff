"""Audiences: the rules of dbt_project/audiences.yml evaluated over marts.customer_audience_signals.

Each audience's rule runs on its own, so a rule that does not parse or names an unknown column
fails only that audience, with the database's reason; its previous members are kept as they were
(no false exits in the membership history) and every other audience is refreshed. The members go
to `marts.audience_assignments`, replaced in one transaction; dbt builds `marts.customer_segments`
and `marts.segment_membership_history` from it (docs/semantic-layer.md).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from c360_core.settings import settings
from c360_core.warehouse import Warehouse, arrow_table, create_table

SIGNALS = "marts.customer_audience_signals"
TABLE = "marts.audience_assignments"
COLUMNS = {"customer_id": "varchar", "segment_name": "varchar", "reason": "varchar", "evaluated_at": "timestamp"}
REQUIRED = ("name", "description", "owner", "rule")


class AudienceFileError(Exception):
    """audiences.yml itself is unreadable: no audience can be evaluated."""


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    owner: str
    rule: str
    reason: tuple[str, ...] = ()


@dataclass
class Outcome:
    members: dict[str, int] = field(default_factory=dict)  # audience -> customers
    errors: dict[str, str] = field(default_factory=dict)  # audience -> what is wrong


def audiences_file() -> Path:
    return settings().audiences_file


def load(path: Path | None = None) -> list[Audience]:
    path = path or audiences_file()
    try:
        entries = (yaml.safe_load(path.read_text()) or {}).get("audiences") or []
    except (OSError, yaml.YAMLError) as err:
        raise AudienceFileError(f"{path}: cannot read the audiences: {err}") from err
    audiences, seen = [], set()
    for i, entry in enumerate(entries, 1):
        missing = [k for k in REQUIRED if not isinstance(entry, dict) or not entry.get(k)]
        if missing:
            raise AudienceFileError(f"{path}: audience #{i} lacks {', '.join(missing)}")
        if entry["name"] in seen:
            raise AudienceFileError(f"{path}: audience {entry['name']!r} is defined twice")
        seen.add(entry["name"])
        reason = entry.get("reason") or []
        if isinstance(reason, str):
            reason = [reason]
        audiences.append(Audience(entry["name"], entry["description"], entry["owner"], str(entry["rule"]),
                                  tuple(reason)))  # fmt: skip
    return audiences


def _problem(audience: Audience) -> str | None:
    """What makes a rule unusable before it reaches the database."""
    if ";" in audience.rule or "--" in audience.rule:
        return "a rule is one SQL condition: no ';' and no comments"
    bad = [c for c in audience.reason if not c.isidentifier()]
    return f"reason columns must be plain column names, not {bad}" if bad else None


def _text(value) -> str:
    if isinstance(value, float | decimal.Decimal):
        value = float(value)
        return "null" if math.isnan(value) else f"{value:.2f}".rstrip("0").rstrip(".")
    return "null" if value is None else str(value)


def _members(wh: Warehouse, audience: Audience) -> list[tuple[str, str]]:
    """(customer_id, reason) of every customer the rule selects; raises the database's error."""
    columns = "".join(f", {c}" for c in audience.reason)
    sql = f"select customer_id{columns} from {SIGNALS} where ({audience.rule}) order by customer_id"
    with wh.transaction():  # on Postgres a failed statement must not poison the connection
        names, rows = wh.query(sql)
    return [(row[0], ", ".join(f"{n}={_text(v)}" for n, v in zip(names[1:], row[1:], strict=True))) for row in rows]


def assign(wh: Warehouse, audiences: list[Audience], now: dt.datetime | None = None) -> Outcome:
    """Evaluate every audience and replace the assignments of those that evaluated."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    ensure_table(wh)
    outcome, rows = Outcome(), []
    for audience in audiences:
        problem = _problem(audience)
        if problem is None:
            try:
                members = _members(wh, audience)
            except Exception as err:  # duckdb and psycopg raise many kinds; the message is what matters
                problem = str(err).strip().splitlines()[0]
        if problem is not None:
            outcome.errors[audience.name] = f"rule `{audience.rule}`: {problem}"
            continue
        outcome.members[audience.name] = len(members)
        rows += [(customer, audience.name, reason, now) for customer, reason in members]
    keep = sorted(outcome.errors)  # a broken audience keeps its previous members
    with wh.transaction():
        if keep:
            wh.execute(f"delete from {TABLE} where segment_name not in ({', '.join('?' * len(keep))})", keep)
        else:
            wh.execute(f"delete from {TABLE}")
        if rows:
            wh.insert_arrow(TABLE, arrow_table(COLUMNS, rows))
    return outcome


def ensure_table(wh: Warehouse) -> None:
    """The assignments exist, empty until the audiences first run (dbt's segment models read them)."""
    create_table(wh, TABLE, COLUMNS)
