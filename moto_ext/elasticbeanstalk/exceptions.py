"""Elastic Beanstalk errors with the codes and wording the real service answers with."""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


class InvalidParameterCombination(ServiceException):
    code = "InvalidParameterCombination"


class MissingParameter(ServiceException):
    code = "MissingParameter"


class ValidationError(ServiceException):
    code = "ValidationError"


class OperationInProgress(ServiceException):
    code = "OperationInProgressFailure"
    message = (
        "Unable to perform the specified operation because another operation that effects an element "
        "in this activity is already in progress."
    )


class InvalidRequest(ServiceException):
    code = "InvalidRequestException"


class Throttling(ServiceException):
    code = "Throttling"
    message = "Rate exceeded"


class TooManyApplicationVersions(ServiceException):
    """AWS's text, with the account's quota in it (recorded: github.com/boto/boto3/issues/920, "That error
    message is coming directly from the service")."""

    code = "TooManyApplicationVersionsException"

    def __init__(self, quota: int) -> None:
        super().__init__(
            f"You cannot have more than {quota} Application Versions. Either remove some Application "
            "Versions or request a limit increase."
        )


class InsufficientPrivileges(ServiceException):
    """A downstream call UpdateEnvironment makes at once was refused (recorded wording:
    github.com/codeship/documentation/issues/338)."""

    code = "InsufficientPrivilegesException"
    http_status = 403

    def __init__(self, action: str) -> None:
        super().__init__(
            f"You do not have permission to perform the '{action}' action. Verify that your S3 policies and "
            "your ACLs allow you to perform these actions."
        )


class InternalFailure(ServiceException):
    """AWS's common 500: the request failed for an unknown reason (it may have taken effect)."""

    code = "InternalFailure"
    message = "The request processing has failed because of an unknown error, exception or failure."
    http_status = 500


class NotImplementedAction(ServiceException):
    """An action AWS has and the emulation does not: a clear 4xx instead of moto's HTML 500."""

    code = "InvalidAction"

    def __init__(self, action: str) -> None:
        super().__init__(
            f"The emulation does not implement the Elastic Beanstalk action {action} "
            "(moto_ext.elasticbeanstalk)."
        )


def no_application(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"No Application named '{name}' found.")


def no_solution_stack(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"No Solution Stack named '{name}' found.")


def no_platform(arn: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"No Platform named '{arn}' found.")


def no_version(label: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"No Application Version named '{label}' found.")


def no_environment(field: str, value: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"No Environment found for {field} = '{value}'.")


def not_ready(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Environment named {name} is in an invalid state for this operation. Must be Ready."
    )


def version_exists(label: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Application Version {label} already exists.")


def environment_exists(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Environment {name} already exists.")


def cname_unavailable(cname: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"DNS name ({cname}) is not available.")


def bundle_unreadable(bucket: str, key: str) -> InvalidParameterCombination:
    # AWS puts two spaces before "Key:".
    return InvalidParameterCombination(
        f"Unable to download from S3 location (Bucket: {bucket}  Key: {key}). Reason: Not Found"
    )


def label_invalid(label: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid version label '{label}': a label cannot contain '/'.")


def label_too_long(label: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{label}' at 'versionLabel' failed to satisfy constraint: "
        "Member must have length less than or equal to 100"
    )


def label_empty() -> ValidationError:
    return ValidationError(
        "1 validation error detected: Value '' at 'versionLabel' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


def application_running(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Unable to delete application {name} because it has running environments. "
        "Terminate them first, or set TerminateEnvByForce."
    )


def version_in_use(label: str, environments: list[str]) -> InvalidParameterValue:
    names = ", ".join(environments)
    return InvalidParameterValue(
        f"Unable to delete application version '{label}' because it is being deployed to "
        f"running environment(s): {names}."
    )


def nothing_to_abort(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Environment named {name} is in an invalid state for this operation. Must be pending deployment."
    )


def terminate_while_deploying(name: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Cannot terminate environment named {name}. It is currently pending deployment."
    )


def environment_required() -> MissingParameter:
    return MissingParameter("Either EnvironmentId or EnvironmentName must be specified.")
