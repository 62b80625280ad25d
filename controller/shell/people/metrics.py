"""One CloudWatch Embedded Metric Format line per finished deployment (Powertools for AWS Lambda).

Namespace `deliverypipeline`, dimension `application`; metrics: the outcome (`succeeded`, `failed`,
`rolled_back` or `superseded`: 1, a count), `duration_s` (notification to finish) and, when it swapped
production, `lead_time_s` (notification to the swap). CloudWatch Logs turns the line into metrics; no
PutMetricData call, no permission. Powertools is imported on first use, so a cold start that finishes no
deployment never pays for it (bench/controller.py measures the cold import). In the Lambda package it comes
from the Powertools layer (.chalice/resources.json); where it is missing the line is not written and a log
line says so, and nothing else changes.
"""

from __future__ import annotations

from controller.core.model import Deployment, StepName, StepStatus
from controller.shell import logline

NAMESPACE = "deliverypipeline"


def finished(d: Deployment) -> None:
    try:
        from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
    except ImportError as error:
        logline.emit("metrics_unavailable", deployment_id=d.id, error=str(error))
        return
    metrics = EphemeralMetrics(namespace=NAMESPACE)
    metrics.add_dimension(name="application", value=d.application)
    metrics.add_metric(name=d.status.value, unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="duration_s", unit=MetricUnit.Seconds, value=(d.updated_at - d.created_at).total_seconds()
    )
    swap = d.step(StepName.SWAP)
    if swap.finished_at is not None and swap.status in (StepStatus.SUCCEEDED, StepStatus.ROLLED_BACK):
        swapped_at = d.swap_requested_at or swap.finished_at
        metrics.add_metric(
            name="lead_time_s", unit=MetricUnit.Seconds, value=(swapped_at - d.created_at).total_seconds()
        )
    metrics.flush_metrics()
