# Single entry point. `make up` deploys the dev stack and waits for data; `make status` says, link by link,
# whether data flows; `make test` runs every test this machine can run. preview, up and destroy run the
# project's program through the Automation API (tools/stack.py), so the CLI needs no language plugin.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
STATE_DIR := $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
export PULUMI_CONFIG_PASSPHRASE_FILE ?= $(STATE_DIR)/passphrase
# the file backend rewrites the whole state at every step; compressed, a write costs less (docs/testing.md)
export PULUMI_DIY_BACKEND_ZSTD ?= true
export PULUMI_SKIP_UPDATE_CHECK := true
PULUMI_DIR := $(CURDIR)/.tools/pulumi
export PATH := $(PULUMI_DIR):$(PATH)
WAIT_FOR_DATA ?= 900
# what a failure tells the user to run again: the target that was run (and the stack, when not dev)
RERUN := make $(or $(MAKECMDGOALS),up)$(if $(filter-out dev,$(STACK)), STACK=$(STACK))

.PHONY: venv pulumi-cli stack docker-check up status preview destroy lint test test-unit test-provider test-engine test-integration grafana-schema dashboard-types bench clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

venv: $(VENV)/.installed ## Python virtualenv with the project and its test dependencies

$(STATE_DIR)/passphrase:
	@mkdir -p $(STATE_DIR) && chmod 700 $(STATE_DIR)
	@$(PY) -c 'import secrets; print(secrets.token_urlsafe(32))' > $@ && chmod 600 $@

pulumi-cli: ## the pinned Pulumi CLI in .tools/pulumi (on PATH, else official archive, else built with Go; no-op when present)
	@$(PYTHON) tools/install_pulumi.py --dest $(PULUMI_DIR) --python $(CURDIR)/$(PY) --rerun "$(RERUN)"

# the stack, selected; dev gets a generated Grafana admin password (the program's config check names every
# other missing secret, and how to set it)
stack: venv pulumi-cli $(STATE_DIR)/passphrase
	@pulumi stack select $(STACK) 2>/dev/null || pulumi stack init $(STACK) --secrets-provider passphrase
	@[ "$(STACK)" != dev ] || pulumi config get grafanaAdminPassword >/dev/null 2>&1 || { \
	  $(PY) -c 'import secrets; print(secrets.token_urlsafe(18))' | pulumi config set --secret grafanaAdminPassword; \
	  echo "Generated a Grafana admin password for dev: 'pulumi config get grafanaAdminPassword' shows it."; }

docker-check: # first thing `make up` does for dev, before the venv and the CLI are built
	@[ "$(STACK)" != dev ] || docker info >/dev/null 2>&1 || { echo "The dev stack runs on Docker, but no Docker engine answers: install/start Docker (and check 'docker info'), then re-run '$(RERUN)'."; exit 1; }
	@[ "$(STACK)" != dev ] || $(PYTHON) tools/check_max_map_count.py

up: docker-check stack ## deploy (or converge) the stack, default dev, and wait until every index has data
	$(PY) tools/stack.py up --refresh --yes --stack $(STACK)
	@[ "$(STACK)" = operators ] || $(PY) -m clickstream status --stack $(STACK) --wait-for-data --timeout $(WAIT_FOR_DATA)
	@[ "$(STACK)" = operators ] || echo "Grafana: $$(pulumi stack output grafanaUrl --stack $(STACK))  (user: admin, password: pulumi config get grafanaAdminPassword)"

status: venv pulumi-cli ## is data flowing? one line per link (STATUS_ARGS="--watch" or "--json")
	@$(PY) -m clickstream status --stack $(STACK) $(STATUS_ARGS)

preview: stack ## what `make up` would change (changes nothing on any server)
	$(PY) tools/stack.py preview --stack $(STACK)

destroy: stack ## remove everything the stack deployed
	$(PY) tools/stack.py destroy --yes --stack $(STACK)

lint: venv ## ruff (lint + import order) and mypy over the whole project (settings in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: venv dashboard-types pulumi-cli ## every test this machine can run; Docker tiers skip with a reason when no Docker engine
	$(PY) -m pytest

test-unit: venv
	$(PY) -m pytest -m unit

test-provider: venv
	$(PY) -m pytest -m provider

test-engine: venv pulumi-cli ## the application layer through the real Pulumi engine (tests/engine)
	$(PY) -m pytest -m engine

test-integration: venv ## the whole pipeline in Docker (testcontainers); needs a Docker engine
	$(PY) -m pytest -m integration tests/integration

grafana-schema: tools/grafana-schema/node_modules/.installed ## npm packages for the dashboards' @grafana/schema type check

tools/grafana-schema/node_modules/.installed: tools/grafana-schema/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ with npm (e.g. 'apt-get install nodejs npm'), then re-run 'make grafana-schema'."; exit 1; }
	cd tools/grafana-schema && npm ci --no-audit --no-fund
	@touch $@

dashboard-types: # installs the type-check packages where npm exists; without npm that test says how to get them
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory grafana-schema; fi

bench: venv pulumi-cli ## benchmarks: application-layer call counts, ksqlDB changes, the first apply through the engine (requests, dry runs), the fake's and the engine's scaling, one status run, a rebuilt table's swap
	$(PY) -m benchmarks.app_layer_calls
	$(PY) -m benchmarks.ksql_changes
	$(PY) -m benchmarks.ksql_first_apply
	$(PY) -m benchmarks.fake_ksqldb_scale
	$(PY) -m benchmarks.scale
	$(PY) -m benchmarks.status_run
	$(PY) -m benchmarks.zero_gap

clean:
	rm -rf $(VENV) .pytest_cache .cache .tools tools/grafana-schema/node_modules tools/grafana-schema/build
