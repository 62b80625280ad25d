"""Deployment <-> stored document (JSON-safe dict) and <-> the API's JSON view (contract §2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.core.model import (
    STEP_ORDER,
    Baseline,
    Deployment,
    Promotion,
    Status,
    Step,
    StepName,
    StepStatus,
    SwapBack,
)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def to_document(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "application": d.application,
        "image": d.image,
        "tag": d.tag,
        "version_label": d.version_label,
        "commit": d.commit,
        "build_url": d.build_url,
        "promotion": d.promotion.value,
        "attempt": d.attempt,
        "status": d.status.value,
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "steps": [
            {
                "name": s.name.value,
                "status": s.status.value,
                "started_at": iso(s.started_at),
                "finished_at": iso(s.finished_at),
                "detail": s.detail,
            }
            for s in d.steps
        ],
        "preprod_env": d.preprod_env,
        "prod_env": d.prod_env,
        "preprod_cname": d.preprod_cname,
        "prod_cname": d.prod_cname,
        "preprod_endpoint": d.preprod_endpoint,
        "prod_endpoint": d.prod_endpoint,
        "previous_label": d.previous_label,
        "error": d.error,
        "failure_events": list(d.failure_events),
        "deploy_requested_at": iso(d.deploy_requested_at),
        "update_request_id": d.update_request_id,
        "update_requests": d.update_requests,
        "preprod_ready_at": iso(d.preprod_ready_at),
        "expected_update_s": d.expected_update_s,
        "update_spread_s": d.update_spread_s,
        "update_s": d.update_s,
        "verify_failures": d.verify_failures,
        "promoted_at": iso(d.promoted_at),
        "abort_requested_at": iso(d.abort_requested_at),
        "bake_failures": d.bake_failures,
        "swap_requested_at": iso(d.swap_requested_at),
        "swap_back": _swap_back_document(d.swap_back),
        "chain": d.chain,
        "load_balancers": {name: dimension for name, dimension in d.load_balancers},
        "baseline": None if d.baseline is None else _baseline_document(d.baseline),
        "analysis_at": iso(d.analysis_at),
        "repository": d.repository,
        "controller_url": d.controller_url,
        "digest": d.digest,
        "announced": list(d.announced),
        "github_deployment_id": d.github_deployment_id,
        "warnings": list(d.warnings),
    }


def from_document(doc: dict[str, Any], record_version: int) -> Deployment:
    created = parse_iso(doc["created_at"])
    updated = parse_iso(doc["updated_at"])
    assert created is not None and updated is not None
    return Deployment(
        id=doc["id"],
        application=doc["application"],
        image=doc["image"],
        tag=doc["tag"],
        version_label=doc["version_label"],
        commit=doc.get("commit"),
        build_url=doc.get("build_url"),
        promotion=Promotion(doc.get("promotion") or Promotion.AUTO.value),
        attempt=int(doc.get("attempt") or 1),
        status=Status(doc["status"]),
        created_at=created,
        updated_at=updated,
        steps=_steps(doc["steps"]),
        preprod_env=doc.get("preprod_env"),
        prod_env=doc.get("prod_env"),
        preprod_cname=doc.get("preprod_cname"),
        prod_cname=doc.get("prod_cname"),
        preprod_endpoint=doc.get("preprod_endpoint"),
        prod_endpoint=doc.get("prod_endpoint"),
        previous_label=doc.get("previous_label"),
        error=doc.get("error"),
        failure_events=tuple(doc.get("failure_events") or ()),
        deploy_requested_at=parse_iso(doc.get("deploy_requested_at")),
        update_request_id=doc.get("update_request_id"),
        update_requests=int(doc.get("update_requests") or (1 if doc.get("deploy_requested_at") else 0)),
        preprod_ready_at=parse_iso(doc.get("preprod_ready_at")),
        expected_update_s=_seconds_or_none(doc.get("expected_update_s")),
        update_spread_s=float(doc.get("update_spread_s") or 0.0),
        update_s=_seconds_or_none(doc.get("update_s")),
        verify_failures=int(doc.get("verify_failures") or 0),
        promoted_at=parse_iso(doc.get("promoted_at")),
        abort_requested_at=parse_iso(doc.get("abort_requested_at")),
        bake_failures=int(doc.get("bake_failures") or 0),
        swap_requested_at=parse_iso(doc.get("swap_requested_at")),
        swap_back=_swap_back(doc.get("swap_back")),
        chain=doc.get("chain"),
        load_balancers=tuple(sorted((doc.get("load_balancers") or {}).items())),
        baseline=_baseline(doc.get("baseline")),
        analysis_at=parse_iso(doc.get("analysis_at")),
        repository=doc.get("repository"),
        controller_url=doc.get("controller_url"),
        digest=doc.get("digest"),
        announced=tuple(doc.get("announced") or ()),
        github_deployment_id=doc.get("github_deployment_id"),
        warnings=tuple(doc.get("warnings") or ()),
        record_version=record_version,
    )


def _seconds_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _steps(stored: list[dict[str, Any]]) -> tuple[Step, ...]:
    """The stored steps in the order of STEP_ORDER. A step that did not exist when the record was made
    (promote, bake) is skipped when a later step has started, else pending."""
    by_name = {
        StepName(s["name"]): Step(
            name=StepName(s["name"]),
            status=StepStatus(s["status"]),
            started_at=parse_iso(s.get("started_at")),
            finished_at=parse_iso(s.get("finished_at")),
            detail=s.get("detail"),
        )
        for s in stored
    }
    steps: list[Step] = []
    for index, name in enumerate(STEP_ORDER):
        later_started = any(
            by_name[n].status is not StepStatus.PENDING for n in STEP_ORDER[index + 1 :] if n in by_name
        )
        missing = Step(name, StepStatus.SKIPPED, detail="not a step then") if later_started else Step(name)
        steps.append(by_name.get(name, missing))
    return tuple(steps)


def _swap_back_document(back: SwapBack | None) -> dict[str, Any] | None:
    if back is None:
        return None
    return {
        "reason": back.reason,
        "started_at": iso(back.started_at),
        "requested_at": iso(back.requested_at),
        "back_at": iso(back.back_at),
        "by_request": back.by_request,
    }


def _swap_back(doc: dict[str, Any] | None) -> SwapBack | None:
    if doc is None:
        return None
    started = parse_iso(doc["started_at"])
    assert started is not None
    return SwapBack(
        reason=doc["reason"],
        started_at=started,
        requested_at=parse_iso(doc.get("requested_at")),
        back_at=parse_iso(doc.get("back_at")),
        by_request=bool(doc.get("by_request")),
    )


def _baseline_document(baseline: Baseline) -> dict[str, Any]:
    return {"latency_s": baseline.latency_s, "requests": baseline.requests}


def _baseline(doc: dict[str, Any] | None) -> Baseline | None:
    if doc is None:
        return None
    latency = doc.get("latency_s")
    return Baseline(None if latency is None else float(latency), int(doc.get("requests") or 0))


def to_view(d: Deployment) -> dict[str, Any]:
    """The `GET /deployments/{id}` body."""
    return {
        "id": d.id,
        "image": d.image,
        "tag": d.tag,
        "commit": d.commit,
        "build_url": d.build_url,
        "repository": d.repository,
        "version_label": d.version_label,
        "promotion": d.promotion.value,
        "attempt": d.attempt,
        "status": d.status.value,
        "created_at": _seconds(d.created_at),
        "updated_at": _seconds(d.updated_at),
        "preprod_env": d.preprod_env,
        "prod_env": d.prod_env,
        "previous_version_label": d.previous_label,
        "steps": [
            {
                "name": s.name.value,
                "status": s.status.value,
                "started_at": _seconds(s.started_at),
                "finished_at": _seconds(s.finished_at),
                "detail": s.detail,
            }
            for s in d.steps
        ],
        "error": d.error,
        "digest": d.digest,
        "failure_events": list(d.failure_events),
        "warnings": list(d.warnings),
        "links": {"self": f"/deployments/{d.id}"},
    }


def _seconds(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
