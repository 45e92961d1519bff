"""The dashboard's reads: every one as the signed-in token's role, through the same Backend as the API (on
PostgreSQL the server enforces the role; on DuckDB the role's share and region filter), and every one in
audit.access_log with interface `dashboard`. KPIs come from the semantic layer (MetricFlow renders the SQL)
or from a verified mart, never from SQL written for a page."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import pandas as pd

from serving import tokens
from serving.access import Forbidden, Reader, reader
from serving.backend import Backend


@dataclass(frozen=True)
class Filters:
    """A page's filters: the date range applies to dated facts (orders, sessions), the RFM segment and the
    state to the customers behind every figure."""

    start: dt.date
    end: dt.date
    segment: str | None = None
    state: str | None = None

    def metric_where(self) -> list[str]:
        """The filters as MetricFlow where constraints (through the customer entity)."""
        where = []
        for dimension, value in (("customer__rfm_segment", self.segment), ("customer__state", self.state)):
            if value:
                where.append("{{ Dimension('" + dimension + "') }} = " + _literal(value))
        return where

    def customer_where(self, alias: str = "") -> tuple[str, list]:
        """The filters as ` and ...` over a customer_360 row, with parameters."""
        sql, params = "", []
        for column, value in (("rfm_segment", self.segment), ("state", self.state)):
            if value:
                sql += f" and {alias}{column} = ?"
                params.append(value)
        return sql, params


def _literal(value: str) -> str:
    if "{" in value or "}" in value:
        raise ValueError(f"not a filter value: {value!r}")
    return "'" + value.replace("'", "''") + "'"


class Data:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @property
    def as_of(self) -> dt.date:
        return self.backend.cfg.as_of_date

    def sign_in(self, token: str | None) -> Reader | None:
        """The token's role if it is valid now (checked on every callback: a revoked token stops at once)."""
        if not token:
            return None
        with self.backend.owner() as wh:
            found = tokens.verify(wh, token)
        return None if found is None else reader(found.role)

    def frame(self, who: Reader, sql: str, params: list | None = None) -> pd.DataFrame:
        started, clock = dt.datetime.now(dt.UTC).replace(tzinfo=None), time.perf_counter()
        error, rows = None, None
        try:
            with self.backend.as_role(who) as wh:
                columns, rows = wh.query(sql, params)
            return pd.DataFrame.from_records(rows, columns=columns)
        except Exception as err:
            error = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            raise
        finally:
            self.backend.audit(
                "dashboard", sql, who.role, started, clock, rows=None if rows is None else len(rows), error=error
            )

    def metric(
        self,
        who: Reader,
        metrics: list[str],
        group_by: list[str] = (),
        filters: Filters | None = None,
        where: list[str] = (),
    ) -> pd.DataFrame:
        """A semantic-layer query, as `mf query` answers it, for the role."""
        constraints = [*(filters.metric_where() if filters else []), *where]
        sql = self.backend.metric_sql(
            who, metrics, group_by, constraints, start=filters and filters.start, end=filters and filters.end
        )
        out = self.frame(who, sql)
        out.columns = [
            c.split("__", 1)[-1]
            if c.startswith(("metric_time__", "customer__", "order__", "session__", "order_placed__", "segment__"))
            else c
            for c in out.columns
        ]
        for column in out.columns:
            if column in metrics:
                out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
        keys = [c for c in out.columns if c not in metrics]
        return out.sort_values(keys, ignore_index=True) if keys else out

    def customers(
        self, who: Reader, filters: Filters | None, columns: str, rest: str = "", params: list | None = None
    ) -> pd.DataFrame:
        """`select <columns> from <home>.customer_360 where <filters, region> <rest>`."""
        where, values = filters.customer_where() if filters else ("", [])
        region, more = self.backend.region(who)
        sql = f"select {columns} from {who.home}.customer_360 where true{where}{region} {rest}"
        return self.frame(who, sql, [*values, *more, *(params or [])])

    def options(self, who: Reader) -> dict[str, list[str]]:
        """The filter choices the role can see: RFM segments and states."""
        found = self.customers(who, None, "distinct rfm_segment, state")
        return {
            "segment": sorted(found["rfm_segment"].dropna().unique()),
            "state": sorted(found["state"].dropna().unique()),
        }


__all__ = ["Data", "Filters", "Forbidden"]
