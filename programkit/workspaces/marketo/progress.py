"""One progress line on a terminal for long Marketo imports and exports: items done of the total, API calls,
time spent waiting for Marketo's limits, and an estimate of the time left. Written to stderr (stdout stays the
command's output), only when it is a terminal, and redrawn at most a few times a second."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, TextIO


class ProgressLine:
    """``tick()`` once per item done; ``close()`` ends the line. ``stats`` gives (calls, seconds waited)."""

    def __init__(self, stream: TextIO, label: str, stats: Callable[[], tuple[int, float]], *,
                 clock: Callable[[], float] = time.monotonic, every: float = 0.2):
        self.stream, self.label, self.stats, self.clock, self.every = stream, label, stats, clock, every
        self.total = 0
        self.done = 0
        self._start = clock()
        self._drawn = 0.0
        self._width = 0
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        with self._lock:
            self.total, self.done, self._start = total, 0, self.clock()
        self.draw(force=True)

    def tick(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
        self.draw()

    def text(self) -> str:
        calls, waited = self.stats()
        line = f"{self.label}: {self.done}/{self.total} items, {calls} API call(s), {waited:.0f}s waiting for " \
               "Marketo's limits"
        elapsed = self.clock() - self._start
        if 0 < self.done < self.total:
            left = elapsed / self.done * (self.total - self.done)
            line += f", about {int(left // 60)}:{int(left % 60):02d} left"
        return line

    def draw(self, force: bool = False) -> None:
        now = self.clock()
        with self._lock:
            if not force and now - self._drawn < self.every and self.done < self.total:
                return
            self._drawn = now
            line = self.text()
            pad = max(0, self._width - len(line))
            self._width = len(line)
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()

    def close(self) -> None:
        if self._width:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


def for_stream(stream: Any, label: str, stats: Callable[[], tuple[int, float]]) -> ProgressLine | None:
    """A progress line on ``stream`` if it is a terminal, else None (pipes and files get no progress)."""
    isatty = getattr(stream, "isatty", None)
    return ProgressLine(stream, label, stats) if callable(isatty) and isatty() else None
