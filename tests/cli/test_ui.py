"""`c360 ui` (what `make ui` runs): the Dagster UI loads the code location, with every asset of the project."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the spec's seven source tables
SOURCES = ("customers", "products", "brands", "orders", "order_line_items", "transactions", "web_events")
QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } }
  assetNodes { assetKey { path } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int) -> dict | None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps({"query": QUERY}).encode(),
                                     {"Content-Type": "application/json"})  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())["data"]
    except OSError:
        return None


def _project_models() -> set[str]:
    """The dbt models, from the project's SQL files (not from the definitions)."""
    return {p.stem for p in (ROOT / "dbt_project" / "models").rglob("*.sql")}


def test_the_ui_loads_every_asset(tmp_path):
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("C360_", "DAGSTER_"))}
    # PATH without the environment's tools, as in a shell that never activated it
    clean["PATH"] = os.pathsep.join(p for p in clean.get("PATH", "").split(os.pathsep)
                                    if Path(p) != Path(sys.executable).parent)  # fmt: skip
    ui = subprocess.Popen([str(Path(sys.executable).parent / "c360"), "ui", "--port", str(port)], cwd=tmp_path,
                          env={**clean, "C360_DATA_DIR": str(tmp_path / "data")}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        data, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline:
            data = _ask(port)
            entries = (data or {}).get("workspaceOrError", {}).get("locationEntries") or [{}]
            if entries[0].get("loadStatus") == "LOADED":
                break
            time.sleep(2)
        assert data is not None, "the UI never answered"
        [entry] = data["workspaceOrError"]["locationEntries"]
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
        names = {node["assetKey"]["path"][-1] for node in data["assetNodes"]}
        assert _project_models() <= names, sorted(_project_models() - names)
        raw = {"/".join(node["assetKey"]["path"]) for node in data["assetNodes"]}
        assert {f"raw/{source}" for source in SOURCES} <= raw, sorted(raw)
    finally:
        os.killpg(ui.pid, signal.SIGINT)
        try:
            ui.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
