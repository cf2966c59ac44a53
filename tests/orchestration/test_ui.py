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


def _check_descriptions(port: int, asset_key: list[str]) -> list[str]:
    query = json.dumps(
        {
            "query": "query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) "
            "{ ... on AssetNode { assetChecksOrError { ... on AssetChecks "
            "{ checks { name description } } } } } }",
            "variables": {"key": {"path": asset_key}},
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", query, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        checks = json.load(response)["data"]["assetNodeOrError"]["assetChecksOrError"]["checks"]
    assert checks, "the P&L has dbt checks"
    return [check["description"] or "" for check in checks]


def test_oasis_ui_serves_the_asset_graph(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "ui.log"
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
        stderr=log.open("w"),
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
        assert "" not in _check_descriptions(port, ["marts", "fct_invoice_line_pnl"])
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    # The first screen is clean: no warning about the checkout's dagster.yaml.
    assert "will not be used" not in log.read_text()
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").read_text() == (
        REPO_ROOT / "dagster.yaml"
    ).read_text()
