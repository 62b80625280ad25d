"""The live side of each Elastic Beanstalk environment: which web app instance serves it, on which port.

`Environments.deploy` is what an UpdateEnvironment does on the instances: start the bundle's image next to
the running one, wait until it answers /health with its version, then switch the environment to it and
stop the old one (Green). When the new one does not come up, it is stopped, the old one keeps serving and
the outcome carries the reason as Beanstalk's event would (Red).

A new instance then registers with the environment's load balancer for `register_s` seconds, meanwhile the
environment answers 503 (`registering`): within the update when `wait_for_registration` (`--realistic`),
or after the environment is Ready again (the `slow-register` fault).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.interruptions import shielded
from sandbox.live.dockerrun import BundleError, ImageRef, read_image
from sandbox.live.health_probe import await_version
from sandbox.live.instances import Instance, Launcher
from sandbox.network.ports import free_port

START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DeployOutcome:
    """Green (ok) or Red, with the event text explaining a Red."""

    ok: bool
    message: str | None = None


class EnvironmentStartError(RuntimeError):
    """An environment's first instance did not come up."""


class Environments:
    """Environment name -> the instance serving it right now. Thread-safe; deploys run on hook threads."""

    def __init__(
        self,
        launcher: Launcher,
        start_timeout_s: float = START_TIMEOUT_S,
        pick_port: Callable[[], int] = free_port,
    ) -> None:
        self._launcher = launcher
        self._start_timeout_s = start_timeout_s
        self._pick_port = pick_port
        self._lock = threading.Lock()
        self._serving: dict[str, Instance] = {}
        self._starting: list[Instance] = []  # started, not serving yet (waiting for /health)
        self._registered_at: dict[str, float] = {}  # env name -> monotonic time its instance is registered
        self._closed = False

    def launch(self, env_name: str, image: ImageRef) -> Instance:
        """Bring up the first instance of `env_name`; raises EnvironmentStartError when it cannot start."""
        failure = self._replace(env_name, image)
        if failure is not None:
            raise EnvironmentStartError(f"{env_name}: {failure}")
        return self._serving[env_name]

    def deploy(
        self, env_name: str, bundle: bytes, register_s: float = 0.0, wait_for_registration: bool = False
    ) -> DeployOutcome:
        """Run the source bundle's image on `env_name` (the deploy hook's work)."""
        try:
            image = read_image(bundle)
        except BundleError as error:
            return DeployOutcome(ok=False, message=f"Instance deployment failed. {error}")
        failure = self._replace(env_name, image)
        if failure is not None:
            return DeployOutcome(ok=False, message=f"Instance deployment failed. {failure}")
        if register_s > 0:
            with self._lock:
                self._registered_at[env_name] = time.monotonic() + register_s
            if wait_for_registration:
                time.sleep(register_s)  # the instance registering, as the update's last phase
        return DeployOutcome(ok=True)

    def registering(self, env_name: str) -> bool:
        """Whether `env_name`'s instance is still registering with its load balancer."""
        with self._lock:
            return time.monotonic() < self._registered_at.get(env_name, 0.0)

    def port_of(self, env_name: str) -> int | None:
        """Where `env_name` serves right now (None when it has no running instance)."""
        with self._lock:
            instance = self._serving.get(env_name)
        return None if instance is None else instance.port

    def version_of(self, env_name: str) -> str | None:
        with self._lock:
            instance = self._serving.get(env_name)
        return None if instance is None else instance.image.tag

    def stop(self, env_name: str) -> None:
        """Stop `env_name`'s instance (its environment was terminated); nothing when it has none."""
        with self._lock:
            instance = self._serving.pop(env_name, None)
            self._registered_at.pop(env_name, None)
        if instance is not None:
            instance.stop()

    def stop_all(self) -> None:
        """Stop every instance, those still starting included (a deploy in flight then finds the sandbox
        shutting down)."""
        with self._lock:
            self._closed = True
            running = [*self._serving.values(), *self._starting]
            self._serving.clear()
            self._starting.clear()
        for instance in running:
            instance.stop()

    def _replace(self, env_name: str, image: ImageRef) -> str | None:
        """Start `image` for `env_name`; switch to it once healthy. None on success, else why not.

        The instance is recorded as starting before a signal can interrupt (`shielded`), so `stop_all`
        finds it; an interruption while it starts (SIGINT on the main thread: `Interrupted`, which no
        `except Exception` catches) stops it before going on up."""
        with self._lock:
            if self._closed:
                return "the sandbox is shutting down"
        with shielded():
            try:
                instance = self._launcher.start(env_name, image, self._pick_port())
            except Exception as error:  # the launcher's failure is this deploy's event text
                return f"The container for {image} could not be started: {error}."
            with self._lock:
                self._starting.append(instance)
        try:
            failure = await_version(instance, self._start_timeout_s)
        except BaseException:
            self._forget(instance)
            instance.stop()
            raise
        if failure is not None:
            self._forget(instance)
            instance.stop()
            return f"The container for {image} did not start: {failure}."
        with self._lock:
            previous = self._serving.get(env_name)
            closed = self._closed
            if not closed:
                self._serving[env_name] = instance
            if instance in self._starting:
                self._starting.remove(instance)
        if closed:
            instance.stop()
            return "the sandbox is shutting down"
        if previous is not None:
            previous.stop()
        return None

    def _forget(self, instance: Instance) -> None:
        with self._lock:
            if instance in self._starting:
                self._starting.remove(instance)
