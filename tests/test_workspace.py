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
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
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


def test_open_target_routes_paths_to_sqlite_and_refuses_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_target() as w:
        assert w.name == "Default" and (tmp_path / "programkit.db").is_file()
    with open_target(f"sqlite:{tmp_path / 'x.db'}", "Sandbox") as w:
        assert w.name == "Sandbox"
    with pytest.raises(BadInput, match="Marketo REST targets are not supported"):
        open_target("https://123-abc-456.mktorest.com")


def test_connect_sets_wal_and_foreign_keys(tmp_path):
    db = connect(tmp_path / "pk.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()
