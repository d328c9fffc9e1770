# Hindsight. `make run` serves the dashboard on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run migrate seed test test-fast bench lint clean screenshots

install: $(VENV)/.installed static/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

static/node_modules/.installed: static/package.json static/package-lock.json
	cd static && npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) node init --name "$${HINDSIGHT_NODE_NAME:-local}"
	$(FLASK) seed-demo

run: seed
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -n 2 -m "not slow and not e2e" $(PYTEST_ARGS)

# The README's screenshots, taken by the browser tests of the seeded demo (so they stay current).
screenshots: install
	HINDSIGHT_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:xdist -q tests/e2e/test_demo_pages.py

bench: install
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check webapp tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) static/node_modules .pytest_cache .mypy_cache
