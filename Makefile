# inBeTwin developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
THIRD_PARTY := build/third_party

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv and install the project with its dev tools

.PHONY: third-party
third-party: $(STAMP) ## Lay out third-party .proto files from installed packages
	$(PY) tools/third_party.py $(THIRD_PARTY)

.PHONY: gen
gen: third-party ## Regenerate gen/ (messages, gRPC stubs, .pyi, Envoy descriptor set)
	$(PY) tools/gen.py gen

.PHONY: check-gen
check-gen: third-party ## Fail when gen/ is out of date with proto/
	@rm -rf build/gen-check && $(PY) tools/gen.py build/gen-check
	@diff -r -q -x __pycache__ gen build/gen-check || { echo "gen/ is stale: run 'make gen' and commit"; exit 1; }
	@echo "gen/ is up to date"

.PHONY: openapi
openapi: third-party ## Regenerate docs/openapi.yaml from the contracts
	$(PY) tools/openapi.py

.PHONY: check-openapi
check-openapi: third-party ## Fail when docs/openapi.yaml is out of date with proto/
	$(PY) tools/openapi.py --check

.PHONY: config-doc
config-doc: $(STAMP) ## Regenerate docs/CONFIGURATION.md from the settings classes
	$(PY) tools/config_reference.py

.PHONY: check-config-doc
check-config-doc: $(STAMP) ## Fail when docs/CONFIGURATION.md is out of date with the settings
	$(PY) tools/config_reference.py --check

.PHONY: proto-lint
proto-lint: third-party ## buf lint and buf format check, offline
	$(BIN)/buf lint
	$(BIN)/buf format proto --diff --exit-code

.PHONY: proto-breaking
proto-breaking: third-party ## buf breaking against main (AGAINST=<git ref> to change)
	$(BIN)/buf breaking --against '.git#branch=$(or $(AGAINST),main)'

.PHONY: lint
lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: fmt
fmt: $(STAMP) ## Format Python and proto files
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/buf format -w proto

.PHONY: typecheck
typecheck: $(STAMP) ## mypy (strict) over services/, tools/, tests/ and bench/
	$(BIN)/mypy services tools tests bench

.PHONY: k8s-validate
k8s-validate: $(STAMP) ## Render every k8s overlay (kubectl kustomize) and validate it strictly, offline
	$(PY) tools/k8s_validate.py

.PHONY: check
check: check-gen check-openapi check-config-doc proto-lint lint typecheck k8s-validate ## Every static check CI runs

.PHONY: up
up: $(STAMP) ## Start the whole platform locally (Ctrl-C stops it); data under .state/
	$(BIN)/inbetwin up

.PHONY: down
down: $(STAMP) ## Stop a platform started by `make up` in another terminal
	$(BIN)/inbetwin down

.PHONY: status
status: $(STAMP) ## Show which parts of the local platform are running
	$(BIN)/inbetwin status

.PHONY: test
test: check ## Static checks, then the whole test suite against real local servers
	$(BIN)/pytest

.PHONY: bench-gateway
bench-gateway: $(STAMP) ## REST via Envoy vs gRPC via Envoy vs direct gRPC, same RPC, same run
	$(PY) -m bench.gateway

.PHONY: bench-webhooks
bench-webhooks: $(STAMP) ## Telegram updates through Envoy at fixed rates: ack latency, exactly once
	$(PY) -m bench.webhooks

.PHONY: bench-watch
bench-watch: $(STAMP) ## 100 live-activity subscribers x 100 actions/s: delivery latency, isolation
	$(PY) -m bench.watch

.PHONY: bench-e2e
bench-e2e: $(STAMP) ## Webhooks in through Envoy -> reply at the platform, at fixed rates
	$(PY) -m bench.e2e

.PHONY: eval-rag
eval-rag: $(STAMP) ## Retrieval quality (recall@1/@5, MRR@10) on ../shared/fixtures/eval
	$(PY) -m bench.eval_rag

.PHONY: bench-rag
bench-rag: $(STAMP) ## rag search latency at 100k chunks, indexing throughput
	$(PY) -m bench.rag

.PHONY: bench
bench: $(STAMP) ## Every benchmark; writes bench/RESULTS.md with the machine described
	$(PY) -m bench.run_all

.PHONY: test-fast
test-fast: $(STAMP) ## Only the tests (no static checks)
	$(BIN)/pytest
