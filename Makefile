# harvestmatch: everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: venv demo test bench typecheck clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $@

# one matching cycle on the shipped demo day; outputs in demo-out/
demo: venv
	$(BIN)/harvest demo --out demo-out

# every test; pytest exits non-zero (5) when it collects none, and make fails with it
test: venv
	$(BIN)/python -m pytest

# benchmarks are run by hand; results go to bench/RESULTS.md
bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py --write bench/RESULTS.md

typecheck: venv
	$(BIN)/python -m pip install --quiet mypy
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) demo-out .pytest_cache .hypothesis *.egg-info
