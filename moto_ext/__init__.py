"""moto, extended: Elastic Beanstalk's deployment API (environments that launch, update, swap and fail as
real Beanstalk's do, with its events on EventBridge, faults to arm, and deploy hooks that run real apps) and
the CloudFormation resource types moto lacks, with the serverless (SAM) transform.

    import moto_ext
    moto_ext.install()                               # into moto, for mock_aws and moto's server
    be = moto_ext.backend()                          # Elastic Beanstalk of 123456789012 in us-east-1
    be.set_fault(moto_ext.Fault.BUSY)                # a rough edge of real Beanstalk
    url, stop = moto_ext.start_server(port=0)        # moto's server with it, on loopback
    moto_ext.ControlClient(url).arm("dns-lag")       # the same controls over HTTP, from another process

With pytest: `-p moto_ext.pytest_plugin` gives the fixtures `eb_aws` and `eb_server` and `--eb-fault NAME`.
Nothing here imports the project around it (import-linter keeps it so): it can move into moto's tree.
"""

from moto_ext.control_client import ControlClient, ControlError
from moto_ext.elasticbeanstalk import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    REALISTIC,
    BeanstalkBackend,
    DeployHook,
    DeployRequest,
    DeployResult,
    Fault,
    Outcome,
    Timings,
    backend,
)
from moto_ext.installation import install
from moto_ext.server import start_server

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "REALISTIC",
    "BeanstalkBackend",
    "ControlClient",
    "ControlError",
    "DeployHook",
    "DeployRequest",
    "DeployResult",
    "Fault",
    "Outcome",
    "Timings",
    "backend",
    "install",
    "start_server",
]
