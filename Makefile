# Developer entry points. The README's two commands are `make up` and `make test`.
# Each target installs what it needs into .venv first (from pyproject.toml only).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: up test lint fmt schema check bench clean deploy-check

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)  ## start the whole product (embedded PostgreSQL/Redis unless CRM_DATABASE_URL/CRM_REDIS_URL are set)
	$(VENV)/bin/crm up

test: $(STAMP)  ## run the whole test suite against real PostgreSQL and Redis
	$(PY) -m pytest

lint: $(STAMP)  ## formatting, lint, types, import direction, schema snapshot
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) -m mypy shared/crm_core services/graphql/crm_api services/workers/crm_worker
	$(VENV)/bin/lint-imports
	$(PY) -m crm_api.sdl --check schema.graphql

fmt: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema: $(STAMP)  ## deliberately update the committed GraphQL contract
	$(PY) -m crm_api.sdl > schema.graphql

check: lint test

deploy-check: $(STAMP)  ## Dockerfile (hadolint), compose file (Compose parser + schema), Helm chart (render, lint, Kubernetes schemas), infra configs
	$(PY) -m pytest tests/deploy -q

bench: $(STAMP)  ## benchmarks; BENCH_CUSTOMERS=5000 for a quick run of the domain figures
	$(PY) bench/page_load.py
	$(PY) bench/domain_load.py --customers $(or $(BENCH_CUSTOMERS),100000)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
