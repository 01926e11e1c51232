"""One person of a simulation: their fields and where they stand (lifecycle state, flags, history, campaign runs).

Its own module, below the engine and both of its mixins, which all handle people.
"""

from __future__ import annotations

from typing import Any


class Person:
    __slots__ = ("id", "fields", "state", "applies", "epoch", "flags", "history", "ran", "status")

    def __init__(self, pid: str, fields: dict[str, Any]) -> None:
        self.id = pid
        self.fields = fields
        self.state: str | None = None
        self.applies = False
        self.epoch = 0
        self.flags: dict[str, float] | None = None
        self.history: list[dict[str, Any]] = []
        self.ran: dict[str, float] | None = None
        self.status: str | None = None
