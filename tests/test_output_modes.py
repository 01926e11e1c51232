"""What the user asked for gets the modes a plain write would give (umask applied), not the 0600/0700 of the
temporary file or folder it was written to first and renamed into place."""

from __future__ import annotations

import os
import stat

import pytest

from conftest import SAMPLE


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_get_the_usual_modes(tmp_path, invoke, umask_022):
    db = tmp_path / "pk.db"
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", str(db)).exit_code == 0
    assert invoke("import", str(SAMPLE), "--target", str(db), "--yes").exit_code == 0
    r = invoke("export", "OP-Lead Management", "--target", str(db), "-o", str(tmp_path / "exported"))
    assert r.exit_code == 0, r.output
    assert _mode(tmp_path / "exported") == 0o755
    assert _mode(tmp_path / "exported" / "bundle.json") == 0o644
    r = invoke("export", "OP-Lead Management", "--target", str(db), "-o", str(tmp_path / "exported.zip"))
    assert r.exit_code == 0 and _mode(tmp_path / "exported.zip") == 0o644
    r = invoke("simulate", str(SAMPLE), "--format", "json", "--out", str(tmp_path / "result.json"))
    assert r.exit_code == 0, r.output
    assert _mode(tmp_path / "result.json") == 0o644
    r = invoke("unpack", str(tmp_path / "exported.zip"), "-o", str(tmp_path / "unpacked"))
    assert r.exit_code == 0, r.output
    assert _mode(tmp_path / "unpacked") == 0o755
