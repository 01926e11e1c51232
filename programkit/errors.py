"""Exceptions for input the tool cannot read at all (exit 2) and for stopped work.

Every command reports a path that names nothing the same way, through
:func:`no_such_path`: ``PATH: no such file or directory``, code PK413, and a
hint saying what the path should name.
"""

from __future__ import annotations

import difflib
import os
import shlex
import stat
from typing import Union

from .findings import Finding, Severity, make, register_code

PathLike = Union[str, "os.PathLike[str]"]

register_code("PK413", "no-such-path", Severity.ERROR,
              "A path given to a command (a bundle, template, archive, workspace file, inventory, people or "
              "events file, or the folder an output goes in) does not exist.",
              hint="Check the spelling and the current directory; the error's own hint says what the path "
                   "should name.",
              example="error: acme-olm: no such file or directory", group="input")


class ProgramkitError(Exception):
    """Base class. Carries findings so the CLI can render them like any other."""

    exit_code = 1

    def __init__(self, message: str, findings: list[Finding] | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.findings = findings or []


class BadInput(ProgramkitError):
    """Unreadable input or bad usage: missing path, not a bundle, not a zip (exit 2)."""

    exit_code = 2


def _did_you_mean(display: str) -> str:
    """'Did you mean X? ' for a sibling whose name is close to the missing one, else ''."""
    parent, name = os.path.split(os.path.normpath(display))
    try:
        siblings = [n for n in os.listdir(parent or ".") if not n.startswith(".")]
    except OSError:
        return ""
    close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.75)
    return f"Did you mean {os.path.join(parent, close[0])}? " if close else ""


def no_such_path(path: PathLike, hint: str) -> BadInput:
    """The error for a ``path`` that does not exist (exit 2): one wording and one code (PK413) for every
    command; ``hint`` says what the path should name (and how to make it, if programkit can)."""
    display = os.fspath(path)
    message = f"{display}: no such file or directory"
    return BadInput(message, [make("PK413", message)], hint=_did_you_mean(display) + hint)


def file_type(mode: int) -> str:
    """What a path's ``st_mode`` says it is, in words ('a directory', 'a FIFO (named pipe)', …)."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"),
                        (stat.S_ISREG, "a regular file")):
        if test(mode):
            return words
    return "not a regular file"


def require_path(path: PathLike, hint: str) -> None:
    """Raise :func:`no_such_path` unless ``path`` exists; BadInput if it is a FIFO, device or socket (opening one
    would hang or never end: every input path is a file or a directory)."""
    if not os.path.exists(path):
        raise no_such_path(path, hint)
    mode = os.stat(path).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise BadInput(f"{os.fspath(path)} is {file_type(mode)}, not a file; nothing was read", hint=hint)


def require_folder_of(path: PathLike, option: str) -> None:
    """Raise :func:`no_such_path` for the folder an output ``path`` (given as ``option``) goes in, if missing."""
    display = os.fspath(path)
    folder = os.path.dirname(display)
    if folder and not os.path.exists(folder):
        raise no_such_path(folder, f"{option} {display} goes in the folder {folder}, which does not exist: "
                                   f"create it first (mkdir -p {shlex.quote(folder)}).")


#: what a bundle path may name, for the hints of the commands that read bundles
BUNDLE_HINT = "Give a bundle directory (the folder holding bundle.json), its bundle.json, or a bundle archive (.zip)."
