"""The signing secret: SSM SecureString named by SIGNING_SECRET_PARAM, cached per container; never logged."""

from __future__ import annotations

from controller import clients
from controller.config import Config

_cache: dict[str, str] = {}


def signing_secret(config: Config) -> str:
    if config.signing_secret_param is None:
        assert config.signing_secret is not None  # config.load guarantees one of the two
        return config.signing_secret
    name = config.signing_secret_param
    if name not in _cache:
        response = clients.client("ssm").get_parameter(Name=name, WithDecryption=True)
        _cache[name] = str(response["Parameter"]["Value"])
    return _cache[name]


def reset() -> None:
    _cache.clear()
