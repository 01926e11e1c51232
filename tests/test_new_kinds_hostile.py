"""The new kinds at the edges: landingPage, form, staticList and smartList documents holding the wrong JSON
type anywhere are findings in validate and plan, never an internal error (the fuzz suite's
``test_fuzz_the_new_kinds`` does the same at random, through the CLI, with import and export too).

Exhaustive where the fuzz samples: every place up to three levels deep in each document of the event
program, times every wrong type, through the library's validate and plan (what every command runs first).
"""

from __future__ import annotations

import json
import shutil
import traceback
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import SAMPLES
from programkit.canonical import refresh_digests
from programkit.errors import ProgramkitError
from programkit.load import load_bundle
from programkit.plan import make_plan
from programkit import rules as rules_mod
from programkit.validate import validate_loaded
from programkit.workspaces.sqlite import init_workspace

EVENT = SAMPLES / "event-program"
NEW_KIND_DOCS = sorted(a["path"] for a in json.loads((EVENT / "bundle.json").read_text(encoding="utf-8"))["assets"]
                       if a["kind"] in ("landingPage", "form", "staticList", "smartList"))
WRONG_TYPES = [{"a": 1}, [1], [[1]], "x", 10 ** 30, True, 1.5, None, {}, []]


def places(doc: Any, path: tuple = (), depth: int = 3) -> Iterator[tuple]:
    """Every JSON pointer (as a tuple) below ``doc`` to ``depth`` levels; two items of each list."""
    if path:
        yield path
    if depth == 0:
        return
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from places(value, path + (key,), depth - 1)
    elif isinstance(doc, list):
        for i, value in enumerate(doc[:2]):
            yield from places(value, path + (i,), depth - 1)


def replaced(doc: Any, path: tuple, value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize("file", NEW_KIND_DOCS)
def test_wrong_json_types_anywhere_in_the_new_kinds_are_findings(file, tmp_path):
    bundle = tmp_path / "event"
    shutil.copytree(EVENT, bundle)
    original = json.loads((bundle / file).read_text(encoding="utf-8"))
    ws = init_workspace(tmp_path / "ws.db")
    crashed = []
    try:
        for path in places(original):
            for value in WRONG_TYPES:
                (bundle / file).write_text(json.dumps(replaced(original, path, value)), encoding="utf-8")
                refresh_digests(bundle)
                try:
                    loaded = load_bundle(bundle)
                    findings = validate_loaded(loaded)
                    make_plan(loaded.bundle, ws, rules_mod.resolve(), findings=findings)
                except ProgramkitError:
                    pass  # a finding or bad input: exit 1 or 2
                except Exception as e:  # noqa: BLE001 - every one is listed, not just the first
                    where = traceback.extract_tb(e.__traceback__)[-1]
                    crashed.append(f"/{'/'.join(map(str, path))} = {json.dumps(value)[:20]}: {type(e).__name__}: {e} "
                                   f"({Path(where.filename).name}:{where.lineno})")
    finally:
        ws.close()
    assert crashed == [], "\n".join(crashed)


TWINS = [("NFC and NFD", unicodedata.normalize("NFC", "Café VIP"), unicodedata.normalize("NFD", "Café VIP")),
         ("case", "Café VIP", "CAFÉ vip"), ("sharp s", "VIP Straße", "VIP STRASSE"),
         ("NFD and upper NFC", unicodedata.normalize("NFD", "Ångström"), unicodedata.normalize("NFC", "ÅNGSTRÖM"))]


@pytest.mark.parametrize("kind", ["staticList", "smartList", "landingPage", "form"])
@pytest.mark.parametrize("why,first,second", TWINS, ids=[t[0] for t in TWINS])
def test_names_one_to_a_reader_are_a_duplicate_name(kind, why, first, second, tmp_path):
    """Two assets whose names differ only by case or by Unicode normalisation (é as one code point or as e and
    a combining accent) look the same in Marketo's lists: PK201, like two equal names."""
    bundle = tmp_path / "event"
    shutil.copytree(EVENT, bundle)
    data = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    same_kind = [a for a in data["assets"] if a["kind"] == kind]
    twin = dict(same_kind[0], name=second, path="twin/" + same_kind[0]["path"])
    (bundle / twin["path"]).parent.mkdir(parents=True)
    shutil.copy(bundle / same_kind[0]["path"], bundle / twin["path"])
    same_kind[0]["name"] = first
    data["assets"].append(twin)
    (bundle / "bundle.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    refresh_digests(bundle)
    duplicates = [f for f in validate_loaded(load_bundle(bundle)) if f.code == "PK201"]
    assert [f.pointer for f in duplicates] == [f"/assets/{len(data['assets']) - 1}/name"], duplicates
    if unicodedata.normalize("NFC", first) != first or unicodedata.normalize("NFC", second) != second:
        assert "Unicode" in duplicates[0].message, duplicates[0].message
