"""What a token's role reads, and how: the same roles as the warehouse's (governance/access.yml).

On PostgreSQL the API queries as the role (`set role`), so the server's grants, masked shares and row-level
security decide what comes back; a relation the role may not read is the server's "permission denied",
answered 403. On DuckDB, which has no roles, the API reads the role's share and applies the same rules itself:
the schemas the role is granted, and a regional analyst's states.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.grants import Access, load_access

ALL_SCHEMAS = ("marts", "semantic", "quality", "raw", "ml", "audit")


class Forbidden(Exception):
    """The role may not read this (403)."""


@dataclass(frozen=True)
class Reader:
    role: str
    schemas: tuple[str, ...]  # the schemas it may read
    states: tuple[str, ...] | None  # a regional analyst's states; None: no row filter
    everything: bool

    @property
    def home(self) -> str:
        """Where it reads the marts: its share, or the marts themselves."""
        shares = [s for s in self.schemas if s.startswith("share_")]
        return shares[0] if shares else "marts"

    def need(self, schema: str) -> None:
        if schema not in self.schemas:
            raise Forbidden(f"role {self.role} may not read the {schema} schema")


def roles(access: Access | None = None) -> list[str]:
    return (access or load_access()).roles


def reader(role: str, access: Access | None = None) -> Reader:
    access = access or load_access()
    if role in access.everything:
        return Reader(role, ALL_SCHEMAS, None, everything=True)
    if role in access.schemas:
        return Reader(role, tuple(access.schemas[role]), None, everything=False)
    if role in access.analysts:
        return Reader(role, ("marts",), tuple(access.analysts[role]), everything=False)
    raise ValueError(f"unknown role {role!r}: one of {', '.join(access.roles)} (governance/access.yml)")
