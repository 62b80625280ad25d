"""Hooking the extension into moto: the backend class of `eb_backends`.

moto finds a backend's URLs in the `urls` module beside the module of its class (`models.py` ->
`urls.py`), so replacing the class is all it takes for both `mock_aws` and moto's server to answer
Elastic Beanstalk's requests with this package's responses.
"""

from __future__ import annotations

import threading
from typing import cast

from moto.elasticbeanstalk.models import eb_backends

from .models import BeanstalkBackend

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_install_lock = threading.Lock()


def install() -> None:
    """Make moto's Elastic Beanstalk this extension, under `mock_aws` and in moto's server (idempotent).

    New per-account backends are built from `eb_backends.backend`, including after moto's reset
    (which empties the BackendDict); backends that already exist are replaced, losing their state.
    """
    with _install_lock:
        if eb_backends.backend is BeanstalkBackend:
            return
        eb_backends.backend = BeanstalkBackend
        for account_backends in eb_backends.values():
            account_backends.backend = BeanstalkBackend
            for region in list(account_backends.keys()):
                account_backends[region] = BeanstalkBackend(region, account_backends.account_id)


def backend(account_id: str = DEFAULT_ACCOUNT_ID, region: str = DEFAULT_REGION) -> BeanstalkBackend:
    """The extended backend of that account and region (created on first use, like moto does)."""
    install()
    return cast(BeanstalkBackend, eb_backends[account_id][region])
