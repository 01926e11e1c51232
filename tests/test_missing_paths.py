"""Every command says the same thing about a path that does not exist: one wording, one code (PK413), exit 2,
a hint saying what the path should name, and nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SAMPLE
from programkit.workspaces.sqlite import init_workspace

BUNDLE = "Give a bundle directory (the folder holding bundle.json), its bundle.json, or a bundle archive (.zip)."
INIT = "Create it with `programkit workspace init --target nope.db`"
OUT = "goes in the folder out, which does not exist: create it first (mkdir -p out)."

CASES = [
    (["validate", "nope"], "nope", BUNDLE),
    (["validate", "--format", "json", "olm", "nope"], "nope", BUNDLE),
    (["lint", "nope.html"], "nope.html", "Give the path of an Email 2.0 or guided landing page template file (.html)"),
    (["pack", "nope"], "nope", "`programkit pack` takes a bundle directory (the folder holding bundle.json)"),
    (["pack", "olm", "-o", "out/olm.zip"], "out", f"-o out/olm.zip {OUT}"),
    (["unpack", "nope.zip"], "nope.zip", "Give a bundle archive (.zip), as `programkit pack` or `programkit export"),
    (["inspect", "nope"], "nope", BUNDLE),
    (["import", "nope", "-t", "ws.db", "--yes"], "nope", BUNDLE),
    (["import", "olm", "-t", "ws.db", "--plan", "nope.json"], "nope.json",
     "--plan names a plan file that `programkit plan BUNDLE --out plan.json` wrote."),
    (["import", "nope", "-t", "ws.db", "--plan", "nope.json"], "nope", BUNDLE),  # the bundle first
    (["import", "olm", "-t", "ws.db", "--rules", "nope.json"], "nope.json",
     "--rules names a JSON file of conflict rules (`programkit schema conflictRules`)"),
    (["plan", "nope", "-t", "ws.db"], "nope", BUNDLE),
    (["plan", "nope", "-t", "nope.db"], "nope", BUNDLE),  # the bundle first, then the target
    (["plan", "olm", "-t", "ws.db", "--out", "out/plan.json"], "out", f"--out out/plan.json {OUT}"),
    (["export", "OP-Lead Management", "-t", "ws.db", "-o", "out/olm.zip"], "out", f"-o out/olm.zip {OUT}"),
    (["simulate", "nope"], "nope", BUNDLE),
    (["simulate", "olm", "--people", "nope.csv"], "nope.csv",
     "--people names a CSV file: a header row with an 'id' column and the person fields the campaigns read"),
    (["simulate", "olm", "--people", "people.csv", "--events", "nope.jsonl"], "nope.jsonl",
     '--events names a JSON Lines file: one event a line, in time order, e.g. {"at": "2026-04-01T09:00:00Z", '
     '"person": "p1", "type": "score", "data": {"change": "+10"}}.'),
    (["simulate", "olm", "--people", "people.csv", "--out", "out/result.txt"], "out", f"--out out/result.txt {OUT}"),
    (["workspace", "load", "nope.json", "-t", "ws.db"], "nope.json",
     "Give an inventory JSON file describing the instance"),
    (["workspace", "load", "nope.json", "-t", "nope.db"], "nope.json", "Give an inventory JSON file"),
    (["workspace", "show", "-t", "nope.db"], "nope.db", INIT),
    (["workspace", "list", "-t", "nope.db"], "nope.db", INIT),
    (["history", "-t", "nope.db"], "nope.db", INIT),
    (["workspace", "init", "-t", "out/ws.db"], "out", f"--target out/ws.db {OUT}"),
    (["new", "./nope", "fresh"], "./nope", "TEMPLATE is a shipped template's name (`programkit new --list`) or a "
                                           "folder holding template.json."),
    (["new", "op-lead-management", "fresh", "--values", "nope.json"], "nope.json",
     "--values names a JSON file holding an object of parameter names to values"),
]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(SAMPLE, tmp_path / "olm")
    (tmp_path / "people.csv").write_text("id,Email Address\np1,a@example.com\n")
    init_workspace(tmp_path / "ws.db", crm="salesforce").close()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args, missing, hint", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_a_missing_path_is_said_the_same_way_everywhere(folder, invoke, args, missing, hint):
    before = _tree(folder)
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert f"error: {missing}: no such file or directory\n  PK413 [no-such-path]\n  hint: " in r.stderr
    assert hint in r.stderr
    assert "Traceback" not in r.output
    assert _tree(folder) == before  # nothing written, no workspace file made


def test_a_near_miss_is_suggested(folder, invoke):
    r = invoke("validate", "olm/bundel.json")
    assert r.exit_code == 2
    assert f"hint: Did you mean olm/bundle.json? {BUNDLE}" in r.stderr
    r = invoke("inspect", "zzz")
    assert "Did you mean" not in r.stderr
