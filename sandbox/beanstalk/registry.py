"""Hooking the extension into moto: the backend class of `eb_backends`, the response class of the URLs."""

from __future__ import annotations

import threading
from typing import cast

import moto.elasticbeanstalk.urls as eb_urls
from moto.elasticbeanstalk.models import eb_backends

from .backend import BeanstalkBackend
from .responses import BeanstalkResponse

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
_install_lock = threading.Lock()


def install() -> None:
    """Make moto's Elastic Beanstalk this extension, under `mock_aws` and in moto's server (idempotent).

    New per-account backends are built from `eb_backends.backend`, including after moto's reset
    (which empties the BackendDict); backends that already exist are replaced, losing their state.
    """
    with _install_lock:
        eb_urls.url_paths["{0}/$"] = BeanstalkResponse.dispatch
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
