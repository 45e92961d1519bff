"""Imports flow one way: the CLI and the Dagster definitions wire things together, and nothing below
them imports them back (docs/decisions.md, "One core package")."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("c360_core", "landing", "simulator", "quality", "ml", "governance", "webhooks", "orchestration", "serving",
            "c360_cli")  # fmt: skip

# package (or sub-package) -> the c360 packages it may import besides itself
ALLOWED = {
    "c360_core": set(),
    "landing": set(),
    "simulator": {"c360_core", "landing"},
    "quality": {"c360_core"},
    "ml": {"c360_core"},
    "governance": {"c360_core", "landing"},
    "webhooks": {"c360_core"},
    "orchestration/compat": {"c360_core", "orchestration.compat"},  # the settings: each switch-off is one
    "orchestration/lib": {"c360_core", "landing", "governance", "orchestration.lib", "orchestration.compat"},
    # a front end like the CLI; it reads the semantic layer through orchestration's MetricFlow wrapper
    "serving": {"c360_core", "landing", "governance", "quality", "ml", "webhooks", "orchestration.lib.semantic"},
}
# The test-data generator is a producer of landing files like any other: production never imports it. Only
# the CLI's `generate` and `simulate-shop` commands (c360_cli/main.py), the tests and the bench do.
PRODUCTION = ("c360_core", "landing", "quality", "ml", "governance", "webhooks", "orchestration", "serving", "c360_cli")
MAY_RUN_THE_SIMULATOR = {"c360_cli/main.py"}


def c360_imports(path: Path) -> set[str]:
    """Every c360 module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found.update(n for n in names if n.split(".")[0] in PACKAGES)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_lower_packages_never_import_the_wiring(package: str) -> None:
    own = package.replace("/", ".")
    allowed = ALLOWED[package] | {own}
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}"
    wrong = {
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in c360_imports(path)
        if not any(module == a or module.startswith(f"{a}.") for a in allowed)
    }
    assert not wrong, sorted(wrong)


def test_production_never_imports_the_simulator() -> None:
    files = [p for package in PRODUCTION for p in sorted((ROOT / package).rglob("*.py"))]
    wrong = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        if str(path.relative_to(ROOT)) not in MAY_RUN_THE_SIMULATOR
        for module in c360_imports(path)
        if module == "simulator" or module.startswith("simulator.")
    )
    assert wrong == []


def _third_party(path: Path) -> set[str]:
    """The top-level modules outside c360 and the standard library that a file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {m for m in found if m not in PACKAGES and m not in sys.stdlib_module_names and m != "__future__"}


def test_every_package_production_imports_is_declared() -> None:
    """A module imported directly is a declared dependency (pyproject.toml), not a dependency's dependency
    that an upgrade of the other may drop; and every c360 package is in the wheel."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {re.split(r"[<>=!~\[ ]", d, maxsplit=1)[0].lower().replace("_", "-")
                for d in project["project"]["dependencies"]}  # fmt: skip
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for package in PRODUCTION:
        for path in (ROOT / package).rglob("*.py"):
            for module in _third_party(path):
                names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
                if not names & declared:
                    missing.add(f"{module} ({', '.join(sorted(names))}), imported by {path.relative_to(ROOT)}")
    assert sorted(missing) == [], "\n".join(sorted(missing))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(wheel) == set(PACKAGES)
