"""Environment events: the texts Elastic Beanstalk writes, and DescribeEvents' filtering over them.

Every event an API call causes carries that call's RequestId (the one in the call's response metadata),
including the events of the operation it started that settle later; DescribeEvents filters on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Lowest to highest; DescribeEvents' Severity filter keeps that severity "or higher".
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

UPDATE_STARTING = "Environment update is starting."
DEPLOYING = "Deploying new version to instance(s)."
DEPLOYED = "New application version was deployed to running EC2 instances."
UPDATE_COMPLETED = "Environment update completed successfully."
CONFIG_DEPLOYED = "Successfully deployed new configuration to environment."
CONFIG_FAILED = "Failed to deploy configuration."
INSTANCE_DEPLOY_FAILED = "Instance deployment failed. For details, see 'eb-engine.log'."
COMMAND_FAILED = "Unsuccessful command execution on instance id(s) '{instance}'. Aborting the operation."
DEPLOY_FAILED = "Failed to deploy application."
ABORTED_DEPLOYMENT = (
    "During an aborted deployment, some instances may have deployed the new application version. "
    "To ensure all instances are running the same version, re-deploy the appropriate application version."
)
HEALTH_SET = "Environment health has been set to {color}"
HEALTH_TRANSITION = "Environment health has transitioned from {before} to {after}."
INITIALIZED = (
    "Environment health has transitioned from Pending to Ok. "
    "Initialization completed 1 second ago and took {took}."
)
# The emulation's wording (AWS documents only that Beanstalk assumes the managed-updates service role, whose
# option has no default: https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html).
NO_MANAGED_UPDATES_ROLE = (
    "Managed platform updates are enabled, but there is no managed-updates service role Elastic Beanstalk "
    "can assume (ServiceRoleForManagedUpdates, aws:elasticbeanstalk:managedactions): no managed update will "
    "run."
)
ABORT_REQUESTED = "Abort environment update operation requested."
ABORT_COMPLETED = "Environment update was aborted. The environment was rolled back to the previous version."
# https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/environments-health-messages.html (Deployments)
INCORRECT_VERSIONS = (
    'Incorrect application version found on {left} out of {fleet} instances. Expected version "{expected}" '
    "(deployment {deployment})."
)
CREATE_STARTING = "createEnvironment is starting."
CREATE_COMPLETED = "Successfully launched environment: {name}"
CREATE_INSTANCES = "Created EC2 instance(s) for environment {name}."
VERSION_PROCESSED = "Finished processing application version {label}. Status: PROCESSED."
SWAP_STARTING = "swapEnvironmentCNAMEs is starting."
SWAPPING = "Swapping CNAMEs for environments '{source}' and '{destination}'."
SWAP_POINTS = "'{cname}' now points to '{endpoint}'."
SWAP_COMPLETED = "Completed swapping CNAMEs for environments '{source}' and '{destination}'."
TERMINATE_STARTING = "terminateEnvironment is starting."
TERMINATE_COMPLETED = "terminateEnvironment completed successfully."
VERSION_CREATED = "Created new Application Version ({label})"
VERSION_DELETED = "Deleted Application Version ({label})"
APPLICATION_CREATED = "Created new Application ({name})"


@dataclass(frozen=True)
class Event:
    """One EventDescription; `sequence` orders events that share a timestamp."""

    sequence: int
    event_date: datetime
    message: str
    severity: str
    application_name: str
    environment_name: str | None = None
    environment_id: str | None = None
    version_label: str | None = None
    request_id: str | None = None
    platform_arn: str | None = None

    def describe(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "EventDate": self.event_date,
            "Message": self.message,
            "ApplicationName": self.application_name,
            "Severity": self.severity,
        }
        if self.environment_name is not None:
            fields["EnvironmentName"] = self.environment_name
        if self.version_label is not None:
            fields["VersionLabel"] = self.version_label
        if self.request_id is not None:
            fields["RequestId"] = self.request_id
        if self.platform_arn is not None:
            fields["PlatformArn"] = self.platform_arn
        return fields


@dataclass(frozen=True)
class EventQuery:
    """DescribeEvents' filters; None means "any"."""

    application_name: str | None = None
    environment_name: str | None = None
    environment_id: str | None = None
    version_label: str | None = None
    request_id: str | None = None
    platform_arn: str | None = None
    severity: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


def select(events: Iterable[Event], query: EventQuery) -> list[Event]:
    """The events matching `query`, newest first (StartTime inclusive, EndTime exclusive, like AWS)."""
    floor = SEVERITIES.index(query.severity) if query.severity in SEVERITIES else 0
    chosen = [
        event
        for event in events
        if (query.application_name is None or event.application_name == query.application_name)
        and (query.environment_name is None or event.environment_name == query.environment_name)
        and (query.environment_id is None or event.environment_id == query.environment_id)
        and (query.version_label is None or event.version_label == query.version_label)
        and (query.request_id is None or event.request_id == query.request_id)
        and (query.platform_arn is None or event.platform_arn == query.platform_arn)
        and SEVERITIES.index(event.severity) >= floor
        and (query.start_time is None or event.event_date >= query.start_time)
        and (query.end_time is None or event.event_date < query.end_time)
    ]
    return sorted(chosen, key=lambda event: (event.event_date, event.sequence), reverse=True)
