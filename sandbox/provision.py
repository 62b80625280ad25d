"""The sandbox's AWS side, provisioned the way a user provisions a real account: the provisioning stack
(`infra/pipeline.yaml`) and the controller's stack (`chalice package --merge-template
.chalice/resources.json`, its code uploaded as `aws cloudformation package` does), both deployed through
the emulation's CloudFormation (`moto_ext.cloudformation`: moto's, with the Beanstalk resource types and the
serverless transform). The two
Beanstalk environments are the stack's resources; the controller then runs with the very environment the
stack gave its Lambda functions, and the signing secret is the one Secrets Manager generated.

    provisioned = provision(clients, names, first_image, work_dir)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from moto_ext import cloudformation
from sandbox.live.dockerrun import ImageRef, build_bundle

ROOT = Path(__file__).resolve().parent.parent
INFRA_TEMPLATE = ROOT / "infra" / "pipeline.yaml"
MERGE_TEMPLATE = ROOT / ".chalice" / "resources.json"
PLATFORM_OS = "Amazon Linux 2023"  # the branch `make provision` takes the newest Docker version of
CONTROLLER_STAGE = "dev"
STACK_TIMEOUT_S = 60.0
PACKAGE_TIMEOUT_S = 120.0
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]

cloudformation.install()


class ProvisionError(RuntimeError):
    """A stack did not reach CREATE_COMPLETE, or the controller could not be packaged; says which and why."""


@dataclass(frozen=True)
class Names:
    """Every name the sandbox chooses; the rest (bucket, table, queue, secret) the stacks choose."""

    application: str = "deliverypipeline"
    region: str = "us-east-1"

    @property
    def prod_prefix(self) -> str:
        return f"{self.application}-prod"

    @property
    def staging_prefix(self) -> str:
        return f"{self.application}-staging"

    @property
    def blue(self) -> str:
        return f"{self.application}-blue"  # as infra/pipeline.yaml names them

    @property
    def green(self) -> str:
        return f"{self.application}-green"

    @property
    def infra_stack(self) -> str:
        return self.application

    @property
    def controller_stack(self) -> str:
        return f"{self.application}-controller"

    @property
    def packages_bucket(self) -> str:
        """Where the first bundle waits for the provisioning stack (which makes the artifact bucket, where
        the controller's code then goes, as `make deploy-controller` uploads it)."""
        return f"{self.application}-packages"

    def cname(self, prefix: str) -> str:
        return f"{prefix}.{self.region}.elasticbeanstalk.com"

    @property
    def environments(self) -> dict[str, str]:
        """Environment name -> its CNAME prefix at the start."""
        return {self.blue: self.prod_prefix, self.green: self.staging_prefix}


@dataclass(frozen=True)
class Provisioned:
    function_environment: dict[str, str]  # the controller's Lambda functions' environment variables
    signing_secret: str
    stacks: tuple[str, ...]
    reconcile_role: str = ""  # the ARN of the role the stack gave the reconcile function


def provision(clients: Any, names: Names, first: ImageRef, work_dir: Path) -> Provisioned:
    """Both stacks CREATE_COMPLETE, blue (production CNAME) and green (staging) running `first`."""
    packaging = start_packaging(work_dir / "controller-package")
    try:
        return _deploy(clients, names, first, packaging)
    finally:
        if packaging.process.poll() is None:  # a failure before the package was needed: stop it
            packaging.process.kill()
            packaging.process.wait()


def _deploy(clients: Any, names: Names, first: ImageRef, packaging: Packaging) -> Provisioned:
    clients.s3.create_bucket(Bucket=names.packages_bucket)
    first_key = f"initial/{first.tag}.zip"
    clients.s3.put_object(Bucket=names.packages_bucket, Key=first_key, Body=build_bundle(first))
    deploy_stack(
        clients.cloudformation,
        names.infra_stack,
        INFRA_TEMPLATE.read_text(encoding="utf-8"),
        {
            "ApplicationName": names.application,
            "ProductionCnamePrefix": names.prod_prefix,
            "StagingCnamePrefix": names.staging_prefix,
            "SolutionStackName": newest_docker_stack(clients.elasticbeanstalk),
            "InitialVersionBucket": names.packages_bucket,
            "InitialVersionKey": first_key,
        },
    )
    artifacts = stack_outputs(clients.cloudformation, names.infra_stack)["ArtifactBucketName"]
    template = finish_packaging(packaging, clients.s3, artifacts)  # as make deploy-controller uploads it
    deploy_stack(
        clients.cloudformation,
        names.controller_stack,
        json.dumps(template),
        # No Powertools layer: moto knows no public layer; the controller's host has Powertools installed.
        {"Stage": CONTROLLER_STAGE, "InfraStack": names.infra_stack, "PowertoolsLayerVersion": "0"},
        role_arn=stack_outputs(clients.cloudformation, names.infra_stack)["ControllerDeployRoleArn"],
    )
    outputs = stack_outputs(clients.cloudformation, names.controller_stack)
    function = clients.awslambda.get_function_configuration(FunctionName=outputs["APIHandlerName"])
    environment = dict(function["Environment"]["Variables"])
    infra = stack_outputs(clients.cloudformation, names.infra_stack)
    secret = clients.secretsmanager.get_secret_value(SecretId=infra["SigningSecretArn"])["SecretString"]
    leave_the_queue_to_the_poller(clients.sqs, environment["RECONCILE_QUEUE"], names.region)
    reconcile = clients.awslambda.get_function_configuration(
        FunctionName=f"{names.controller_stack}-reconcile"
    )
    return Provisioned(
        environment, str(secret), (names.infra_stack, names.controller_stack), str(reconcile["Role"])
    )


def newest_docker_stack(eb: Any, os_name: str = PLATFORM_OS) -> str:
    """The newest `64bit <os> vX.Y.Z running Docker` Beanstalk offers, as `make provision` takes it
    (scripts/solution-stack.sh): older versions are refused for new environments."""
    pattern = re.compile(rf"^64bit {re.escape(os_name)} v(\d+)\.(\d+)\.(\d+) running Docker$")
    offered = [
        (tuple(int(part) for part in found.groups()), stack)
        for stack in eb.list_available_solution_stacks()["SolutionStacks"]
        if (found := pattern.match(stack))
    ]
    if not offered:
        raise ProvisionError(f"Beanstalk offers no '64bit {os_name} v... running Docker' platform")
    return str(max(offered)[1])


def deploy_stack(
    cfn: Any, name: str, body: str, parameters: dict[str, str], role_arn: str | None = None
) -> None:
    """CreateStack, then wait for CREATE_COMPLETE like `aws cloudformation deploy` (ProvisionError else);
    `role_arn`: CloudFormation's service role (--role-arn), whose permissions create the resources."""
    try:
        cfn.create_stack(
            StackName=name,
            TemplateBody=body,
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=CAPABILITIES,
            **({"RoleARN": role_arn} if role_arn else {}),
        )
    except ClientError as error:
        raise ProvisionError(f"stack {name} refused: {error.response['Error']['Message']}") from None
    deadline = time.monotonic() + STACK_TIMEOUT_S
    while True:
        status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if not status.endswith("IN_PROGRESS") or time.monotonic() > deadline:
            raise ProvisionError(f"stack {name} is {status}: {_last_failure(cfn, name)}")
        time.sleep(0.1)


def stack_outputs(cfn: Any, name: str) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


@dataclass(frozen=True)
class Packaging:
    process: subprocess.Popen[str]
    out: Path


def start_packaging(out: Path) -> Packaging:
    """`chalice package` of the controller, started now (it runs while the first stack deploys)."""
    chalice = Path(sys.executable).parent / "chalice"
    command = [
        str(chalice),
        "package",
        "--stage",
        CONTROLLER_STAGE,
        "--merge-template",
        str(MERGE_TEMPLATE),
        str(out),
    ]
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"  # chalice needs one; the template names no region
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return Packaging(process, out)


def finish_packaging(packaging: Packaging, s3: Any, bucket: str) -> dict[str, Any]:
    """The packaged template with its code uploaded to `bucket` and CodeUri pointing there, as
    `aws cloudformation package` leaves it."""
    process, out = packaging.process, packaging.out
    try:
        output, _ = process.communicate(timeout=PACKAGE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise ProvisionError(f"chalice package took more than {PACKAGE_TIMEOUT_S:g} s") from None
    if process.returncode != 0:
        raise ProvisionError(f"chalice package failed ({process.returncode}): {output.strip()[-500:]}")
    template: dict[str, Any] = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    key = "controller/deployment.zip"
    s3.put_object(Bucket=bucket, Key=key, Body=(out / "deployment.zip").read_bytes())
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    return template


def leave_the_queue_to_the_poller(sqs: Any, queue_name: str, region: str) -> None:
    """The stack maps the reconcile queue to its function; moto would run that function in a Lambda
    container on every message. In the sandbox the controller's host polls the queue itself (as the event
    source mapping does), so moto's own trigger is taken off the queue; the mapping itself stays listed."""
    from moto.sqs.models import sqs_backends

    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    account = url.rstrip("/").split("/")[-2]
    sqs_backends[account][region].get_queue(queue_name).lambda_event_source_mappings.clear()


def _last_failure(cfn: Any, name: str) -> str:
    events = cfn.describe_stack_events(StackName=name).get("StackEvents", [])
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("FAILED")]
    chosen = failed[0] if failed else (events[0] if events else {})
    return str(chosen.get("ResourceStatusReason") or "no reason given")
