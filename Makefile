# Developer entry points. Everything runs inside .venv, which `make venv` creates on demand and
# refreshes only when pyproject.toml changes (the stamp file records the last install).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REPS   ?= 10

# Exit status 0 if the interpreter given as $(1) is Python >= 3.12.
py312 = $(1) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-all lint bench bench-simplex baselines clean distclean

help:
	@echo "make venv       create .venv (Python >= 3.12) and install the package with dev tools"
	@echo "make demo       compare today's plan, 40/30/20/10 and the playbook ($(REPS) replications)"
	@echo "                and build the board pack in results/demo/report/"
	@echo "make test       fast tests and the notebooks"
	@echo "make test-all   all tests, including slow statistical ones"
	@echo "make lint       ruff check and format check"
	@echo "make bench      model speed, parallel efficiency and sweep memory benchmarks"
	@echo "make bench-simplex  time the bundled 286-mix bonus simplex sweep (about 3 minutes)"
	@echo "make baselines  refresh tests/baseline_kpis.json and the README's example outputs"
	@echo "                after an intended model change"
	@echo "make clean      remove caches and build files (distclean also removes .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(call py312,$(PYTHON)) || { \
	  echo "error: Python >= 3.12 is required, but '$(PYTHON)' is" \
	       "$$($(PYTHON) --version 2>&1 | head -n 1 || echo 'not installed')." >&2; \
	  echo "This repo pins 3.12 in .python-version: with pyenv, run 'pyenv install 3.12'" \
	       "in this directory; or name an interpreter: make PYTHON=python3.12 venv" >&2; \
	  exit 1; }
	@if [ -x $(BIN)/python ] && ! $(call py312,$(BIN)/python); then \
	  echo "error: $(VENV) was created with Python < 3.12; run 'make distclean' and retry" >&2; \
	  exit 1; fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,distributed]'
	touch $(STAMP)

demo: venv
	rm -rf results/demo
	$(BIN)/friction compare scenarios/baseline.yaml scenarios/blended_40_30_20_10.yaml \
	  scenarios/playbook.yaml --reps $(REPS) --out results/demo
	$(BIN)/friction report results/demo

test: venv
	$(BIN)/python -m pytest -q --nbmake tests notebooks

test-all: venv
	$(BIN)/python -m pytest -q -m "slow or not slow" --nbmake tests notebooks

bench: venv
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_sweep.py

bench-simplex: venv
	$(BIN)/python benchmarks/bench_sweep.py --simplex

baselines: venv
	$(BIN)/python tests/test_baselines.py --update
	$(BIN)/python tools/readme_examples.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
