"""Deployment <-> stored document (JSON-safe dict) and <-> the API's JSON view (contract §2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from controller.model import Deployment, Status, Step, StepName, StepStatus


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
        "previous_label": d.previous_label,
        "error": d.error,
        "failure_events": list(d.failure_events),
        "deploy_requested_at": iso(d.deploy_requested_at),
        "swap_requested_at": iso(d.swap_requested_at),
        "chain": d.chain,
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
        status=Status(doc["status"]),
        created_at=created,
        updated_at=updated,
        steps=tuple(
            Step(
                name=StepName(s["name"]),
                status=StepStatus(s["status"]),
                started_at=parse_iso(s.get("started_at")),
                finished_at=parse_iso(s.get("finished_at")),
                detail=s.get("detail"),
            )
            for s in doc["steps"]
        ),
        preprod_env=doc.get("preprod_env"),
        prod_env=doc.get("prod_env"),
        preprod_cname=doc.get("preprod_cname"),
        prod_cname=doc.get("prod_cname"),
        previous_label=doc.get("previous_label"),
        error=doc.get("error"),
        failure_events=tuple(doc.get("failure_events") or ()),
        deploy_requested_at=parse_iso(doc.get("deploy_requested_at")),
        swap_requested_at=parse_iso(doc.get("swap_requested_at")),
        chain=doc.get("chain"),
        record_version=record_version,
    )


def to_view(d: Deployment) -> dict[str, Any]:
    """The `GET /deployments/{id}` body."""
    return {
        "id": d.id,
        "image": d.image,
        "tag": d.tag,
        "commit": d.commit,
        "build_url": d.build_url,
        "version_label": d.version_label,
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
        "failure_events": list(d.failure_events),
        "links": {"self": f"/deployments/{d.id}"},
    }


def _seconds(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
