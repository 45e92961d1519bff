"""The dbt project beside the Python package, and its manifest."""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from dagster_dbt import DbtProject

DBT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

dbt_project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """A folder held by this process alone: processes that parse into it and read what they parsed take
    turns, so none reads another's half-written file."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".c360.lock").open("a") as lock:  # "a": opening it changes nothing (a lock, never written)
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder


def project_target() -> contextlib.AbstractContextManager[Path]:
    """dbt_project/target, held by this process alone while the definitions parse into it at start-up."""
    return locked(dbt_project.manifest_path.parent)


def project_files(root: Path = DBT_DIR) -> list[Path]:
    """The files a dbt parse of the project reads (models, macros, YAML, seeds, docs), not what dbt writes."""
    return [p for p in root.rglob("*") if p.suffix in (".sql", ".yml", ".yaml", ".csv", ".md")
            and not {"target", "logs", "dbt_packages"} & set(p.relative_to(root).parts)]  # fmt: skip


def ensure_manifest() -> Path:
    """Parse the project when the manifest is missing or older than any file it is parsed from."""
    manifest = dbt_project.manifest_path
    sources = project_files()
    with project_target():
        if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
            subprocess.run(
                [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_DIR),
                 "--profiles-dir", str(DBT_DIR)],
                check=True,
            )  # fmt: skip
    return manifest
