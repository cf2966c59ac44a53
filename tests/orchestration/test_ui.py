"""`oasis ui` starts Dagster's web UI on this project, with every asset loaded."""

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

from pipelines.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _asset_keys(port: int) -> list[str]:
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", query, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        nodes = json.load(response)["data"]["assetNodes"]
    return ["/".join(node["assetKey"]["path"]) for node in nodes]


def test_oasis_ui_serves_the_asset_graph(tmp_path: Path) -> None:
    port = _free_port()
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    environment = {**os.environ, "OASIS_HOME": str(tmp_path / "home")}
    # Its own process group: `dagster dev` without a terminal may ignore SIGTERM alone.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestration.cli",
            "ui",
            "--port",
            str(port),
            "--source",
            str(landing),
        ],
        cwd=REPO_ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, keys = time.monotonic() + 180, []
        while time.monotonic() < deadline and not keys:
            assert server.poll() is None, "oasis ui exited early"
            try:
                keys = _asset_keys(port)
            except (OSError, ValueError):  # not listening yet, or still loading
                time.sleep(2)
        assert "erp/invoice_lines" in keys
        assert "marts/fct_invoice_line_pnl" in keys
        assert "published_warehouse" in keys
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").read_text() == (
        REPO_ROOT / "dagster.yaml"
    ).read_text()
