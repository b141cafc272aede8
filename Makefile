# Every target creates the virtual environment on first use, so `make run` and `make test`
# work on a fresh machine with nothing but Python 3.11+.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench bench-all clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job: the assistant on the embedded defaults (offline model, SQLite, sandbox cluster).
run: $(STAMP)
	$(BIN)/opsgraph chat

## The tests (lint and type check first, then pytest; "no tests ran" fails).
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

## The quick benchmarks (a few minutes); bench-all adds the long ones (cost plans, server load, eval suites).
bench: $(STAMP)
	$(BIN)/python bench/graph_overhead.py
	$(BIN)/python bench/iam_compare.py
	$(BIN)/python bench/iam_engine.py
	$(BIN)/python bench/iam_repair.py
	$(BIN)/python bench/sandbox.py

bench-all: bench
	$(BIN)/python bench/cost_plan.py
	$(BIN)/python bench/server_load.py
	$(BIN)/python bench/eval_suites.py iam-compare iam-repair

clean:
	rm -rf $(VENV) build *.egg-info
