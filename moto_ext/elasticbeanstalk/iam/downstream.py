"""What Elastic Beanstalk does in other services during UpdateEnvironment, as IAM requests: with the
environment's operations role when it has one, else with the caller's own credentials ("After this call is
made, Elastic Beanstalk uses the caller's permissions for permissions to downstream services during
subsequent calls acting on this environment" - https://docs.aws.amazon.com/elasticbeanstalk/latest/api/
API_DisassociateEnvironmentOperationsRole.html).

Every update stages the environment's files in Beanstalk's own bucket, reads the environment's `awseb-e-*`
CloudFormation stack, suspends the Auto Scaling processes and (de)registers the instances with the target
group. A configuration update - option settings, or a source bundle carrying `.ebextensions` (configuration
files apply their settings with the deployment) - also updates that stack, which makes a new launch template
version, updates the group, sets the CloudWatch alarms, the environment's SNS topic and passes the instance
profile's role to EC2: the actions of AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy
(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/
AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy.html), each on the environment's own resources,
which carry its `elasticbeanstalk:environment-name` and `-id` tags.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from ..entities import Environment

SERVICE_NAMES = {  # how Beanstalk's failure events name the service a call was refused by
    "cloudformation": "AmazonCloudFormation",
    "autoscaling": "AmazonAutoScaling",
    "elasticloadbalancing": "AmazonElasticLoadBalancing",
    "ec2": "AmazonEC2",
    "cloudwatch": "AmazonCloudWatch",
    "sns": "AmazonSNS",
    "iam": "AmazonIdentityManagement",
    "s3": "AmazonS3",
}


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: dict[str, str] = field(default_factory=dict)
    at_once: bool = False  # refused in the UpdateEnvironment call itself (InsufficientPrivileges)

    @property
    def service(self) -> str:
        return SERVICE_NAMES.get(self.action.split(":", 1)[0], self.action.split(":", 1)[0])


def carries_configuration(bundle: bytes) -> bool:
    """Whether a source bundle holds configuration files (`.ebextensions/`) that change the environment."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            return any(name.startswith(".ebextensions/") for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def of_update(env: Environment, configuration: bool, instance_role_arn: str) -> list[Request]:
    """The requests of one UpdateEnvironment on `env`, in the order Beanstalk makes them."""
    region, account, env_id = env.region, env.account_id, env.environment_id
    tags = {
        "aws:ResourceTag/elasticbeanstalk:environment-name": env.environment_name,
        "aws:ResourceTag/elasticbeanstalk:environment-id": env_id,
    }
    bucket = f"elasticbeanstalk-{region}-{account}"
    stack = f"arn:aws:cloudformation:{region}:{account}:stack/awseb-{env_id}-stack/{env_id[2:]}"
    group = (
        f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:{env_id[2:]}:"
        f"autoScalingGroupName/awseb-{env_id}-stack-AWSEBAutoScalingGroup-{env_id[2:].upper()}"
    )
    target_group = f"arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/awseb-AWSEB-{env_id[2:]}/0"
    found = [
        Request("s3:PutObject", f"arn:aws:s3:::{bucket}/resources/environments/{env_id}/*", at_once=True),
        Request("s3:GetObject", f"arn:aws:s3:::{bucket}/resources/environments/{env_id}/*", at_once=True),
        Request("cloudformation:DescribeStackResources", stack, tags),
        Request("ec2:DescribeInstances", "*"),
        Request("autoscaling:DescribeAutoScalingGroups", "*"),
        Request("autoscaling:SuspendProcesses", group, tags),
    ]
    if configuration:
        found += [
            Request("cloudformation:UpdateStack", stack, tags),
            Request("iam:PassRole", instance_role_arn, {"iam:PassedToService": "ec2.amazonaws.com"}),
            Request(
                "ec2:CreateLaunchTemplateVersion",
                f"arn:aws:ec2:{region}:{account}:launch-template/lt-{env_id[2:]}",
                tags,
            ),
            Request("autoscaling:UpdateAutoScalingGroup", group, tags),
            Request(
                "cloudwatch:PutMetricAlarm",
                f"arn:aws:cloudwatch:{region}:{account}:alarm:awseb-{env_id}-stack-AWSEBCloudwatchAlarmHigh",
                tags,
            ),
            Request(
                "sns:SetTopicAttributes",
                f"arn:aws:sns:{region}:{account}:ElasticBeanstalkNotifications-Environment-{env.environment_name}",
                tags,
            ),
        ]
    if env.is_web:
        found += [
            Request("elasticloadbalancing:DescribeTargetHealth", "*"),
            Request("elasticloadbalancing:DeregisterTargets", target_group, tags),
            Request("elasticloadbalancing:RegisterTargets", target_group, tags),
        ]
    found.append(Request("autoscaling:ResumeProcesses", group, tags))
    return found


def refusal(identity_arn: str, request: Request) -> str:
    """Beanstalk's event for a downstream call that was refused (recorded wording:
    github.com/codeship/documentation/issues/338)."""
    return (
        f"Service:{request.service}, Message:User: {identity_arn} is not authorized to perform: "
        f"{request.action} on resource: {request.resource}"
    )
