"""The installed console script, run as a real process from outside the source tree."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE
from test_validate import break_everything

# The script sits next to the interpreter running the tests (a venv need not be activated).
PROGRAMKIT = shutil.which("programkit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                               os.environ.get("PATH", "")]))
pytestmark = pytest.mark.skipif(PROGRAMKIT is None, reason="programkit console script not installed "
                                                           "(pip install -e '.[test]' installs it)")
GH = re.compile(r"^::(error|warning|notice) file=[^,]+(,line=\d+)?(,col=\d+)?,title=[^:]+::.+$")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROGRAMKIT, *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def test_validate_sample_from_another_directory(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "op-lead-management")
    done = run("validate", "op-lead-management", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "op-lead-management: ok (0 errors, 0 warnings)\n", "")


def test_validate_broken_bundle_all_findings_as_github_annotations(tmp_path, sample_copy):
    expected = break_everything(sample_copy)
    done = run("validate", "--format", "github", str(sample_copy), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert len(lines) == len(expected) and all(GH.match(line) for line in lines)
    data = json.loads(run("validate", "-f", "json", str(sample_copy), cwd=tmp_path).stdout)
    assert {(d["code"], str(Path(d["file"]).relative_to(sample_copy)), d["line"]) for d in data} == expected


def test_validate_zip_and_manifest(tmp_path):
    (tmp_path / "b").mkdir()
    archive = shutil.make_archive(str(tmp_path / "s"), "zip", SAMPLE)
    done = run("validate", archive, str(SAMPLE / "bundle.json"), cwd=tmp_path / "b")
    assert done.returncode == 0, done.stdout + done.stderr


def test_unreadable_input_exit_2_without_traceback(tmp_path):
    (tmp_path / "notes.zip").write_text("not a zip")
    for args in (["missing"], ["notes.zip"], ["."], []):
        done = run("validate", *args, cwd=tmp_path)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr and done.stderr.strip()


def test_python_dash_m_and_version(tmp_path):
    done = subprocess.run([sys.executable, "-m", "programkit", "--version"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and re.fullmatch(r"programkit, version \d+\.\d+\.\d+\S*; simulate core: "
                                                 r"(compiled \(Cython\)|pure Python \(.+\))\n", done.stdout)
    forced = subprocess.run([sys.executable, "-m", "programkit", "--version"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PROGRAMKIT_PURE_PYTHON": "1"})
    assert forced.stdout.endswith("; simulate core: pure Python (PROGRAMKIT_PURE_PYTHON is set)\n")


def _on_a_tty(args: list[str], env: dict[str, str]) -> str:
    """Run the console script with stdout on a pseudo-terminal; return what it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([PROGRAMKIT, *args], stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO once the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return b"".join(chunks).decode("utf-8")


def test_colour_only_on_a_tty_and_never_with_no_color(sample_copy):
    (sample_copy / "notes.txt").write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = _on_a_tty(["validate", str(sample_copy)], env)
    assert "\x1b[33m" in coloured and "PK107" in coloured  # yellow warning
    plain = _on_a_tty(["validate", str(sample_copy)], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain and "PK107" in plain
    piped = run("validate", str(sample_copy), cwd=sample_copy.parent, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stdout and "PK107" in piped.stdout
