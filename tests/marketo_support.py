"""Fixtures for tests against the stand-in Marketo server (tests/fake_marketo.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_marketo import FakeMarketo  # noqa: E402

from programkit.workspaces.marketo.client import Limits, MarketoClient  # noqa: E402

CLIENT_ID = "pk-test-client"
#: distinctive so a grep of every output and file can prove it never leaks
SECRET = "s3cr3t-7f2c9e-never-print-me"
#: Marketo's ratio (100 calls / 20 s) scaled down so tests run fast
FAST = Limits(calls=50, window=1.0, concurrent=10, retries=8, backoff=0.01, max_backoff=0.2, timeout=10)


@pytest.fixture
def fake() -> Iterator[FakeMarketo]:
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=50, rate_window=1.0, max_concurrent=10)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(fake: FakeMarketo) -> MarketoClient:
    return MarketoClient(fake.url, CLIENT_ID, SECRET, FAST)


@pytest.fixture
def marketo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MARKETO_CLIENT_SECRET", SECRET)


@pytest.fixture
def cli_env(marketo_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Credentials, a private state directory (history, journals, checklists) and a fast rate window
    for CLI runs against the stand-in; returns the state directory."""
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PROGRAMKIT_MARKETO_RATE", "50/1")
    return tmp_path / "state"


def apply_sample(ws, bundle, order=("emailTemplate", "landingPageTemplate", "image", "snippet", "email",
                                     "smartCampaign", "leadLifecycle")):
    """Write a bundle through a MarketoWorkspace's writer in dependency order (what apply does)."""
    import hashlib

    from programkit.workspaces.base import ImportRecord

    with ws.transaction() as w:
        pid = w.create_program(dict(bundle.program))
        mapping = [{"kind": "program", "bundleName": bundle.program["name"], "workspaceId": pid,
                    "workspaceName": bundle.program["name"], "action": "create"}]
        for asset in sorted(bundle.assets, key=lambda a: order.index(a.kind)):
            data = bundle.source.read_bytes(asset.path)
            local = asset.kind in ("email", "smartCampaign", "leadLifecycle")
            aid = w.put_asset(asset.kind, asset.name, data, hashlib.sha256(data).hexdigest(), folder=asset.folder,
                              program_id=pid if local else None)
            mapping.append({"kind": asset.kind, "bundleName": asset.name, "workspaceId": aid,
                            "workspaceName": asset.name, "action": "create"})
        w.record_import(ImportRecord(bundle.manifest["name"], bundle.manifest["version"], "digest",
                                     bundle.program["name"], {}, {}, mapping, "2026-11-23T10:00:00Z"))
    return pid


def marketo_rules(sl: dict[str, Any], logic: str | None = None) -> dict[str, Any]:
    """A bundle smartList in the shape Marketo answers with includeRules=true (values as strings), as an
    admin who followed the import's checklist would have built it."""
    def cond(name: str, op: str | None, values: list[Any], primary: bool) -> dict[str, Any]:
        return {"activityAttributeId": 7, "activityAttributeName": name, "operator": op or "is",
                "values": [json.dumps(v) if isinstance(v, bool) else str(v) for v in values], "isPrimary": primary}

    triggers = [{"id": 100 + i, "name": t["trigger"], "ruleTypeId": 1, "ruleType": t["trigger"], "operator": "",
                 "conditions": [cond(c["name"], c.get("operator"), c.get("values", []), j == 0)
                                for j, c in enumerate(t.get("constraints", []))]}
                for i, t in enumerate(sl.get("triggers", []))]
    filters = [{"id": 200 + i, "name": f["filter"], "ruleTypeId": 2, "ruleType": f["filter"],
                "operator": f.get("operator", "is"),
                "conditions": [cond(f["filter"], f.get("operator"), f.get("values", []), True)]}
               for i, f in enumerate(sl.get("filters", []))]
    return {"filterMatchType": logic or {"all": "All", "any": "Any"}[sl.get("ruleLogic", "all")],
            "triggers": triggers, "filters": filters}
