"""Kept so code written against the old module layout keeps working: the Marketo target is now the package
:mod:`programkit.workspaces.marketo`; this is its :mod:`.export` module."""

from .marketo.export import *  # noqa: F401,F403
