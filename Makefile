# Hindsight. `make run` serves the dashboard on SQLite; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run migrate seed test test-fast bench lint lock audit clean screenshots

install: $(VENV)/.installed static/node_modules/.installed

# Every dependency (and the build backend) from requirements.lock, pinned with hashes:
# the same files on every machine, or the install fails. `make lock` refreshes it.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# pip-tools and pip-audit, from their own lock, in a venv of their own.
$(TOOLS)/.installed: requirements-tools.lock
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --require-hashes --no-deps -r requirements-tools.lock
	touch $@

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links

# After changing the dependencies in pyproject.toml (or to take newer releases: add
# --upgrade): new pins and hashes for the app and for the tools.
lock: $(TOOLS)/.installed
	$(TOOLS)/bin/pip-compile $(LOCK_FLAGS) --all-build-deps --extra test \
		--output-file requirements.lock pyproject.toml
	$(TOOLS)/bin/pip-compile $(LOCK_FLAGS) --output-file requirements-tools.lock \
		requirements-tools.in

# Known vulnerabilities in the locked dependencies (fails on one; see .ci/audit_deps.py).
audit: $(TOOLS)/.installed
	$(TOOLS)/bin/python .ci/audit_deps.py requirements.lock

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
	rm -rf $(VENV) $(TOOLS) static/node_modules .pytest_cache .mypy_cache
