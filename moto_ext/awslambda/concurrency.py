"""The account's Lambda concurrency: its limit, what functions reserve of it, and GetAccountSettings.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html): "You can reserve up to
the Unreserved account concurrency value minus 100. The remaining 100 units of concurrency are for
functions that aren't using reserved concurrency." A new account may start with a limit of 10 (or 50); its
minimum unreserved concurrency is then the whole limit, so no function can reserve any. A function created
or configured with more is refused with InvalidParameterValueException, also when CloudFormation creates it
(recorded: github.com/awslabs/fhir-works-on-aws-deployment/issues/691):
    Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution
    below its minimum value of [10].
`aws lambda get-account-settings` shows the limit (AccountLimit.ConcurrentExecutions) and what is left
(UnreservedConcurrentExecutions).

moto enforces a quota only in PutFunctionConcurrency, only when MOTO_LAMBDA_CONCURRENCY_QUOTA is set, and
always with a minimum of 100; here the limit is AWS's default (1,000) unless that variable or
`set_concurrency_limit` says otherwise, and CreateFunction is held to it too.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import moto.awslambda.urls as lambda_urls
from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend, lambda_backends
from moto.awslambda.responses import LambdaResponse

DEFAULT_LIMIT = 1000
UNRESERVED_MINIMUM = 100
QUOTA_VARIABLE = "MOTO_LAMBDA_CONCURRENCY_QUOTA"  # moto's own knob, honoured as the default limit
# AWS's fixed storage and package limits, as GetAccountSettings answers them.
TOTAL_CODE_SIZE = 80 * 1024**3
CODE_SIZE_UNZIPPED = 250 * 1024**2
CODE_SIZE_ZIPPED = 50 * 1024**2

_LIMIT_ATTRIBUTE = "emulation_concurrency_limit"  # on moto's backend, so moto's reset forgets it
_lock = threading.Lock()
_installed: list[bool] = []


def set_concurrency_limit(limit: int, account_id: str = "123456789012", region: str = "us-east-1") -> None:
    """The account's concurrent executions in that region (a new account: 10), until moto's reset."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"a concurrency limit is a whole number >= 1, got {limit!r}")
    setattr(lambda_backends[account_id][region], _LIMIT_ATTRIBUTE, limit)


def concurrency_limit(account_id: str, region: str) -> int:
    found = getattr(lambda_backends[account_id][region], _LIMIT_ATTRIBUTE, None)
    if found is not None:
        return int(found)
    return int(os.environ.get(QUOTA_VARIABLE) or DEFAULT_LIMIT)


def install() -> None:
    """Hold CreateFunction and PutFunctionConcurrency to the limit; serve GetAccountSettings (idempotent)."""
    with _lock:
        if _installed:
            return
        _installed.append(True)
    lambda_urls.url_paths[r"{0}/(?P<api_version>[^/]+)/account-settings/?$"] = LambdaResponse.dispatch
    LambdaResponse.get_account_settings = _get_account_settings  # type: ignore[attr-defined]
    original_create = LambdaBackend.create_function
    original_put = LambdaBackend.put_function_concurrency

    def create_function(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        reserved = spec.get("ReservedConcurrentExecutions")
        if reserved is not None:
            _check(self, str(spec.get("FunctionName", "")), int(reserved))
        return original_create(self, spec)

    def put_function_concurrency(self: LambdaBackend, function_name: str, reserved_concurrency: str) -> str:
        _check(self, self.get_function(function_name).function_name, int(reserved_concurrency))
        saved = os.environ.pop(QUOTA_VARIABLE, None)  # moto's own check would apply its fixed 100 again
        try:
            return original_put(self, function_name, reserved_concurrency)
        finally:
            if saved is not None:
                os.environ[QUOTA_VARIABLE] = saved

    LambdaBackend.create_function = create_function  # type: ignore[method-assign]
    LambdaBackend.put_function_concurrency = put_function_concurrency  # type: ignore[method-assign]


def unreserved_minimum(limit: int) -> int:
    return min(UNRESERVED_MINIMUM, limit)


def _reserved_by_others(backend: LambdaBackend, function_name: str) -> int:
    return sum(
        int(fn.reserved_concurrency)
        for fn in backend.list_functions()
        if fn.reserved_concurrency and fn.function_name != function_name
    )


def _check(backend: LambdaBackend, function_name: str, reserved: int) -> None:
    limit = concurrency_limit(backend.account_id, backend.region_name)
    minimum = unreserved_minimum(limit)
    if limit - _reserved_by_others(backend, function_name) - reserved < minimum:
        raise InvalidParameterValueException(
            "Specified ReservedConcurrentExecutions for function decreases account's "
            f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
        )


def _get_account_settings(self: LambdaResponse) -> tuple[int, dict[str, str], str]:
    backend = self.backend
    functions = list(backend.list_functions())
    limit = concurrency_limit(backend.account_id, backend.region_name)
    settings = {
        "AccountLimit": {
            "TotalCodeSize": TOTAL_CODE_SIZE,
            "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
            "CodeSizeZipped": CODE_SIZE_ZIPPED,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - _reserved_by_others(backend, ""),
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(getattr(fn, "code_size", 0) or 0) for fn in functions),
            "FunctionCount": len(functions),
        },
    }
    return 200, {"Content-Type": "application/json"}, json.dumps(settings)
