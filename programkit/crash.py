"""Internal errors (exit 3): one line on stderr, the traceback saved to a file.

A bug in programkit must not look like a finding (exit 1) or bad input (exit
2): CI has to tell a broken bundle from a broken tool. :func:`save_crash`
writes the full traceback, the command line and the versions to a report file
under the state directory (``$PROGRAMKIT_STATE_DIR/crashes``, default
``~/.local/state/programkit/crashes``; the temporary directory if that cannot
be written) and returns the line to print.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from datetime import datetime, timezone
from pathlib import Path

from . import __version__

#: exit status of an internal error (a bug), as documented in the README
EXIT_INTERNAL = 3
#: how to report one (README, "Exit status")
HOW_TO_REPORT = "please report it to the programkit maintainers with that file attached (README: Exit status)"


def state_dir() -> Path:
    """programkit's state directory: $PROGRAMKIT_STATE_DIR, else $XDG_STATE_HOME/programkit, else
    ~/.local/state/programkit (the Marketo journals live there too)."""
    base = os.environ.get("PROGRAMKIT_STATE_DIR")
    if base:
        return Path(base)
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "programkit"


def _report_text(exc: BaseException, argv: list[str]) -> str:
    return "".join([
        f"programkit {__version__} internal error\n",
        f"time: {datetime.now(timezone.utc).isoformat(timespec='seconds')}\n",
        f"python: {sys.version.split()[0]} on {platform.platform()}\n",
        f"command: programkit {' '.join(repr(a) for a in argv)}\n\n",
        *traceback.format_exception(type(exc), exc, exc.__traceback__),
    ])


def save_crash(exc: BaseException, argv: list[str] | None = None) -> str:
    """Save ``exc``'s traceback and return the one line to print (error name, where it was saved, how to report)."""
    text = _report_text(exc, list(sys.argv[1:] if argv is None else argv))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    saved = None
    for folder in (state_dir() / "crashes", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f"programkit-crash-{stamp}-", suffix=".txt", dir=folder)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(text)
            saved = name
            break
        except OSError:
            continue
    where = f"traceback saved to {saved}" if saved else "the traceback could not be saved"
    what = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    if len(what) > 200:
        what = what[:200] + "…"
    return (f"internal error (a bug in programkit, not in your input): {what}; {where}; "
            f"{HOW_TO_REPORT}")
