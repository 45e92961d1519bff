# c360: two commands matter. `make demo` builds everything and runs it on DuckDB;
# `make test` builds everything and runs lint plus the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.8

# Every c360 setting and its default is c360_core/settings.py's: a recipe that needs one evaluates this first
# (the C360_* environment variables, as `c360 env` prints them).
SETTINGS = eval "$$($(BIN)/c360 env)"
# No tool may phone home: these machines have no internet and a hanging call is a bug.
export DO_NOT_TRACK := 1
export SODA_CORE_TELEMETRY_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export MF_SEND_ANONYMOUS_USAGE_STATS := False
export MLFLOW_ENABLE_TELEMETRY := false
export UV_NO_PROGRESS := 1

DEMO_CUSTOMERS ?= 10000
DEMO_DEFECTS ?= 0.005

.PHONY: setup demo test lint format bench ml-report ui mlflow-ui docs clean browser screenshots serve

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q uv==$(UV_VERSION)
	@# bytecode compiled once at install: with PYTHONDONTWRITEBYTECODE set, every process would compile ~2 s of imports
	$(BIN)/uv sync --frozen --quiet --compile-bytecode
	@touch $@

setup: $(VENV)/.synced

demo: setup
	@# a regenerated dataset (e.g. on a later day) gets a fresh warehouse; the same one is reused
	@$(SETTINGS); run_json=$$C360_DATA_DIR/landing/_manifest/run.json; before=$$(cat $$run_json 2>/dev/null); \
	$(BIN)/c360 generate --customers $(DEMO_CUSTOMERS) --defects $(DEMO_DEFECTS) --overwrite || exit 1; \
	if [ "$$before" != "$$(cat $$run_json)" ]; then rm -f $$C360_DUCKDB_PATH $$C360_DUCKDB_PATH.wal; fi
	$(BIN)/c360 materialize
	@$(SETTINGS); echo ""; echo "Warehouse:  $$C360_DUCKDB_PATH (landing zone: $$C360_DATA_DIR/landing)"
	@echo "Dashboard:  make serve, then open http://127.0.0.1:8000/dashboard/ with the token it prints (API docs: /docs)"
	@echo "UI:         make ui, then open http://127.0.0.1:3000 (lineage, materialize, checks)"
	@echo "Try:        .venv/bin/c360 sql \"select rfm_segment, count(*) as customers, round(avg(total_order_value), 2) as avg_value from marts.customer_360 group by 1 order by 2 desc\""
	@echo "Quality:    .venv/bin/c360 sql \"select dataset, cast(score as decimal(6, 2)) as score, failed_checks from marts.data_quality_daily order by score\""
	@echo "Models:     .venv/bin/c360 sql \"select cluster_name, churn_risk_band, count(*) as customers, round(avg(predicted_clv), 2) as clv_90d from marts.customer_360 where cluster_name is not null group by all order by all\""
	@echo "MLflow:     make mlflow-ui, then open http://127.0.0.1:5000 (runs, plots, champions)"

# the dbt docs site, offline: every model's description, columns and lineage in one HTML file. The catalog
# (column types) comes from the demo warehouse when there is one, else from an empty throwaway DuckDB.
docs: setup
	@$(SETTINGS); out=$$C360_DATA_DIR/dbt-docs; wh=$$C360_DUCKDB_PATH; [ -f "$$wh" ] || wh=$$(mktemp -d)/docs.duckdb; \
	C360_TARGET=duckdb C360_DUCKDB_PATH=$$wh $(BIN)/c360 dbt docs generate --static --quiet \
		--target-path $$out --log-path $$out/logs && \
	echo "dbt docs: open $$out/static_index.html in a browser (no server needed)"

ui: setup
	$(BIN)/c360 ui

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# the dbt templater compiles the project offline against a throwaway DuckDB file
	$(SETTINGS); lintdir=$$(mktemp -d) && C360_TARGET=duckdb C360_DUCKDB_PATH=$$lintdir/lint.duckdb \
		$(BIN)/sqlfluff lint dbt_project/models --processes 1; status=$$?; rm -rf $$lintdir; exit $$status

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# the dashboard's browser tests drive Debian's chromium (Playwright's own browser download is unreachable here)
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || command -v chromium >/dev/null || { echo "installing Debian's chromium for the browser tests"; \
		apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
		sudo -n apt-get install -y -q chromium >/dev/null 2>&1; } ; \
	test -x $(CHROMIUM) || command -v chromium >/dev/null || { echo "make test needs Debian's chromium for the dashboard's \
	browser tests and could not install it: run 'apt-get install chromium' as root (or set CHROMIUM=/path/to/chromium)"; exit 1; }

# two workers on two cores (the suite is CPU-bound: a third was slower): the PostgreSQL and the DuckDB tests
# each on one worker, Spark's groups and the other modules on whichever is free (tests/conftest.py)
TEST_WORKERS ?= 2
test: lint browser
	C360_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=25

# the dashboard's pictures in docs/img, taken by its browser tests over the tests' ML warehouse
screenshots: setup browser
	C360_CHROMIUM=$(CHROMIUM) C360_SCREENSHOTS=$(CURDIR)/docs/img $(BIN)/pytest tests/serving/test_dashboard.py \
		-k "every_page and duckdb" -n 0

# the API and the dashboard on the demo warehouse (after make demo): a steward's token, then the server
serve: setup
	@echo "Sign in to the dashboard with this token (a steward's, valid 90 days):"
	@$(BIN)/c360 tokens create --role c360_steward
	$(BIN)/c360 serve dashboard

# BENCH_ARGS: python -m bench.run's options, e.g. one tier and a landing zone kept for the next run
bench: setup browser
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# the model figures of docs/ml.md alone: 10,000 customers x 1 year, built end to end (~15 min)
ml-report: setup
	$(BIN)/python -m bench.run --ml-report

# the MLflow UI over the demo's store: runs, metrics, plots, registered models and their aliases
mlflow-ui: setup
	$(SETTINGS); $(BIN)/mlflow ui --backend-store-uri "$$MLFLOW_TRACKING_URI" --host 127.0.0.1 --port 5000

clean:
	@# the data folder the settings name (only when the environment is installed to tell)
	@if [ -x $(BIN)/c360 ]; then $(SETTINGS); echo "rm -rf $$C360_DATA_DIR"; rm -rf "$$C360_DATA_DIR"; fi
	rm -rf .pytest_cache .ruff_cache
