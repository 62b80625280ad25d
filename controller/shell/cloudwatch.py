"""CloudWatch and the environments' load balancers, read for the drain and the metric analysis (the shell's
read side). Errors propagate to the tick, which classifies them (aws_errors).

- `load_balancers`: DescribeEnvironmentResources names an environment's load balancer (an Application Load
  Balancer by its ARN); its CloudWatch LoadBalancer dimension is the ARN's last part.
- `metrics`: one GetMetricData request, every page of it.
- `alarms`: DescribeAlarms for the analysis' alarm names (metric and composite alarms).
"""

from __future__ import annotations

from typing import Any

from controller.core.analysis.metrics import (
    AlarmView,
    Datapoints,
    MetricRequest,
    MetricsView,
    load_balancer_dimension,
)
from controller.shell.runtime import Runtime

MAX_PAGES = 20


def load_balancers(names: tuple[str, ...], rt: Runtime) -> tuple[tuple[str, str], ...]:
    """(environment, its LoadBalancer dimension, "" when it has no Application Load Balancer)."""
    found = []
    for name in names:
        resources = rt.eb.describe_environment_resources(EnvironmentName=name)["EnvironmentResources"]
        balancers = resources.get("LoadBalancers") or []
        dimension = load_balancer_dimension(str(balancers[0].get("Name", ""))) if balancers else ""
        found.append((name, dimension))
    return tuple(found)


def metrics(request: MetricRequest, rt: Runtime) -> MetricsView:
    queries = [
        {
            "Id": q.id,
            "MetricStat": {
                "Metric": {
                    "Namespace": q.namespace,
                    "MetricName": q.metric_name,
                    "Dimensions": [{"Name": name, "Value": value} for name, value in q.dimensions],
                },
                "Period": q.period_s,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for q in request.queries
    ]
    points: dict[str, list[tuple[Any, float]]] = {q.id: [] for q in request.queries}
    arguments: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": request.start,
        "EndTime": request.end,
        "ScanBy": "TimestampAscending",
    }
    for _ in range(MAX_PAGES):
        answer = rt.cloudwatch.get_metric_data(**arguments)
        for result in answer.get("MetricDataResults", []):
            pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
            points.setdefault(result["Id"], []).extend((t, float(v)) for t, v in pairs)
        token = answer.get("NextToken")
        if not token:
            break
        arguments["NextToken"] = token
    series: list[tuple[str, Datapoints]] = [
        (query_id, tuple(sorted(found, key=lambda point: point[0]))) for query_id, found in points.items()
    ]
    return MetricsView(request, tuple(series))


def alarms(names: tuple[str, ...], rt: Runtime) -> tuple[AlarmView, ...]:
    if not names:
        return ()
    answer = rt.cloudwatch.describe_alarms(
        AlarmNames=list(names), AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    )
    found = [*answer.get("MetricAlarms", []), *answer.get("CompositeAlarms", [])]
    return tuple(
        AlarmView(a["AlarmName"], a.get("StateValue", "INSUFFICIENT_DATA"), a.get("StateUpdatedTimestamp"))
        for a in found
    )
