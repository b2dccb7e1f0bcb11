# pointsapp — the two commands: `make run` and `make test` (and `make lint` before a commit).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
WORKERS ?= 2
# gunicorn's limit on the request line (method, path and query), in bytes: a longer one gets
# gunicorn's own 414 page before the app sees it. Cursors the API gives out are far shorter.
LIMIT_REQUEST_LINE ?= 4094
export FLASK_APP := pointsapp

.PHONY: run test lint fuzz install migrate seed serve translations browser-deps oidc-deps lighthouse-deps lighthouse bench bench-quick bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,postgres,redis]'
	touch $@

install: $(VENV)/.installed translations

# Compiled when a catalog changed (or was never compiled): a second make in the same checkout leaves them alone.
CATALOGS := $(wildcard pointsapp/translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGS:.po=.mo)

pointsapp/translations/%/LC_MESSAGES/messages.mo: pointsapp/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d pointsapp/translations -l $* --statistics 2>&1 | tail -n 2

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

serve: install
	@echo "pointsapp on http://$(HOST):$(PORT)/ (push worker alongside)"
	$(BIN)/flask push-worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c python:pointsapp.gunicorn_conf --bind $(HOST):$(PORT) --workers $(WORKERS) --limit-request-line $(LIMIT_REQUEST_LINE) \
		--no-control-socket --access-logfile - 'pointsapp:create_app()'

run: seed serve

browser-deps:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium is missing: install Debian's chromium package for the browser tests"; }

# The single sign-on tests run a real OpenID provider (the npm package oidc-provider) from tests/oidc.
oidc-deps: tests/oidc/node_modules/.package-lock.json

tests/oidc/node_modules/.package-lock.json: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error

# Lighthouse (npm lighthouse, pinned in tests/lighthouse) on login and wallet, zh and en, mobile, Debian's chromium:
# serves a demo database on 127.0.0.1:$(LIGHTHOUSE_PORT), prints the scores, fails below 95 (docs/lighthouse.md).
LIGHTHOUSE_PORT ?= 8810
lighthouse-deps: tests/lighthouse/node_modules/.package-lock.json

tests/lighthouse/node_modules/.package-lock.json: tests/lighthouse/package.json tests/lighthouse/package-lock.json
	cd tests/lighthouse && npm ci --no-audit --no-fund --loglevel=error

lighthouse: install browser-deps lighthouse-deps
	LIGHTHOUSE_PORT=$(LIGHTHOUSE_PORT) CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python tests/lighthouse/audit.py

test: install browser-deps oidc-deps
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The suite's schemathesis run and model-based ledger test, long: many examples (FUZZ_EXAMPLES, LEDGER_EXAMPLES).
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-300} LEDGER_EXAMPLES=$${LEDGER_EXAMPLES:-200} \
	  $(BIN)/pytest --timeout=3600 tests/api/test_openapi_fuzz.py tests/api/test_ledger_model.py $(PYTEST_ARGS)


bench-deps:
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) || \
	  echo "wrk is missing: install Debian's wrk package for the benchmarks"; }

# gunicorn + wrk against a seeded database, beside hello-world (BENCH_DB=postgres for PostgreSQL); see docs/performance.md.
bench: install bench-deps
	$(BIN)/python benchmarks/http_bench.py

bench-quick: install bench-deps
	BENCH_QUICK=1 $(BIN)/python benchmarks/http_bench.py

clean:
	rm -rf $(VENV) .pytest_cache
