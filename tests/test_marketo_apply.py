"""Apply into the stand-in Marketo: concurrent batches, keep-both copy reuse, honest output, local history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from programkit.apply import apply_plan
from programkit.workspaces.marketo import MarketoWorkspace

from import_helpers import PNG, add_asset, import_into, plan_for
from marketo_support import client, fake, marketo_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


@pytest.fixture
def ws(fake, client, tmp_path, monkeypatch):
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    return MarketoWorkspace(fake.url, client=client)


def fresh(ws: MarketoWorkspace) -> MarketoWorkspace:
    """The same instance read afresh, as the next command would."""
    return MarketoWorkspace(ws.url, client=ws.client, state_dir=ws.state_dir)


def _theirs(fake, name: str, content: bytes) -> None:
    """A file someone else uploaded to the instance's Images and Files."""
    from fake_marketo import _design_create

    _design_create(fake, "file", {"name": name, "folder": {"id": 4, "type": "Folder"}}, content,
                   mimeType="image/png", size=len(content))


# -- 2. an earlier identical keep-both copy is reused on Marketo as on SQLite -----------------------------


def test_an_earlier_identical_copy_of_an_image_is_reused_not_copied_again(fake, ws, sample_copy):
    _theirs(fake, "logo.png", b"their logo")
    add_asset(sample_copy, "image", "logo.png", "design-studio/logo.png", PNG, mimeType="image/png")
    plan, _ = import_into(sample_copy, ws)
    assert [(a.action, a.as_name) for a in plan.actions if a.kind == "image"] == [("rename", "logo - 1.png")]
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]

    # the same bundle again as another program (keepBoth): the copy holds these bytes already
    again, _ = import_into(sample_copy, fresh(ws), as_name="OP-Lead Management 2")
    (image,) = [a for a in again.actions if a.kind == "image"]
    assert (image.action, image.as_name) == ("reuse", "logo - 1.png")
    assert image.reason == "identical content (same sha256) already in the workspace as 'logo - 1.png'"
    assert sorted(f["name"] for f in fake.assets["file"].values()) == ["logo - 1.png", "logo.png"]
    assert sorted(p["name"] for p in fake.programs.values()) == ["OP-Lead Management", "OP-Lead Management 2"]


def test_design_names_finds_image_copies_in_the_form_marketo_and_the_plan_use(fake, ws):
    for name in ("logo.png", "logo - 1.png", "LOGO.png - 3", "logo - x.png", "logo2.png", "logo - 2.gif"):
        _theirs(fake, name, name.encode())
    assert ws.design_names("image", "Logo.PNG") == {"logo.png", "logo - 1.png", "LOGO.png - 3"}
