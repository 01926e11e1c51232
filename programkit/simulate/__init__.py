"""Simulate stage: run people and events through a bundle's smart campaigns and lead lifecycle.

Input is a people CSV (``id`` plus field columns: the database when the
simulation starts) and an optional JSON-lines file of events in time order::

    {"at": "2026-03-02T09:00:00Z", "person": "p1", "type": "created", "data": {"Email Address": "a@example.com"}}

Event types: ``created`` (a new person; ``data`` holds the fields), ``change``
(set fields), ``score`` (``{"change": "+10"}``, optional ``"score"`` name), and
any event the lifecycle's transitions name (``accept``, ``decline`` …, whose
``data`` carries the transition's fields and reason). Events are streamed:
memory grows with the people and their history, never with the number of
event lines: alerts, emails, rejected events and findings are spilled to
temporary files as they happen and read back (as :class:`Records`) when the
result is rendered. Everything is ordered (people by id, then time and
input order), so the same input always gives the same bytes.

The package, one module per concern: :mod:`.inputs` reads and checks the people CSV and the
events file's lines; :mod:`.rules` compiles the bundle into the rules the engines run;
:mod:`.campaign_engine` and :mod:`.lifecycle_engine` run campaigns and lifecycle transitions;
:mod:`.engine` holds the people, the clock and the event loop; :mod:`.records` spills per-event
records to disk; :mod:`.result` builds the :class:`SimulationResult`; :mod:`.report` writes it
out as text or JSON; :mod:`.driver` is the entry point, :func:`simulate`; :mod:`.partitioned` splits a run across
processes (``--jobs``), each reading and checking its byte range of the events file once and routing the events to
the process of their person (:mod:`.event_ranges`); :mod:`.core` chooses the compiled core (Cython) or the
pure-Python one.
"""

from __future__ import annotations

from . import codes  # noqa: F401  (registers PK751–PK760)
from .core import describe as core_in_use  # first: it decides whether the compiled modules load
from .campaign_engine import MAX_ACTIVITIES
from .conditions import SCORE_KEY, FieldNames, apply_score_change, value_test
from .driver import lc_hint, simulate
from .engine import Simulator
from .person import Person
from .inputs import EVENTS_HINT, NUMERIC_TYPES, PEOPLE_HINT, check_settings, parse_time, read_people
from .lifecycle_engine import Rejected
from .records import FindingSink, Records, iso
from .report import iter_json, iter_text, render_json, render_text, write_report
from .result import NO_STATE, NOT_APPLICABLE, SimulationResult, build_result
from .rules import Campaign, Flag, Lifecycle, Model, Timer, Transition, compile_bundle

__all__ = [
    "EVENTS_HINT", "MAX_ACTIVITIES", "NO_STATE", "NOT_APPLICABLE", "NUMERIC_TYPES", "PEOPLE_HINT", "SCORE_KEY",
    "Campaign", "FieldNames", "FindingSink", "Flag", "Lifecycle", "Model", "Person", "Records", "Rejected",
    "SimulationResult", "Simulator", "Timer", "Transition", "apply_score_change", "build_result", "check_settings",
    "compile_bundle", "core_in_use", "iso", "iter_json", "iter_text", "lc_hint", "parse_time", "read_people", "render_json",
    "render_text", "simulate", "value_test", "write_report",
]
