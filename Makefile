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

.PHONY: mutate run test install system-deps browser-deps db seed index serve bench lint clean help translations

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
	$(BIN)/flask ledger backfill

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

# Mutation testing of the rule functions (pyproject [tool.mutmut]; not in CI: slow, about an hour on two busy
# cores). Runs on SQLite; prints the survivors (`$(BIN)/mutmut show <name>` shows one). MUTATE_RULES= (empty)
# mutates every function of the configured files.
MUTATE_JOBS ?= 2
MUTATE_RULES ?= \
	"marketplace.orders.services.x_take_stock*" "marketplace.orders.services.x_return_stock*" \
	"marketplace.orders.services.x_place_checkout*" "marketplace.orders.services.x__cart_rows__*" \
	"marketplace.orders.services.x_transition*" "marketplace.orders.services.x_release_checkout*" \
	"marketplace.orders.services.x_cancel_order*" "marketplace.orders.services.x_refundable_amount*" \
	"marketplace.orders.services.x_refund_order*" "marketplace.orders.services.x_apply_refund_result*" \
	"marketplace.orders.services.x_mark_refund_*" "marketplace.orders.services.x_commission_for*" \
	"marketplace.orders.services.x_record_payout*" "marketplace.orders.services.x_shop_statement*" \
	"marketplace.orders.models.x_sources_of*" "marketplace.orders.models.x_may_transition*" \
	"marketplace.payments.services.x_settle_payment*" "marketplace.payments.services.x_handle_event*" \
	"marketplace.payments.services.x__checkout_for*" "marketplace.payments.services.x__release*" \
	"marketplace.payments.services.x__refund_event*" "marketplace.payments.services.x__reconcile_*" \
	"config.xǁProductionConfigǁvalidate*" "config.x_get_config*" \
	"marketplace.shops.access.x_*" "marketplace.accounts.permissions.x_refusal*" \
	"marketplace.officials.indicators.x_*"
mutate: install
	$(BIN)/pip install --quiet mutmut==3.8.1
	env -u TEST_DATABASE_URL $(BIN)/mutmut run --max-children $(MUTATE_JOBS) $(MUTATE_RULES) || true
	@echo "--- surviving mutants (equivalent ones are explained beside their rule) ---"
	$(BIN)/mutmut results

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
