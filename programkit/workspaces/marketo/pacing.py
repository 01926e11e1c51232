"""Pacing and retries: how fast programkit may call Marketo, and what it waits for.

Marketo allows 100 calls per 20 s, 10 concurrent calls and 50,000 calls a day per subscription
(experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/rest-api, "Limits"); calls are paced so
at most ``Limits.calls`` start in any ``Limits.window`` seconds, evenly spread (not bursts that trip 606),
with at most ``Limits.concurrent`` in flight.
"""

from __future__ import annotations

import collections
import datetime
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ...errors import BadInput

#: Codes worth waiting for (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/error-codes): rate
#: (606), concurrency (615), timeout (604), "API Temporarily Unavailable" (608), "Transient Error ... may be
#: retried" (713). 611 (system error) and 612 (invalid content type) are findings of their own, not retried: the
#: same request would fail the same way. 607 (daily quota) waits for midnight US Central: see :func:`quota_reset`.
TRANSIENT_CODES = frozenset({"606", "615", "604", "608", "713"})
#: the daily quota resets at midnight in this time zone (Marketo's error-codes page: 607 "Daily quota reached …
#: resets daily at 12:00AM CST")
QUOTA_ZONE = "America/Chicago"


def quota_reset(now: datetime.datetime | None = None) -> datetime.datetime:
    """When Marketo's daily API quota next resets: the next midnight US Central, as an aware datetime."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(QUOTA_ZONE)
    local = (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(zone)
    midnight = datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time(0), tzinfo=zone)
    return midnight


def backoff_delay(limits: "Limits", attempt: int, jitter: float) -> float:
    """The wait before retry ``attempt`` (0-based): exponential from ``limits.backoff``, capped, with jitter
    (``jitter`` in [0, 1): the delay is 50-100% of the exponential step)."""
    return min(limits.max_backoff, limits.backoff * 2 ** attempt) * (0.5 + jitter / 2)

@dataclass(frozen=True)
class Limits:
    """Client-side limits. Marketo's are 100 calls / 20 s and 10 concurrent calls."""

    calls: int = 100
    window: float = 20.0
    concurrent: int = 10
    retries: int = 8
    backoff: float = 0.5  # first back-off in seconds; doubles per retry
    max_backoff: float = 30.0
    timeout: float = 60.0


    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Limits":
        """``PROGRAMKIT_MARKETO_RATE=CALLS/SECONDS`` and ``PROGRAMKIT_MARKETO_CONCURRENCY=N`` lower the limits
        (e.g. for an instance that shares its quota with other integrations)."""
        env = os.environ if env is None else env
        kw: dict[str, Any] = {}
        rate = env.get("PROGRAMKIT_MARKETO_RATE")
        if rate:
            m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", rate)
            if not m or int(m.group(1)) < 1 or float(m.group(2)) <= 0:
                raise BadInput(f"PROGRAMKIT_MARKETO_RATE={rate!r} is not CALLS/SECONDS (e.g. 100/20)")
            kw["calls"], kw["window"] = int(m.group(1)), float(m.group(2))
        conc = env.get("PROGRAMKIT_MARKETO_CONCURRENCY")
        if conc:
            if not conc.strip().isdigit() or int(conc) < 1:
                raise BadInput(f"PROGRAMKIT_MARKETO_CONCURRENCY={conc!r} is not a positive number")
            kw["concurrent"] = int(conc)
        return cls(**kw)



class RateLimiter:
    """At most ``calls`` starts in any ``window`` seconds, spaced at least ``window / calls`` apart."""

    def __init__(self, calls: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.calls, self.window = calls, window
        self.interval = window / calls
        self._clock, self._sleep = clock, sleep
        self._starts: collections.deque[float] = collections.deque()
        self._next = 0.0
        self._lock = threading.Lock()
        #: seconds spent waiting for a start slot (shown by the progress line)
        self.waited = 0.0

    def acquire(self) -> None:
        # Sleeping while holding the lock queues callers in order: pacing is serial by nature.
        with self._lock:
            while True:
                now = self._clock()
                # Marketo counts arrivals, we count starts: a 2% longer window absorbs network jitter
                while self._starts and self._starts[0] <= now - self.window * 1.02:
                    self._starts.popleft()
                wait = self._next - now
                if len(self._starts) >= self.calls:
                    wait = max(wait, self._starts[0] + self.window * 1.02 - now)
                if wait <= 0:
                    self._starts.append(now)
                    # keep to the grid of slots when a little late (sleep overshoot), so small delays do
                    # not add up; after a real pause start afresh rather than burst to catch up
                    base = self._next if now - self._next < self.interval else now
                    self._next = base + self.interval
                    return
                self.waited += wait
                self._sleep(wait)

    def penalise(self, seconds: float) -> None:
        """After a 606, push the next start back: Marketo's window disagrees with ours."""
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


