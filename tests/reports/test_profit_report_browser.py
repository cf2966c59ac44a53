"""The profit report of the demo in headless Chromium with the network off: every chart
drew, the numbers on the page are the marts', `oasis report --as-of` writes an earlier
period's page, and the dbt docs site loads nothing from the network."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pipelines.published_warehouse import published_path
from tests.conftest import BuiltWarehouse

CHROMIUM = "/usr/bin/chromium"
CHART_SECTIONS = (
    "profit-map",
    "whale-curve",
    "price-waterfall",
    "segment-migration",
    "trend",
    "cost-to-serve",
)
SEGMENT_LABELS = {
    "profit_peak": "Profit peaks",
    "profit_drain": "Profit drains",
    "profit_desert": "Profit deserts",
}
# `make report-screenshot` sets it: where the README's screenshot goes.
SCREENSHOT_TO = os.environ.get("OASIS_REPORT_SCREENSHOT")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("headless Chromium is needed: `apt-get install -y chromium` (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@contextlib.contextmanager
def offline_page(browser: Browser, path: Path) -> Iterator[tuple[Page, list[str]]]:
    """The page loaded from the file system with the network off; every request that is
    not for a file is recorded, and refused."""
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    requested: list[str] = []

    def refuse(route) -> None:
        requested.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!file:).*"), refuse)
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    try:
        yield page, requested
    finally:
        context.close()


def money(value: Decimal) -> str:
    """As DuckDB's round() and the page: half away from zero, thousands separated."""
    return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP) + 0:,.2f}"


def published(built: BuiltWarehouse, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(published_path(built.path)), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


@pytest.fixture(scope="module")
def report_page(built_warehouse: BuiltWarehouse) -> Path:
    """The page `oasis run` said it wrote."""
    [printed] = re.findall(r"^Profit report: (\S+)$", built_warehouse.run_output, re.MULTILINE)
    return Path(printed)


def profit_map_rows(page: Page) -> dict[str, list[str]]:
    return {
        row.get_attribute("data-key"): [
            cell.strip() for cell in row.locator("td").all_inner_texts()
        ]
        for row in page.locator("#profit-map tr[data-key]").all()
    }


def assert_profit_map_is_the_marts(page: Page, built: BuiltWarehouse, period: str) -> None:
    cells = published(
        built,
        """
        select segment, quartile, customers, revenue, net_profit, profit_per_customer
        from marts.profit_map where as_of_period = ?
        """,
        [period],
    )
    shown = profit_map_rows(page)
    assert len(shown) == len(cells) == 12
    for segment, quartile, customers, revenue, net_profit, per_customer in cells:
        assert shown[f"{segment}-{quartile}"] == [
            SEGMENT_LABELS[segment],
            str(quartile),
            f"{customers:,}",
            money(revenue),
            money(net_profit),
            money(per_customer),
        ]


def test_every_chart_draws_offline_and_the_numbers_are_the_marts(
    report_page: Path, built_warehouse: BuiltWarehouse, browser: Browser, tmp_path: Path
) -> None:
    html = report_page.read_text()
    assert "<script" not in html and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    [(latest,)] = published(built_warehouse, "select max(as_of_period) from marts.profit_map")

    with offline_page(browser, report_page) as (page, requested):
        assert page.title() == f"Oasis profit report, 12 months to {latest}"
        for section in CHART_SECTIONS:
            chart = page.locator(f"#{section} .chart svg").first
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, section
            # Marks, not an empty frame: bars, lines and cells are paths in vl-convert's SVG.
            assert chart.locator("path").count() >= 5, section
            shot = page.locator(f"#{section}").screenshot(path=tmp_path / f"{section}.png")
            assert len(shot) > 10_000, section
        assert_profit_map_is_the_marts(page, built_warehouse, latest)

        [(rank, customer_share, profit_share)] = published(
            built_warehouse,
            """
            select customer_rank, cumulative_customer_share, cumulative_profit_share
            from marts.whale_curve where as_of_period = ?
            order by cumulative_profit_share desc, customer_rank limit 1
            """,
            [latest],
        )
        whale = page.locator("#whale-curve p").first.inner_text()
        assert f"It peaks at {profit_share:.1%} of total profit" in whale
        assert f"top {customer_share:.1%} of customers ({rank:,} customers)" in whale
        assert page.locator("#whale-curve svg text", has_text=f"peak {profit_share:.0%}").count()

        [(best_id, best_name, best_profit)] = published(
            built_warehouse,
            """
            select flags.customer_id, names.customer_name, flags.net_profit
            from marts.customer_policy_flags as flags
            inner join marts.dim_customers as names on flags.customer_id = names.customer_id
            where flags.as_of_period = ?
            order by flags.net_profit desc, flags.customer_id limit 1
            """,
            [latest],
        )
        first = page.locator("#most-profitable tbody tr").first.locator("td").all_inner_texts()
        assert first == [first[0], best_name, *first[2:-1], money(best_profit)]
        assert first[0] == best_id and best_name
        scenarios = published(
            built_warehouse,
            "select count(*) from marts.let_go_scenarios where as_of_period = ?",
            [latest],
        )[0][0]
        assert page.locator("#let-go tbody tr").count() == scenarios > 0
        if SCREENSHOT_TO:
            page.set_viewport_size({"width": 1000, "height": 900})
            page.screenshot(
                path=SCREENSHOT_TO,
                full_page=True,
                clip={"x": 0, "y": 0, "width": 1000, "height": 1500},
            )
    assert requested == []


def oasis_report(built: BuiltWarehouse, *options: str) -> tuple[int, str]:
    """`oasis report` on the built warehouse, its reports folder the run's."""
    from orchestration.cli import main

    saved = dict(os.environ)
    os.environ["OASIS_HOME"] = str(built.home)
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            code = main(["report", "--warehouse", str(built.path), *options])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return code, output.getvalue()


def test_oasis_report_refuses_a_period_the_marts_do_not_have(
    built_warehouse: BuiltWarehouse,
) -> None:
    folders = set((built_warehouse.home / "reports").iterdir())
    [(first, last)] = published(
        built_warehouse, "select min(as_of_period), max(as_of_period) from marts.profit_map"
    )

    code, output = oasis_report(built_warehouse, "--as-of", "1999-01")

    assert code == 2
    assert f"has no as-of period 1999-01: its profit map has {first} to {last}" in output
    assert set((built_warehouse.home / "reports").iterdir()) == folders


def test_oasis_report_writes_an_earlier_as_of_period(
    built_warehouse: BuiltWarehouse, browser: Browser
) -> None:
    periods = [
        p
        for (p,) in published(
            built_warehouse, "select distinct as_of_period from marts.profit_map order by 1"
        )
    ]
    earlier = periods[-3]
    code, output = oasis_report(built_warehouse, "--as-of", earlier)
    assert code == 0, output
    latest_page, earlier_page = (
        Path(line.removeprefix("Profit report: ")) for line in output.splitlines()
    )
    assert earlier_page.name == f"profit_report_{earlier}.html"
    assert latest_page.parent == earlier_page.parent
    with offline_page(browser, latest_page) as (page, requested):
        page.locator(f'a[href="{earlier_page.name}"]').click()
        page.wait_for_load_state("load")
        assert page.title() == f"Oasis profit report, 12 months to {earlier}"
        assert_profit_map_is_the_marts(page, built_warehouse, earlier)
    assert requested == []
    index = (built_warehouse.home / "reports" / "index.html").read_text()
    assert f'href="{latest_page.parent.name}/profit_report.html"' in index


def test_the_dbt_docs_site_is_written_with_the_run_and_loads_nothing(
    report_page: Path, browser: Browser
) -> None:
    docs = report_page.parent / "dbt_docs.html"
    index = (report_page.parent.parent / "index.html").read_text()
    assert f'href="{report_page.parent.name}/dbt_docs.html"' in index
    assert f'href="{report_page.parent.name}/profit_report.html"' in index

    with offline_page(browser, docs) as (page, requested):
        page.goto(docs.as_uri() + "#!/model/model.oasis.profit_map", wait_until="load")
        page.get_by_text("profit_map").first.wait_for()
        # dbt docs draws the lineage graph with cytoscape into #cy; the catalog's column types.
        page.locator("#cy").wait_for(state="attached")
        assert page.locator("td", has_text="DECIMAL").count() >= 4
    assert requested == []
