"""Records the controller's AWS calls in a subprocess (tests/infra/aws_calls.py says how and why).

Python imports `sitecustomize` at start-up from the path; the IAM tests put this directory on PYTHONPATH of
the processes they start. Nothing happens unless DELIVERYPIPELINE_AWS_CALL_LOG names a directory, and the
recorder is installed only once the process imports botocore's client module (a web app process never
does, and pays nothing).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_DIRECTORY = os.environ.get("DELIVERYPIPELINE_AWS_CALL_LOG")
_REPOSITORY = Path(__file__).resolve().parents[3]


def _start_recording() -> None:
    if str(_REPOSITORY) not in sys.path:
        sys.path.append(str(_REPOSITORY))
    from tests.infra import aws_calls

    aws_calls.install()
    aws_calls.listen(aws_calls.append_to_directory(Path(str(_DIRECTORY))))


class _AfterBotocoreClient(importlib.abc.MetaPathFinder):
    """Starts recording right after botocore.client has been imported."""

    def find_spec(self, name: str, path: Any, target: ModuleType | None = None) -> Any:
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_record(module: ModuleType) -> None:
            exec_module(module)
            _start_recording()

        loader.exec_module = exec_then_record  # type: ignore[method-assign]
        return spec


if _DIRECTORY:
    sys.meta_path.insert(0, _AfterBotocoreClient())
