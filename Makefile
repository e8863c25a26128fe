# Two commands on a fresh machine: `make run` (serve the demo) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2
# Debian packages the tests and badges need: a browser, fonts with Arabic and CJK glyphs,
# nginx (tests/test_nginx.py runs deploy/nginx/mixer.conf in front of gunicorn).
SYSTEM_PACKAGES := chromium fonts-noto-core fonts-noto-cjk fonts-dejavu-core nginx
# The languages besides English (translations/, docs/i18n.md) and the names that
# mark a string in Python besides _, gettext and ngettext.
LANGUAGES := de ar
BABEL_KEYWORDS := -k _l -k lazy_ngettext:1,2
CATALOGUES := $(foreach lang,$(LANGUAGES),translations/$(lang)/LC_MESSAGES/messages.mo)

.PHONY: run test test-sqlite test-pg setup system-deps vendor lint audit format worker clean translations

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

setup: $(BIN)/.installed static/vendor/.installed $(CATALOGUES)

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# Languages (docs/i18n.md): translations/<lang>/LC_MESSAGES/messages.po are
# committed, the compiled .mo files are not; `make setup` compiles them.
# `make translations` extracts the marked strings into messages.pot, merges
# them into each language's .po (new ones empty, changed ones fuzzy) and
# compiles: translate what is empty or fuzzy, then run tests/test_translations.py.
# (LANGUAGES and the extraction keywords are set at the top.)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(BIN)/.installed
	$(BIN)/pybabel compile -d translations -l $*

translations: setup ## Extract marked strings, update the de/ar catalogues, compile them.
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-comments=TRANSLATORS: \
		--ignore-dirs=".* ._ node_modules static tests benchmarks deploy instance" \
		--project=Mixer --copyright-holder="Mixer" --msgid-bugs-address="" \
		-o translations/messages.pot .
	for lang in $(LANGUAGES); do \
		$(BIN)/pybabel update -i translations/messages.pot -d translations -l $$lang --ignore-obsolete; \
	done
	$(BIN)/pybabel compile -d translations --statistics

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.package-lock.json
	$(MAKE) --no-print-directory vendor
	touch $@

# The QR decoder's fallback (static/js/qr-decoder.js) is the BarcodeDetector ponyfill, a
# plain script, with the ZXing WebAssembly build it was made with, both served from
# here. jsQR is on no page any more: benchmarks/scan_decode.py compares it with ZXing.
vendor: ## Copy the pinned front-end libraries from node_modules into static/vendor/.
	rm -rf static/vendor && mkdir -p static/vendor/pico static/vendor/swagger-ui static/vendor/jsqr \
		static/vendor/barcode-detector static/vendor/zxing-wasm
	cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico/
	cp node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/swagger-ui-bundle.js static/vendor/swagger-ui/
	cp node_modules/barcode-detector/dist/iife/ponyfill.js static/vendor/barcode-detector/
	cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm static/vendor/zxing-wasm/
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

lint: setup ## ruff (lint and format), mypy on mixer/ and pip-audit, as CI runs them.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(MAKE) --no-print-directory audit

# Known advisories in the installed packages (docs/security.md), from the first
# advisory service that answers. --strict fails when a package could not be checked,
# so a partial audit never passes as a clean one. Where neither service answers (this
# workplace's PyPI mirror serves only per-package pages), .ci/audit_latest.py checks
# every package at its latest release from those pages and names the rest; only
# when PyPI does not answer at all is the audit skipped, saying so. AUDIT_IGNORE lists
# advisories without a fix, each as --ignore-vuln ID with a comment saying why (none
# today).
AUDIT_IGNORE :=
define AUDIT_PROBE
import urllib.request as u
probes = [
    ("osv", u.Request("https://api.osv.dev/v1/query", data=b'{"package": {"name": "pip", "ecosystem": "PyPI"}}')),
    ("pypi", u.Request("https://pypi.org/pypi/pip/24.0/json")),  # what pip-audit asks
]
for name, req in probes:
    try:
        u.urlopen(req, timeout=10).close()
    except Exception:
        continue
    print(name)
    break
endef
export AUDIT_PROBE

audit: setup ## pip-audit over the installed packages (.ci/audit_latest.py where its services do not answer).
	@service=$$($(BIN)/python -c "$$AUDIT_PROBE"); \
	if [ -z "$$service" ]; then \
		echo "pip-audit: neither osv.dev nor PyPI's per-release JSON answers from here;"; \
		echo "checking the advisories PyPI's package pages list instead (.ci/audit_latest.py)."; \
		$(BIN)/python .ci/audit_latest.py $(AUDIT_IGNORE:--ignore-vuln=--ignore) || test $$? = 2; \
	else \
		echo "pip-audit against $$service"; \
		$(BIN)/pip-audit --strict --skip-editable --progress-spinner off \
			--vulnerability-service $$service $(AUDIT_IGNORE); \
	fi

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
