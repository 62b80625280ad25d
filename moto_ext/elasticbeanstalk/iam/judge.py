"""IAM as Elastic Beanstalk meets it: whether a role's trust lets Beanstalk assume it, and whether an
identity's policies allow what Beanstalk does downstream with its credentials.

Actions and resources are matched by moto's IAM policy evaluator (moto/iam/access_control.py, the one moto
enforces requests with), statement by statement. Conditions are judged here, the way IAM judges them
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html): a
condition whose key the request does not carry is not met (unless its operator ends in IfExists), and an
operator this module does not know is not met either - moto's own evaluator knows only StringEquals and
takes a missing key as met, which would let a trust policy that demands `aws:SourceAccount` pass although
Beanstalk never sends it. Deny outranks Allow.
"""

from __future__ import annotations

import ast
import fnmatch
import json
from collections.abc import Iterable, Mapping
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

Context = Mapping[str, str]


def allows(policies: Iterable[Any], action: str, resource: str, context: Context) -> bool:
    """Whether the documents (dicts or JSON text) allow `action` on `resource` with that request context."""
    allowed = False
    for document in policies:
        for statement in _statements(document):
            if not _concerns(statement, action, resource) or not conditions_met(
                statement.get("Condition"), context
            ):
                continue
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed


def trusts(trust_policy: Any, service: str, context: Context) -> bool:
    """Whether a role's trust policy lets the AWS service `service` assume it with that request context."""
    allowed = False
    for statement in _statements(trust_policy):
        principals = statement.get("Principal", {})
        services = principals.get("Service", []) if isinstance(principals, dict) else []
        services = [services] if isinstance(services, str) else services
        if service not in services and principals != "*":
            continue
        if not _action_matches(statement, "sts:AssumeRole") or not conditions_met(
            statement.get("Condition"), context
        ):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def conditions_met(block: Mapping[str, Mapping[str, Any]] | None, context: Context) -> bool:
    """Every operator's every key, as IAM judges them (a key the request lacks: not met)."""
    for operator, keys in (block or {}).items():
        base, if_exists = (
            (operator[: -len("IfExists")], True) if operator.endswith("IfExists") else (operator, False)
        )
        test = _OPERATORS.get(base)
        for key, expected in keys.items():
            wanted = [expected] if isinstance(expected, str | bool | int) else list(expected)
            if key not in context:
                if if_exists:
                    continue
                return False
            if test is None or not any(test(context[key], str(value)) for value in wanted):
                return False
    return True


_OPERATORS = {
    "StringEquals": lambda actual, wanted: actual == wanted,
    "StringNotEquals": lambda actual, wanted: actual != wanted,
    "StringEqualsIgnoreCase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "StringLike": lambda actual, wanted: fnmatch.fnmatchcase(actual, wanted),
    "ArnEquals": lambda actual, wanted: actual == wanted,
    "ArnLike": lambda actual, wanted: fnmatch.fnmatchcase(actual, wanted),
    "Bool": lambda actual, wanted: actual.lower() == wanted.lower(),
}


def _concerns(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    """Whether the statement's actions and resources take in the request (moto's matching)."""
    matching = {key: value for key, value in statement.items() if key not in ("Condition", "Sid")}
    matching["Effect"] = "Allow"
    policy = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": [matching]}))
    return bool(policy.is_action_permitted(action, resource) is PermissionResult.PERMITTED)


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return any(fnmatch.fnmatchcase(action.lower(), str(pattern).lower()) for pattern in actions)


def _statements(document: Any) -> list[dict[str, Any]]:
    if hasattr(document, "versions"):  # moto's ManagedPolicy: its default version's document
        document = next(v.document for v in document.versions if v.is_default)
    if isinstance(document, dict) and "policy_document" in document:  # moto's user or group inline policy
        document = document["policy_document"]
    if isinstance(document, str):
        document = _parsed(document)
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return [statements] if isinstance(statements, dict) else list(statements)


def _parsed(text: str) -> Any:
    """A policy document's text: JSON, or the repr of a dict (what moto's CloudFormation stores)."""
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)
