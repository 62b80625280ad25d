"""Every error an AWS call can raise, classified once: what it means for the caller.

- throttled: AWS did not act; try again later (reads: botocore already retried).
- unknown: a 5xx, a timeout, a dropped connection: a mutating call may or may not have taken effect, so
  the caller observes before anything else; a read is simply tried again later.
- busy: "is in an invalid state for this operation. Must be Ready" or another operation in progress:
  nothing happened; wait until the environment is Ready.
- refused: any other answer (access denied, a missing resource, a bad parameter): asking again changes
  nothing.
- out_of_time: the invocation's budget had no room for the call (deadline.py): it was not sent; the next
  invocation tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from controller.shell.deadline import OutOfTime

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
# A DynamoDB transaction that lost to a concurrent one (the store has already told a failed condition
# apart): nothing was written.
CONTENTION_CODES = frozenset(
    {"TransactionCanceledException", "TransactionConflictException", "TransactionInProgressException"}
)
SERVER_CODES = frozenset({"InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable"})
BUSY_CODES = frozenset({"OperationInProgressFailure", "OperationInProgress"})
BUSY_MESSAGE = "Must be Ready"


class ErrorKind(StrEnum):
    THROTTLED = "throttled"
    UNKNOWN = "unknown"
    BUSY = "busy"
    REFUSED = "refused"
    OUT_OF_TIME = "out_of_time"


@dataclass(frozen=True)
class AwsError:
    kind: ErrorKind
    operation: str
    code: str
    message: str

    @property
    def transient(self) -> bool:
        """Worth trying again later as it is (throttling, 5xx, timeouts)."""
        return self.kind in (ErrorKind.THROTTLED, ErrorKind.UNKNOWN, ErrorKind.OUT_OF_TIME)

    def __str__(self) -> str:
        return f"{self.operation}: {self.code}: {self.message}"


def classify(error: BaseException, operation: str = "") -> AwsError | None:
    """What `error` means, or None when it is not an error of an AWS call (a bug: let it raise)."""
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as NoConnection

    if isinstance(error, OutOfTime):
        return AwsError(ErrorKind.OUT_OF_TIME, operation or error.what, "OutOfTime", str(error))
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code", "")) or "Unknown"
        message = str(info.get("Message", "")) or str(error)
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        name = operation or str(getattr(error, "operation_name", "") or "")
        return AwsError(_kind(code, message, status), name, code, message)
    if isinstance(error, HTTPClientError | NoConnection):  # timeouts, refused or dropped connections
        return AwsError(ErrorKind.UNKNOWN, operation, type(error).__name__, str(error))
    if isinstance(error, BotoCoreError):  # no credentials, a bad parameter: our side, not AWS's
        return AwsError(ErrorKind.REFUSED, operation, type(error).__name__, str(error))
    return None


def _kind(code: str, message: str, status: int) -> ErrorKind:
    if code in THROTTLING_CODES or code in CONTENTION_CODES:
        return ErrorKind.THROTTLED
    if code in SERVER_CODES or status >= 500:
        return ErrorKind.UNKNOWN
    if code in BUSY_CODES or BUSY_MESSAGE in message:
        return ErrorKind.BUSY
    return ErrorKind.REFUSED
