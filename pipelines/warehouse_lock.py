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
pid, host and start time into it, for the message of the next one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def lock_path(warehouse: Path) -> Path:
    """`<warehouse>.lock`, beside the warehouse: `warehouse.duckdb.lock`."""
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def hold_warehouse_lock(
    warehouse: Path,
    wait_seconds: float = 0,
    *,
    progress: Callable[[str], object] | None = None,
) -> Iterator[Path]:
    """Holds the run lock of `warehouse` for the `with` block. When another process holds
    it, waits up to `wait_seconds` (saying so once through `progress`, by default the
    logger), then raises WarehouseBusyError naming the holder's pid. Yields the lock file."""
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
        _write_holder(descriptor)
        try:
            yield path
        finally:
            # Emptied before the unlock: a pid left behind would name a process long gone.
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _write_holder(descriptor: int) -> None:
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()} {socket.gethostname()} {started}\n".encode(), 0)


def _describe_holder(descriptor: int) -> str:
    """'pid 1234 on host-a since 2026-05-01T10:00:00+02:00', from the holder's lock file."""
    fields = os.pread(descriptor, 512, 0).decode(errors="replace").split()
    if not fields:
        # The holder has the lock but has not written its pid yet, or is letting go.
        return "pid unknown"
    pid, *rest = fields
    host = f" on {rest[0]}" if rest else ""
    since = f" since {rest[1]}" if len(rest) > 1 else ""
    return f"pid {pid}{host}{since}"
