# Commands for a fresh machine: `make run` (the main job), `make demo` (the July 2020 incident
# replayed offline) and `make test` (the whole suite).
# Each creates .venv and installs the pinned requirements by itself.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
export PYTHONPATH := $(CURDIR)/include:$(CURDIR)/plugins

.PHONY: run demo test fuzz lint bench catalog clean

$(VENV)/.runtime-installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements.txt
	$(UV) pip install --quiet --python $(PY) --no-deps --editable .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements.txt -r requirements-dev.txt
	touch $@

## run: Airflow on 127.0.0.1 with the ctwatch DAGs, SQLite metadata and the DuckDB warehouse in ./data
run: $(VENV)/.runtime-installed
	$(PY) -m ctwatch_airflow.launcher

## demo: the July 2020 OCSP-EKU incident replayed offline through Airflow backfills, in ./data/demo
## (DEMO_ARGS, e.g. "--interval 14d": see `python -m ctwatch_airflow.demo --help`)
demo: $(VENV)/.runtime-installed
	$(PY) -m ctwatch_airflow.demo $(DEMO_ARGS)

## test: the whole test suite (what .ci/run calls)
test: $(VENV)/.dev-installed
	$(PY) -m pytest

## fuzz: every parser of outside input under coverage-guided fuzzing (atheris), FUZZ_SECONDS each
## (FUZZ_JOBS at once); name=value figures, failing inputs in .fuzz-artifacts/ (docs/fuzzing.md)
FUZZ_SECONDS ?= 30
FUZZ_JOBS ?= 1
fuzz: $(VENV)/.dev-installed
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS)

## lint: ruff (with the ban on importing airflow from include/ctwatch) and mypy on include/
lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## bench: CT ingestion benchmark on a simulated 1M-entry log, against certspotter, then the dashboard's
## page times on a generated warehouse of 10,000 verdicts in 50 incidents (name=value lines)
bench: $(VENV)/.dev-installed
	$(PY) -m ctwatch.bench.ingest
	$(PY) -m ctwatch.bench.dashboard

## catalog: regenerate the rule catalog after adding or changing a rule
catalog: $(VENV)/.runtime-installed
	$(PY) -m ctwatch.rules.catalog

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
