"""The embedded SQLite workspace: seeding, look-ups, transactions, migrations, busy writers."""

from __future__ import annotations

import hashlib
import sqlite3
import threading

import pytest

from programkit.canonical import sha256_bytes
from programkit.errors import BadInput, ProgramkitError
from programkit.workspaces import ImportRecord, open_target
from programkit.workspaces.sqlite import (MIGRATIONS, SCHEMA_VERSION, WorkspaceBusy, connect, init_workspace,
                                          list_workspaces, open_workspace)

PROGRAM = {"name": "OP-Lead Management", "type": "default", "channel": "Operational",
           "membershipStatuses": ["01-Member"], "tags": {"Program Purpose": "Lead Management"},
           "folders": [{"name": "Campaigns"}, {"name": "Email Alert"}]}


def put(w, kind, name, content: bytes, **kw):
    return w.put_asset(kind, name, content, sha256_bytes(content), **kw)


@pytest.fixture
def ws(tmp_path):
    w = init_workspace(tmp_path / "pk.db", "Default", crm="salesforce")
    yield w
    w.close()


def test_new_workspace_is_seeded_like_a_new_marketo_instance(ws):
    fields = ws.fields()
    assert fields["leadScore"].display_name == "Person Score"
    assert fields["email"].type == "email"
    assert ws.channels()["Operational"] == ["01-Member"]
    assert ws.channels()["Webinar"] == ["Not in Program", "Invited", "Registered", "No Show", "Attended",
                                        "Attended On-demand"]
    assert ws.crm() == "salesforce"
    assert ws.tag_types() == {}
    assert ws.programs() == []
    assert ws.custom_fields() == set()


def test_one_file_holds_several_workspaces(tmp_path):
    db = tmp_path / "pk.db"
    init_workspace(db).close()
    init_workspace(db, "EMEA", crm="dynamics").close()
    assert [(w["name"], w["crm"]) for w in list_workspaces(db)] == [("Default", None), ("EMEA", "dynamics")]
    with pytest.raises(BadInput, match="already has a workspace called 'emea'"):
        init_workspace(db, "emea")
    with pytest.raises(BadInput, match="has no workspace called 'APAC'.*"):
        open_workspace(db, "APAC", create=False)
    with open_workspace(db, "emea", create=False) as w:
        assert w.name == "EMEA" and w.crm() == "dynamics"


def test_programs_folders_assets_and_history_round_trip(ws):
    before = ws.revision()
    with ws.transaction() as w:
        pid = w.create_program(PROGRAM, folder="Operational")
        w.ensure_folder(pid, "Campaigns/Scoring")
        aid = put(w, "smartCampaign", "01 - Sync", b'{"type": "batch"}', folder="Campaigns", program_id=pid)
        tid = put(w, "emailTemplate", "Quick Start", b"<html></html>", meta={"path": "t/q.html"})
        w.add_tag_value("Program Purpose", "Lead Management")
        w.record_import(ImportRecord(bundle="op-lead-management", version="1.0.0", digest="d" * 64,
                                     program="op-lead management", rules={"images": "keepBoth"}, plan={"steps": []},
                                     mapping=[], started_at="2026-01-01T00:00:00+00:00"))
    assert ws.revision() != before
    p = ws.program("op-lead MANAGEMENT")
    assert p.id == pid
    assert p.data["folders"] == [{"name": "Campaigns", "folders": [{"name": "Scoring"}]}, {"name": "Email Alert"}]
    assert ws.program_folders(pid) == ["Campaigns", "Email Alert", "Campaigns/Scoring"]
    assert p.provenance.bundle == "op-lead-management" and p.provenance.version == "1.0.0"
    assets = ws.program_assets(pid)
    assert [(a.kind, a.name, a.folder) for a in assets] == [("smartCampaign", "01 - Sync", "Campaigns")]
    assert ws.read(aid) == b'{"type": "batch"}'
    assert assets[0].sha256 == hashlib.sha256(b'{"type": "batch"}').hexdigest()
    found = ws.design_assets("emailTemplate", ["QUICK START", "Missing"])
    assert list(found) == ["quick start"] and found["quick start"].id == tid
    assert found["quick start"].meta == {"path": "t/q.html"}
    assert ws.tag_types() == {"Program Purpose": {"Lead Management"}}
    [h] = ws.history()
    assert (h.bundle, h.outcome, h.workspace, h.rules) == ("op-lead-management", "applied", "Default",
                                                           {"images": "keepBoth"})
    assert ws.count()["smartCampaign"] == 1 and ws.count()["emailTemplate"] == 1 and ws.count()["imports"] == 1


def test_design_names_lists_base_and_marketo_copy_names(ws):
    with ws.transaction() as w:
        for name in ["Standard Template", "standard template - 1", "Standard Template - 12",
                     "Standard Template - x", "Standard Templates", "Other"]:
            put(w, "emailTemplate", name, name.encode())
        for name in ["logo.png", "logo - 1.png", "logo - 2.jpg", "logo.png - 3", "logos.png"]:
            put(w, "image", name, name.encode())
    assert ws.design_names("emailTemplate", "Standard Template") == {
        "Standard Template", "standard template - 1", "Standard Template - 12"}
    assert ws.design_names("image", "LOGO.png") == {"logo.png", "logo - 1.png", "logo.png - 3"}
    assert ws.design_names("image", "nothing.gif") == set()


def test_design_assets_bulk_lookup_over_many_names(ws):
    rows = [("image", f"img-{i}.png", f"{i}".encode(), sha256_bytes(f"{i}".encode()), None, None) for i in range(1200)]
    with ws.transaction() as w:
        w.put_assets(rows)
    found = ws.design_assets("image", [f"IMG-{i}.png" for i in range(0, 1300, 2)])
    assert len(found) == 600 and found["img-1198.png"].name == "img-1198.png"


def test_rollback_leaves_revision_and_content_unchanged(ws):
    with ws.transaction() as w:
        tid = put(w, "emailTemplate", "T", b"one")
    rev, counts = ws.revision(), ws.count()
    with pytest.raises(RuntimeError):
        with ws.transaction() as w:
            w.replace_asset(tid, b"two", sha256_bytes(b"two"))
            w.create_program(PROGRAM)
            put(w, "image", "x.png", b"x")
            raise RuntimeError("boom")
    assert ws.revision() == rev
    assert ws.count() == counts
    assert ws.read(tid) == b"one"
    with pytest.raises(ProgramkitError, match="only valid inside"):
        w.add_tag_value("a", "b")


def test_a_transaction_that_writes_nothing_keeps_the_revision(ws):
    rev = ws.revision()
    with ws.transaction():
        pass
    assert ws.revision() == rev


def test_names_must_be_free_and_digests_must_match(ws):
    with ws.transaction() as w:
        put(w, "snippet", "Footer", b"<p>f</p>")
    with pytest.raises(ProgramkitError, match="already has a snippet called 'FOOTER'"):
        with ws.transaction() as w:
            put(w, "snippet", "FOOTER", b"x")
    with pytest.raises(ProgramkitError, match="does not match its sha256"):
        with ws.transaction() as w:
            w.put_asset("snippet", "Other", b"x", "0" * 64)
    with pytest.raises(BadInput, match="lives inside a program"):
        with ws.transaction() as w:
            put(w, "email", "E", b"{}")
    assert ws.names("snippets") == {"Footer"}


def test_snippet_requirements_are_names_or_design_assets(ws):
    with ws.transaction() as w:
        w.add_name("snippets", "Legal Footer")
        put(w, "snippet", "Header", b"<p>h</p>")
        w.add_name("segmentations", "Region")
        w.add_name("webhooks", "Enrich")
        w.add_name("customObjects", "Car")
    assert ws.names("snippets") == {"Legal Footer", "Header"}
    assert ws.names("segmentations") == {"Region"}
    assert ws.names("webhooks") == {"Enrich"}
    assert ws.names("customObjects") == {"Car"}
    with pytest.raises(ValueError):
        ws.names("fields")


def _v1_file(path):
    db = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:1]:
        step(db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO workspaces (name, name_key, crm, revision, created_at) VALUES ('Default', 'default', "
               "NULL, 3, 'then')")
    db.execute("INSERT INTO programs (workspace_id, name, name_key, folder, data, created_at, updated_at) "
               "VALUES (1, 'Old', 'old', NULL, '{\"name\": \"Old\"}', 'then', 'then')")
    db.close()


def test_a_version_1_file_is_migrated_forward_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    _v1_file(path)
    with open_workspace(path, create=False) as w:
        assert w.program("old").data == {"name": "Old"}
        assert w.program("old").provenance is None
        assert w.history() == []
        assert w.revision() == "1.3"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    db.close()


def test_a_file_from_a_newer_programkit_is_refused(tmp_path):
    path = tmp_path / "new.db"
    init_workspace(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(BadInput) as e:
        open_workspace(path)
    assert e.value.message == (f"{path} has workspace schema version {SCHEMA_VERSION + 5}, newer than this "
                               f"programkit understands (version {SCHEMA_VERSION})")


def test_not_a_database_is_bad_input(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BadInput, match="is not a programkit workspace file"):
        open_workspace(path)


def test_a_second_writer_waits_then_gets_workspace_busy(tmp_path):
    path = tmp_path / "pk.db"
    init_workspace(path).close()
    first = open_workspace(path, busy_timeout=5)
    second = open_workspace(path, busy_timeout=0.2)
    holding, release = threading.Event(), threading.Event()

    with first.transaction() as w:
        w.add_tag_value("Region", "EMEA")
        with pytest.raises(WorkspaceBusy, match="gave up after 0.2 s"):
            with second.transaction():
                pass
        # readers are not blocked by the writer (WAL) and do not see uncommitted rows
        assert second.tag_types() == {}
    assert second.tag_types() == {"Region": {"EMEA"}}

    # once the first writer commits, a waiting writer gets through within its timeout
    patient = open_workspace(path, busy_timeout=5)

    def hold() -> None:
        other = open_workspace(path)
        with other.transaction() as w2:
            w2.add_tag_value("Region", "APAC")
            holding.set()
            release.wait(5)
        other.close()

    t = threading.Thread(target=hold)
    t.start()
    holding.wait(5)
    threading.Timer(0.3, release.set).start()
    with patient.transaction() as w:
        w.add_tag_value("Region", "AMER")
    t.join(5)
    assert patient.tag_types() == {"Region": {"EMEA", "APAC", "AMER"}}
    for w in (first, second, patient):
        w.close()


def test_busy_timeout_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "pk.db"
    init_workspace(path).close()
    first = open_workspace(path)
    monkeypatch.setenv("PROGRAMKIT_BUSY_TIMEOUT", "0.1")
    second = open_workspace(path)
    with first.transaction() as w:
        w.add_tag_value("Region", "EMEA")
        with pytest.raises(WorkspaceBusy) as e:
            with second.transaction():
                pass
    assert e.value.message == f"{path} is being written by another process; gave up after 0.1 s"
    assert e.value.exit_code == 1
    monkeypatch.setenv("PROGRAMKIT_BUSY_TIMEOUT", "soon")
    with pytest.raises(BadInput, match="PROGRAMKIT_BUSY_TIMEOUT='soon' is not a number of seconds"):
        open_workspace(path)
    first.close()
    second.close()


def test_update_program_keeps_folders_the_workspace_has(ws):
    with ws.transaction() as w:
        pid = w.create_program(PROGRAM)
        w.ensure_folder(pid, "Admin")
    with ws.transaction() as w:
        w.update_program(pid, {**PROGRAM, "folders": [{"name": "Campaigns"}], "tokens": [
            {"name": "T", "type": "text", "value": "x"}]})
    data = ws.program(PROGRAM["name"]).data
    assert data["folders"] == [{"name": "Campaigns"}, {"name": "Email Alert"}, {"name": "Admin"}]
    assert data["tokens"] == [{"name": "T", "type": "text", "value": "x"}]


def test_open_target_routes_paths_to_sqlite_and_urls_to_marketo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_target() as w:
        assert w.name == "Default" and (tmp_path / "programkit.db").is_file()
    with open_target(f"sqlite:{tmp_path / 'x.db'}", "Sandbox") as w:
        assert w.name == "Sandbox"
    monkeypatch.delenv("MARKETO_CLIENT_ID", raising=False)
    monkeypatch.delenv("MARKETO_CLIENT_SECRET", raising=False)
    with pytest.raises(BadInput, match="MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET are not set"):
        open_target("https://123-abc-456.mktorest.com")
    assert not (tmp_path / "https:").exists()


def test_connect_sets_wal_and_foreign_keys(tmp_path):
    db = connect(tmp_path / "pk.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()


# --- CLI ---------------------------------------------------------------------------------

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
INVENTORY = FIXTURES / "inventory-acme.json"

FRESH_SHOW = """\
Workspace 'Default' in {db} (revision 1.1, crm: salesforce)
  fields                       52
  custom fields                 0
  channels                      7
  tag types                     0
  segmentations                 0
  snippets                      0
  webhooks                      0
  custom objects                0
  email templates               0
  landing page templates        0
  images                        0
  programs                      0
  smart campaigns               0
  emails                        0
  lead lifecycles               0
  landing pages                 0
  forms                         0
  static lists                  0
  smart lists                   0
  imports                       0
Programs: none
"""


def test_cli_init_list_show(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    r = invoke("workspace", "init", "--target", db, "--crm", "salesforce")
    assert r.exit_code == 0
    assert r.output == f"Created workspace 'Default' in {db} (crm: salesforce; 52 standard fields, 7 channels)\n"
    r = invoke("workspace", "init", "--target", db, "--workspace", "Sandbox")
    assert r.output == f"Created workspace 'Sandbox' in {db} (crm: none; 52 standard fields, 7 channels)\n"
    r = invoke("workspace", "list", "--target", db)
    assert r.output == ("Default  (crm: salesforce; 0 programs, 0 assets; revision 1.1)\n"
                        "Sandbox  (crm: none; 0 programs, 0 assets; revision 2.1)\n")
    assert invoke("workspace", "show", "--target", db).output == FRESH_SHOW.format(db=db)
    r = invoke("workspace", "show", "--target", db, "-w", "sandbox", "--format", "json")
    doc = json.loads(r.output)
    assert (doc["workspace"], doc["crm"], doc["counts"]["fields"], doc["programs"]) == ("Sandbox", None, 52, [])


def test_cli_errors_exit_2_with_a_clear_message(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db)
    r = invoke("workspace", "init", "--target", db, "--workspace", "DEFAULT")
    assert r.exit_code == 2
    assert r.output == (f"error: {db} already has a workspace called 'DEFAULT'\n"
                        "  hint: `programkit workspace list` shows the workspaces of a file; in a script, "
                        "`workspace init --exist-ok` accepts one that exists with the same CRM.\n")
    r = invoke("workspace", "show", "--target", db, "--workspace", "Nope")
    assert r.exit_code == 2 and f"error: {db} has no workspace called 'Nope'" in r.output
    r = invoke("workspace", "show", "--target", str(tmp_path / "missing.db"))
    assert r.exit_code == 2 and "missing.db: no such file or directory" in r.output
    assert not (tmp_path / "missing.db").exists()


def test_cli_newer_schema_file_exits_2_naming_both_versions(invoke, tmp_path):
    db = tmp_path / "pk.db"
    invoke("workspace", "init", "--target", str(db))
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.close()
    r = invoke("workspace", "show", "--target", str(db))
    assert r.exit_code == 2
    assert r.output == (f"error: {db} has workspace schema version 99, newer than this programkit understands "
                        f"(version {SCHEMA_VERSION})\n"
                        "  hint: Upgrade programkit to open this file; it was written by a newer release.\n")


def test_target_and_workspace_from_the_environment(invoke, tmp_path, monkeypatch):
    db = str(tmp_path / "env.db")
    monkeypatch.setenv("PROGRAMKIT_TARGET", db)
    monkeypatch.setenv("PROGRAMKIT_WORKSPACE", "Staging")
    assert invoke("workspace", "init").output.startswith(f"Created workspace 'Staging' in {db}")
    assert invoke("workspace", "list").output.startswith("Staging  (crm: none")


def test_cli_load_realistic_inventory(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db)
    r = invoke("workspace", "load", str(INVENTORY), "--target", db)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[1:] == [
        "  channels                  1 added     0 updated     0 unchanged",
        "  crm                       0 added     1 updated     0 unchanged",
        "  customObjects             2 added     0 updated     0 unchanged",
        "  emailTemplates            2 added     0 updated     0 unchanged",
        "  fields                   22 added     0 updated     0 unchanged",
        "  images                    3 added     0 updated     0 unchanged",
        "  landingPageTemplates      1 added     0 updated     0 unchanged",
        "  segmentations             3 added     0 updated     0 unchanged",
        "  snippets                  2 added     0 updated     0 unchanged",
        "  tagValues                 9 added     0 updated     0 unchanged",
        "  webhooks                  2 added     0 updated     0 unchanged",
    ]
    with open_workspace(db, create=False) as ws:
        rev = ws.revision()
        assert ws.crm() == "salesforce"
        assert ws.fields()["leadGrade"].display_name == "Lead Grade" and len(ws.custom_fields()) == 22
        assert ws.tag_types()["Region"] == {"EMEA", "AMER", "APAC"}
        assert ws.names("segmentations") == {"Region", "Industry", "Persona"}
        assert ws.names("webhooks") == {"Enrich with Clearbit", "Slack MQL Alert"}
        assert ws.names("snippets") == {"Legal Footer", "Unsubscribe Block"}
        assert ws.channels()["Roadshow"] == ["Not in Program", "Registered", "Attended"]
        logo = ws.design_assets("image", ["ACME-LOGO.PNG"])["acme-logo.png"]
        assert ws.read(logo.id) == (FIXTURES / "acme" / "acme-logo.png").read_bytes()
        assert logo.meta == {"mimeType": "image/png"}
        tpl = ws.design_assets("emailTemplate", ["Acme Alert"])["acme alert"]
        assert (tpl.folder, tpl.meta) == ("Templates/Email", {"description": "Internal alerts to sales."})
        lp = ws.design_assets("landingPageTemplate", ["Acme Landing Page"])["acme landing page"]
        assert lp.meta == {"templateType": "guided"}
    # loading the same inventory again changes nothing, not even the revision
    r = invoke("workspace", "load", str(INVENTORY), "--target", db)
    assert r.exit_code == 0 and " 0 added " in r.output and " 1 added " not in r.output
    with open_workspace(db, create=False) as ws:
        assert ws.revision() == rev


def _broken_inventory(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "acme", tmp_path / "acme")
    doc = json.loads(INVENTORY.read_text())
    doc["fields"][3]["type"] = "strin"
    doc["fields"].append({"apiName": "LEADGRADE", "displayName": "Grade again", "type": "string"})
    doc["images"][0]["sha256"] = "0" * 64
    doc["images"][1]["path"] = "acme/missing.png"
    doc["emailTemplates"][0]["path"] = "../outside.html"
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def test_cli_load_schema_errors_are_findings_with_lines_and_nothing_is_written(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db)
    path = _broken_inventory(tmp_path)
    r = invoke("workspace", "load", str(path), "--target", db)
    assert r.exit_code == 1
    assert r.output.splitlines()[0] == (
        f"{path}:24:15: error PK901 [inventory-schema] /fields/3/type: 'strin' is not one of: string, text, "
        "email, phone, url, integer, float, currency, boolean, date, datetime, score, reference, percent; "
        "did you mean 'string'?")
    assert r.output.splitlines()[-1] == "nothing written"
    # once the schema error is fixed, every other problem is listed together
    doc = json.loads(path.read_text())
    doc["fields"][3]["type"] = "datetime"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    r = invoke("workspace", "load", str(path), "--target", db, "--format", "json")
    assert r.exit_code == 1
    got = [(f["code"], f["pointer"], f["line"]) for f in json.loads(r.output)]
    assert got == [("PK905", "/fields/22/apiName", 117), ("PK903", "/emailTemplates/0/path", 194),
                   ("PK904", "/images/0/sha256", 216), ("PK902", "/images/1/path", 221)]
    assert [f["message"] for f in json.loads(r.output)] == [
        "/fields/22/apiName: 'LEADGRADE' is already listed at /fields/0/apiName",
        "/emailTemplates/0/path: '../outside.html' climbs out of the inventory's folder with '..'",
        "/images/0/sha256: acme/acme-logo.png has sha256 " + json.loads(INVENTORY.read_text())["images"][0]["sha256"][:12]
        + "…, inventory says 000000000000…",
        "/images/1/path: acme/missing.png does not exist"]
    with open_workspace(db, create=False) as ws:
        assert ws.revision() == "1.1" and ws.custom_fields() == set() and ws.crm() is None


def test_cli_load_json_syntax_error(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    invoke("workspace", "init", "--target", db)
    bad = tmp_path / "inv.json"
    bad.write_text('{\n  "crm": "salesforce"\n  "fields": []\n}\n')
    r = invoke("workspace", "load", str(bad), "--target", db)
    assert r.exit_code == 1
    assert r.output.startswith(f"{bad}:3:3: error PK101 [json-syntax] Expecting ',' delimiter\n")


def test_console_script_init_and_show(tmp_path):
    exe = shutil.which("programkit") or str(Path(sys.executable).with_name("programkit"))
    cmd = [exe] if os.path.exists(exe) else [sys.executable, "-m", "programkit"]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PROGRAMKIT_TARGET", None)
    env.pop("PROGRAMKIT_WORKSPACE", None)
    r = subprocess.run(cmd + ["workspace", "init", "--crm", "salesforce"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Created workspace 'Default' in programkit.db (crm: salesforce; 52 standard fields, 7 channels)\n"
    r = subprocess.run(cmd + ["workspace", "show"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == FRESH_SHOW.format(db="programkit.db")


def test_two_processes_opening_an_old_file_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "old.db"
    _v1_file(path)
    code = ("import sys; from programkit.workspaces.sqlite import open_workspace; "
            "w = open_workspace(sys.argv[1], create=False); print(w.program('old').data['name']); w.close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [(p.returncode, o[0]) for p, o in zip(procs, outs)] == [(0, "Old\n")] * 4, outs
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()


def test_cli_export_json(invoke, tmp_path):
    db = str(tmp_path / "pk.db")
    with init_workspace(db) as ws:
        with ws.transaction() as w:
            w.create_program({"name": "Empty", "type": "default", "channel": "Operational"})
    r = invoke("export", "empty", "--target", db, "-o", str(tmp_path / "out"), "--format", "json")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["program"], doc["name"], doc["version"], doc["assets"], doc["requires"]) == (
        "Empty", "empty", "1.0.0", {}, {})
    assert json.loads((tmp_path / "out" / "bundle.json").read_text())["assets"] == []


def test_processes_creating_the_same_new_workspace_at_once_all_succeed(tmp_path):
    path = tmp_path / "new.db"
    code = ("import sys; from programkit.workspaces import open_target; "
            "w = open_target(sys.argv[1], 'Default'); print(w.name, len(w.fields())); w.close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [(p.returncode, o[0]) for p, o in zip(procs, outs)] == [(0, "Default 52\n")] * 4, outs
    assert [w["name"] for w in list_workspaces(path)] == ["Default"]


def test_file_only_commands_refuse_a_marketo_url(invoke):
    r = invoke("workspace", "init", "--target", "https://123-ABC-456.mktorest.com")
    assert r.exit_code == 2
    assert r.output.startswith("error: `workspace init` works on a workspace file, not https://123-ABC-456.mktorest.com\n")


def test_init_exist_ok_is_rerunnable_but_refuses_another_crm(tmp_path, invoke):
    db = str(tmp_path / "w.db")
    first = invoke("workspace", "init", "--target", db, "--crm", "salesforce", "--exist-ok")
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Created workspace 'Default'")
    again = invoke("workspace", "init", "--target", db, "--crm", "salesforce", "--exist-ok")
    assert again.exit_code == 0, again.output
    assert again.output == f"Workspace 'Default' already exists in {db} (crm: salesforce); nothing changed.\n"
    other = invoke("workspace", "init", "--target", db, "--crm", "dynamics", "--exist-ok")
    assert other.exit_code == 1
    assert "exists with crm salesforce, not dynamics" in other.output
    plain = invoke("workspace", "init", "--target", db, "--crm", "salesforce")
    assert plain.exit_code == 2
    assert "already has a workspace called 'Default'" in plain.output
    with open_target(db, "Default", create=False) as ws:
        assert ws.crm() == "salesforce"
