"""The auditors' report in a real browser: headless Chromium, no network, tables rendered."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import BuiltWarehouse

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

INSTALL_HINT = (
    "headless Chromium is needed to test the audit report: "
    "`apt-get update && apt-get install -y chromium chromium-driver` (make test does it)"
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(INSTALL_HINT)
    return found


def rendered_dom(page: Path, profile: Path) -> str:
    """The DOM after Chromium loaded and rendered the page from the file system."""
    completed = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


class Elements(HTMLParser):
    """Counts tags, collects ids, and the text of table header cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.ids: set[str] = set()
        self.headers: list[str] = []
        self._in_header = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.ids.update(value for name, value in attrs if name == "id" and value)
        self._in_header = tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_header = False

    def handle_data(self, data: str) -> None:
        if self._in_header and data.strip():
            self.headers.append(data.strip())


def parse(dom: str) -> Elements:
    elements = Elements()
    elements.feed(dom)
    return elements


@pytest.fixture(scope="module")
def audit_page(built_warehouse: BuiltWarehouse) -> Path:
    [report] = (built_warehouse.home / "reports").glob("*/audit.html")
    return report


def test_the_report_needs_no_network(audit_page: Path) -> None:
    html = audit_page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html and "<script" not in html


def test_chromium_renders_every_table_of_the_report(
    audit_page: Path, built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    periods = [
        period
        for (period,) in built_warehouse.query(
            "select distinct period from raw.cost_pools order by period"
        )
    ]

    page = parse(rendered_dom(audit_page, tmp_path / "chromium"))

    assert {"checks", "allocations", "pnl", "ledger", "extracts"} <= page.ids
    assert {f"period-{period}" for period in periods} <= page.ids
    assert {f"check-{name}" for name in ("allocation_pools_conserved", "ledger_reconciles")} <= (
        page.ids
    )
    # checks + one per period + P&L (4) + ledger + extracts (5: the quarantine by table,
    # the cost pool and ledger records in it, constraints, values, columns)
    assert page.tags["table"] == 1 + len(periods) + 4 + 1 + 5
    for header in ("Amount", "Allocated", "Unallocated", "Unused capacity", "Rate", "Driver units"):
        assert page.headers.count(header) == len(periods)


def test_chromium_renders_the_index_with_a_link_to_the_run(
    audit_page: Path, tmp_path: Path
) -> None:
    index = audit_page.parent.parent / "index.html"

    dom = rendered_dom(index, tmp_path / "chromium")

    assert parse(dom).tags["table"] == 1
    assert f'href="{audit_page.parent.name}/audit.html"' in dom
