"""One Spark cluster for the cluster tests and the ingest tests on Spark, started by `c360 spark start` and
stopped by test_stop.py, the package's last module: a cluster costs a JVM start and warm-up per process, which
the suite pays once here and once for the session's Spark warehouse (tests/support/warehouse.py). Its modules
are one xdist group (tests/support/xdist_compat.py), so one worker runs them in this order."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from c360_core import spark as cluster
from c360_core.settings import Settings, settings
from tests.support.warehouse import SPARK_PACKAGE, env, target_env


def c360(values: dict[str, str], *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    """The CLI in a process of its own, on the test's settings."""
    return subprocess.run([sys.executable, "-m", "c360_cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **values}, timeout=timeout, check=False)  # fmt: skip


@pytest.fixture(scope="package")
def cli_cluster(tmp_path_factory) -> Iterator[tuple[Settings, dict[str, str], str]]:
    """The cluster on ports of its own (SPARK_PACKAGE), in a data folder of its own: its settings, the environment
    a c360 process on it gets (C360_SPARK_CONF included), and what `c360 spark start` printed."""
    with env(target_env("spark", tmp_path_factory.mktemp("spark"), "unused") | SPARK_PACKAGE):
        cfg = settings()
        values = cfg.environment()
    try:
        cluster.java_home()
    except cluster.SparkError as e:  # never skipped: a missing Java is a failure that says what to install
        pytest.fail(str(e))
    started = c360(values, "spark", "start")
    assert started.returncode == 0, started.stderr
    yield cfg, values, started.stdout
    c360(values, "spark", "stop")  # test_stop.py stopped it already, unless it failed or was deselected
