"""Fuzz every command with hostile input (issue #14): the safety promise as a property.

hypothesis generates hostile bundles (any JSON value at any place of any file, raw byte damage: BOM, CRLF,
invalid UTF-8, truncation, NaN, huge integers, deep nesting, control characters in names), archives, rules
files, inventories, event streams, people CSVs and workspace files, and runs the commands that read them.
For every run:

- the exit status is 0, 1 or 2 (3 is a bug: an uncaught exception);
- nothing on stdout/stderr is a traceback, and no control character or escape sequence from the input
  reaches the terminal (:func:`programkit.terminal.has_unsafe`);
- every input file and the target are byte-identical afterwards when the command failed (and always, for
  the commands that only read).

Profiles (hypothesis settings, chosen with PROGRAMKIT_FUZZ_PROFILE): ``ci`` (default) is bounded to about a
minute on two cores and runs with the suite; ``nightly`` runs 1000 examples a test, randomised
(PROGRAMKIT_FUZZ_EXAMPLES=N sets the count of either)::

    PROGRAMKIT_FUZZ_PROFILE=nightly pytest tests/test_fuzz_cli.py -p no:cacheprovider
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import ROOT, SAMPLE
from programkit.canonical import refresh_digests
from programkit.cli import cli
from programkit.terminal import has_unsafe
from programkit.workspaces.sqlite import init_workspace

settings.register_profile("ci", max_examples=int(os.environ.get("PROGRAMKIT_FUZZ_EXAMPLES", 60)), deadline=None,
                          derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("nightly", max_examples=int(os.environ.get("PROGRAMKIT_FUZZ_EXAMPLES", 1000)), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("PROGRAMKIT_FUZZ_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE)

EXAMPLES = ROOT / "docs" / "examples" / "simulate"
SAMPLE_FILES = sorted(str(p.relative_to(SAMPLE)) for p in SAMPLE.rglob("*") if p.is_file())
JSON_FILES = [f for f in SAMPLE_FILES if f.endswith(".json")]

# --- strategies -------------------------------------------------------------------------------------

#: text with what breaks terminals and parsers: controls, ESC sequences, bidi marks, quotes, NUL, surrogates
nasty_text = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(list("\x00\x07\x08\t\n\r\x1b\x7f\x85\x9b\u202e\u2028\ufeff\"',;\\{}[]$%ab")
                             + ["\x1b[2J", "\x1b]0;x\x07", "{{my.X}}", "{{lead.Email Address}}"]),
             max_size=8).map("".join),
    st.sampled_from(["", " ", "../../etc/passwd", "/etc/passwd", "a" * 300, "\udc80", "CON", "."]))


def _deep(n: int) -> Any:
    value: Any = 1
    for _ in range(n):
        value = [value]
    return value


scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10 ** 40, max_value=10 ** 40),
                   st.floats(allow_nan=False, allow_infinity=False), nasty_text,
                   st.just(_deep(50)))
json_value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(nasty_text, inner, max_size=3)),
                          max_leaves=8)

#: raw byte damage to a file's bytes
byte_damage = st.sampled_from(["bom", "crlf", "bad-utf8", "truncate", "nan", "bigint", "deep", "empty", "nul"])


def _damage(data: bytes, how: str, at: int) -> bytes:
    cut = at % (len(data) + 1)
    return {"bom": b"\xef\xbb\xbf" + data, "crlf": data.replace(b"\n", b"\r\n"),
            "bad-utf8": data[:cut] + b"\xff\xfe" + data[cut:], "truncate": data[:cut],
            "nan": data.replace(b": 1", b": NaN", 1).replace(b"true", b"Infinity", 1),
            "bigint": data.replace(b": 1", b": " + b"9" * 5000, 1), "empty": b"",
            "deep": b'{"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nul": data[:cut] + b"\x00" + data[cut:]}[how]


def _set_at(doc: Any, path: list[int], value: Any) -> Any:
    """Replace the node reached by following ``path`` (each step picks a child by index modulo)."""
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return value
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    doc[key] = _set_at(doc[key], path[1:], value)
    return doc


@st.composite
def hostile_bundle(draw: st.DrawFn) -> dict[str, Any]:
    """A recipe for a damaged copy of the sample: JSON edits and byte damage, digests refreshed or not."""
    edits = draw(st.lists(st.tuples(st.sampled_from(JSON_FILES), st.lists(st.integers(0, 50), max_size=6),
                                    json_value), max_size=3))
    damage = draw(st.lists(st.tuples(st.sampled_from(SAMPLE_FILES), byte_damage, st.integers(0, 10 ** 6)),
                           max_size=1))
    names = draw(st.lists(nasty_text, min_size=0, max_size=2))
    return {"edits": edits, "damage": damage, "names": names, "refresh": draw(st.booleans())}


def build_bundle(recipe: dict[str, Any], dest: Path) -> Path:
    shutil.copytree(SAMPLE, dest)
    manifest = json.loads((dest / "bundle.json").read_text(encoding="utf-8"))
    for i, name in enumerate(recipe["names"]):  # hostile names where names are printed
        if i == 0:
            manifest["program"]["name"] = name
        else:
            manifest["assets"][0]["name"] = name
    (dest / "bundle.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for file, path, value in recipe["edits"]:
        target = dest / file
        doc = json.loads(target.read_text(encoding="utf-8"))
        target.write_text(json.dumps(_set_at(doc, path, value)), encoding="utf-8", errors="surrogatepass")
    if recipe["refresh"]:
        try:
            refresh_digests(dest)
        except Exception:  # noqa: BLE001 - a manifest the edits broke: left as it is, for the commands to report
            pass
    for file, how, at in recipe["damage"]:
        target = dest / file
        target.write_bytes(_damage(target.read_bytes(), how, at))
    return dest


# --- the event program's kinds: landingPage, form, staticList, smartList -----------------------------

EVENT = ROOT / "samples" / "event-program"
EVENT_MANIFEST = json.loads((EVENT / "bundle.json").read_text(encoding="utf-8"))
NEW_KINDS = ("landingPage", "form", "staticList", "smartList")
#: the documents of the new kinds, and bundle.json (their entries: kind, name, folder, templateType…)
EVENT_KIND_FILES = sorted(a["path"] for a in EVENT_MANIFEST["assets"] if a["kind"] in NEW_KINDS) + ["bundle.json"]
EVENT_NEW_KIND_ENTRIES = [i for i, a in enumerate(EVENT_MANIFEST["assets"]) if a["kind"] in NEW_KINDS]

#: values past the usual sizes: a 200,000-character string, a run of lone surrogates, a 300-deep list (JSON
#: past the recursion limit is the byte damage "deep"; deeper here, the test's own json.dumps would recurse)
huge_value = st.sampled_from(["x" * 200_000, "\udc80\ud800" * 500, "é" * 60_000, _deep(300),
                              {"k" * 10_000: ["v" * 10_000] * 10}])
#: ways two names can be one name to Marketo (case-insensitive) or to a file system / a person (NFC)
NAME_TWINS = {"upper": str.upper, "lower": str.lower, "casefold": lambda n: n.casefold(),
              "swapcase": str.swapcase, "nfd": lambda n: unicodedata.normalize("NFD", n),
              "nfc": lambda n: unicodedata.normalize("NFC", n), "padded": lambda n: f" {n} ",
              "sharp-s": lambda n: n.replace("ss", "ß") + "ß"}


@st.composite
def hostile_event_bundle(draw: st.DrawFn) -> dict[str, Any]:
    """A recipe for a damaged copy of the event program, aimed at the new kinds' documents and entries."""
    edits = draw(st.lists(st.tuples(st.sampled_from(EVENT_KIND_FILES), st.lists(st.integers(0, 50), max_size=6),
                                    st.one_of(json_value, huge_value)), max_size=1))
    # rename entry j after entry i, through a case/normalisation twin (a base with an accent, sometimes)
    twins = draw(st.lists(st.tuples(st.sampled_from(EVENT_NEW_KIND_ENTRIES),
                                    st.integers(0, len(EVENT_MANIFEST["assets"]) - 1),
                                    st.sampled_from(sorted(NAME_TWINS)),
                                    st.sampled_from(["", "Café Straße ", "Ångström "])), max_size=2))
    names = draw(st.lists(st.tuples(st.sampled_from(EVENT_NEW_KIND_ENTRIES), st.one_of(nasty_text, huge_value)),
                          max_size=1))
    damage = draw(st.lists(st.tuples(st.sampled_from(EVENT_KIND_FILES), byte_damage, st.integers(0, 10 ** 6)),
                           max_size=1))
    # strings for strings only: documents that stay schema-valid get through to import and export
    texts = draw(st.lists(st.tuples(st.sampled_from(EVENT_KIND_FILES), st.lists(st.integers(0, 50), max_size=6),
                                    st.one_of(nasty_text, huge_value.filter(lambda v: isinstance(v, str)))),
                          max_size=3))
    # digests mostly refreshed: else most examples stop at the digest check, before the kinds' own checks
    return {"edits": edits, "texts": texts, "twins": twins, "names": names, "damage": damage,
            "refresh": draw(st.sampled_from([True, True, True, False])), "imported_first": draw(st.booleans())}


def build_event_bundle(recipe: dict[str, Any], dest: Path) -> Path:
    shutil.copytree(EVENT, dest)
    manifest = json.loads((dest / "bundle.json").read_text(encoding="utf-8"))
    assets = manifest["assets"]
    for i, j, twin, accent in recipe["twins"]:
        base = accent + assets[i]["name"]
        assets[i]["name"] = unicodedata.normalize("NFC", base)
        assets[j]["name"] = NAME_TWINS[twin](base)
    for i, name in recipe["names"]:
        assets[i]["name"] = name
    if recipe["imported_first"]:  # an upgrade of what the workspace holds, not the same version changed (PK512)
        manifest["version"] = "1.1.0"
    (dest / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8", errors="surrogatepass")
    for file, path, value in recipe["edits"]:
        target = dest / file
        doc = json.loads(target.read_text(encoding="utf-8", errors="surrogatepass"))
        target.write_text(json.dumps(_set_at(doc, path, value)), encoding="utf-8", errors="surrogatepass")
    for file, path, text in recipe["texts"]:
        target = dest / file
        doc = json.loads(target.read_text(encoding="utf-8", errors="surrogatepass"))
        target.write_text(json.dumps(_set_text_at(doc, path, text)), encoding="utf-8", errors="surrogatepass")
    if recipe["refresh"]:
        try:
            refresh_digests(dest)
        except Exception:  # noqa: BLE001 - a manifest the edits broke: left as it is, for the commands to report
            pass
    for file, how, at in recipe["damage"]:
        target = dest / file
        target.write_bytes(_damage(target.read_bytes(), how, at))
    return dest


def _set_text_at(doc: Any, path: list[int], text: str) -> Any:
    """Like :func:`_set_at`, but only a string is replaced (by ``text``): the document keeps its shape."""
    if isinstance(doc, str):
        return text
    if not path or not isinstance(doc, (dict, list)) or not doc:
        return doc
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    doc[key] = _set_text_at(doc[key], path[1:], text)
    return doc


# --- running commands -------------------------------------------------------------------------------


def snapshot(*paths: Path) -> dict[str, str]:
    out = {}
    for root in paths:
        if not os.path.lexists(root):
            out[str(root)] = "absent"
            continue
        items = [root] if not root.is_dir() else sorted(root.rglob("*"))
        for p in items:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out


def run(args: list[str], inputs: list[Path], *, read_only: bool = False) -> int:
    """Run one command; assert the safety properties; return its exit status."""
    before = snapshot(*inputs)
    r = CliRunner().invoke(cli, args, catch_exceptions=True)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"{args}: uncaught {r.exception!r}") from r.exception
    assert r.exit_code in (0, 1, 2), (args, r.exit_code, r.output[-2000:])
    assert "Traceback" not in r.output, (args, r.output[-2000:])
    assert not has_unsafe(r.output), (args, [c for c in r.output if has_unsafe(c)][:5])
    if r.exit_code != 0 or read_only:
        assert snapshot(*inputs) == before, (args, r.output[-2000:])
    return r.exit_code


@pytest.fixture(autouse=True)
def _no_crash_reports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PROGRAMKIT_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def _workspace(folder: Path) -> Path:
    db = folder / "ws.db"
    init_workspace(db, crm="salesforce").close()
    return db


# --- the properties ---------------------------------------------------------------------------------


@FUZZ
@given(recipe=hostile_bundle())
def test_fuzz_bundle_commands(recipe: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bundle = build_bundle(recipe, folder / "b")
        db = _workspace(folder)
        for args in (["validate", str(bundle)], ["validate", str(bundle), "--format", "json"],
                     ["inspect", str(bundle)], ["plan", str(bundle), "-t", str(db)],
                     ["simulate", str(bundle)], ["import", str(bundle), "-t", str(db), "--dry-run"]):
            run(args, [bundle, db], read_only=True)
        run(["pack", str(bundle), "-o", str(folder / "b.zip")], [bundle])
        status = run(["import", str(bundle), "-t", str(db), "--yes"], [bundle, db])
        if status == 0:
            name = json.loads((bundle / "bundle.json").read_text(encoding="utf-8-sig"))["program"]["name"]
            run(["export", name, "-t", str(db), "-o", str(folder / "out")], [db])
            run(["history", "-t", str(db)], [db], read_only=True)
            run(["workspace", "show", "-t", str(db)], [db], read_only=True)


@FUZZ
@given(recipe=hostile_event_bundle())
def test_fuzz_the_new_kinds(recipe: dict[str, Any]) -> None:
    """landingPage, form, staticList and smartList documents and entries, hostile, through validate, plan,
    import into the embedded workspace (fresh, or holding the event program already) and export."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bundle = build_event_bundle(recipe, folder / "b")
        db = folder / "ws.db"
        init_workspace(db).close()
        if recipe["imported_first"]:  # the same names exist already: the conflict rules and upgrades decide
            assert CliRunner().invoke(cli, ["import", str(EVENT), "-t", str(db), "--yes"]).exit_code == 0
        for args in (["validate", str(bundle)], ["validate", str(bundle), "--format", "json"],
                     ["plan", str(bundle), "-t", str(db)], ["plan", str(bundle), "-t", str(db), "--format", "json"],
                     ["import", str(bundle), "-t", str(db), "--dry-run"]):
            run(args, [bundle, db], read_only=True)
        status = run(["import", str(bundle), "-t", str(db), "--yes"], [bundle, db])
        # how far the examples get (`pytest --hypothesis-show-statistics`)
        event(f"import exit {status}" + (" (an upgrade)" if recipe["imported_first"] else ""))
        new_file = folder / "new.db"
        run(["import", str(bundle), "-t", str(new_file), "--yes"], [bundle, new_file])
        if status == 0:
            name = json.loads((bundle / "bundle.json").read_text(encoding="utf-8-sig"))["program"]["name"]
            exported = run(["export", name, "-t", str(db), "-o", str(folder / "out")], [db])
            run(["export", name, "-t", str(db), "-o", str(folder / "out.zip")], [db])
            if exported == 0:  # what export wrote validates and imports again
                assert run(["validate", str(folder / "out")], [folder / "out"], read_only=True) in (0, 1)
                run(["import", str(folder / "out"), "-t", str(db), "--yes"], [folder / "out", db])
            run(["history", "-t", str(db)], [db], read_only=True)


@FUZZ
@given(recipe=hostile_bundle(), entry=st.sampled_from(["", "../x", "/abs", "a/../../b", "ok.txt", "bundle.json"]),
       junk=st.binary(max_size=64), mode=st.sampled_from(["zip", "bytes", "zip+entry", "truncated"]))
def test_fuzz_archives(recipe: dict[str, Any], entry: str, junk: bytes, mode: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bundle = build_bundle(recipe, folder / "b")
        archive = folder / "a.zip"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for p in sorted(bundle.rglob("*")):
                if p.is_file():
                    zf.writestr(str(p.relative_to(bundle)), p.read_bytes())
            if mode == "zip+entry" and entry:
                zf.writestr(entry, junk)
        data = buf.getvalue()
        archive.write_bytes(junk if mode == "bytes" else data[: len(data) // 2] if mode == "truncated" else data)
        db = _workspace(folder)
        for args in (["validate", str(archive)], ["inspect", str(archive)], ["plan", str(archive), "-t", str(db)]):
            run(args, [archive, db], read_only=True)
        run(["unpack", str(archive), "-o", str(folder / "u")], [archive])


@FUZZ
@given(doc=json_value, raw=st.one_of(st.none(), st.binary(max_size=80)))
def test_fuzz_rules_files_saved_plans_and_inventories(doc: Any, raw: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = _workspace(folder)
        file = folder / "in.json"
        if raw is not None:
            file.write_bytes(raw)
        else:
            file.write_text(json.dumps(doc), encoding="utf-8", errors="surrogatepass")
        run(["import", str(SAMPLE), "-t", str(db), "--rules", str(file), "--dry-run"], [file, db], read_only=True)
        run(["import", str(SAMPLE), "-t", str(db), "--plan", str(file)], [file, db])
        run(["workspace", "load", str(file), "-t", str(db)], [file, db])
        if isinstance(doc, dict):  # an inventory-shaped document with hostile values
            inv = folder / "inv.json"
            inv.write_text(json.dumps({"fields": [doc], "emailTemplates": [dict(doc, name="T", content="x")],
                                       "tagTypes": doc}), encoding="utf-8", errors="surrogatepass")
            run(["workspace", "load", str(inv), "-t", str(db)], [inv, db])
        run(["workspace", "show", "-t", str(db)], [db], read_only=True)


@FUZZ
@given(lines=st.lists(st.one_of(json_value.map(lambda v: json.dumps(v)), nasty_text,
                                st.fixed_dictionaries({"at": st.sampled_from(["2026-04-01T09:00:00Z", "x", 5]),
                                                       "person": nasty_text,
                                                       "type": st.sampled_from(["score", "created", "x"]),
                                                       "data": json_value}).map(json.dumps)), max_size=6),
       bom=st.booleans(), raw=st.binary(max_size=40))
def test_fuzz_event_streams(lines: list[str], bom: bool, raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        events = folder / "e.jsonl"
        events.write_bytes((b"\xef\xbb\xbf" if bom else b"") +
                           "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + raw)
        for sample in ("op-lead-management", "partner-center-referrals"):
            run(["simulate", str(ROOT / "samples" / sample), "--events", str(events)], [events], read_only=True)


@FUZZ
@given(header=st.lists(nasty_text, max_size=5), rows=st.lists(st.lists(nasty_text, max_size=5), max_size=4),
       damage=st.sampled_from(["none", "quote", "bom", "bad-utf8", "wide", "crlf"]))
def test_fuzz_people_csv(header: list[str], rows: list[list[str]], damage: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        people = folder / "p.csv"
        text = "\n".join(",".join(r) for r in [["id", *header], *rows]) + "\n"
        data = text.encode("utf-8", "surrogatepass")
        data = {"none": data, "quote": data + b'p9,"unterminated\n', "bom": b"\xef\xbb\xbf" + data,
                "bad-utf8": data + b"p\xff\xfe,1\n", "wide": b",".join(b"c%d" % i for i in range(20000)) + b"\n1\n",
                "crlf": data.replace(b"\n", b"\r\n")}[damage]
        people.write_bytes(data)
        run(["simulate", str(SAMPLE), "--people", str(people), "--events", str(EXAMPLES / "marketo-events.jsonl")],
            [people], read_only=True)


@FUZZ
@given(kind=st.sampled_from(["bytes", "foreign", "truncated", "version", "empty"]), raw=st.binary(max_size=200),
       cut=st.integers(0, 100_000))
def test_fuzz_workspace_files(kind: str, raw: bytes, cut: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        target = folder / "t.db"
        if kind == "bytes":
            target.write_bytes(raw)
        elif kind == "empty":
            target.write_bytes(b"")
        elif kind == "foreign":
            con = sqlite3.connect(target)
            con.execute("CREATE TABLE t (x)")
            con.execute("INSERT INTO t VALUES (?)", (raw,))
            con.commit()
            con.close()
        else:
            db = folder / "real.db"
            init_workspace(db, crm="salesforce").close()
            data = db.read_bytes()
            if kind == "truncated":
                data = data[: cut % len(data)]
            else:
                data = data[:60] + (cut % 256).to_bytes(1, "big") * 4 + data[64:]  # user_version bytes
            target.write_bytes(data)
            db.unlink()
        for args in (["plan", str(SAMPLE)], ["history"], ["workspace", "show"], ["workspace", "list"],
                     ["export", "OP-Lead Management", "-o", str(folder / "out")],
                     ["import", str(SAMPLE), "--dry-run"]):
            run([*args, "-t", str(target)], [target], read_only=True)
        run(["import", str(SAMPLE), "-t", str(target), "--yes"], [target])
