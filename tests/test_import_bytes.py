"""An import reads each bundle file once: the load keeps the bytes it hashed, apply writes those.

Also the pieces that made that cheap: DirSource's one-walk probe (same answers as the
pathlib checks it replaced) and the embedded writer's bulk insert returning the new ids.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from import_helpers import PNG, add_asset, add_design_assets, plan_for
from programkit import load as load_mod
from programkit.apply import apply_plan
from programkit.bundle import DirSource
from programkit.canonical import sha256_bytes
from programkit.errors import ProgramkitError
from programkit.load import load_bundle
from programkit.plan import plan_path
from programkit.workspaces.sqlite import init_workspace


def test_keep_bytes_keeps_exactly_the_hashed_bytes(sample_copy):
    add_design_assets(sample_copy)
    kept = load_bundle(sample_copy, keep_bytes=True).bundle
    assert {a.path for a in kept.assets} >= {"design-studio/logo.png", "design-studio/simple-lp.html",
                                             "emails/01-email-alert-mql.json"}
    for a in kept.assets:
        assert a.data == (sample_copy / a.path).read_bytes()
        assert sha256_bytes(a.data) == a.actual_sha256 == a.sha256
    # validate does not ask for them: nothing is held
    assert all(a.data is None for a in load_bundle(sample_copy).bundle.assets)


def test_keep_bytes_stops_at_the_budget(sample_copy, monkeypatch):
    add_asset(sample_copy, "image", "big.png", "design-studio/big.png", PNG * 100)
    sizes = {a.path: (sample_copy / a.path).stat().st_size for a in load_bundle(sample_copy).bundle.assets}
    big = sizes["design-studio/big.png"]
    monkeypatch.setattr(load_mod, "KEEP_BYTES", sum(sizes.values()) - big)  # everything but the image fits
    bundle = load_bundle(sample_copy, keep_bytes=True).bundle
    kept = {a.path for a in bundle.assets if a.data is not None}
    assert kept == set(sizes) - {"design-studio/big.png"}
    image = next(a for a in bundle.assets if a.kind == "image")
    assert image.actual_sha256 == hashlib.sha256(PNG * 100).hexdigest()  # still hashed, streamed


@pytest.fixture
def design_ws(sample_copy, tmp_path):
    """The sample with an image in it, and an empty embedded workspace with a CRM."""
    add_design_assets(sample_copy)
    ws = init_workspace(tmp_path / "pk.db", crm="salesforce")
    yield ws
    ws.close()


def _edit_logo(bundle_dir: Path) -> None:
    (bundle_dir / "design-studio" / "logo.png").write_bytes(b"edited after planning")


def _refused(plan, bundle, ws) -> str:
    before = ws.revision()
    with pytest.raises(ProgramkitError) as e:
        apply_plan(plan, bundle, ws)
    assert [f.code for f in e.value.findings] == ["PK522"]
    assert ws.revision() == before and ws.programs() == [] and ws.history() == []  # nothing written
    return e.value.findings[0].message


def test_import_writes_the_bytes_it_validated(sample_copy, design_ws):
    plan, bundle = plan_path(str(sample_copy), design_ws)  # what `programkit import` runs: bytes kept
    _edit_logo(sample_copy)
    apply_plan(plan, bundle, design_ws)
    logo = design_ws.design_assets("image", ["logo.png"])["logo.png"]
    assert design_ws.read(logo.id) == PNG and logo.sha256 == sha256_bytes(PNG)


def test_file_changed_between_planning_and_applying_without_kept_bytes(sample_copy, design_ws):
    plan, bundle = plan_for(sample_copy, design_ws)  # load_bundle() without keep_bytes: apply reads the files
    _edit_logo(sample_copy)
    assert "design-studio/logo.png has sha256" in _refused(plan, bundle, design_ws)


def test_kept_bytes_of_another_load_are_refused(sample_copy, design_ws):
    """A plan applied with a bundle loaded later, whose file changed in between: PK522, nothing written."""
    plan, _ = plan_path(str(sample_copy), design_ws)
    _edit_logo(sample_copy)
    _refused(plan, load_bundle(sample_copy, keep_bytes=True).bundle, design_ws)


def test_put_assets_returns_the_new_ids_in_order(tmp_path):
    ws = init_workspace(tmp_path / "pk.db")
    try:
        rows = [("image", f"img-{i}.png", PNG + bytes([i]), sha256_bytes(PNG + bytes([i])), None, {"i": i})
                for i in (3, 1, 2)]
        rows.insert(1, ("snippet", "Footer", b"<p>f</p>", sha256_bytes(b"<p>f</p>"), None, None))
        with ws.transaction() as w:
            w.put_asset("image", "older.png", PNG, sha256_bytes(PNG))
            ids = w.put_assets(rows)
            assert w.put_assets([]) == []
        assert len(set(ids)) == 4
        for (kind, name, content, _, _, meta), asset_id in zip(rows, ids):
            info = ws.asset(asset_id)
            assert (info.kind, info.name, info.meta) == (kind, name, meta or {})
            assert ws.read(asset_id) == content
    finally:
        ws.close()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_dir_source_probe_matches_the_pathlib_checks(tmp_path):
    root = tmp_path / "b"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f.txt").write_text("x")
    (root / "top.txt").write_text("yy")
    os.symlink(root / "a", root / "linkdir")
    os.symlink(root / "top.txt", root / "a" / "l.txt")
    src = DirSource(root)
    expect = {"top.txt": ("file", 2), "a/b/f.txt": ("file", 1), "linkdir/b/f.txt": ("symlink", 0),
              "a/l.txt": ("symlink", 0), "a/b": ("missing", 0), "nope/x": ("missing", 0),
              "a/b/f.txt/x": ("missing", 0)}
    for path, want in expect.items():
        assert src.probe(path) == want, path
        pl = Path(root, *path.split("/"))
        chain = [Path(root, *path.split("/")[:i]) for i in range(1, len(path.split("/")) + 1)]
        assert src.is_symlink(path) == any(p.is_symlink() for p in chain), path
        assert src.is_file(path) == (not any(p.is_symlink() for p in chain) and pl.is_file()), path
    with pytest.raises(OSError):  # a name the file system rejects is an error (PK112), not "missing"
        src.probe("x" * 300)
    assert src.names() == ["a/b/f.txt", "a/l.txt", "top.txt"]
