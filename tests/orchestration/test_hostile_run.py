"""One hostile demo, three promises. `oasis demo`, `run`, `check`, `explain` and `ui` run
under strace (tests/network_trace.py) on an extract with spreadsheet formulas in ids, names
and bad values, with every path (landing, warehouse, reports, exports) holding a space, an
apostrophe and non-ASCII letters:
- nothing phones home: neither the commands nor a process they start (Dagster, dbt, GX)
  connects to an address outside loopback;
- the run succeeds and publishes, and a malformed CSV line is a bad record like any other:
  quarantined with its file and line, the rest of its file loaded;
- every CSV it writes has the formulas neutralised, and Parquet and JSONL keep them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines.published_warehouse import published_path
from pipelines.settings import REPO_ROOT, SettingsError, resolve_settings
from tests.network_trace import connections_outside_loopback, strace_prefix
from tests.ui_server import free_port, serving_ui

pytestmark = pytest.mark.e2e

HOSTILE_FOLDER = "Ünïcode o'Brien dir"
FORMULA_CUSTOMER = '=HYPERLINK("http://x.invalid","C5")'  # the id of a buying customer
MINUS_CUSTOMER = "-2+3"  # another one's
FORMULA_NAME = "+cmd|' /C calc'!A0"  # that customer's name
DANGLING_CUSTOMER = "@SUM(1+1)"  # an invoice's customer, which does not exist: quarantined
FORMULA_AMOUNT = "=1+2"  # a payment's amount: quarantined
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A payments line with a field too many, appended to the oldest payments file.
RAGGED = '"PAYX1","INV00000300",2026-08-15,10.00,"payment","extra"'


# The switches `oasis` must set by itself: the commands run without them (the Makefile and
# tests/conftest.py set some of them for everything else).
TELEMETRY_SWITCHES = (
    "DO_NOT_TRACK",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
    "DAGSTER_DISABLE_TELEMETRY",
    "GX_ANALYTICS_ENABLED",
)
COMMANDS = ("demo", "run", "check", "explain", "ui")


@dataclass(frozen=True)
class HostileRun:
    warehouse: Path
    reports: Path
    exports: Path
    traces: Path  # <command>.trace for each of COMMANDS
    ragged_file: Path  # the payments file that ends with RAGGED
    records_before_ragged: int


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile") / HOSTILE_FOLDER
    landing, home, traces = root / "länding o'folder", root / "wärehouse o'home", root / "traces"
    # A quote in the file name itself is refused (the last test says why).
    warehouse = home / "wärehouse ok.duckdb"
    reports, exports = root / "rëports o'", root / "ëxports o'"
    traces.mkdir(parents=True)
    environment = {
        name: value for name, value in os.environ.items() if name not in TELEMETRY_SWITCHES
    }
    environment.update(OASIS_HOME=str(home), OASIS_REPORTS=str(reports), OASIS_EXPORTS=str(exports))

    def oasis(command: str, *arguments: str) -> list[str]:
        return [
            *strace_prefix(traces / f"{command}.trace"),
            sys.executable,
            "-m",
            "orchestration.cli",
            command,
            *arguments,
        ]

    def finish(command: str, *arguments: str) -> None:
        done = subprocess.run(
            oasis(command, *arguments),
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"oasis {command}:\n{done.stdout}\n{done.stderr}"

    finish("demo", "--out", str(landing), "--customers", "60", "--months", "3", "--format", "csv")
    _plant_formulas(landing, _last_closed_period(landing))
    ragged_file, records_before_ragged = _plant_ragged_line(landing)
    finish("run", "--source", str(landing), "--warehouse", str(warehouse))
    finish("check", "--warehouse", str(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (row_id,) = connection.execute(
            "select min(row_id) from marts.fct_invoice_line_pnl where row_kind = 'invoice'"
        ).fetchone()
    finish("explain", row_id, "--warehouse", str(warehouse))

    port = free_port()
    ui = oasis("ui", "--port", str(port), "--source", str(landing), "--warehouse", str(warehouse))
    # strace writes each call as it happens: killing it with the rest loses no line.
    with serving_ui(ui, port, environment) as keys:
        assert "marts/fct_invoice_line_pnl" in keys
    return HostileRun(warehouse, reports, exports, traces, ragged_file, records_before_ragged)


def _last_closed_period(landing: Path) -> str:
    # The latest month with cost pools is the last closed one (the demo adds an open month).
    return sorted(
        path.stem.removeprefix("cost_pools-") for path in (landing / "cost_pools").glob("*.csv")
    )[-1]


def _plant_ragged_line(landing: Path) -> tuple[Path, int]:
    """RAGGED at the end of the oldest payments file (the newest one holds a formula): that
    file and the number of records before the line."""
    payments = sorted((landing / "payments").glob("*.csv"))[0]
    records = payments.read_bytes().count(b"\n") - 1  # the header is line 1
    with payments.open("a", encoding="utf-8") as file:
        file.write(RAGGED + "\n")
    return payments, records


def _plant_formulas(landing: Path, period: str) -> None:
    invoices = landing / "invoices" / f"invoices-{period}.csv"
    with invoices.open(newline="") as source:
        rows = list(csv.DictReader(source))
    buyers = sorted({row["customer_id"] for row in rows})
    renamed = {buyers[0]: FORMULA_CUSTOMER, buyers[1]: MINUS_CUSTOMER}
    for path in landing.rglob("*.csv"):
        text = path.read_text()
        for old, new in renamed.items():
            text = text.replace(f'"{old}"', '"' + new.replace('"', '""') + '"')
        path.write_text(text)
    _edit_first_row(landing / "customers" / "customers.csv", customer_name=FORMULA_NAME)
    _append_copy_of_first_row(invoices, invoice_id="INV-FORMULA", customer_id=DANGLING_CUSTOMER)
    payments = landing / "payments" / f"payments-{period}.csv"
    _append_copy_of_first_row(payments, payment_id="PAY-FORMULA", amount=FORMULA_AMOUNT)


def _edit_first_row(path: Path, **values: str) -> None:
    header, rows = _read(path)
    rows[0].update(values)
    _write(path, header, rows)


def _append_copy_of_first_row(path: Path, **values: str) -> None:
    header, rows = _read(path)
    _write(path, header, [*rows, {**rows[0], **values}])


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as source:
        reader = csv.DictReader(source)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, header)
        writer.writeheader()
        writer.writerows(rows)


def _cells(path: Path) -> dict[str, list[str]]:
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        columns: dict[str, list[str]] = {name: [] for name in reader.fieldnames or []}
        for row in reader:
            for name, value in row.items():
                columns[name].append(value)
    return columns


def test_the_trace_reader_flags_every_connection_outside_loopback() -> None:
    # Lines as strace 6.1 writes them; the first two are what `dbt --version` did.
    trace = "\n".join(
        [
            '9142  connect(3, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0',  # noqa: E501  DNS
            '9142  connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("203.0.113.80")}, 16) = -1 EINPROGRESS (Operation now in progress)',  # noqa: E501  pypi.org
            '9150  connect(4, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>',  # noqa: E501
            '9151  connect(5, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:10.0.0.1", &sin6_addr), sin6_scope_id=0}, 28) = 0',  # noqa: E501  IPv4 in IPv6
            "9152  connect(6, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL)}, 20) = 0",
            # and what is fine:
            '9160  connect(3, {sa_family=AF_INET, sin_port=htons(3000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',  # noqa: E501
            '9160  connect(3, {sa_family=AF_INET, sin_port=htons(5432), sin_addr=inet_addr("127.8.9.10")}, 16) = 0',  # noqa: E501
            '9161  connect(4, {sa_family=AF_INET6, sin6_port=htons(3000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',  # noqa: E501
            '9162  connect(5, {sa_family=AF_UNIX, sun_path="/tmp/dagster.sock"}, 110) = 0',
            '9163  connect(6, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0',
            "9164  <... connect resumed>) = 0",
            "9165  +++ exited with 0 +++",
        ]
    )
    outside = connections_outside_loopback(trace)
    assert [line.split()[0] for line in outside] == ["9142", "9142", "9150", "9151", "9152"]


def test_the_trace_sees_a_connection_made_by_a_child_of_a_child(tmp_path: Path) -> None:
    # A connected UDP socket sends nothing: no packet leaves, but connect() is called.
    connect = (
        "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).connect(('192.0.2.1', 9))"
    )
    spawn = (
        f"import subprocess, sys; subprocess.run([sys.executable, '-c', {connect!r}], check=True)"
    )
    trace = tmp_path / "child.trace"
    subprocess.run([*strace_prefix(trace), sys.executable, "-c", spawn], check=True, timeout=60)
    outside = connections_outside_loopback(trace.read_text())
    assert len(outside) == 1 and '"192.0.2.1"' in outside[0]


def test_demo_run_check_explain_and_ui_connect_to_nothing_outside_loopback(
    hostile_run: HostileRun,
) -> None:
    outside = {
        command: connections_outside_loopback((hostile_run.traces / f"{command}.trace").read_text())
        for command in COMMANDS
    }
    assert outside == {command: [] for command in COMMANDS}


def test_a_run_under_paths_with_spaces_apostrophes_and_accents_publishes_everything(
    hostile_run: HostileRun,
) -> None:
    assert HOSTILE_FOLDER in str(hostile_run.warehouse)
    with duckdb.connect(str(published_path(hostile_run.warehouse)), read_only=True) as published:
        (rows,) = published.execute("select count(*) from marts.fct_invoice_line_pnl").fetchone()
    assert rows > 0
    assert (hostile_run.exports / "customer_policy_flags.manifest.json").exists()
    assert list(hostile_run.reports.glob("*/quarantine.csv"))


def test_a_ragged_csv_line_is_quarantined_with_its_line_and_the_rest_of_its_file_loads(
    hostile_run: HostileRun,
) -> None:
    source = str(hostile_run.ragged_file.absolute())
    records = hostile_run.records_before_ragged
    with duckdb.connect(str(hostile_run.warehouse), read_only=True) as connection:
        quarantined = connection.execute(
            """
            select table_name, source_file, source_row, column_name, bad_value, reason,
                record_json ->> 'csv_line_number'
            from raw.quarantine where column_name = 'csv_line'
            """
        ).fetchall()
        (loaded,) = connection.execute(
            "select count(*) from raw.payments where _source_file = ?", [source]
        ).fetchone()
    # Record n is line n + 1: the header is line 1.
    assert quarantined == [
        (
            "payments",
            source,
            records + 1,
            "csv_line",
            RAGGED,
            "malformed CSV line: more fields than the header",
            str(records + 2),
        )
    ]
    assert loaded == records


def test_every_csv_neutralises_formulas_and_parquet_and_jsonl_keep_them(
    hostile_run: HostileRun,
) -> None:
    csv_files = sorted([*hostile_run.exports.glob("*.csv"), *hostile_run.reports.rglob("*.csv")])
    assert {path.name for path in csv_files} == {
        "customer_policy_flags.csv",
        "customer_policy_flags.changes.csv",
        "quarantine.csv",
    }
    for path in csv_files:
        for column, values in _cells(path).items():
            starting_a_formula = [value for value in values if value.startswith(FORMULA_START)]
            assert starting_a_formula == [], f"{path.name}, {column}"

    feed = _cells(hostile_run.exports / "customer_policy_flags.csv")
    assert {"'" + FORMULA_CUSTOMER, "'" + MINUS_CUSTOMER} <= set(feed["customer_id"])
    changes = _cells(hostile_run.exports / "customer_policy_flags.changes.csv")
    assert "'" + FORMULA_CUSTOMER in changes["customer_id"]
    (quarantine_csv,) = hostile_run.reports.glob("*/quarantine.csv")
    bad_values = set(_cells(quarantine_csv)["bad_value"])
    assert {"'" + DANGLING_CUSTOMER, "'" + FORMULA_AMOUNT} <= bad_values

    parquet = pq.read_table(hostile_run.exports / "customer_policy_flags.parquet")
    assert {FORMULA_CUSTOMER, MINUS_CUSTOMER} <= set(parquet["customer_id"].to_pylist())
    with (hostile_run.exports / "customer_policy_flags.jsonl").open(encoding="utf-8") as lines:
        ids = {json.loads(line)["customer_id"] for line in lines}
    assert {FORMULA_CUSTOMER, MINUS_CUSTOMER} <= ids


def test_a_quote_in_the_warehouse_file_name_is_refused_before_dbt_fails_on_it(
    tmp_path: Path,
) -> None:
    # dbt-duckdb writes the file name, as the catalog's name, into SQL without escaping it.
    with pytest.raises(SettingsError, match="file name must hold no quote"):
        resolve_settings({}, warehouse=tmp_path / HOSTILE_FOLDER / "o'k.duckdb")
    assert resolve_settings({}, warehouse=tmp_path / HOSTILE_FOLDER / "wärehouse ok.duckdb")
