"""Run the installed console script as a process that file permissions apply to, even when the tests run as
root (as CI does): root reads and writes a read-only file or folder at will, so a test of "this file cannot be
written" would prove nothing there.

As root, the child process drops the capabilities that bypass permission bits from its bounding set before it
executes the script (``prctl(PR_CAPBSET_DROP)``: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER,
CAP_LINUX_IMMUTABLE), so the executed program runs as root without them: a 0444 file or a 0555 folder refuses
it with EACCES like any user. It keeps uid 0, so it still reads the virtualenv and the sources wherever they
are (CI's virtualenv is in a 0700 temporary folder no other user could enter). As another user nothing is
dropped: the permission bits apply already.

:func:`require_permissions_enforced` proves it works here first; when it does not (a container without
CAP_SETPCAP), the test fails when ``CI`` is set and is skipped otherwise.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROGRAMKIT = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))
PR_CAPBSET_DROP = 24
#: the capabilities that let root ignore permission bits, immutable flags and ownership
BYPASS_CAPABILITIES = {"CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_LINUX_IMMUTABLE": 9}


def _drop_bypass_capabilities() -> None:
    """In the child, before exec: the program it executes gets none of the bypassing capabilities."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in BYPASS_CAPABILITIES.values():
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


def _preexec():
    return _drop_bypass_capabilities if os.geteuid() == 0 else None


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"cannot run a process that file permissions apply to: {why}")
    pytest.skip(why)


def require_permissions_enforced(folder: Path) -> None:
    """Fail (CI) or skip unless a process started like :func:`run_unprivileged` is refused a read-only file."""
    if PROGRAMKIT is None:
        _unavailable("the programkit console script is not installed (pip install -e '.[test]')")
    probe = folder / ".probe-read-only"
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        done = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}, 'a')"], preexec_fn=_preexec(),
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        _unavailable(f"dropping the capabilities that bypass permissions failed ({e})")
    finally:
        probe.chmod(0o644)
        probe.unlink()
    if "PermissionError" not in done.stderr:
        _unavailable("a read-only file was writable even without CAP_DAC_OVERRIDE")


def run_unprivileged(args: list[str], cwd: Path, env: dict[str, str] | None = None
                     ) -> subprocess.CompletedProcess[str]:
    """The console script with ``args``, in ``cwd``, refused what permission bits refuse."""
    full_env = {**os.environ, "PROGRAMKIT_STATE_DIR": str(cwd / ".state"), "NO_COLOR": "1", **(env or {})}
    full_env.pop("PROGRAMKIT_DEBUG", None)
    return subprocess.run([PROGRAMKIT or "programkit", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=full_env, preexec_fn=_preexec())
