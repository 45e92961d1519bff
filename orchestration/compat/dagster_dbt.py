"""Compat: dagster-dbt's dbt invocation and resource internals (orchestration/compat/__init__.py).

Both are switched off by C360_DBT_IN_PROCESS=false, which runs the stock DbtCliResource and a dbt subprocess.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import types
from collections.abc import Iterator
from functools import cached_property

import dagster_dbt.core.dbt_cli_invocation as invocation
from dagster_dbt import DbtCliResource
from packaging import version

CHECKED = {"dagster-dbt": "0.29.27", "dbt-core": "1.11.16"}


@contextlib.contextmanager
def dbt_process_replaced(popen) -> Iterator[None]:
    """While active, dagster-dbt's DbtCliInvocation starts `popen(args, env=..., cwd=..., ...)` where it would
    start `subprocess.Popen`: the module's `subprocess` name is swapped (dagster-dbt has no hook for it)."""
    real = invocation.subprocess
    invocation.subprocess = types.SimpleNamespace(Popen=popen, PIPE=real.PIPE, STDOUT=real.STDOUT)
    try:
        yield
    finally:
        invocation.subprocess = real


class LeanDbtCliResource(DbtCliResource):
    """DbtCliResource without two in-process costs per invocation: it reads the dbt version from the
    installed package, and it opens no dbt adapter.

    The stock resource runs `dbt --version` in a subprocess for every run (3 s here, a third of an hourly
    incremental run): our dbt is the dbt-core of this same environment, pinned in uv.lock, so its version is
    the package's. And it loads the project and a dbt adapter in this process before every invocation
    (2.7 s at 100k customers), only for fetch_row_counts/fetch_column_metadata, which c360 does not call.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None
