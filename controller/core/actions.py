"""What a reconcile step asks the shell to do: plain data, performed in order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AcquireLease:
    """Take the application's lease (conditional: free, expired or ours, and we are the newest)."""

    deployment_id: str


@dataclass(frozen=True)
class CreateVersion:
    """Upload the source bundle and create the application version."""

    version_label: str
    image: str
    tag: str


@dataclass(frozen=True)
class UpdateEnvironment:
    environment_name: str
    version_label: str


@dataclass(frozen=True)
class AbortUpdate:
    environment_name: str


@dataclass(frozen=True)
class SwapCNAMEs:
    source_environment: str
    destination_environment: str


@dataclass(frozen=True)
class ReleaseLease:
    deployment_id: str
    succeeded: bool


Action = AcquireLease | CreateVersion | UpdateEnvironment | AbortUpdate | SwapCNAMEs | ReleaseLease

# Actions that change Beanstalk environments: the decision is saved before they run (write-ahead), so a
# duplicate tick that loaded the same record loses the conditional write and performs nothing.
WRITE_AHEAD = (UpdateEnvironment, AbortUpdate, SwapCNAMEs)
