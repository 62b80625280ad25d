"""The controller's IAM policies as CloudFormation would resolve them for one deployment of the templates.

Each Lambda function's policy is `.chalice/<iam_policy_file>` (config.json `lambda_functions`), written with
CloudFormation intrinsics (Fn::Sub, Fn::ImportValue, Ref, Fn::GetAtt). Resolving them needs the values those
intrinsics take in a stack. The merge template (.chalice/resources.json) hands the same intrinsics to the
functions as environment variables (DEPLOYMENTS_TABLE = Ref DeploymentsTable, EB_APPLICATION = the
provisioning stack's ApplicationName export, ...), so the configuration a controller runs with *is* the
binding: the policy resolved with it is the one its stack would give it. (The sandbox test checks that this
resolution equals what CloudFormation made of the same templates.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHALICE = ROOT / ".chalice"
UNRESOLVED = "<unresolved:{}>"  # matches no real ARN: a statement that needs it allows nothing here
JUSTIFICATIONS_KEY = "WhyGrantedButNeverCalled"


@dataclass(frozen=True)
class FunctionPolicy:
    function: str
    role: str  # the role's logical id in the packaged template
    document_name: str  # the file under .chalice/
    document: dict[str, Any]  # with intrinsics
    justifications: dict[str, str]  # Sid -> why it is granted though the code never calls it


@cache
def function_policies() -> dict[str, FunctionPolicy]:
    config = json.loads((CHALICE / "config.json").read_text())
    merge = json.loads((CHALICE / "resources.json").read_text())["Resources"]
    found = {}
    for function, settings in config.get("lambda_functions", {}).items():
        role = "".join(part.capitalize() for part in function.split("_")) + "Role"
        document = json.loads((CHALICE / settings["iam_policy_file"]).read_text())
        reasons = merge.get(role, {}).get("Metadata", {}).get(JUSTIFICATIONS_KEY, {})
        found[function] = FunctionPolicy(function, role, settings["iam_policy_file"], document, dict(reasons))
    return found


def environment_intrinsics() -> dict[str, Any]:
    """Environment variable -> the intrinsic the merge template sets it to (the same for each function)."""
    merge = json.loads((CHALICE / "resources.json").read_text())["Resources"]
    variables: dict[str, Any] = {}
    for resource in merge.values():
        for name, value in resource.get("Properties", {}).get("Environment", {}).get("Variables", {}).items():
            if isinstance(value, dict):
                variables[name] = value
    return variables


def bindings(config: dict[str, str]) -> dict[str, str]:
    """Canonical intrinsic -> its value, from a controller's configuration (environment variables)."""
    return {
        _canonical(intrinsic): config[name]
        for name, intrinsic in environment_intrinsics().items()
        if name in config
    }


def resolve(node: Any, bound: dict[str, str], pseudo: dict[str, str]) -> Any:
    """The document with every intrinsic replaced by its value (or an UNRESOLVED marker)."""
    if isinstance(node, list):
        return [resolve(item, bound, pseudo) for item in node]
    if not isinstance(node, dict):
        return node
    if _canonical(node) in bound:
        return bound[_canonical(node)]
    if len(node) == 1:
        ((key, value),) = node.items()
        if key == "Fn::If":
            name, when_true, when_false = value
            return resolve(when_true if _condition(name, bound) else when_false, bound, pseudo)
        if key == "Fn::Sub":
            text, variables = (value, {}) if isinstance(value, str) else value
            return _substitute(text, variables, bound, pseudo)
        if key in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            return UNRESOLVED.format(json.dumps(node, sort_keys=True))
    return {key: resolve(value, bound, pseudo) for key, value in node.items()}


def _condition(name: str, bound: dict[str, str]) -> bool:
    """A condition of the merge template, its parameters taken from the configuration (else their default)."""
    merge = json.loads((CHALICE / "resources.json").read_text())
    return bool(_evaluate(merge["Conditions"][name], bound, merge["Parameters"]))


def _evaluate(node: Any, bound: dict[str, str], parameters: dict[str, Any]) -> Any:
    if not isinstance(node, dict):
        return node
    ((key, value),) = node.items()
    if key == "Ref":
        return bound.get(_canonical(node), parameters.get(value, {}).get("Default", ""))
    if key == "Fn::Not":
        return not _evaluate(value[0], bound, parameters)
    if key == "Fn::Equals":
        left, right = (_evaluate(v, bound, parameters) for v in value)
        return str(left) == str(right)
    raise ValueError(f"condition function {key} is not evaluated here")


def _substitute(text: str, variables: dict[str, Any], bound: dict[str, str], pseudo: dict[str, str]) -> str:
    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            return str(resolve(variables[name], bound, pseudo))
        if name in pseudo:
            return pseudo[name]
        intrinsic: dict[str, Any] = {"Fn::GetAtt": name.split(".", 1)} if "." in name else {"Ref": name}
        return bound.get(_canonical(intrinsic), UNRESOLVED.format(name))

    return re.sub(r"\$\{([^}]+)\}", value_of, text)


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True)


EXAMPLE_CONFIG = {  # what a prod deployment's functions are given (names from infra/pipeline.yaml's defaults)
    "EB_APPLICATION": "deliverypipeline",
    "PROD_CNAME_PREFIX": "deliverypipeline",
    "ARTIFACT_BUCKET": "deliverypipeline-artifactbucket-1a2b3c4d5e6f",
    "DEPLOYMENTS_TABLE": "deliverypipeline-prod-deployments",
    "RECONCILE_QUEUE": "deliverypipeline-prod-reconcile",
    "SIGNING_SECRET_PARAM": "/aws/reference/secretsmanager/deliverypipeline/signing-secret",
    "GITHUB_TOKEN_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:deliverypipeline/gh-AbCdEf",
    "CHAT_WEBHOOK_URL_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:deliverypipeline/chat-A",
}
EXAMPLE_EXPORTS = {  # the provisioning stack's exports no environment variable carries
    "SigningSecretArn": (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:deliverypipeline/signing-secret-AbCdEf"
    ),
    "BlueEnvironmentName": "deliverypipeline-blue",
    "GreenEnvironmentName": "deliverypipeline-green",
}


def write_examples(directory: Path) -> list[Path]:
    """Each function's policy resolved for an example prod deployment, as plain IAM JSON (for linters)."""
    bound = bindings(EXAMPLE_CONFIG)
    for export, value in EXAMPLE_EXPORTS.items():
        bound[_canonical({"Fn::ImportValue": {"Fn::Sub": "${InfraStack}-" + export}})] = value
    pseudo = {
        "AWS::Partition": "aws",
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::StackName": "deliverypipeline-controller",
    }
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for policy in function_policies().values():
        path = directory / policy.document_name
        resolved = resolve(policy.document, bound, pseudo)
        assert UNRESOLVED.split("{")[0] not in json.dumps(resolved), f"{policy.document_name}: {resolved}"
        path.write_text(json.dumps(resolved, indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    for written in write_examples(Path(sys.argv[1])):
        print(written)
