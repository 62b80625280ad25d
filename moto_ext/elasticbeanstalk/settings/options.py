"""An environment's option settings: what CreateEnvironment, a configuration template and UpdateEnvironment
set, checked and read the way Beanstalk reads them.

Settings are keyed by (namespace, option name). An environment's own settings outrank its configuration
template's, which outrank the platform's defaults (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/
command-options.html#configuration-options-precedence). What the emulation acts on:

- `aws:elasticbeanstalk:healthreporting:system` `ConfigDocument`: the enhanced health rules
  (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/health-enhanced-rules.html): application and load
  balancer HTTP 4xx count against health unless `Rules.Environment.Application.ApplicationRequests4xx` and
  `Rules.Environment.ELB.ELBRequests4xx` say `"Enabled": false`;
- `aws:elasticbeanstalk:environment` `ServiceRole` and `aws:elasticbeanstalk:managedactions`
  `ServiceRoleForManagedUpdates`: the roles Beanstalk assumes (iam/roles.py);
- `aws:elasticbeanstalk:application:environmentsecrets`: each option names an environment variable whose
  value an instance reads from the Secrets Manager secret or SSM parameter the option's value is the ARN of
  (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/AWSHowTo.secrets.env-vars.html); any other
  value, an empty or missing one included, is refused (the wording of the reason is the emulation's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .. import exceptions

Key = tuple[str, str]  # (namespace, option name)
Settings = dict[Key, str]

HEALTH_SYSTEM = "aws:elasticbeanstalk:healthreporting:system"
ENVIRONMENT = "aws:elasticbeanstalk:environment"
MANAGED_ACTIONS = "aws:elasticbeanstalk:managedactions"
SECRETS = "aws:elasticbeanstalk:application:environmentsecrets"
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter/.+)$"
)


def from_request(items: Iterable[Mapping[str, Any]] | None) -> Settings:
    """Settings from an OptionSettings list (CreateEnvironment, UpdateEnvironment, a template), checked."""
    found: Settings = {}
    for item in items or []:
        namespace, option = item.get("Namespace"), item.get("OptionName")
        if not namespace or not option:
            raise exceptions.InvalidParameterValue(
                "Each option setting needs a Namespace and an OptionName, got "
                f"Namespace: '{namespace or ''}', OptionName: '{option or ''}'."
            )
        value = item.get("Value")
        found[(str(namespace), str(option))] = "" if value is None else str(value)
    check(found)
    return found


def check(settings: Settings) -> None:
    """AWS's refusal for a value it cannot use; nothing is applied when one is refused."""
    for (namespace, option), value in settings.items():
        if namespace == SECRETS and not _SECRET_ARN.match(value):
            raise invalid_value(
                namespace,
                option,
                value,
                "the value must be the ARN of a Secrets Manager secret or a Systems Manager parameter",
            )
        if (namespace, option) == (HEALTH_SYSTEM, "ConfigDocument"):
            _config_document(value)


def invalid_value(namespace: str, option: str, value: str, reason: str) -> exceptions.InvalidParameterValue:
    return exceptions.InvalidParameterValue(
        f"Invalid option value: '{value}' (Namespace: '{namespace}', OptionName: '{option}'): {reason}"
    )


def counts_4xx(settings: Settings) -> dict[str, bool]:
    """Whether each enhanced health rule on HTTP 4xx counts them (ApplicationRequests4xx, ELBRequests4xx)."""
    document = _config_document(settings.get((HEALTH_SYSTEM, "ConfigDocument"), ""))
    environment = document.get("Rules", {}).get("Environment", {})
    return {
        "ApplicationRequests4xx": _enabled(environment.get("Application", {}).get("ApplicationRequests4xx")),
        "ELBRequests4xx": _enabled(environment.get("ELB", {}).get("ELBRequests4xx")),
    }


def _enabled(rule: Any) -> bool:
    return not (isinstance(rule, dict) and rule.get("Enabled") is False)


def _config_document(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise invalid_value(HEALTH_SYSTEM, "ConfigDocument", text, "the value must be a JSON object")
    return document
