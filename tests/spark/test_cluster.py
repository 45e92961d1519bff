"""The Spark cluster `c360 spark` runs: a master, two workers and a Spark Connect server as their own JVMs; a
client session (as dbt's and c360's are) whose work runs in executors on both workers, not in the driver;
Parquet tables and a Derby metastore under $C360_DATA_DIR/spark (its stop: test_stop.py, after the ingest tests
used the same cluster). Real JVMs, a real cluster: nothing is mocked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request

import pytest

from c360_core import spark as cluster
from c360_core.settings import settings
from tests.support.warehouse import SPARK_PACKAGE, env

pytestmark = pytest.mark.spark

SESSION_JOB = """
import json, os
from pyspark.sql import SparkSession
builder = SparkSession.builder
for key, value in json.loads(os.environ["C360_SPARK_CONF"]).items():  # what dbt's session method does
    builder = builder.config(key, value)
spark = builder.getOrCreate()
spark.sql("create database if not exists raw")
spark.sql("create table raw.numbers using parquet as select id, id % 7 as k from range(100000)")
counts = {r.k: r.n for r in spark.sql("select k, count(*) as n from raw.numbers group by k").collect()}
print(json.dumps({"counts": counts}))
"""


def _json(url: str):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.load(answer)


def test_start_runs_a_master_two_registered_workers_and_a_connect_server_as_separate_jvms(cli_cluster):
    cfg, _, out = cli_cluster
    assert f"master: spark://127.0.0.1:{SPARK_PACKAGE['C360_SPARK_MASTER_PORT']}" in out
    assert f"clients connect to: sc://127.0.0.1:{SPARK_PACKAGE['C360_SPARK_CONNECT_PORT']}" in out
    state = _json(f"http://127.0.0.1:{SPARK_PACKAGE['C360_SPARK_UI_PORT']}/json/")  # the master's web UI
    assert len([w for w in state["workers"] if w["state"] == "ALIVE"]) == 2
    # the Connect server is the cluster's one application: the driver, holding the metastore
    assert [app["name"] for app in state["activeapps"]] == ["c360"]
    names = ("master", "worker-1", "worker-2", "connect")
    pids = {int((cfg.spark_dir / f"{name}.pid").read_text()) for name in names}
    assert len(pids) == 4 and os.getpid() not in pids
    assert all(state.startswith("running") for state in cluster.status(cfg).values())


def test_a_client_session_runs_its_tasks_in_the_workers_executors_and_keeps_its_tables_in_the_data_folder(cli_cluster):
    cfg, values, _ = cli_cluster
    job = subprocess.run([sys.executable, "-c", SESSION_JOB], capture_output=True, text=True,
                         env={**os.environ, **values}, timeout=300, check=False)  # fmt: skip
    assert job.returncode == 0, job.stderr[-3000:]
    found = json.loads(job.stdout.strip().splitlines()[-1])
    assert {int(k): n for k, n in found["counts"].items()} == {k: len(range(k, 100000, 7)) for k in range(7)}
    # the driver's REST API (the Connect server's UI): the tasks ran in executors on both workers, none in it
    ui = f"http://127.0.0.1:{cluster.driver_ui_port(cfg)}/api/v1/applications"
    [app] = _json(ui)
    executors = _json(f"{ui}/{app['id']}/allexecutors")
    workers = {e["hostPort"] for e in executors if e["id"] != "driver" and e["completedTasks"] > 0}
    assert len(workers) == 2
    assert all(e["completedTasks"] == 0 for e in executors if e["id"] == "driver")
    assert (cfg.spark_dir / "warehouse" / "raw.db" / "numbers").is_dir()
    assert (cfg.spark_dir / "metastore_db").is_dir()


def test_start_refuses_a_port_held_without_a_listener_and_names_the_setting(tmp_path):
    """The local end of an outgoing connection holds its port though nothing listens there (as a random driver
    port once held the Connect server's on CI): start says which setting to change and launches nothing."""
    with socket.create_server(("127.0.0.1", 0)) as server, socket.socket() as client:
        client.bind(("127.0.0.1", 0))
        held = client.getsockname()[1]
        client.connect(server.getsockname())
        with env({"C360_DATA_DIR": str(tmp_path), "C360_SPARK_MASTER_PORT": str(held)}):
            cfg = settings()
        with pytest.raises(cluster.SparkError, match=f"port {held} for the master is taken .* C360_SPARK_MASTER_PORT"):
            cluster.start(cfg)
    assert not list(cfg.spark_dir.glob("*.pid"))
