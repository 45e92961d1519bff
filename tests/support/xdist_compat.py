"""Test workers by target: the scheduler `make test` uses (tests/conftest.py), and the one place the tests name
a protected member of pytest-xdist.

pytest 9.2 derives `Node.nodeid` from `Node._id`, so xdist 3.8's `--dist loadgroup`, which appends "@group" to
`item._nodeid`, no longer groups anything: every test was handed out alone, and both workers built every
shared warehouse of both targets (a fresh clone's suite: 27 min). This scheduler keys xdist's own load-scope
scheduling on the group a test id names instead: every PostgreSQL test one group, every DuckDB test another,
the tests of neither target by module.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

CHECKED = {"pytest-xdist": "3.8.0", "pytest": "9.2.0"}


SHARED_CLUSTER = "tests/spark/"  # its modules share one cluster, in file order (tests/spark/conftest.py)


def group_of(nodeid: str) -> str:
    """The group of a test id: its target parameter (in the id's brackets), else the Spark package's shared
    cluster, else its module."""
    params = nodeid[nodeid.rindex("[") + 1 : -1].split("-") if nodeid.endswith("]") and "[" in nodeid else []
    for target in ("postgres", "duckdb", "spark"):
        if target in params:
            return target
    if nodeid.startswith(SHARED_CLUSTER):
        return SHARED_CLUSTER
    return nodeid.split("::", maxsplit=1)[0]


class TargetScheduling(LoadScopeScheduling):
    """xdist's load-scope scheduling, a scope being a group_of() (its `_split_scope` is what LoadGroupScheduling
    overrides too)."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)
