"""When to look at pre-production's update when Beanstalk's events do not come (pure).

The event that an update ended wakes the deployment at once (wake.py); polling is the safety net for events
that are lost. A blind safety poll every `safety_poll_s` (600 s by default) loses 300 s on average. So the
poll is scheduled from what this environment's past updates took (each record keeps its own, `update_s`,
from the request to Beanstalk's DateUpdated when it landed): the first look comes just after the expected
end (by the spread of the past durations, at least POLL_INTERVAL_S), then looks follow closely, backing off
from POLL_INTERVAL_S (half the time past the expected end, at most 8x POLL_INTERVAL_S). The safety poll's
own cadence still applies before that, so an update much shorter than usual is not waited out.

Looking only after the expected end costs nothing when the events come: by then the event has woken the
deployment, and the look is a message of a chain that no longer drives it (one read of the record). Looks
before it would each cost a tick for nothing.

Without a past update of this environment, the application's other environments' count (blue and green are
twins); without any, the safety poll as before. The deadline (DEPLOY_TIMEOUT_S) is always looked at right
after it passes.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from controller.core.config import Config
from controller.core.decision import MAX_DELAY_S, backoff, safety_poll
from controller.core.observation import PastUpdate

RECENT_UPDATES = 5  # of an environment, the newest first, that the expectation is made of


def expected_update_s(history: Sequence[PastUpdate], environment: str) -> tuple[float, float] | None:
    """(expected seconds, spread) of an update of `environment` from the past ones (newest first), or None
    without any."""
    own = [past.seconds for past in history if past.environment == environment][:RECENT_UPDATES]
    durations = own or [past.seconds for past in history][:RECENT_UPDATES]
    if not durations:
        return None
    return statistics.median(durations), (max(durations) - min(durations)) / 2


def next_look_s(expected: float | None, spread: float, waited: float, limit_s: int, config: Config) -> int:
    """Seconds from now until the next look at an update requested `waited` seconds ago."""
    if expected is None:
        return safety_poll(waited, limit_s, config)
    first_look = expected + max(config.poll_interval_s, spread)
    if waited < first_look:
        seconds: float = min(config.safety_poll_s, first_look - waited)
    else:
        seconds = backoff(waited - first_look, config)
    until_limit = limit_s - waited + 1
    return max(1, int(min(seconds, until_limit, MAX_DELAY_S)))
