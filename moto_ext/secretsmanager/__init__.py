"""Secrets Manager for moto, extended: a secret that does not exist is a 400, as AWS's API reference gives
ResourceNotFoundException (docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html,
"HTTP Status Code: 400"); moto answered 404.

    from moto_ext import secretsmanager; secretsmanager.install()   # done by moto_ext.install()
"""

from __future__ import annotations

from typing import Any

from moto.secretsmanager import exceptions

_installed: list[bool] = []


def install() -> None:
    if _installed:
        return
    for error in (exceptions.ResourceNotFoundException, exceptions.SecretNotFoundException):
        error.__init__ = _as_400(error.__init__)  # type: ignore[method-assign]
    _installed.append(True)


def _as_400(original: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.code = 400

    return __init__
