"""Shared fixtures: the sample bundle, scratch copies of it, and a CLI runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SAMPLE = SAMPLES / "op-lead-management"


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A scratch copy of the OP-Lead Management sample to break."""
    dest = tmp_path / "op-lead-management"
    shutil.copytree(SAMPLE, dest)
    return dest


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner) -> Callable[..., Any]:
    from programkit.cli import cli

    def _invoke(*args: str, **kw: Any):
        return runner.invoke(cli, list(args), catch_exceptions=False, **kw)

    return _invoke


def edit_json(path: Path, fn: Callable[[Any], Any]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    result = fn(data)
    path.write_text(json.dumps(data if result is None else result, indent=2) + "\n", encoding="utf-8")
