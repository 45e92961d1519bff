# c360: two commands matter. `make demo` builds everything and runs it on DuckDB;
# `make test` builds everything and runs lint plus the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
UV_VERSION := 0.13.8

export C360_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)
export C360_DAGSTER_STORAGE ?= $(C360_DATA_DIR)/dagster
export C360_DAGSTER_LOGS ?= $(C360_DATA_DIR)/dagster/logs
# No tool may phone home: these machines have no internet and a hanging call is a bug.
export DO_NOT_TRACK := 1
export SODA_CORE_TELEMETRY_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export MF_SEND_ANONYMOUS_USAGE_STATS := False
export MLFLOW_ENABLE_TELEMETRY := false
export UV_NO_PROGRESS := 1

DEMO_CUSTOMERS ?= 10000
DEMO_DEFECTS ?= 0.005

.PHONY: setup demo test lint format bench ui clean

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --quiet
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/c360 generate --customers $(DEMO_CUSTOMERS) --defects $(DEMO_DEFECTS) --overwrite
	$(BIN)/c360 materialize
	@echo ""
	@echo "Warehouse:  $${C360_DUCKDB_PATH:-$(C360_DATA_DIR)/warehouse.duckdb} (landing zone: $(C360_DATA_DIR)/landing)"
	@echo "UI:         make ui, then open http://127.0.0.1:3000 (lineage, materialize, checks)"
	@echo "Try:        .venv/bin/c360 sql \"select rfm_segment, count(*) as customers, round(avg(total_order_value), 2) as avg_value from marts.customer_360 group by 1 order by 2 desc\""

ui: setup
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(C360_DATA_DIR) .pytest_cache .ruff_cache
