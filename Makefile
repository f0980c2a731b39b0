# The two commands of the README: `make run` (the demo on SQLite) and `make test` (everything).
# Recipes that start background jobs need one shell per recipe line, as here.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell command -v python3.11 || command -v python3)
STAMP := $(VENV)/.installed

.PHONY: run test install lint postgres clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "lianban needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/lianban init-db
	$(BIN)/lianban deploy processes
	@echo "演示用户及其 API 令牌 (Authorization: Bearer <令牌>):"
	$(BIN)/lianban demo-users
	@# The worker runs timers, time-limit checks, reminders and notifications beside the server.
	$(BIN)/lianban worker & trap 'kill $$!' EXIT; $(BIN)/lianban serve --host 127.0.0.1 --port 5000

lint: install
	$(BIN)/ruff check engine web tests
	$(BIN)/lint-imports
	$(BIN)/mypy

postgres:
	@scripts/ensure-postgres

test: install postgres lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var .pytest_cache test-output
