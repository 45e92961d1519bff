"""The dbt project beside the Python package, and its manifest."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

from dagster_dbt import DbtProject, DbtProjectPreparer

from c360_core.settings import Settings, settings

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


def load_manifest() -> dict:
    """The parsed project, as the definitions need it when they load: read, never made, so that importing the
    definitions starts no process and writes no file. `c360 prepare` (which `make` and every c360 command
    that runs the graph call first) makes it. Under `dagster dev` (`c360 ui`), where code reloads as you edit,
    the definitions re-parse when a file of the project changed: not with dagster-dbt's prepare_if_dev, which
    re-parses on every load with whatever `dbt` is first on PATH."""
    if DbtProjectPreparer().using_dagster_dev():
        ensure_manifest()
    path = dbt_project.manifest_path
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `.venv/bin/c360 prepare` (make setup does) to parse the "
                                "dbt project before loading the Dagster definitions")  # fmt: skip
    newer = [p for p in project_files() if p.stat().st_mtime > path.stat().st_mtime]
    if newer:
        warnings.warn(f"{path} is older than {newer[0]}: run `.venv/bin/c360 prepare`", stacklevel=2)
    return json.loads(path.read_text())


@functools.cache
def manifest() -> dict:
    """The parsed project, read once per process (load_manifest)."""
    return load_manifest()


def model_keys() -> list:
    """The asset key of every dbt model (<schema>/<model>), for selections by key across domains."""
    import dagster as dg  # noqa: PLC0415  (the rest of this module is usable without Dagster)

    nodes = manifest()["nodes"].values()
    return sorted(dg.AssetKey([n["schema"], n["name"]]) for n in nodes if n["resource_type"] in ("model", "snapshot"))


def dbt_env(cfg: Settings | None = None) -> dict[str, str]:
    """The environment of a dbt invocation: every setting, defaults filled in (profiles.yml and the macros read
    them with no default of their own), for the configured warehouse."""
    return (cfg or settings()).environment()


def ensure_manifest() -> Path:
    """Parse the project when the manifest is missing or older than any file it is parsed from."""
    manifest = dbt_project.manifest_path
    sources = project_files()
    with project_target():
        if not manifest.exists() or manifest.stat().st_mtime < max(p.stat().st_mtime for p in sources):
            subprocess.run(
                [str(DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_DIR),
                 "--profiles-dir", str(DBT_DIR)],
                check=True, env={**os.environ, **dbt_env()},
            )  # fmt: skip
    return manifest
