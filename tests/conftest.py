"""`make test` runs the suite on two pytest-xdist workers (--dist loadgroup). A warehouse fixture that is
built once per session or module must be built by one worker only, so every test that uses one is put in
that fixture's group (with its target): the groups spread over the workers, and so do the other tests.
The small generated landing zones (landing, ml_landing) take seconds and are made by each worker."""

from __future__ import annotations

import pytest


def _group(item: pytest.Item) -> str | None:
    defs = getattr(item, "_fixtureinfo", None)
    if defs is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    shared = []
    for name in item.fixturenames:
        fixture = defs.name2fixturedefs.get(name)
        ours = fixture and fixture[-1].baseid.startswith("tests")  # not pytest's own (tmp_path_factory)
        if ours and fixture[-1].scope in ("session", "module") and name not in ("landing", "ml_landing"):
            where = item.module.__name__ if fixture[-1].scope == "module" else fixture[-1].baseid
            shared.append((fixture[-1].scope != "session", f"{where}:{name}[{params.get(name, '')}]"))
    # a session fixture first (a module fixture of the test's may build on it); the same fixtures, the same group
    return min(shared)[1] if shared else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = _group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
