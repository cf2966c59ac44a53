# `make run` and `make test` do all set-up on a fresh machine: a .venv with Oasis and
# its pinned dependencies (pyproject.toml), then the job or the suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install system-packages run test pytest lint ui bench clean spec-docs report-screenshot

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,spark]'
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/oasis run

# The suite starts a real PostgreSQL 15, opens reports in headless Chromium and watches
# for network connections with strace: Debian packages, installed when missing (CI runs
# as root).
system-packages:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v chromium >/dev/null \
		|| ! command -v strace >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql chromium chromium-driver strace; \
	fi

test: install system-packages pytest lint

# Two workers, each test module on one of them (its module fixtures built once), in the
# order tests/conftest.py gives them (the longest first); the session's warehouses are
# built once for both (`built_once`).
pytest: install
	$(BIN)/python -m pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=25

# sqlfluff's dbt templater compiles every model: two processes take 1 min 29 s of a fresh
# clone's lint instead of 2 min 25 s. Its process pool sometimes leaves a semaphore
# behind, and multiprocessing's resource tracker then warns about it after "All
# Finished!" (2 of the 3 fresh clones of 2026-12-02, afternoon): harmless, but it was
# the last thing `make test` printed.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && PYTHONWARNINGS=ignore::UserWarning:multiprocessing.resource_tracker \
		../$(BIN)/sqlfluff lint --processes 2 models tests macros

ui: install
	$(BIN)/oasis ui

# docs/profit_report.png, the README's screenshot: the browser test of the profit report
# on the demo (one `oasis run`, a few minutes) takes it.
report-screenshot: install system-packages
	OASIS_REPORT_SCREENSHOT=$(CURDIR)/docs/profit_report.png $(BIN)/python -m pytest \
		tests/reports/test_profit_report_browser.py -k every_chart

bench: install
	$(BIN)/python -m orchestration.benchmark $(BENCH_FLAGS)

clean:
	rm -rf .oasis dbt_project/target dbt_project/logs

# The specification lives in ../shared/ beside the checkout; docs/method.md,
# docs/contract.md and docs/marts.md are its copies inside the project, so that a clone
# stands on its own. Run after ../shared/ changes (tests/test_docs.py checks the copies
# are whole and that no link leaves the project).
SHARED ?= ../shared
spec-docs:
	for name in METHOD CONTRACT MARTS; do \
		lower=$$(echo $$name | tr A-Z a-z); \
		{ printf '<!-- Copied from the specification, %s.md: `make spec-docs` refreshes it. -->\n\n' $$name; \
		  sed -e 's/METHOD\.md/method.md/g; s/CONTRACT\.md/contract.md/g; s/MARTS\.md/marts.md/g' $(SHARED)/$$name.md; \
		} > docs/$$lower.md; \
	done
