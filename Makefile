# Chợ Làng Nghề — two commands: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# One process with threads: rate limits and caches kept in memory are exact without Redis. With REDIS_URL
# set (limits shared through Redis) raise WORKERS to the number of cores.
WORKERS ?= 1
THREADS ?= 8

.PHONY: run test install system-deps browser-deps db seed index serve bench lint clean help translations

help:
	@echo "make run    – set everything up and serve http://$(HOST):$(PORT)"
	@echo "make test   – set up and run the tests"
	@echo "make bench  – run the benchmarks in bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(VENV)/.installed

# Debian packages: Chromium for the browser tests, wrk for the benchmarks.
system-deps:
	@.ci/system-deps.sh

db: install
	$(BIN)/flask db upgrade heads

seed: db
	$(BIN)/flask seed-demo --if-empty

index: seed
	$(BIN)/flask search reindex --if-stale

serve:
	$(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --bind $(HOST):$(PORT) --no-control-socket \
		--access-logfile - wsgi:app

run: index serve

# Coverage (pyproject [tool.coverage.*], branch coverage on): the line and branch totals are printed at the
# end; the JSON report is test-artifacts/coverage.json. COV_ARGS= turns it off.
COV_ARGS ?= --cov --cov-report=json
test: install system-deps lint
	mkdir -p test-artifacts
	$(BIN)/python -m pytest $(COV_ARGS) $(PYTEST_ARGS)

# ruff (pyproject [tool.ruff]) and the import contracts (pyproject [tool.importlinter])
lint: install
	$(BIN)/ruff check marketplace tests bench config.py wsgi.py
	$(BIN)/lint-imports --no-cache

bench: install system-deps
	$(BIN)/python bench/run_all.py

# Re-extract UI strings and merge them into translations/en (translate the new empty msgstr), then compile the .mo.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o translations/messages.pot marketplace templates
	$(BIN)/pybabel update -N -i translations/messages.pot -d translations -l en --width 120
	$(BIN)/pybabel compile -d translations -l en
	rm -f translations/messages.pot

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
