"""Enhanced health's rules on requests: what a steady share of HTTP 4xx does to an environment's health.

By default "Elastic Beanstalk includes all application HTTP 4xx errors when determining the environment's
health. It changes your environment health status from OK to Warning, Degraded, or Severe, depending on the
error rate" (https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/health-enhanced-rules.html); the
`ConfigDocument` rules `ApplicationRequests4xx` and `ELBRequests4xx` can each be switched off
(settings/options.py). The causes are worded as AWS lists them
(https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/environments-health-enhanced-notifications.html):
"15% of requests are erroring with HTTP 4xx", "20% of the requests to the ELB are erroring with HTTP 4xx.".

The `scanner-4xx` fault is the public internet's scanners: a steady stream of 404s on every web environment,
a moderate share of its requests, so health Warning (Yellow) wherever a rule still counts them.
"""

from __future__ import annotations

from ..entities import Environment
from . import options

SCANNER_4XX_PERCENT = 35  # the share of an environment's requests the scanners' 404s make


def degraded_by_requests(env: Environment, scanners: bool) -> str | None:
    """The cause that makes health monitoring find `env` Yellow now, or None when requests are fine."""
    if not scanners or not env.is_web:
        return None
    counted = options.counts_4xx(env.option_settings)
    causes = []
    if counted["ApplicationRequests4xx"]:
        causes.append(f"{SCANNER_4XX_PERCENT}% of requests are erroring with HTTP 4xx")
    if counted["ELBRequests4xx"]:
        causes.append(f"{SCANNER_4XX_PERCENT}% of the requests to the ELB are erroring with HTTP 4xx.")
    return "; ".join(causes) if causes else None
