"""Run one benchmark stage in a child process and measure its wall time and peak memory."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil


@dataclass
class Measurement:
    seconds: float
    peak_rss_mib: float


def _tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def run_stage(cmd: list[str], env: dict[str, str] | None = None, beside: Callable[[], list[int]] | None = None
              ) -> Measurement:  # fmt: skip
    """Wall time and peak memory of one stage in its own process.

    The peak is the larger of wait4's maximum resident set of any single process of the stage, and the
    largest sum over its process tree (the stage, dbt, writer processes) sampled every 0.2 s. `beside`: the
    processes (with their trees) that work for the stage without being its children, counted in the sum (a
    Spark cluster's JVMs).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})})
    tree_peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal tree_peak
        while not done.wait(0.2):
            tree_peak = max(tree_peak, sum(_tree_rss(pid) for pid in [proc.pid, *(beside() if beside else [])]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark stage failed: {' '.join(cmd)}")
    return Measurement(round(seconds, 2), round(max(usage.ru_maxrss * 1024, tree_peak) / 2**20, 1))


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": cpu,
        "cores": psutil.cpu_count(logical=True),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def dir_size(path: str) -> tuple[int, int]:
    files = size = 0
    for root, _, names in os.walk(path):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(root, name))
    return files, size
