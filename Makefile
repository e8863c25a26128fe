# Two commands on a fresh machine: `make run` (serve the demo) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2
# Debian packages the tests and badges need: a browser, fonts with Arabic and CJK glyphs.
SYSTEM_PACKAGES := chromium fonts-noto-core fonts-noto-cjk fonts-dejavu-core

.PHONY: run test test-sqlite test-pg setup system-deps vendor lint format worker clean

run: setup ## Set up, migrate, seed the demo and serve it with a job worker beside it.
	$(BIN)/mixer init-db
	$(BIN)/mixer seed-demo
	@echo "Serving Mixer on http://$(HOST):$(PORT) (Ctrl-C stops the server and the worker)"
	@$(BIN)/mixer worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/mixer run --host $(HOST) --port $(PORT) --with-threads

test: setup system-deps ## Set up and run the whole suite (SQLite, then PostgreSQL when one is running).
	$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		$(MAKE) --no-print-directory test-pg; \
	else echo "No PostgreSQL on 127.0.0.1:5432: skipped the PostgreSQL run."; fi

test-sqlite:
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-pg:
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

setup: $(BIN)/.installed static/vendor/.installed

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.package-lock.json
	$(MAKE) --no-print-directory vendor
	touch $@

vendor: ## Copy the pinned front-end libraries from node_modules into static/vendor/.
	rm -rf static/vendor && mkdir -p static/vendor/pico static/vendor/swagger-ui static/vendor/jsqr
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico/
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js static/vendor/swagger-ui/
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsqr/

system-deps: ## Install the Debian packages the tests need (when root and missing).
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else echo "Please install:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

worker: setup
	$(BIN)/mixer worker

lint: setup ## ruff (lint and format) and mypy on mixer/, as CI runs them.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
