"""A person of a simulation: their fields, lifecycle state, flags, history and campaign runs.

Compiled, it is a ``cdef class`` (``person.pxd``): the engine modules that declare a variable
as a :class:`Person` read and write its fields as C struct members, not by name."""

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
