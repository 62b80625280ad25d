# deliverypipeline — every entry point a developer or CI uses. `make` alone (or `make help`) lists them:
# the one-line `## ` comment above a target is its help text.
# `make demo` and `make test` each build the virtualenv (.venv) from the pinned requirements first.

.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# checkov and parliament (their pins clash with ours); the real AWS CLI and EB CLI, which pin botocore
# (tests/clients run them): each in a virtualenv of its own, .venv-<name> from requirements-<name>.txt.
LINT_VENV  := .venv-lint
LINT_STAMP := $(LINT_VENV)/.installed
CLIENT_STAMPS := .venv-awscli/.installed .venv-ebcli/.installed
# moto's own Elastic Beanstalk tests, from the sdist of the pinned moto (tests/emulation/test_moto_suite.py).
MOTO_VERSION := $(shell sed -n 's/^moto\[server\]==//p' requirements-dev.txt)
MOTO_TESTS   := .artifacts/moto-$(MOTO_VERSION)/tests
# GitHub's published REST API description (npm @octokit/openapi), that the GitHub calls are checked against
# (tests/controller/test_controller_github_openapi.py).
OCTOKIT_OPENAPI_VERSION := 23.0.2
GITHUB_OPENAPI := .artifacts/octokit-openapi-$(OCTOKIT_OPENAPI_VERSION)/api.github.com.deref.json

# On AWS (docs/aws.md): the provisioning stack, the controller's stack and its Chalice stage.
AWS           ?= aws
STAGE         ?= prod
INFRA_STACK   ?= deliverypipeline
CONTROLLER_STACK ?= $(INFRA_STACK)-controller
CNAME_PREFIX  ?=
MONGODB_URI_PARAMETER ?=
REGISTRY_AUTH_KEY ?=
API_GATEWAY_LOGGING ?=
SOLUTION_STACK ?=
VPC_ID        ?=
SUBNETS       ?=
LB_SUBNETS    ?=
PACKAGE_DIR   := build/package-$(STAGE)

.PHONY: help venv lint-venv clients moto-tests github-openapi demo up soak run test lint lint-templates lint-iam typecheck pytest \
        docs docs-check docs-serve bench bench-webapp bench-controller docker-engine package provision \
        deploy-controller circleci-context aws-parity aws-rehearsal clean

## This list (also what a bare `make` prints).
help:
	@echo "deliverypipeline: make TARGET [VARIABLE=value ...]"
	@echo "  the two commands: make demo (a blue/green deployment on this machine), make test (every test)"
	@echo "  docs: README.md, then docs/ (make docs builds the site into build/site)"
	@echo
	@awk '/^## / { doc = substr($$0, 4); next } \
	      /^[a-z][a-z0-9_-]*:/ && doc != "" { split($$0, target, ":"); printf "  %-18s %s\n", target[1], doc } \
	      /^# / || /^[A-Z_]+ *[:?]?=/ { next } \
	      { doc = "" }' $(firstword $(MAKEFILE_LIST))

# Set-up progress goes to stderr: stdout stays the command's own (`make up`: one JSON line, even the first time).
$(STAMP): requirements-dev.txt webapp/requirements.txt
	@test -x $(VENV)/bin/pip || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	@echo "installing the pinned requirements into $(VENV) (about a minute the first time)..." >&2
	@$(PY) -m pip install -qq --disable-pip-version-check pip==26.2.2.post1 >&2
	@$(PY) -m pip install -qq --disable-pip-version-check -r requirements-dev.txt >&2
	@touch $(STAMP)
	@echo "$(VENV) is ready" >&2

## .venv from the pinned requirements-dev.txt (demo and test make it themselves).
venv: $(STAMP)

.venv-%/.installed: requirements-%.txt
	@test -x .venv-$*/bin/pip || $(PYTHON) -m venv .venv-$* || { rm -rf .venv-$*; \
	    echo "error: '$(PYTHON) -m venv' failed; on Debian: apt-get install python3-venv" >&2; exit 1; }
	@echo "installing requirements-$*.txt into .venv-$* ..." >&2
	@.venv-$*/bin/python -m pip install -qq --disable-pip-version-check -r requirements-$*.txt
	@touch $@

## checkov and parliament in .venv-lint (their pins clash with ours).
lint-venv: $(LINT_STAMP)

## The real AWS CLI and EB CLI (the emulation's judges), each in its own virtualenv.
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

## Fetch moto's own Elastic Beanstalk tests (make test runs them against the emulation).
moto-tests: $(MOTO_TESTS)/.ready

$(GITHUB_OPENAPI):
	@mkdir -p $(dir $@)
	@echo "fetching GitHub's REST API description (@octokit/openapi $(OCTOKIT_OPENAPI_VERSION)) into .artifacts ..."
	@cd $(dir $@) && npm pack --silent "@octokit/openapi@$(OCTOKIT_OPENAPI_VERSION)" >/dev/null && \
	    tar -xzf octokit-openapi-$(OCTOKIT_OPENAPI_VERSION).tgz --strip-components=2 \
	        package/generated/api.github.com.deref.json && rm octokit-openapi-$(OCTOKIT_OPENAPI_VERSION).tgz

## GitHub's REST API description the controller's GitHub calls are checked against.
github-openapi: $(GITHUB_OPENAPI)

## The main job: a blue/green deployment on this machine (no AWS, Docker Hub, MongoDB).
demo: $(STAMP)
	$(PY) -m sandbox demo

## Everything up until Ctrl-C; stdout is one JSON line with the URLs.
up: $(STAMP)
	@$(PY) -m sandbox up

## SOAK_DEPLOYMENTS (50) deployments under random faults; SEED=S replays a run.
# Against `sandbox up --realistic`, with concurrent notifications, rollbacks and production traffic;
# invariants checked after each round. make test runs a short one (tests/sandbox/test_soak.py).
SOAK_DEPLOYMENTS ?= 50
soak: $(STAMP)
	$(PY) -m sandbox soak --deployments $(SOAK_DEPLOYMENTS) $(if $(SEED),--seed $(SEED))

## The web app alone on the embedded SQLite store (http://127.0.0.1:8080).
run: $(STAMP)
	$(PY) -m webapp

## Every test: lint (and the strict docs build), typecheck, then pytest.
# One part at a time: make pytest PYTEST_ARGS=tests/controller (docs/testing.md).
test: lint typecheck pytest

## ruff, lint-imports, hadolint, lint-templates, lint-iam and docs-check.
lint: $(STAMP) lint-templates lint-iam docs-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(VENV)/bin/hadolint Dockerfile

## cfn-lint and checkov on the provisioning template and the controller's packaged template.
# Findings are fixed or skipped with the reason in the resource's Metadata.
lint-templates: $(STAMP) $(LINT_STAMP) package
	$(VENV)/bin/cfn-lint infra/*.yaml $(PACKAGE_DIR)/sam.json
	$(LINT_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	    -f infra/pipeline.yaml -f $(PACKAGE_DIR)/sam.json

## parliament on each Lambda function's policy, resolved for an example deployment.
lint-iam: $(STAMP) $(LINT_STAMP)
	$(PY) -m tests.infra.function_policies build/policies
	$(LINT_VENV)/bin/parliament --directory build/policies --include_policy_extension .json \
	    --minimum_severity LOW --config .chalice/parliament.yaml

## mypy (strict; its configuration is in pyproject.toml).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

## The suite alone; one part: make pytest PYTEST_ARGS='tests/controller -q'.
pytest: $(STAMP) $(CLIENT_STAMPS) $(MOTO_TESTS)/.ready $(GITHUB_OPENAPI)
	$(PY) -m pytest $(PYTEST_ARGS)

# The docs site (mkdocs.yml, docs/). Parts of it come from the code at build time, into build/docs (never
# committed): the HTTP API's OpenAPI document, which `chalice package` puts in the packaged template, and
# the import contracts from pyproject.toml. The code reference is mkdocstrings, from the docstrings.
DOCS_GENERATED := build/docs/http-api.md build/docs/import-contracts.md
# (NO_MKDOCS_2_WARNING: the Material theme's end-of-life banner, printed on every build.)
MKDOCS := NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs

build/docs/http-api.md: $(STAMP) package scripts/openapi_reference.py
	$(PY) scripts/openapi_reference.py $(PACKAGE_DIR)/sam.json build/docs

build/docs/import-contracts.md: $(STAMP) pyproject.toml scripts/import_contracts.py
	$(PY) scripts/import_contracts.py pyproject.toml $@

## The docs site into build/site (open build/site/index.html).
docs: $(STAMP) $(DOCS_GENERATED)
	$(MKDOCS) build --site-dir build/site

## The docs site, strictly: a broken link, anchor or page fails (make test).
# Never with --quiet: it hides the warnings --strict counts, and the build passes whatever they say.
docs-check: $(STAMP) $(DOCS_GENERATED)
	$(MKDOCS) build --strict --site-dir build/site

## The docs site with live reload on http://127.0.0.1:8000 (DOCS_ADDR=host:port).
DOCS_ADDR ?= 127.0.0.1:8000
docs-serve: $(STAMP) $(DOCS_GENERATED)
	$(MKDOCS) serve --dev-addr $(DOCS_ADDR)

## Both benchmarks (figures printed side by side; never asserted in tests).
bench: bench-webapp bench-controller

## Counted GET / per second: the durable store against the in-process ceiling (needs wrk).
bench-webapp: $(STAMP)
	$(PY) -m bench.webapp

## Lead time and AWS calls with and without Beanstalk's events; cold import, zip size.
bench-controller: $(STAMP)
	$(PY) -m bench.controller

## A local Docker engine and registry on 127.0.0.1:5000 (Debian; idempotent).
docker-engine:
	bash scripts/docker-engine.sh

## The controller's Lambda zip and SAM template for STAGE (offline), in build/package-STAGE.
package: $(STAMP)
	@$(PY) scripts/chalice-stage.py "$(STAGE)"
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(VENV)/bin/chalice package \
	    --stage $(STAGE) --merge-template .chalice/resources.json $(PACKAGE_DIR)

## AWS: the provisioning stack (infra/pipeline.yaml); CNAME_PREFIX the first time.
# MONGODB_URI_PARAMETER names the SSM SecureString holding the MongoDB URI. Re-running changes nothing.
# The first run takes the newest Docker platform Beanstalk offers (scripts/solution-stack.sh);
# SOLUTION_STACK="64bit Amazon Linux 2023 vX.Y.Z running Docker" chooses one. Without VPC_ID (and
# SUBNETS, LB_SUBNETS: comma-separated subnet ids) the environments run in the region's default VPC.
provision:
	@platform=$$(AWS="$(AWS)" scripts/solution-stack.sh $(INFRA_STACK) "$(SOLUTION_STACK)") && \
	$(AWS) cloudformation deploy --stack-name $(INFRA_STACK) --template-file infra/pipeline.yaml \
	    --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
	    --parameter-overrides ApplicationName=$(INFRA_STACK) $${platform:+"SolutionStackName=$$platform"} \
	    $(if $(CNAME_PREFIX),ProductionCnamePrefix=$(CNAME_PREFIX)) \
	    $(if $(MONGODB_URI_PARAMETER),MongoDbUriParameter=$(MONGODB_URI_PARAMETER)) \
	    $(if $(REGISTRY_AUTH_KEY),RegistryAuthKey=$(REGISTRY_AUTH_KEY)) \
	    $(if $(API_GATEWAY_LOGGING),ConfigureApiGatewayLogging=$(API_GATEWAY_LOGGING)) \
	    $(if $(VPC_ID),VpcId=$(VPC_ID) InstanceSubnets=$(SUBNETS)) $(if $(LB_SUBNETS),LoadBalancerSubnets=$(LB_SUBNETS))
	$(AWS) cloudformation describe-stacks --stack-name $(INFRA_STACK) --query "Stacks[0].Outputs" --output table

## AWS: the controller's stack (CloudFormation, never chalice deploy); prints its URL.
# Package, upload the code to the provisioning stack's artifact bucket, deploy the stack. Re-running
# changes nothing; the API URL (output EndpointURL) stays the same. It stops before packaging when the
# provisioning stack is missing or has no bucket yet (scripts/stack-output.sh says which and what to do).
deploy-controller:
	@bucket=$$(AWS="$(AWS)" scripts/stack-output.sh $(INFRA_STACK) ArtifactBucketName) && \
	role=$$(AWS="$(AWS)" scripts/stack-output.sh $(INFRA_STACK) ControllerDeployRoleArn) && \
	$(MAKE) --no-print-directory package STAGE=$(STAGE) && \
	$(AWS) cloudformation package --template-file $(PACKAGE_DIR)/sam.json --s3-bucket "$$bucket" \
	    --s3-prefix controller --output-template-file $(PACKAGE_DIR)/packaged.yaml && \
	$(AWS) cloudformation deploy --stack-name $(CONTROLLER_STACK) --template-file $(PACKAGE_DIR)/packaged.yaml \
	    --role-arn "$$role" --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
	    --parameter-overrides Stage=$(STAGE) InfraStack=$(INFRA_STACK) \
	    $(if $(REGISTRY_AUTH_KEY),RegistryAuthKey=$(REGISTRY_AUTH_KEY))
	@AWS="$(AWS)" scripts/stack-output.sh $(CONTROLLER_STACK) EndpointURL

## CircleCI: PIPELINE_URL and PIPELINE_SECRET into the deliverypipeline-deploy context.
# CircleCI's CLI, `circleci setup` done; CIRCLECI_ORG_ID from Organization Settings -> Overview.
circleci-context:
	@test -n "$(CIRCLECI_ORG_ID)" || { echo "error: CIRCLECI_ORG_ID is not set (Organization Settings -> Overview)" >&2; exit 1; }
	-circleci context create --org-id $(CIRCLECI_ORG_ID) deliverypipeline-deploy
	url=$$(AWS="$(AWS)" scripts/stack-output.sh $(CONTROLLER_STACK) EndpointURL) && printf '%s' "$$url" \
	    | circleci context store-secret --org-id $(CIRCLECI_ORG_ID) deliverypipeline-deploy PIPELINE_URL
	$(AWS) secretsmanager get-secret-value --secret-id $(INFRA_STACK)/signing-secret --query SecretString \
	    --output text | circleci context store-secret --org-id $(CIRCLECI_ORG_ID) deliverypipeline-deploy PIPELINE_SECRET

## AWS: the parity suite against your account, recording its answers into tests/parity/snapshots.
# PARITY_ACCOUNT_ID=<12 digits> and credentials of that (throwaway) account; it prints what it creates and
# what it costs, and deletes it all at the end (docs/parity.md). PARITY_ARGS: more pytest options.
aws-parity: $(STAMP) $(CLIENT_STAMPS)
	$(PY) -m pytest tests/parity -m parity --aws --record $(PARITY_ARGS)

## AWS: the whole pipeline once in a throwaway account: four deployments, a report, everything deleted.
# REHEARSAL_ACCOUNT_ID, REHEARSAL_IMAGE, REHEARSAL_GOOD_TAG, REHEARSAL_HELD_TAG (docs/parity.md);
# REHEARSAL_ARGS: --keep, --out DIR, --remove PREFIX.
aws-rehearsal: $(STAMP) .venv-awscli/.installed
	$(PY) -m rehearsal $(REHEARSAL_ARGS)

## Remove the virtualenvs, build/, .artifacts and the tools' caches.
clean:
	rm -rf $(VENV) .venv-lint .venv-awscli .venv-ebcli .venv-deploy .artifacts build .pytest_cache .mypy_cache .ruff_cache
