"""Which simulate core runs: the compiled one or the pure-Python modules it is compiled from.

``pip install`` compiles the hot path (:data:`COMPILED_MODULES`: per-person state, campaign
dispatch, lifecycle transitions, result building, and --jobs workers reading their byte range of
the events file) with Cython where a C compiler is found
(setup.py); the extension modules sit beside the ``.py`` files and Python imports them first.
Both give the same bytes (the pinned-output tests run against each in CI). The pure-Python
modules run instead when ``PROGRAMKIT_PURE_PYTHON=1`` is set, when no compiled module was
built, or when a ``.py`` file is newer than its compiled module (an edited source tree: the
compiled module would run old code; ``pip install -e .`` compiles it again).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

#: compiled modules, in the order they import each other (the pure ones are loaded in this order)
COMPILED_MODULES = ("person", "conditions", "digits", "lifecycle_engine", "campaign_engine", "result", "engine", "event_ranges")
#: set to 1 to run the pure-Python core although a compiled one is installed
PURE_ENV = "PROGRAMKIT_PURE_PYTHON"
_HERE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE = __name__.rpartition(".")[0]
_STALE_SECONDS = 2.0  # an install writes its files within this; an edit after a build is later


def _compiled_path(name: str) -> str | None:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(_HERE, name + suffix)
        if os.path.exists(path):
            return path
    return None


def _why_pure() -> str | None:
    """Why the pure-Python core must run, or None when the compiled one can."""
    if os.environ.get(PURE_ENV, "").strip() not in ("", "0"):
        return f"{PURE_ENV} is set"
    for name in COMPILED_MODULES:
        compiled = _compiled_path(name)
        if compiled is None:
            return "no compiled core was built"
        source = os.path.join(_HERE, name + ".py")
        if os.path.exists(source) and os.path.getmtime(source) > os.path.getmtime(compiled) + _STALE_SECONDS:
            return f"{name}.py is newer than its compiled module (rebuild: pip install -e .)"
    return None


def _load_pure() -> None:
    """Import the pure-Python modules under their own names before anything imports the compiled ones."""
    for name in COMPILED_MODULES:
        full = f"{_PACKAGE}.{name}"
        if full in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(full, os.path.join(_HERE, name + ".py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[full]
            raise


def select() -> str:
    """Choose the core (once, as the package is imported) and say which: see :func:`describe`."""
    reason = _why_pure()
    if reason is not None:
        _load_pure()
        return f"pure Python ({reason})"
    return "compiled (Cython)"


def describe() -> str:
    """The core in use: "compiled (Cython)", or "pure Python (why)"."""
    engine = sys.modules.get(f"{_PACKAGE}.engine")
    if engine is not None and not (getattr(engine, "__file__", None) or "").endswith(".py"):
        return "compiled (Cython)"
    return CORE if CORE.startswith("pure") else "pure Python"


CORE = select()
