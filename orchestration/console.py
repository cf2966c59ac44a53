"""What `oasis run` shows while it runs: one line per stage (what it is doing, rows, elapsed
time, dbt's nodes counted as they finish), and at the end what failed, in words. Everything
else (Dagster's events, dbt's log, warnings) goes to a log file in the run's report folder.

A one-month run used to print some 450 lines: dbt's whole log, Dagster's events and
warnings. In a terminal the stages are live lines (rich); when stdout is not a terminal
(schedulers, CI) each stage prints one plain line when it ends. `--verbose` prints
everything as before, `--quiet` only what failed and where the results are.

Dagster's run hands its log records to `oasis_console_logger` (configured by `oasis run`
alone: UI and schedule runs keep Dagster's console logger), which forwards them to the
console of the running command.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dagster import DagsterEventType, logger
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata
from rich.console import Console
from rich.live import Live
from rich.table import Table

# Step keys -> the stage a user sees, in run order.
STAGES = {
    "ingest": "load the extracts",
    "dbt": "build and test the marts",
    "report": "write the run report",
    "audit": "audit the warehouse",
    "publish": "publish marts and feeds",
    "profit": "draw the profit report",
}
_STEP_STAGES = {
    "oasis_dbt_models": "dbt",
    "run_report": "report",
    "audited_warehouse": "audit",
    "publication": "publish",
    "profit_report": "profit",
}
# dbt's line for a finished node: "52 of 167 OK created sql incremental model ...",
# "56 of 167 FAIL 160 assert_pnl_reconciles_to_ledger ....... [FAIL 160 in 0.56s]".
_DBT_NODE_DONE = re.compile(
    r"^\s*\d+ of (?P<total>\d+) (?P<status>OK|PASS|WARN|ERROR|FAIL|SKIP)\b(?: \d+)?"
    r"(?: created \S+ \S+ model| \S+ model)?\s+(?P<name>[\w.]+)"
)
_ROWS = re.compile(r"([\d,]+) rows")


def stage_of(step_key: str) -> str:
    return "ingest" if step_key.startswith("erp__") else _STEP_STAGES.get(step_key, step_key)


@dataclass
class Stage:
    name: str
    started: float | None = None
    finished: float | None = None
    steps: int = 0
    steps_done: int = 0
    last_step_done: float | None = None
    rows: int = 0
    failed: bool = False
    detail: str = ""

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started

    def line(self, now: float) -> str:
        mark = "failed" if self.failed else "done" if self.finished else "..."
        parts = [f"{self.name:<8} {STAGES.get(self.name, self.name):<30} {mark:<6}"]
        if self.name == "ingest":
            parts.append(f"{self.steps_done} tables")
        if self.rows:
            parts.append(f"{self.rows:,} rows")
        if self.detail:
            parts.append(self.detail)
        parts.append(f"{self.elapsed(now):.1f} s")
        return "  ".join(parts)


@dataclass
class RunConsole:
    """The console of one `oasis run`; `capture()` sends everything printed to the log."""

    log_path: Path
    mode: str = "auto"  # auto (live in a terminal, plain lines otherwise), verbose, quiet
    terminal: TextIO = field(default_factory=lambda: sys.stdout)
    stages: dict[str, Stage] = field(default_factory=dict)
    failed_dbt_nodes: list[tuple[str, str]] = field(default_factory=list)  # (status, name)
    _dbt_total: int = 0
    _dbt_done: int = 0
    _live: Live | None = None
    _log: TextIO | None = None

    @property
    def live(self) -> bool:
        return self.mode == "auto" and self.terminal.isatty()

    def say(self, text: str) -> None:
        """A line for the user (not in quiet mode), also in the log."""
        self._write_log(text + "\n")
        if self.mode != "quiet":
            self._print(text)

    def tell(self, text: str) -> None:
        """A line every mode shows: where the results are."""
        self._write_log(text + "\n")
        self._print(text)

    def fail(self, text: str) -> None:
        """A line of why the run failed, on stderr (after the run: not captured)."""
        self._write_log(text + "\n")
        print(text, file=sys.stderr, flush=True)

    @contextmanager
    def capture(self) -> Iterator[RunConsole]:
        global _active_console
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        saved = sys.stdout, sys.stderr
        with self.log_path.open("a", encoding="utf-8") as log:
            self._log = log
            sys.stdout = sys.stderr = _LineWriter(self._from_output)
            _active_console = self
            if self.live:
                # Not rich's own redirection of stdout: what the run prints goes to the log.
                self._live = Live(
                    self._table(),
                    console=Console(file=saved[0]),
                    auto_refresh=False,
                    redirect_stdout=False,
                    redirect_stderr=False,
                )
                self._live.start()
            try:
                yield self
            finally:
                for stage in self._ordered():
                    self._finish(stage)
                _active_console = None
                if self._live is not None:
                    self._live.update(self._table(), refresh=True)
                    self._live.stop()
                    self._live = None
                sys.stdout, sys.stderr = saved
                self._log = None

    # --- what arrives -------------------------------------------------------------------

    def on_record(self, record: logging.LogRecord) -> None:
        """A Dagster log record of the run."""
        line = f"{time.strftime('%H:%M:%S')} {record.levelname} {record.getMessage()}"
        self._write_log(line + "\n")
        if self.mode == "verbose":
            self._print(line)
        if not has_log_record_metadata(record):
            return
        metadata = get_log_record_metadata(record)
        step_key, event = metadata.get("step_key"), metadata.get("dagster_event")
        if not step_key:
            return
        stage = self.stages.setdefault(stage_of(step_key), Stage(stage_of(step_key)))
        now = time.monotonic()
        if event is None:
            # Our assets' own sentences: "cost_pools (every period): 312 rows loaded ...".
            rows = _ROWS.search(metadata.get("orig_message", ""))
            if rows and stage.name == "ingest":
                stage.rows += int(rows.group(1).replace(",", ""))
        elif event.event_type == DagsterEventType.STEP_START:
            # Steps run one after another: a stage is over when the next one starts.
            for other in self.stages.values():
                if other is not stage:
                    self._finish(other)
            stage.started = stage.started or now
            stage.steps += 1
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            stage.steps_done += 1
            stage.last_step_done = now
            stage.failed = stage.failed or event.event_type == DagsterEventType.STEP_FAILURE
        else:
            return
        self._refresh()

    def _finish(self, stage: Stage) -> None:
        if stage.started is None or stage.finished is not None:
            return
        stage.finished = stage.last_step_done or time.monotonic()
        if not self.live and self.mode == "auto":
            self._print(stage.line(stage.finished))

    def _from_output(self, line: str) -> None:
        """A line printed during the run (dbt's log through dagster-dbt, warnings)."""
        self._write_log(line)
        if self.mode == "verbose":
            self._print(line.rstrip("\n"))
        node = _DBT_NODE_DONE.match(line)
        if node:
            self._dbt_total = int(node["total"])
            self._dbt_done += 1
            if node["status"] in ("ERROR", "FAIL"):
                self.failed_dbt_nodes.append((node["status"], node["name"]))
            stage = self.stages.setdefault("dbt", Stage("dbt"))
            failures = f", {len(self.failed_dbt_nodes)} failed" if self.failed_dbt_nodes else ""
            stage.detail = f"{self._dbt_done}/{self._dbt_total} models and tests{failures}"
            self._refresh()

    # --- output -------------------------------------------------------------------------

    def _table(self) -> Table:
        table = Table.grid()
        now = time.monotonic()
        for stage in self._ordered():
            table.add_row(stage.line(now))
        return table

    def _ordered(self) -> list[Stage]:
        order = list(STAGES)
        return sorted(
            self.stages.values(),
            key=lambda s: order.index(s.name) if s.name in order else len(order),
        )

    def _refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)

    def _print(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False)
        else:
            # While capturing, sys.stdout is the log: print to the terminal saved at start.
            print(text, file=self.terminal, flush=True)

    def _write_log(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text)
            self._log.flush()


class _LineWriter(io.TextIOBase):
    """A text stream that hands each complete line to a function."""

    def __init__(self, on_line) -> None:
        self._on_line = on_line
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self._on_line(line + "\n")
        return len(text)

    def isatty(self) -> bool:
        return False


_active_console: RunConsole | None = None


class _ForwardToConsole(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if _active_console is not None:
            _active_console.on_record(record)


@logger(description="Hands the run's log records to the console of `oasis run`.")
def oasis_console_logger(init_context) -> logging.Logger:
    console_logger = logging.Logger("oasis_console", level=logging.DEBUG)
    console_logger.addHandler(_ForwardToConsole())
    return console_logger


# --- the last lines -------------------------------------------------------------------------


def root_cause(error) -> str:
    """The innermost message of a Dagster SerializableErrorInfo, without its traceback."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error.message.strip() if error else "see the run's log"
