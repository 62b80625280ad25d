"""What each Lambda function's invocation may spend (deadline.Budget), below its timeout.

- `API`: API Gateway answers 504 after 29 s whatever the function's timeout, so a route ends within
  API_GATEWAY_LIMIT_S less a margin, keeping room for the one save a route may still owe (a refused
  rollback puts the deployment back).
- `TICK`: `reconcile_tick` ends within its function's timeout (`lambda_timeout` in .chalice/config.json)
  less a margin, keeping room to save the record and queue the next tick. Its notifications (announce.py)
  get what the deadline leaves then, at most their own NOTIFY_BUDGET_S.

The margins cover what runs between the checks (Python, logging, Lambda's own hand-over).
tests/controller/test_controller_time_bounds.py holds these to the packaged template's timeouts.
"""

from __future__ import annotations

from controller.shell.clients import ATTEMPT_S
from controller.shell.deadline import Budget

API_GATEWAY_LIMIT_S = 29
MARGIN_S = 2.0
TICK_FUNCTION_TIMEOUT_S = 60  # .chalice/config.json "lambda_timeout"

API = Budget("api_handler", seconds=API_GATEWAY_LIMIT_S - MARGIN_S, reserve_s=1 * ATTEMPT_S)
TICK = Budget("reconcile_tick", seconds=TICK_FUNCTION_TIMEOUT_S - 2 * MARGIN_S, reserve_s=2 * ATTEMPT_S)
