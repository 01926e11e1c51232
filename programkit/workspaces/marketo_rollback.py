"""Kept so code written against the old module layout keeps working: the Marketo target is now the package
:mod:`programkit.workspaces.marketo`; this is its :mod:`.journal` module."""

from .marketo.journal import *  # noqa: F401,F403
