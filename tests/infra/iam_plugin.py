"""pytest plugin: every AWS call the controller makes in any test must be allowed by its function's policy.

For each test, calls made inside the controller's Lambda handlers are recorded (tests/infra/aws_calls.py),
in this process and in the processes it starts (the sandbox runs the controller in its own). When the test
ends, each call is turned into the requests IAM evaluates (tests/infra/authorization.py) and decided against
the policy of the function that made it, resolved for the configuration it ran with
(tests/infra/function_policies.py), by moto's policy evaluator (tests/infra/iam_evaluation.py). A denied
request fails the test that made it. The calls of the whole session stay in `SESSION` for the coverage test
(tests/infra/test_iam_policies.py), which runs last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.infra import aws_calls
from tests.infra.authorization import ACCOUNT, PARTITION, Request, Unmapped, requests_of
from tests.infra.function_policies import bindings, function_policies, resolve
from tests.infra.iam_evaluation import Decision, decide

RECORDING_PATH = str(Path(__file__).resolve().parent / "recording")
RUNS_LAST = "iam_coverage"
SESSION: list[aws_calls.Call] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{RUNS_LAST}: runs after every other test (it reads their calls)")
    aws_calls.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker(RUNS_LAST) is not None)


@pytest.fixture(autouse=True)
def controller_calls_are_allowed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.node.get_closest_marker(RUNS_LAST) is not None:
        yield
        return
    recorded: list[aws_calls.Call] = []
    stop = aws_calls.listen(recorded.append)
    directory = tmp_path_factory.mktemp("aws-calls", numbered=True)
    monkeypatch.setenv(aws_calls.LOG_DIR_VARIABLE, str(directory))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(p for p in (RECORDING_PATH, os.environ.get("PYTHONPATH")) if p)
    )
    try:
        yield
    finally:
        stop()
    recorded.extend(aws_calls.read_directory(directory))
    SESSION.extend(recorded)
    problems = sorted({problem for call in recorded for problem in problems_of(call)})
    if problems:
        pytest.fail(
            "the controller made calls its IAM policy denies:\n  " + "\n  ".join(problems), pytrace=False
        )


def problems_of(call: aws_calls.Call) -> list[str]:
    try:
        judged = judge(call)
    except (Unmapped, KeyError) as error:
        return [str(error)]
    return [
        f"{call.function} may not {req} (policy {function_policies()[call.function].document_name})"
        for req, decision in judged
        if not decision.allowed
    ]


def judge(call: aws_calls.Call) -> list[tuple[Request, Decision]]:
    """Each request of the call with the decision of its function's resolved policy."""
    if call.function not in function_policies():
        raise KeyError(f"{call}: no IAM policy for Lambda function {call.function!r} in .chalice/config.json")
    document = resolved_policy(call.function, tuple(sorted(call.config.items())), call.region)
    return [(req, decide(document, req)) for req in requests_of(call)]


@cache
def resolved_policy(function: str, config: tuple[tuple[str, str], ...], region: str) -> dict:  # type: ignore[type-arg]
    pseudo = {"AWS::Partition": PARTITION, "AWS::Region": region, "AWS::AccountId": ACCOUNT}
    return resolve(function_policies()[function].document, bindings(dict(config)), pseudo)  # type: ignore[no-any-return]
