# deliverypipeline — every entry point a developer or CI uses.
# `make demo` and `make test` each build the virtualenv (.venv) from the pinned requirements first.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The real AWS CLI and EB CLI, each in its own virtualenv (both pin botocore); tests/clients run them.
CLIENT_STAMPS := .venv-awscli/.installed .venv-ebcli/.installed
# moto's own Elastic Beanstalk tests, from the sdist of the pinned moto (tests/emulation/test_moto_suite.py).
MOTO_VERSION := $(shell sed -n 's/^moto\[server\]==//p' requirements-dev.txt)
MOTO_TESTS   := .artifacts/moto-$(MOTO_VERSION)/tests

.PHONY: venv clients demo up run test lint typecheck pytest bench bench-webapp bench-controller \
        docker-engine package moto-tests clean

$(STAMP): requirements-dev.txt webapp/requirements.txt
	@test -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	@echo "installing the pinned requirements into $(VENV) (about a minute the first time)..."
	@$(PY) -m pip install -qq --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -qq --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)
	@echo "$(VENV) is ready"

venv: $(STAMP)

.venv-%/.installed: requirements-%.txt
	@test -x .venv-$*/bin/pip || $(PYTHON) -m venv .venv-$* || { rm -rf .venv-$*; \
	    echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	@echo "installing requirements-$*.txt into .venv-$* ..."
	@.venv-$*/bin/python -m pip install -qq --disable-pip-version-check -r requirements-$*.txt
	@touch $@

## The real clients the emulation answers to (AWS CLI, EB CLI), each in its own virtualenv.
clients: $(CLIENT_STAMPS)

$(MOTO_TESTS)/.ready: requirements-dev.txt | $(STAMP)
	@mkdir -p .artifacts
	@echo "fetching moto $(MOTO_VERSION)'s own tests (its sdist) into .artifacts ..."
	@$(PY) -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
	    "moto==$(MOTO_VERSION)" -d .artifacts
	@tar -xzf .artifacts/moto-$(MOTO_VERSION).tar.gz -C .artifacts \
	    moto-$(MOTO_VERSION)/tests/__init__.py moto-$(MOTO_VERSION)/tests/conftest.py \
	    moto-$(MOTO_VERSION)/tests/markers.py moto-$(MOTO_VERSION)/tests/test_elasticbeanstalk \
	    moto-$(MOTO_VERSION)/tests/test_resourcegroupstaggingapi
	@touch $@

## moto's own Elastic Beanstalk tests with the extension loaded (run by make test, in both modes).
moto-tests: $(MOTO_TESTS)/.ready

## The main job: the whole loop on one machine (no AWS account, no MongoDB server).
demo: $(STAMP)
	$(PY) -m sandbox demo

## Everything up and running until Ctrl-C; prints one JSON line with the URLs.
up: $(STAMP)
	$(PY) -m sandbox up

## The web app alone on the embedded SQLite store (http://127.0.0.1:8080).
run: $(STAMP)
	$(PY) -m webapp

## Every test: lint, types, then the suite.
test: lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/hadolint Dockerfile

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) $(CLIENT_STAMPS) $(MOTO_TESTS)/.ready
	$(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks (figures printed side by side; never asserted in tests).
bench: bench-webapp bench-controller

bench-webapp: $(STAMP)
	$(PY) -m bench.webapp

bench-controller: $(STAMP)
	$(PY) -m bench.controller

## A local Docker engine and registry on 127.0.0.1:5000 (Debian; idempotent).
docker-engine:
	bash scripts/docker-engine.sh

## The controller's Lambda package and CloudFormation template (offline).
package: $(STAMP)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package \
	    --stage dev --merge-template .chalice/resources.json build/package

clean:
	rm -rf $(VENV) .venv-awscli .venv-ebcli build .pytest_cache .mypy_cache .ruff_cache
