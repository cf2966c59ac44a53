"""The auditors' Great Expectations suites (expectations/catalog.py lists the checks)."""

import warnings

# Great Expectations imports pyspark when it is installed (the spark extra), and pyspark
# warns at import that it does not yet support pandas 3. The suites validate pandas frames,
# not Spark ones: the warning, printed in every run's log, concerns nothing a run does.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
