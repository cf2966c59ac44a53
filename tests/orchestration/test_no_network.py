"""Nothing phones home: every `oasis` command, and every process it starts (Dagster, dbt,
GX), connects to nothing outside the machine, seen by strace (tests/network_trace.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from pipelines.settings import REPO_ROOT
from tests.network_trace import connections_outside_loopback, strace_prefix
from tests.orchestration.test_ui import _asset_keys, _free_port

# The switches `oasis` must set by itself: the test runs it without them (the Makefile and
# tests/conftest.py set some of them for everything else).
TELEMETRY_SWITCHES = (
    "DO_NOT_TRACK",
    "DBT_SEND_ANONYMOUS_USAGE_STATS",
    "DAGSTER_DISABLE_TELEMETRY",
    "GX_ANALYTICS_ENABLED",
)


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
    tmp_path: Path,
) -> None:
    landing, home, traces = tmp_path / "landing", tmp_path / "home", tmp_path / "traces"
    traces.mkdir()
    warehouse = home / "warehouse.duckdb"
    environment = {
        name: value for name, value in os.environ.items() if name not in TELEMETRY_SWITCHES
    }
    environment["OASIS_HOME"] = str(home)

    def oasis(name: str, *arguments: str) -> list[str]:
        return [
            *strace_prefix(traces / f"{name}.trace"),
            sys.executable,
            "-m",
            "orchestration.cli",
            *arguments,
        ]

    def run(name: str, *arguments: str) -> None:
        done = subprocess.run(
            oasis(name, *arguments),
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"oasis {name}:\n{done.stdout}\n{done.stderr}"

    run("demo", "demo", "--out", str(landing), "--customers", "150", "--months", "4")
    run("run", "run", "--source", str(landing), "--warehouse", str(warehouse))
    run("check", "check", "--warehouse", str(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (row_id,) = connection.execute(
            "select min(row_id) from marts.fct_invoice_line_pnl where row_kind = 'invoice'"
        ).fetchone()
    run("explain", "explain", row_id, "--warehouse", str(warehouse))

    port = _free_port()
    # Its own process group: `dagster dev` without a terminal may ignore SIGTERM alone.
    server = subprocess.Popen(
        oasis("ui", "ui", "--port", str(port), "--source", str(landing)),
        cwd=REPO_ROOT,
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, keys = time.monotonic() + 300, []
        while time.monotonic() < deadline and not keys:
            assert server.poll() is None, "oasis ui exited early"
            try:
                keys = _asset_keys(port)
            except (OSError, ValueError):  # not listening yet, or still loading
                time.sleep(2)
        assert "marts/fct_invoice_line_pnl" in keys
    finally:
        # strace writes each call as it happens: killing it with the rest loses no line.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()

    outside = {
        trace.stem: connections_outside_loopback(trace.read_text())
        for trace in sorted(traces.glob("*.trace"))
    }
    assert sorted(outside) == ["check", "demo", "explain", "run", "ui"]
    assert outside == {name: [] for name in outside}
