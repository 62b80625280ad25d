"""Mixed versions after a failed or aborted update (issue 18, item 12): some instances keep the new version
while Beanstalk names the previous one. The environment is no clean pre-production and no rollback target
until a full deployment. The predicate, and the decisions that call it, pure."""

from __future__ import annotations

import dataclasses
from typing import Any

from controller_builders import CONFIG, OLD, TAG, after_swap, at, before_swap, env, observed, running_at
from test_controller_rollback import _lease, _succeeded

from controller.core.mixed_versions import mixed_versions
from controller.core.model import Status, StepName
from controller.core.observation import InstanceView, Need
from controller.core.reconcile import next_need, reconcile
from controller.core.rollback import decide_rollback

GREEN_ON_OLD = env("shop-green", "shop-green.us-east-1.elasticbeanstalk.com", label=OLD)


def _instances(*labels: str | None) -> tuple[InstanceView, ...]:
    return tuple(InstanceView(f"i-{n:04d}", label, "Deployed") for n, label in enumerate(labels))


def test_an_environment_is_mixed_when_an_instance_runs_another_version_than_its_label() -> None:
    assert mixed_versions(GREEN_ON_OLD, _instances(OLD, OLD, OLD)) is None
    assert mixed_versions(GREEN_ON_OLD, ()) is None  # nothing shows otherwise
    reason = mixed_versions(GREEN_ON_OLD, _instances(OLD, TAG, OLD, TAG, OLD))
    assert reason is not None and reason.startswith(f"2 of 5 instances of shop-green run {TAG}, not {OLD}")


def test_a_mixed_previous_environment_is_no_rollback_target() -> None:
    d = _succeeded()
    clean = decide_rollback(
        d, _lease(d), after_swap(), at(100), CONFIG, previous_instances=_instances(OLD, OLD)
    )
    assert not isinstance(clean, str)
    mixed = _instances(OLD, "1.0.43")
    refused = decide_rollback(d, _lease(d), after_swap(), at(100), CONFIG, previous_instances=mixed)
    assert isinstance(refused, str)
    assert "shop-blue is no rollback target: 1 of 2 instances of shop-blue run 1.0.43" in refused
    forced = decide_rollback(
        d, _lease(d), after_swap(), at(100), CONFIG, force=True, previous_instances=mixed
    )
    assert not isinstance(forced, str)


def _failed_update(**changes: Any) -> Any:
    return running_at(StepName.WAIT_READY, deploy_requested_at=at(0), update_request_id="r-1", **changes)


def _rolled_back_green() -> Any:
    """Beanstalk ended the update (DateUpdated after the request) back on the previous version."""
    return tuple(
        dataclasses.replace(e, date_updated=at(60)) for e in before_swap(green_health="Red", green_label=OLD)
    )


def test_an_update_that_did_not_land_reads_pre_productions_instances_before_failing() -> None:
    d = _failed_update()
    seen = observed(environments=_rolled_back_green(), events=())
    assert next_need(d, seen, at(90), CONFIG) is Need.INSTANCES
    landed = tuple(dataclasses.replace(e, date_updated=at(60)) for e in before_swap())
    assert (
        next_need(d, observed(environments=landed, events=()), at(90), CONFIG) is None
    )  # landed: no extra read


def test_a_failed_update_that_left_mixed_versions_says_pre_production_is_not_clean() -> None:
    d = _failed_update()
    seen = observed(environments=_rolled_back_green(), events=(), instances=_instances(OLD, TAG, TAG))
    failed = reconcile(d, seen, at(90), CONFIG).deployment
    assert failed.status is Status.FAILED and "rolled the update back" in (failed.error or "")
    assert len(failed.warnings) == 1
    assert failed.warnings[0].startswith("pre-production is not clean after this failed update: 2 of 3")

    clean = observed(environments=_rolled_back_green(), events=(), instances=_instances(OLD, OLD, OLD))
    assert reconcile(d, clean, at(90), CONFIG).deployment.warnings == ()
