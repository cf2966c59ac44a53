"""What the steps after dbt load, loaded while dbt runs.

`oasis run` executes its steps one after another in one process (the in-process executor),
and during `dbt build`, the longest step, that process mostly waits on dbt's output. The
steps after it pay for two slow starts: the audit imports Great Expectations (3.8 s on
these 2-core machines, a tenth of a 100-thousand-line run) and the profit report starts
vl-convert's JavaScript engine (0.6 s for its first chart). A thread started beside the
dbt step pays them while dbt works.
"""

import threading


def _warm_up() -> None:
    try:
        import expectations.runner  # noqa: F401  (Great Expectations)
        from pipelines.profit_charts import start_renderer

        start_renderer()
    except Exception:  # noqa: BLE001
        # Nothing is lost: the step that needs the module imports it again, and that step
        # reports the error where the user reads it.
        pass


def start_warm_up() -> threading.Thread:
    """Starts loading in a daemon thread: a run that ends first does not wait for it."""
    thread = threading.Thread(target=_warm_up, name="oasis-warm-up", daemon=True)
    thread.start()
    return thread
