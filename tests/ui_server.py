"""`oasis ui` started for a test: on a free port, in a process group of its own, until its
asset graph is loaded; the whole group is killed afterwards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import IO

from pipelines.settings import REPO_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int, query: str, variables: Mapping | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        json.dumps({"query": query, "variables": variables or {}}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["data"]


def asset_keys(port: int) -> list[str]:
    nodes = graphql(port, "{ assetNodes { assetKey { path } } }")["assetNodes"]
    return ["/".join(node["assetKey"]["path"]) for node in nodes]


@contextmanager
def serving_ui(
    command: list[str],
    port: int,
    environment: Mapping[str, str],
    *,
    stderr: IO | int = subprocess.DEVNULL,
    wait_seconds: float = 300,
) -> Iterator[list[str]]:
    """Runs `command` (an `oasis ui --port PORT ...`) and yields the asset keys it serves."""
    # Its own process group: `dagster dev` without a terminal may ignore SIGTERM alone.
    server = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=dict(environment),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        deadline, keys = time.monotonic() + wait_seconds, []
        while time.monotonic() < deadline and not keys:
            assert server.poll() is None, "oasis ui exited early"
            try:
                keys = asset_keys(port)
            except (OSError, ValueError):  # not listening yet, or still loading
                time.sleep(2)
        yield keys
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
