# Chorus - `make` is the interface. Everything installs into .venv from pyproject.toml.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install demo dev test test-deps lint unit integration contract bench deploy clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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

bench: $(STAMP) ## run every benchmark; results in bench/results/
	$(BIN)/python bench/run_all.py

deploy: ## build and deploy to your AWS account (needs the AWS SAM CLI and credentials)
	@command -v sam >/dev/null || { echo "install the AWS SAM CLI first: https://docs.aws.amazon.com/serverless-application-model/"; exit 1; }
	$(BIN)/python infra/deploy/requirements.py > shared/requirements.txt
	sam build --template-file template.yaml
	sam deploy --guided

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .chorus
