"""`c360 spark stop` ends every process of the cluster the package's tests used (tests/spark/conftest.py), and
`c360 spark start` on a running cluster starts nothing. The package's last module: nothing runs on the cluster
after it."""

from __future__ import annotations

import pytest

from tests.spark.conftest import c360

pytestmark = pytest.mark.spark


def test_stop_ends_every_process_and_start_again_is_idempotent(cli_cluster):
    _, values, _ = cli_cluster
    again = c360(values, "spark", "start")
    assert again.returncode == 0 and again.stdout.count("already running") == 4
    assert c360(values, "spark", "stop").returncode == 0
    status = c360(values, "spark", "status")
    assert status.returncode == 1
    assert status.stdout.count("stopped") == 4
