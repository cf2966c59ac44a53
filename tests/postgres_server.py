"""A throwaway PostgreSQL server for tests: initdb and pg_ctl in a temporary folder,
listening on a free loopback port, stopped afterwards. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` user."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

USER = "oasis"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _bin(program: str) -> str:
    found = shutil.which(program) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), reverse=True)), None
    )
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {program} is missing: install it with `apt-get install postgresql`"
        )
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres_server(folder: Path) -> Iterator[PostgresServer]:
    folder.mkdir(parents=True, exist_ok=True)
    as_server_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, user="postgres")
        as_server_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        done = subprocess.run(
            [*as_server_user, *command], capture_output=True, text=True, cwd=folder
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")

    run(_bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--encoding=UTF8")
    run(
        _bin("pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "server.log"),
        "-w",
        "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
        "start",
    )
    try:
        yield PostgresServer("127.0.0.1", port, USER)
    finally:
        run(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")


@contextmanager
def postgres_database(database: str) -> Iterator[PostgresServer]:
    """A throwaway server holding one empty database. Its folder is not pytest's
    tmp_path: the server runs as `postgres`, which cannot enter that."""
    folder = Path(tempfile.mkdtemp(prefix=f"oasis-postgres-{database}-"))
    try:
        with postgres_server(folder) as server:
            admin = psycopg2.connect(server.dsn())
            admin.autocommit = True  # create database refuses to run inside a transaction
            admin.cursor().execute(f"create database {database}")
            admin.close()
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
