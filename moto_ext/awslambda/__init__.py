"""Lambda for moto: the account's concurrency limit, as AWS enforces it (`concurrency.py`).

Importing this package extends moto (idempotent), under `mock_aws` and in moto's server alike:

    from moto_ext import awslambda
    awslambda.set_concurrency_limit(10)   # a new account's limit (AWS's default is 1,000)
"""

from .concurrency import DEFAULT_LIMIT, concurrency_limit, install, set_concurrency_limit

__all__ = ["DEFAULT_LIMIT", "concurrency_limit", "install", "set_concurrency_limit"]

install()
