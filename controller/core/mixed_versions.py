"""Whether an environment runs the version Beanstalk names on every instance (pure).

After a failed or aborted update, Beanstalk sets the environment's VersionLabel back to the version of its
last successful deployment, but instances the update reached may keep the new one ("Incorrect application
version found on 2 out of 5 instances. Expected version "v1" (deployment 1)." -
https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/environments-health-messages.html). Until a full
deployment, such an environment is not clean: it does not run what it says, so it is no pre-production
to trust and no rollback target. `mixed_versions` is the one predicate every decision about that calls.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.core.observation import EnvironmentView, InstanceView


def mixed_versions(env: EnvironmentView, instances: Sequence[InstanceView]) -> str | None:
    """Why `env` does not run its VersionLabel on every instance, or None when it does (as far as its
    instances' health shows)."""
    wrong = [i for i in instances if i.version_label != env.version_label]
    if not wrong:
        return None
    found = sorted({str(i.version_label) for i in wrong})
    return (
        f"{len(wrong)} of {len(instances)} instances of {env.name} run {', '.join(found)}, not "
        f"{env.version_label} (a failed or aborted update left them; a full deployment replaces them)"
    )
