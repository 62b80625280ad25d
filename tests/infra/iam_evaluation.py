"""Whether a policy allows a request, decided by moto's IAM policy evaluator (moto/iam/access_control.py,
the one moto enforces requests with when INITIAL_NO_AUTH_ACTION_COUNT is set).

That evaluator matches actions and resources with IAM's wildcards and applies Deny over Allow, but of the
condition operators it knows only StringEquals, and it takes a condition whose key the request does not
carry as met. So a statement with any other operator, or with a key the request lacks, is never taken as
allowing a request here (`Unjudgeable`): what this module reports as allowed, the evaluator really judged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from tests.infra.authorization import Request

JUDGED_OPERATORS = {"StringEquals"}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    by: tuple[str, ...]  # Sids of the statements that allow it


def decide(document: dict[str, Any], request: Request) -> Decision:
    statements = _statements(document)
    by = tuple(
        statement.get("Sid", f"#{index}")
        for index, statement in enumerate(statements)
        if statement.get("Effect") == "Allow"
        and _judgeable(statement, request)
        and _permits({"Version": "2012-10-17", "Statement": [statement]}, request)
    )
    judgeable = [s for s in statements if s.get("Effect") == "Deny" or _judgeable(s, request)]
    allowed = bool(by) and _permits({"Version": "2012-10-17", "Statement": judgeable}, request)
    return Decision(allowed, by)


def _permits(document: dict[str, Any], request: Request) -> bool:
    result = IAMPolicy(json.dumps(document)).is_action_permitted(
        request.action, request.resource, incoming_condition_values=request.context
    )
    return result is PermissionResult.PERMITTED


def _judgeable(statement: dict[str, Any], request: Request) -> bool:
    conditions = statement.get("Condition", {})
    return all(
        operator in JUDGED_OPERATORS and all(key in request.context for key in keys)
        for operator, keys in conditions.items()
    )


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]
