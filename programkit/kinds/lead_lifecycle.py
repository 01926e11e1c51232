"""leadLifecycle: a lead lifecycle model (states, transitions, timers, flags) that ``simulate`` executes.

Its checks and model live in :mod:`programkit.lifecycle` (the simulator shares them); this unit declares the
kind. No target has an object for it but the embedded one: Marketo puts it on the manual-steps checklist.
"""

from __future__ import annotations

from .base import Kind

# a lifecycle names the program's campaigns: never batched, written after the batch before it
KIND = Kind(name="leadLifecycle", label="lead lifecycles", format="json", scope="program", directory="lifecycles",
            schema="leadLifecycle", rank=20)
