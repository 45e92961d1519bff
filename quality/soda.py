"""Verify one Soda v4 contract against the configured warehouse and flatten its results.

The data source is built from Settings (C360_TARGET picks DuckDB, Postgres or Spark), so the same
contract files run on every target. Contracts name their dataset `c360/${var.DB_PREFIX}<schema>/<table>`:
Soda's DuckDB and Spark dialects want `c360/<schema>/<table>`, its Postgres dialect
`c360/<database>/<schema>/<table>`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml

from c360_core import telemetry  # noqa: F401  (Soda telemetry off before soda_core is imported)
from c360_core.settings import Settings
from c360_core.warehouse import connect, duckdb_connection, spark_session
from quality import soda_compat

CONTRACTS_DIR = Path(__file__).parent / "contracts"
DIMENSIONS = ("completeness", "accuracy", "consistency", "timeliness", "uniqueness", "validity")
SEVERITIES = ("blocking", "warn")
# The diagnostic that counts a check's failed rows, for the check types that have one.
FAILED_ROWS_METRIC = {"missing": "missing_count", "invalid": "invalid_count", "duplicate": "duplicate_count",
                      "failed_rows": "failed_rows_count"}  # fmt: skip


@dataclass(frozen=True)
class Contract:
    """One contract file: quality/contracts/<layer>/<table>.yml checks the table <layer>.<table>."""

    path: Path

    @property
    def dataset(self) -> str:  # e.g. raw.customers
        return f"{self.path.parent.name}.{self.path.stem}"

    @property
    def asset_key(self) -> list[str]:
        return [self.path.parent.name, self.path.stem]

    @property
    def batched(self) -> bool:
        """The contract can verify just the rows loaded since its last verification (it declares BATCH)."""
        return "BATCH" in (read_yaml(self.path).get("variables") or {})

    def reads(self) -> list[str]:
        """Other datasets the contract's checks read (reference data, reconciliations), e.g. raw.orders."""
        found = {
            f"{layer}.{table}" for layer, table in re.findall(r"\b(raw|staging|marts)[./](\w+)", self.path.read_text())
        }
        return sorted(d for d in found if d != self.dataset and not d.endswith("__rejects"))


@dataclass(frozen=True)
class DeclaredCheck:
    """A check as the contract file declares it (what Dagster shows before any run)."""

    id: str
    check_type: str
    name: str
    column: str | None
    attributes: dict

    @property
    def severity(self) -> str:
        return self.attributes.get("severity", "warn")

    @property
    def dimension(self) -> str:
        return self.attributes.get("dimension", "")


def declared_checks(contract: Contract) -> list[DeclaredCheck]:
    doc = read_yaml(contract.path)
    entries = [(c["name"], check) for c in doc.get("columns", []) for check in c.get("checks", [])]
    entries += [(None, check) for check in doc.get("checks", [])]
    out = []
    for column, check in entries:
        [(check_type, body)] = check.items()
        body = body or {}
        out.append(DeclaredCheck(
            id=check_id(check_type, column, body.get("qualifier")), check_type=check_type,
            name=body.get("name") or (f"{column} {check_type}" if column else check_type),
            column=column, attributes=body.get("attributes", {}),
        ))  # fmt: skip
    return out


def read_yaml(path: Path) -> dict:
    """A YAML file, with libyaml's parser where PyYAML has it (the definitions read every contract at start-up)."""
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def contracts() -> list[Contract]:
    return [Contract(p) for p in sorted(CONTRACTS_DIR.glob("*/*.yml"))]


def contract_for(dataset: str) -> Contract:
    layer, table = dataset.split(".")
    return Contract(CONTRACTS_DIR / layer / f"{table}.yml")


@dataclass
class CheckResult:
    """One check of one verification, in the shape quality.check_results stores."""

    dataset: str
    check: str  # unique within the dataset, e.g. email_address_missing
    name: str
    check_type: str
    columns: list[str]
    dimension: str
    severity: str
    spec: str
    outcome: str  # passed | failed | warned | not_evaluated
    value: float | None = None
    failed_rows: int | None = None
    rows_tested: int | None = None
    diagnostics: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


def check_id(check_type: str, column: str | None, qualifier: str | None) -> str:
    """A name that is stable across runs and valid as a Dagster check name."""
    parts = [column, qualifier or check_type] if column else [qualifier or check_type]
    return "_".join(p for p in parts if p).replace("-", "_").lower()


def data_source_yaml(cfg: Settings) -> str:
    """Soda's PostgreSQL data source (on DuckDB, Soda borrows a connection of c360's: `data_source`)."""
    # soda-postgres wants a password key; an empty one suits trust or peer authentication
    connection = {"host": cfg.pg_host, "port": cfg.pg_port, "user": cfg.pg_user, "database": cfg.pg_database,
                  "password": cfg.pg_password}  # fmt: skip
    return json.dumps({"type": "postgres", "name": "c360", "connection": connection})


@contextlib.contextmanager
def data_source(cfg: Settings) -> Iterator[object]:
    """Soda's data source over the configured warehouse.

    On DuckDB it is a cursor of a connection c360 opened (c360_core.warehouse.connect), so the file is
    opened one way in the process, with one configuration (c360_core.warehouse.duckdb_config), and no
    setting of Soda's can drift from it. On Spark, likewise, a session c360 opened on the Connect server.
    """
    if cfg.target == "postgres":
        yield soda_compat.from_yaml(data_source_yaml(cfg))
        return
    with connect(cfg) as wh:
        if cfg.target == "spark":
            yield soda_compat.from_spark_session(spark_session(wh), "c360")
        else:
            yield soda_compat.from_duckdb_cursor(duckdb_connection(wh).cursor(), "c360")


def variables(cfg: Settings, batch: str | None = None) -> dict[str, str]:
    """The contracts' variables; BATCH (a SQL condition on the rows to check) only for a batched contract."""
    values = {
        "DB_PREFIX": f"{cfg.pg_database}/" if cfg.target == "postgres" else "",
        "AS_OF": cfg.as_of_date.isoformat(),
        # a double on every engine: a decimal's average keeps a scale of each engine's own (Spark's: 4 digits more)
        "DOUBLE": "double precision" if cfg.target == "postgres" else "double",
    }
    if batch is not None:
        values["BATCH"] = batch
        values["ID_CANDIDATES"] = id_candidates(cfg, batch)
    return values


def id_candidates(cfg: Settings, batch: str) -> str:
    """The rows of raw.web_events that may share an id with the batch's, as a relation, for the contract's
    cross-batch check. On DuckDB: the rows whose look-up key (orchestration/lib/keys.py) is one of the batch's,
    found in the key column alone and fetched by row id, which skips every other row group, plus every row
    without a key (none in a table of UUIDs: the row groups' statistics skip them all). At 1M customers x 1
    year the ids are 4.3 GB to scan, their keys 0.9 GB. Elsewhere: every row (the ids are compared whole)."""
    if cfg.target != "duckdb":
        return "raw.web_events"
    return (
        "(select * from raw.web_events where rowid in ("
        "select keyed.rowid from raw.web_events as keyed where keyed.activity_key in ("
        f"select batch.activity_key from raw.web_events as batch where {batch})) "
        "union all select * from raw.web_events where activity_key is null)"
    )


class VerificationError(Exception):
    """Soda could not run the contract at all (bad YAML, no connection): not a data problem."""


def verify(cfg: Settings, contract: Contract, batch: str | None = None) -> list[CheckResult]:
    """Run a contract; a batched contract checks the rows matching `batch` (default: every row)."""
    from soda_core.contracts.api.verify_api import verify_contract_locally  # noqa: PLC0415  (slow import)

    with data_source(cfg) as source:
        session = verify_contract_locally(
            data_sources=[source],
            contract_file_path=str(contract.path),
            variables=variables(cfg, (batch or "1 = 1") if contract.batched else None),
        )
    if not session.contract_verification_results:
        raise VerificationError(f"{contract.path}: {session.get_errors_str()}")
    results = [_flatten(contract.dataset, r) for v in session.contract_verification_results for r in v.check_results]
    if not results:
        raise VerificationError(f"{contract.path}: no checks ran: {session.get_errors_str()}")
    return results


def _number(value) -> float | None:
    """A check's figure as a float: PostgreSQL's numerics come as Decimal (a metric's value was dropped)."""
    return float(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else None


def _flatten(dataset: str, result) -> CheckResult:
    check, diag = result.check, dict(result.diagnostic_metric_values or {})
    attributes = dict(check.attributes or {})
    columns = attributes.get("columns") or ([check.column_name] if check.column_name else [])
    failed = diag.get(FAILED_ROWS_METRIC.get(check.type, ""))
    tested = diag.get("check_rows_tested")
    return CheckResult(
        dataset=dataset,
        check=check_id(check.type, check.column_name, check.qualifier),
        name=check.name or check.type,
        check_type=check.type,
        columns=list(columns),
        dimension=attributes.get("dimension", "validity"),
        severity=attributes.get("severity", "warn"),
        spec=str(attributes.get("spec", "")),
        outcome=str(result.outcome.name).lower(),
        value=_number(result.threshold_value),
        failed_rows=int(failed) if failed is not None else None,
        rows_tested=int(tested) if isinstance(tested, (int, float)) else None,
        diagnostics={k: v for k, v in diag.items() if _number(v) is not None},
    )
