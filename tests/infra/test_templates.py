"""The provisioning template and the controller's merge template: lint-clean, wired to each other, and
holding what the issue asks of them. (checkov and parliament run in `make lint`.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

from controller.shell import beanstalk_events

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra" / "pipeline.yaml"
MERGE = ROOT / ".chalice" / "resources.json"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def infra() -> dict[str, Any]:
    template, matches = decode_str(INFRA.read_text())
    assert not matches, matches
    return dict(template)


@pytest.fixture(scope="module")
def merge() -> dict[str, Any]:
    return dict(json.loads(MERGE.read_text()))


def test_every_template_passes_cfn_lint() -> None:
    templates = sorted(str(p) for p in (ROOT / "infra").glob("*.yaml"))
    result = subprocess.run([str(BIN / "cfn-lint"), *templates], capture_output=True, text=True, timeout=240)
    assert templates and result.returncode == 0, result.stdout + result.stderr


def test_every_export_the_controller_imports_is_exported_by_the_provisioning_stack(infra, merge) -> None:
    imported = set(re.findall(r"\$\{InfraStack\}-(\w+)", json.dumps(merge)))
    imported |= set(re.findall(r"\$\{InfraStack\}-(\w+)", _policies()))
    exported = {
        output["Export"]["Name"]["Fn::Sub"].split("}-", 1)[1]
        for output in infra["Outputs"].values()
        if "Export" in output
    }
    assert imported and imported <= exported, sorted(imported - exported)


def test_no_resource_name_from_the_chalice_stages_reaches_aws(merge) -> None:
    """config.json's stage variables name resources for local runs; the packaged template must replace every
    one that names an AWS resource with the stacks' own values."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    naming = {name for stage in config["stages"].values() for name in stage["environment_variables"]}
    for function in ("APIHandler", "ReconcileTick"):
        variables = merge["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert naming <= set(variables), (function, sorted(naming - set(variables)))
        assert all(isinstance(variables[name], dict) for name in naming)


def test_both_environments_check_health_on_slash_health_set_on_the_environment(infra) -> None:
    for name in ("BlueEnvironment", "GreenEnvironment"):
        settings = infra["Resources"][name]["Properties"]["OptionSettings"]
        assert {
            "Namespace": "aws:elasticbeanstalk:environment:process:default",
            "OptionName": "HealthCheckPath",
            "Value": "/health",
        } in settings
        assert infra["Resources"][name]["Properties"]["Tier"] == {"Name": "WebServer", "Type": "Standard"}


def test_versions_are_kept_well_under_beanstalks_quota_and_old_bundles_expire(infra) -> None:
    rule = infra["Resources"]["Application"]["Properties"]["ResourceLifecycleConfig"][
        "VersionLifecycleConfig"
    ]
    parameter = infra["Parameters"]["MaxApplicationVersions"]
    assert rule["MaxCountRule"]["Enabled"] and rule["MaxCountRule"]["DeleteSourceFromS3"]
    assert parameter["Default"] <= parameter["MaxValue"] <= 500  # of 1,000 per region
    rules = infra["Resources"]["ArtifactBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any("ExpirationInDays" in r and r["Prefix"] == {"Fn::Sub": "${ApplicationName}/"} for r in rules)


def test_the_signing_secret_is_generated_inside_aws_and_no_uri_passes_through_cloudformation(infra) -> None:
    secret = infra["Resources"]["SigningSecret"]["Properties"]
    assert "GenerateSecretString" in secret and "SecretString" not in secret
    assert "MongoDbUri" not in infra["Parameters"]  # only the name of the SSM SecureString holding it
    assert "environmentsecrets" in json.dumps(infra["Resources"]["EnvironmentSettings"])


def test_the_dockerfile_base_image_is_pinned_by_digest() -> None:
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert default and re.fullmatch(r"python:3\.12-slim@sha256:[0-9a-f]{64}", default.group(1))


def _policies() -> str:
    return "".join(p.read_text() for p in (ROOT / ".chalice").glob("policy-*.json"))


def test_private_image_credentials_reach_the_bundles_under_a_key_the_instances_read(infra, merge) -> None:
    """Both stacks take the registry credentials' key with the same grammar; the reconcile function gets it
    as REGISTRY_AUTH_KEY, which the controller accepts exactly when the provisioning stack does."""
    from controller.core.config import ConfigError, load

    ours, theirs = merge["Parameters"]["RegistryAuthKey"], infra["Parameters"]["RegistryAuthKey"]
    assert ours["AllowedPattern"] == theirs["AllowedPattern"] and ours["Default"] == theirs["Default"] == ""
    variables = merge["Resources"]["ReconcileTick"]["Properties"]["Environment"]["Variables"]
    assert variables["REGISTRY_AUTH_KEY"] == {"Ref": "RegistryAuthKey"}
    base = {
        "EB_APPLICATION": "a", "PROD_CNAME_PREFIX": "p", "ARTIFACT_BUCKET": "b", "DEPLOYMENTS_TABLE": "t",
        "RECONCILE_QUEUE": "q", "SIGNING_SECRET": "s",
    }  # fmt: skip
    for key in ("registry/dockercfg.json", "dockercfg.json", "registry/", ""):
        allowed = re.search(ours["AllowedPattern"], key) is not None
        try:
            accepted = load({**base, "REGISTRY_AUTH_KEY": key}).registry_auth_key == (key or None)
        except ConfigError:
            accepted = False
        assert accepted == allowed, key


def test_the_events_rule_delivers_exactly_the_news_the_controller_waits_for(merge) -> None:
    """The rule's pattern and `controller.shell.beanstalk_events` say the same: an event the rule filters out
    could never wake a deployment, and one the controller ignores would wake it for nothing."""
    pattern = merge["Resources"]["BeanstalkEventsRule"]["Properties"]["EventPattern"]
    assert pattern["source"] == [beanstalk_events.SOURCE]
    assert sorted(pattern["detail-type"]) == sorted(beanstalk_events.DETAIL_TYPES)
    assert sorted(pattern["detail"]["Status"]) == sorted(beanstalk_events.NEWS)
