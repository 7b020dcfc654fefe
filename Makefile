# Two commands do everything on a fresh machine (Python 3.11+):
#   make run    the whole engine: Temporal dev server + UI, worker, API
#   make test   every test tier (starts its own Temporal dev server and PostgreSQL where available)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "oms: Python 3.11 or newer is required (found " + sys.version.split()[0] + ")")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "oms: could not create $(VENV): install the python3-venv package"; exit 1; }
	@echo "installing into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m ops.run

test: $(STAMP)
	@$(PY) -m ops.test_run $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

bench: $(STAMP)
	$(PY) -m bench.orders

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
