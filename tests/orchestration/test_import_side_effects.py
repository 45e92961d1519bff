"""Importing the Dagster definitions does no work: in a fresh process, it starts no process and opens no file
for writing (the dbt project is parsed beforehand, by `c360 prepare`; tests/conftest.py does it here). Dagster
is imported first: its own import starts one (`file`, from its vendored croniter), which is not c360's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# An audit hook sees every process started and every file opened, with its mode (sys.addaudithook).
PROBE = r"""
import json, os, sys
seen = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.spawn", "os.system", "os.exec", "os.fork"):
        seen.append([event, str(args[0])])
    elif event == "open" and args[0] is not None and not isinstance(args[0], int):
        mode, flags = args[1], args[2]
        if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & WRITE:
            seen.append([event, str(args[0])])
    elif event in ("os.remove", "os.rename", "os.mkdir", "shutil.rmtree", "os.truncate"):
        seen.append([event, str(args[0])])

import dagster  # noqa: E402,F401  (Dagster's own import runs `file` on the interpreter: platform.architecture)

sys.addaudithook(hook)
import orchestration.definitions  # noqa: E402
print(json.dumps(seen))
"""


def test_importing_the_definitions_starts_no_process_and_writes_no_file(tmp_path):
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "C360_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    effects = json.loads(done.stdout.strip().splitlines()[-1])
    assert effects == [], effects
