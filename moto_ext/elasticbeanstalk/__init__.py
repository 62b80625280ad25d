"""Elastic Beanstalk for moto: the deployment API, faithful enough to test a deploy controller against.

Laid out as moto lays out a service: `models.py` (the backend, one method per operation), `responses.py`
(the Query protocol), `urls.py`, `exceptions.py`; `entities.py` holds the resources, `lifecycle.py` and
`transitions.py` how operations settle, `controls.py` and `control_api.py` what a test chooses.

Importing this package extends moto (idempotent), under `mock_aws` and in moto's server alike:

    from moto_ext import elasticbeanstalk as beanstalk
    be = beanstalk.backend(account_id="123456789012", region="us-east-1")
    be.set_timings(launch_s=240, update_s=5)    # seconds on the emulation's clock (faults.Timings)
    be.settle_after_s = 5.0                     # update, swap and termination at once
    be.clock = lambda: fixed_utc_datetime       # the "now" used for settling and event dates
    be.set_outcome("my-env", beanstalk.Outcome.RED)
    be.set_fault("transient-red")               # a rough edge of real Beanstalk (faults.Fault)
    be.advance()                                # settle pending operations now
    be.set_deploy_hook("my-env", hook)          # hook(DeployRequest) -> DeployResult, on a thread
    be.set_throttling(0.3, seed=1)              # DescribeEnvironments/DescribeEvents answer Throttling

The same controls answer over HTTP under `/moto-api/beanstalk/` (`control_api.py`), in moto's server
and under `mock_aws` alike.
"""

from . import control_api
from .controls import set_default_timings
from .deploy import DeployHook, DeployRequest, DeployResult, Outcome
from .events import Event
from .faults import AWS_PACE, PACES, REALISTIC, Fault, Timings
from .models import BeanstalkBackend
from .registry import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, backend
from .registry import install as _install_backend

__all__ = [
    "AWS_PACE",
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_REGION",
    "PACES",
    "REALISTIC",
    "BeanstalkBackend",
    "DeployHook",
    "DeployRequest",
    "DeployResult",
    "Event",
    "Fault",
    "Outcome",
    "Timings",
    "backend",
    "install",
    "set_default_timings",
]


def install() -> None:
    """Make moto's Elastic Beanstalk this extension and add its HTTP controls (idempotent)."""
    _install_backend()
    control_api.install()


install()
