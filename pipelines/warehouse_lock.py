"""One run at a time per warehouse: an exclusive lock on `<warehouse>.lock`, held for the
whole run.

DuckDB refuses a second writer of a file only while the first has it open, and a run
opens it briefly, step after step (dbt in a process of its own): between two steps of
one run, another run could load or build on the same file. When they do collide,
DuckDB's error names neither the other run nor what to do. The lock is taken before the
first step and kept to the last, and its message names the warehouse and the process
that holds it.

The lock is `flock(2)` on a file of its own beside the warehouse (not on the DuckDB file,
which DuckDB locks itself). The kernel drops it when its holder exits, even on `kill -9`,
so a crashed run never leaves a stale lock. The file is never deleted: unlinking a lock
file lets two processes lock two different files of the same name. The holder writes its
pid, host, start time and run id into it, for the message of the next one, and empties it
when it lets go: a holder still named in the file while its process is gone was killed
(`kill -9`, out of memory), and `read_lock_holder` tells so without taking the lock, so
that its Dagster run can be marked failed (orchestration/dead_runs.py).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

logger = logging.getLogger(__name__)

# A waiting run tries again this often: a lock check is one system call.
POLL_SECONDS = 0.2


class WarehouseBusyError(RuntimeError):
    """Another process holds the warehouse's run lock."""

    def __init__(self, warehouse: Path, holder: str, waited_seconds: float) -> None:
        self.warehouse = warehouse
        self.holder = holder
        self.waited_seconds = waited_seconds
        waited = f" after waiting {waited_seconds:g} s" if waited_seconds > 0 else ""
        super().__init__(
            f"the warehouse {warehouse} is in use by another run ({holder}); gave up{waited}. "
            "Two runs must not write one DuckDB file: let that run finish, or set "
            "OASIS_WAREHOUSE_LOCK_WAIT to the seconds a run may wait for the warehouse."
        )


@dataclass(frozen=True)
class LockHolder:
    """The process named in a lock file, and the run it was doing."""

    pid: int
    host: str
    since: str
    run_id: str | None

    @property
    def is_gone(self) -> bool:
        """Its process has ended without letting go. Only knowable on its own host; a pid the
        system gave again to a new process counts as alive (the safe side)."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # alive, another user's
            return False
        return False

    def describe(self) -> str:
        """'pid 1234 on host-a since 2026-05-01T10:00:00+02:00'."""
        return f"pid {self.pid} on {self.host} since {self.since}"


def read_lock_holder(warehouse: Path) -> LockHolder | None:
    """The holder the lock file names, without taking the lock (a run starting at the same
    moment must not find it taken); None when nobody holds it or it names no one."""
    try:
        text = lock_path(warehouse).read_text(errors="replace")
    except FileNotFoundError:
        return None
    return _parse_holder(text)


def lock_path(warehouse: Path) -> Path:
    """`<warehouse>.lock`, beside the warehouse: `warehouse.duckdb.lock`."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def hold_warehouse_lock(
    warehouse: Path,
    wait_seconds: float = 0,
    *,
    progress: Callable[[str], object] | None = None,
    run_id: str | None = None,
    record: bool = True,
) -> Iterator[Path]:
    """Holds the run lock of `warehouse` for the `with` block, for the Dagster run `run_id`.
    When another process holds it, waits up to `wait_seconds` (saying so once through
    `progress`, by default the logger), then raises WarehouseBusyError naming the holder's
    pid. Yields the lock file. `record=False` leaves the file's record as it is: a glance
    before a run must not erase what a killed run left there for the next start to read."""
    say = progress or logger.warning
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WarehouseBusyError(
                        warehouse, _describe_holder(descriptor), wait_seconds
                    ) from None
                if not told:
                    say(
                        f"The warehouse {warehouse} is in use by another run "
                        f"({_describe_holder(descriptor)}); waiting up to {wait_seconds:g} s ..."
                    )
                    told = True
                time.sleep(min(POLL_SECONDS, remaining))
        if record:
            _write_holder(descriptor, run_id)
        try:
            yield path
        finally:
            # Emptied before the unlock: a pid left behind would name a process long gone.
            if record:
                os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _write_holder(descriptor: int, run_id: str | None) -> None:
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    fields = [str(os.getpid()), socket.gethostname(), started, *([run_id] if run_id else [])]
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, (" ".join(fields) + "\n").encode(), 0)


def _parse_holder(text: str) -> LockHolder | None:
    fields = text.split()
    if len(fields) < 3 or not fields[0].isdecimal():
        # Nobody holds it, or the holder has the lock but has not written itself yet.
        return None
    pid, host, since, *run_id = fields
    return LockHolder(int(pid), host, since, run_id[0] if run_id else None)


def _describe_holder(descriptor: int) -> str:
    holder = _parse_holder(os.pread(descriptor, 512, 0).decode(errors="replace"))
    return holder.describe() if holder else "pid unknown"
