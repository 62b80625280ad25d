"""What an environment shows besides its description: health, instances, AWS resources, configuration.

Plain functions of an `Environment` (and the time); the emulation runs one instance per environment, or,
once an update stopped partway under the `mixed-versions` fault, MIXED_FLEET of them, MIXED_LEFT still on
the version that update brought (until a later update lands).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .entities import HEALTH_STATUS, Environment
from .faults import MIXED_FLEET, MIXED_LEFT
from .transitions import INSTANCE_ID

# The option settings the EB CLI reads (eb status, eb health, eb deploy); AWS returns many more.
_WEB_SETTINGS = (
    ("aws:elasticbeanstalk:environment", "EnvironmentType", "LoadBalanced"),
    ("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
    ("aws:elasticbeanstalk:environment", "LoadBalancerIsShared", "false"),
    ("aws:elasticbeanstalk:environment", "ServiceRole", "aws-elasticbeanstalk-service-role"),
    ("aws:elasticbeanstalk:healthreporting:system", "SystemType", "enhanced"),
    ("aws:elasticbeanstalk:command", "DeploymentPolicy", "AllAtOnce"),
    ("aws:elasticbeanstalk:application", "Application Healthcheck URL", "/health"),
    ("aws:autoscaling:launchconfiguration", "IamInstanceProfile", "aws-elasticbeanstalk-ec2-role"),
    ("aws:autoscaling:launchconfiguration", "InstanceType", "t3.micro"),
    ("aws:autoscaling:asg", "MinSize", "1"),
    ("aws:autoscaling:asg", "MaxSize", "1"),
)


def environment_health(env: Environment, now: datetime, attributes: set[str]) -> dict[str, Any]:
    """DescribeEnvironmentHealth's answer, with only the attributes asked for ("All": every one)."""
    health: dict[str, Any] = {
        "Status": env.status,
        "Color": env.health,
        "HealthStatus": env.health_status,
        "Causes": (
            [env.health_cause] if env.health_cause else causes(env.status, env.health, env.mixed_cause())
        ),
        "ApplicationMetrics": {"Duration": 10, "RequestCount": 0},
        "InstancesHealth": _instance_counts(env),
        "RefreshedAt": now,
    }
    shown = (
        health if "All" in attributes else {key: value for key, value in health.items() if key in attributes}
    )
    return {"EnvironmentName": env.environment_name, **shown}


def instances_health(env: Environment, now: datetime) -> dict[str, Any]:
    """DescribeInstancesHealth's answer: the environment's instances, and the version each runs."""
    if env.status in ("Launching", "Terminated"):
        return {"InstanceHealthList": [], "RefreshedAt": now}
    running = env.version_label or "Sample Application"
    if env.stray_version is None:
        fleet = [(INSTANCE_ID, running, env.expected_deployment, "Deployed", env.health)]
    else:
        fleet = [
            (f"{INSTANCE_ID[:-2]}{n:02d}", running, env.expected_deployment, "Deployed", env.health)
            for n in range(MIXED_FLEET - MIXED_LEFT)
        ]
        fleet += [
            (f"{INSTANCE_ID[:-2]}{n:02d}", env.stray_version, env.deployment_id, "Failed", "Red")
            for n in range(MIXED_FLEET - MIXED_LEFT, MIXED_FLEET)
        ]
    instances = [
        {
            "InstanceId": instance_id,
            "HealthStatus": HEALTH_STATUS[color],
            "Color": color,
            "Causes": causes(env.status, color, env.mixed_cause() if label != running else None),
            "LaunchedAt": env.date_created,
            "ApplicationMetrics": {"Duration": 10, "RequestCount": 0},
            "System": {"CPUUtilization": {"User": 1.0, "Idle": 99.0}, "LoadAverage": [0.0, 0.0, 0.0]},
            "Deployment": {
                "VersionLabel": label,
                "DeploymentId": deployment,
                "Status": status,
                "DeploymentTime": env.deployed_at or env.date_created,
            },
            "AvailabilityZone": f"{env.region}a",
            "InstanceType": "t3.micro",
        }
        for instance_id, label, deployment, status, color in fleet
    ]
    return {"InstanceHealthList": instances, "RefreshedAt": now}


def environment_resources(env: Environment) -> dict[str, Any]:
    """DescribeEnvironmentResources' EnvironmentResourceDescription."""
    group = f"awseb-{env.environment_id}-stack-AWSEBAutoScalingGroup"
    described: dict[str, Any] = {
        "EnvironmentName": env.environment_name,
        "AutoScalingGroups": [{"Name": group}],
        "Instances": [] if env.status in ("Launching", "Terminated") else [{"Id": INSTANCE_ID}],
        "LaunchConfigurations": [],
        "LaunchTemplates": [{"Id": f"lt-{env.environment_id[2:]}"}],
        "LoadBalancers": [],
        "Triggers": [],
        "Queues": [],
    }
    if env.is_web:
        described["LoadBalancers"] = [{"Name": env.load_balancer_arn}]
    else:
        queue = f"awseb-{env.environment_id}-stack-AWSEBWorkerQueue"
        described["Queues"] = [
            {"Name": "WorkerQueue", "URL": f"https://sqs.{env.region}.amazonaws.com/{env.account_id}/{queue}"}
        ]
    return described


def configuration_settings(env: Environment) -> dict[str, Any]:
    """DescribeConfigurationSettings' ConfigurationSettingsDescription of an environment."""
    defaults = _WEB_SETTINGS if env.is_web else _WEB_SETTINGS[3:]
    applied = {(namespace, option): value for namespace, option, value in defaults}
    applied.update(env.option_settings)
    settings = [(namespace, option, value) for (namespace, option), value in applied.items()]
    return {
        "SolutionStackName": env.solution_stack_name,
        "PlatformArn": env.platform_arn,
        "ApplicationName": env.application_name,
        "EnvironmentName": env.environment_name,
        "Tier": env.tier,
        "DeploymentStatus": "deployed",
        "DateCreated": env.date_created,
        "DateUpdated": env.date_updated,
        "OptionSettings": [
            {
                "ResourceName": "AWSEBAutoScalingGroup",
                "Namespace": namespace,
                "OptionName": option,
                "Value": value,
            }
            if namespace.startswith("aws:autoscaling")
            else {"Namespace": namespace, "OptionName": option, "Value": value}
            for namespace, option, value in settings
        ],
    }


def causes(status: str, health: str, mixed: str | None = None) -> list[str]:
    if status in ("Updating", "Launching"):
        return ["Command is executing on all instances."]
    if mixed is not None:
        return [mixed]
    if health == "Red":
        return ["Failed to deploy application."]
    if health == "Yellow":
        return ["Impaired services on all instances."]
    return []


def _instance_counts(env: Environment) -> dict[str, int]:
    counts = dict.fromkeys(("NoData", "Unknown", "Pending", "Ok", "Info", "Warning", "Degraded", "Severe"), 0)
    if env.status in ("Launching", "Terminated"):
        return counts
    if env.stray_version is None:
        counts[HEALTH_STATUS[env.health]] += 1
    else:
        counts[HEALTH_STATUS[env.health]] += MIXED_FLEET - MIXED_LEFT
        counts[HEALTH_STATUS["Red"]] += MIXED_LEFT
    return counts
