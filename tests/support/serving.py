"""The API server (and the dashboard it mounts) on a free port of 127.0.0.1, for the tests: uvicorn in a thread,
over a real warehouse, and tokens to call it with."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator

import uvicorn

from c360_core.settings import settings
from c360_core.warehouse import connect
from serving import tokens
from serving.api import create_app
from tests.support.warehouse import env


@contextlib.contextmanager
def serve(values: dict[str, str], **overrides) -> Iterator[str]:
    """The API of the warehouse of `values` on 127.0.0.1 and a free port; yields its base URL."""
    with env(values):
        cfg = dataclasses.replace(settings(), **overrides)
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def issue(values: dict[str, str], role: str, lifetime: dt.timedelta = dt.timedelta(days=1)) -> str:
    with env(values), connect(settings()) as wh:
        return tokens.create(wh, role, lifetime, "tests")[0]
