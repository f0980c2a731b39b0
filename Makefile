# The two commands of the README: `make run` (the demo on SQLite) and `make test` (everything).
# Recipes that start background jobs need one shell per recipe line, as here.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed

.PHONY: run test install lint postgres browser clean fuzz

ASSETS := web/node_modules/.package-lock.json
BUILT := web/static/build/modeler.js

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "lianban needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# bpmn-js and its styles, from the npm registry, served by the app itself (no CDN).
$(ASSETS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "ERROR: npm is needed to install bpmn-js (apt-get install npm)" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $(ASSETS)

# The designer's editor (modeler, properties panel, lint), bundled by esbuild from web/modeler/.
$(BUILT): $(ASSETS) $(shell find web/modeler -type f 2>/dev/null)
	cd web && npm run --silent build

install: $(STAMP) $(ASSETS) $(BUILT)

run: install
	$(BIN)/lianban init-db
	$(BIN)/lianban deploy processes
	@echo "演示用户及其 API 令牌 (Authorization: Bearer <令牌>):"
	$(BIN)/lianban demo-users
	@# The transparency log's signing key and its publication live outside the database (docs/audit.md).
	@mkdir -p var && (test -f var/log.key || $(BIN)/lianban log keygen --name lianban-demo --out var/log.key)
	@# The worker runs timers, time-limit checks, reminders, notifications and the log beside the server.
	export LIANBAN_LOG_KEY=var/log.key LIANBAN_LOG_DIR=var/log; \
	$(BIN)/lianban worker & trap 'kill $$!' EXIT; $(BIN)/lianban serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check engine web tests bench
	$(BIN)/ruff format --check engine web tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

postgres:
	@scripts/ensure-postgres

# The browser tests drive Debian's Chromium; installed here when missing, never skipped.
browser:
	@scripts/ensure-chromium

test: install postgres browser lint
	$(BIN)/pytest

# The API fuzz at length (the suite runs tests/e2e/test_fuzz_api.py small and derandomized): 500
# requests per operation on SQLite and PostgreSQL with a new seed, printed;
# FUZZ_ARGS='--fuzz-examples 2000 --fuzz-seed 7' to change.
fuzz: install postgres
	$(BIN)/pytest tests/e2e/test_fuzz_api.py -s --timeout=0 -p no:cacheprovider \
		--fuzz-examples 500 --fuzz-seed random $(FUZZ_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache test-output web/node_modules web/static/build
