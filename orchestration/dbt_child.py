"""`oasis-dbt`: dbt, bound to the process that started it.

dagster-dbt starts dbt with a plain `subprocess.Popen` (no process group, no hook), so when
`oasis run` or a Dagster run worker is killed with `kill -9`, its `dbt build` lives on: it
kept running 16 s on the warehouse, which the next run then could not open. Dagster runs
`oasis-dbt` instead of `dbt` (orchestration/dbt_project.py): it asks Linux to kill it when
its parent dies (prctl PR_SET_PDEATHSIG, which outlives exec) and then becomes dbt.

Linux ties that signal to the parent *thread*: the thread that starts dbt must live until
dbt ends. It does: the in-process executor runs every step, and dagster-dbt waits for dbt,
on the run's main thread.

It also starts dbt in the warehouse's folder, naming the warehouse by its file name in
OASIS_DBT_WAREHOUSE (dbt_project/profiles.yml): dbt keys its parse state on the profile's
path, so the one parse of the checkout (orchestration/dbt_project.py) serves every
warehouse named warehouse.duckdb instead of costing each run a full parse, and keeps
dbt.log at info level. Imports nothing heavy: it runs before every dbt command.
"""

import ctypes
import os
import signal
import sys
from pathlib import Path

from pipelines.settings import DEFAULT_WAREHOUSE_NAME

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def main() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the call: nobody waits for dbt
            sys.exit(f"oasis-dbt: the process that started dbt (pid {parent}) is gone")
    warehouse = Path(os.environ.get("OASIS_WAREHOUSE", DEFAULT_WAREHOUSE_NAME))
    if warehouse.parent.is_dir():  # not yet for the parse before a first run
        # dagster-dbt gives the target and log folders relative to the project, where it
        # starts dbt; dbt resolves the log folder against its working folder.
        for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
            if name in os.environ:
                os.environ[name] = os.path.abspath(os.environ[name])
        os.chdir(warehouse.parent)
    os.environ["OASIS_DBT_WAREHOUSE"] = warehouse.name
    # dbt.log at info, not dbt's default debug (every statement, 7 MB for 50 customers over
    # 3 months): writing it was 2.5 s of a 31 s `dbt build`. A failed build keeps its target
    # folder with the SQL each node ran (run/, compiled/); DBT_LOG_LEVEL_FILE=debug brings
    # the whole log back.
    os.environ.setdefault("DBT_LOG_LEVEL_FILE", "info")
    # The spark target's JVM (dbt_project/profiles.yml, local mode) names itself by these:
    # without them Spark looks for the machine's address beyond the loopback and asks DNS
    # for its name (a connect() to the resolver on port 53, seen by
    # tests/dbt/test_spark_engine.py). Unused by DuckDB.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("SPARK_LOCAL_HOSTNAME", "localhost")
    dbt = Path(sys.executable).parent / "dbt"
    os.execv(dbt, [str(dbt), *sys.argv[1:]])
