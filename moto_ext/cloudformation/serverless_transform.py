"""The `AWS::Serverless-2016-10-31` transform in moto's CloudFormation, done by AWS's own translator.

CloudFormation expands a template's transform when it creates the stack or change set; `GetTemplate`
still returns the template as submitted. moto parses a template in `Stack._parse_template` and
`ChangeSet._parse_template` (the parsed dict is all it creates resources from), so the expansion goes right
after each. Managed policy names in `Policies` are not resolved (this project's functions name their roles).
"""

from __future__ import annotations

from typing import Any

import boto3
from moto.cloudformation.models import ChangeSet, Stack

SERVERLESS = "AWS::Serverless-2016-10-31"


def install() -> None:
    for cls in (Stack, ChangeSet):
        original = cls._parse_template

        def parse_then_expand(self: Any, _original: Any = original) -> None:
            _original(self)
            region = str(self.stack_id).split(":")[3]  # set before the template is parsed, unlike region_name
            self.template_dict = expanded(self.template_dict, region)

        cls._parse_template = parse_then_expand  # type: ignore[method-assign]


def expanded(template: dict[str, Any], region: str) -> dict[str, Any]:
    """The template with its serverless transform applied (unchanged when it declares none)."""
    if not isinstance(template, dict) or not _declares(template.get("Transform")):
        return template
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    translated: dict[str, Any] = translator.translate(
        template, parameter_values={}, get_managed_policy_map=lambda: {}
    )
    return translated


def _declares(transform: Any) -> bool:
    return transform == SERVERLESS or (isinstance(transform, list) and SERVERLESS in transform)
