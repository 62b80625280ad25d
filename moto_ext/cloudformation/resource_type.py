"""What this package's resource types share: Ref is the resource's `physical_id`, it has no attributes
unless it says so, and it is complete as soon as it is created.

moto looks resource types up among CloudFormationModel's *direct* subclasses, so each type names both:
`class X(ResourceType, CloudFormationModel)`, with TYPE (e.g. "AWS::SecretsManager::Secret") and
NAME_PROPERTY (the property that names it, "" when CloudFormation generates the name).
"""

from __future__ import annotations

from typing import ClassVar


class ResourceType:
    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return True
