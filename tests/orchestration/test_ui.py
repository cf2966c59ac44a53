"""`oasis ui` starts Dagster's web UI on this project, with every asset loaded."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT
from tests.ui_server import free_port, graphql, serving_ui

pytestmark = pytest.mark.e2e


def _check_descriptions(port: int, asset_key: list[str]) -> list[str]:
    data = graphql(
        port,
        "query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) "
        "{ ... on AssetNode { assetChecksOrError { ... on AssetChecks "
        "{ checks { name description } } } } } }",
        {"key": {"path": asset_key}},
    )
    checks = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
    assert checks, "the P&L has dbt checks"
    return [check["description"] or "" for check in checks]


def test_oasis_ui_serves_the_asset_graph(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "ui.log"
    landing = tmp_path / "landing"
    (landing / "customers").mkdir(parents=True)
    environment = {**os.environ, "OASIS_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "orchestration.cli", "ui", "--port", str(port)]
    with (
        log.open("w") as stderr,
        serving_ui([*command, "--source", str(landing)], port, environment, stderr=stderr) as keys,
    ):
        assert "erp/invoice_lines" in keys
        assert "marts/fct_invoice_line_pnl" in keys
        assert "published_warehouse" in keys
        assert "" not in _check_descriptions(port, ["marts", "fct_invoice_line_pnl"])
    # The first screen is clean: no warning about the checkout's dagster.yaml.
    assert "will not be used" not in log.read_text()
    assert (tmp_path / "home" / "dagster" / "dagster.yaml").read_text() == (
        REPO_ROOT / "dagster.yaml"
    ).read_text()
