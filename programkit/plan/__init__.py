"""Plan stage: bundle + workspace inventory + rules → :class:`Plan` (pure data).

:func:`make_plan` only reads the workspace. It decides one action per bundle
item (the program, each folder, token, tag and asset), says which rule level
decided it, and runs the preflight: every missing field, segmentation,
snippet, webhook, custom object, CRM connection, channel or status, every
bundle validation error and every collision a ``fail`` rule hits, all at once.
A plan with problems cannot be applied. Apply executes exactly a plan, so a
saved plan (``--out``) is also what ``import --plan`` replays; it records the
workspace revision and the bundle digest to refuse when either changed.

One room per concern: :mod:`.model` (what a plan is), :mod:`.preflight` (what is checked before the actions),
:mod:`.planner` (deciding the actions), :mod:`.guards` (blocked writes, shared assets, repair, prune, noop),
:mod:`.saved` (plan files).
"""

from .model import ACTIONS, PLAN_FORMAT, UNBLOCK, WRITES, Action, Plan, history_mapping
from .planner import make_plan, plan_path
from .preflight import CRM_HINT, check_program_name
from .saved import SAVED_PLAN_HINT, SavedPlan

__all__ = ["ACTIONS", "CRM_HINT", "PLAN_FORMAT", "SAVED_PLAN_HINT", "UNBLOCK", "WRITES", "Action", "Plan", "SavedPlan",
           "check_program_name", "history_mapping", "make_plan", "plan_path"]
