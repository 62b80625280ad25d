"""What a parity run creates and what it costs, printed before it creates anything."""

from __future__ import annotations

from .ledger import TAG_KEY
from .targets import Target

# On-demand prices in us-east-1 (USD): other regions differ by a few per cent.
HOURLY = {
    "t3.micro instance": 0.0104,
    "Application Load Balancer (and its LCUs at idle)": 0.0225 + 0.008,
    "public IPv4 address": 0.005,
}
RUN_HOURS = 1.5  # the run's own length on AWS, environments launched at its start and terminated at its end
ENVIRONMENTS = 3  # blue, green and the one the AWS CLI launches and terminates


def plan_lines(target: Target, prefix: str) -> list[str]:
    where = {
        "aws": f"AWS account {target.account}, region {target.region}",
        "endpoint": f"the endpoint {target.endpoint_url} (account {target.account}, region {target.region})",
        "emulation": f"the emulation at {target.endpoint_url} (python -m sandbox.aws, started by this run)",
    }[target.kind]
    lines = [
        f"parity: running against {where}",
        f"parity: everything this run creates is named {prefix}-* and tagged {TAG_KEY}={prefix}:",
        "  - an S3 bucket for source bundles; an SQS queue and an EventBridge rule catching "
        "aws.elasticbeanstalk",
        "  - IAM: an instance profile with its role, and a Beanstalk service role (enhanced health)",
        f"  - an Elastic Beanstalk application with {ENVIRONMENTS} load-balanced Docker environments "
        "(one t3.micro each, at most two at a time)",
        "  - CloudFormation stacks of an S3 bucket, a secret and a Beanstalk application (no instances)",
        "  - a Secrets Manager secret (read through SSM Parameter Store as the controller reads it)",
        "  - EB CLI uploads under <application>/ in the account's elasticbeanstalk-<region>-<account> bucket",
        "parity: all of it is deleted at the end, also after a failure or Ctrl-C",
    ]
    if target.kind == "aws":
        lines.append(f"parity: estimated cost: {cost_estimate():.2f} USD ({cost_basis()})")
    else:
        lines.append("parity: costs nothing (no AWS account is used)")
    return lines


def cost_estimate() -> float:
    per_environment = sum(HOURLY.values()) + HOURLY["public IPv4 address"]  # instance IP + load balancer IP
    return round(per_environment * 2 * RUN_HOURS + 0.05, 2)  # +0.05: S3, SQS, secret, API calls


def cost_basis() -> str:
    return (
        f"2 environments for {RUN_HOURS} h at us-east-1 on-demand prices: t3.micro, an ALB, two public IPv4 "
        "addresses each; S3, SQS, EventBridge, Secrets Manager and API calls under 0.05 USD"
    )
