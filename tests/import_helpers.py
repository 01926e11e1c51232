"""Helpers for import tests: grow the sample bundle, plan and apply it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from programkit import rules as rules_mod
from programkit.apply import apply_plan
from programkit.canonical import refresh_digests
from programkit.load import load_bundle
from programkit.plan import Plan, make_plan
from programkit.validate import validate_loaded

PNG = b"\x89PNG\r\n\x1a\n" + b"logo-bytes"
LP_HTML = "<!DOCTYPE html><html><head><title>LP</title></head><body><div class='mktoText' id='main'>Hi</div></body></html>\n"


def manifest(bundle_dir: Path) -> dict[str, Any]:
    return json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))


def write_manifest(bundle_dir: Path, data: dict[str, Any]) -> None:
    (bundle_dir / "bundle.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    refresh_digests(bundle_dir)


def add_asset(bundle_dir: Path, kind: str, name: str, path: str, content: bytes, **entry: Any) -> None:
    file = bundle_dir / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(content)
    data = manifest(bundle_dir)
    data["assets"].append({"kind": kind, "name": name, "path": path, "sha256": "0" * 64, **entry})
    write_manifest(bundle_dir, data)


def add_design_assets(bundle_dir: Path) -> None:
    """The sample plus an image and a landing page template, so every rule has something to act on."""
    add_asset(bundle_dir, "image", "logo.png", "design-studio/logo.png", PNG)
    add_asset(bundle_dir, "landingPageTemplate", "Simple LP", "design-studio/simple-lp.html", LP_HTML.encode(),
              templateType="freeForm")


def plan_for(bundle_dir: Path, ws: Any, *, flags: dict[str, Any] | None = None,
             rules_file: dict[str, Any] | None = None, **kw: Any) -> tuple[Plan, Any]:
    loaded = load_bundle(bundle_dir)
    findings = validate_loaded(loaded)
    rules = rules_mod.resolve(flags=flags, rules_file=rules_file,
                              bundle=(loaded.bundle.manifest or {}).get("conflictRules"))
    return make_plan(loaded.bundle, ws, rules, findings=findings, **kw), loaded.bundle


def import_into(bundle_dir: Path, ws: Any, **kw: Any) -> tuple[Plan, Any]:
    plan, bundle = plan_for(bundle_dir, ws, **kw)
    assert plan.ok, [p.message for p in plan.problems]
    return plan, apply_plan(plan, bundle, ws)


def action(plan: Plan, kind: str, name: str):
    found = [a for a in plan.actions if a.kind == kind and a.name == name]
    assert len(found) == 1, (kind, name, [a.to_dict() for a in plan.actions])
    return found[0]


#: the sample's program-local assets as (kind, folder, name)
SAMPLE_LOCAL = [("email", "Email Alert", "01 - Email - ALERT - MQL"),
                ("leadLifecycle", "Campaigns", "Lead Lifecycle"),
                ("smartCampaign", "Campaigns", "01 - Sync New People to CRM"),
                ("smartCampaign", "Campaigns", "02 - Marketing Qualified")]


def assert_sample_local_assets(ws: Any, program_id: int, bundle_dir: Path) -> None:
    """The program holds exactly the sample's campaigns, email and lead lifecycle, with the bundle's bytes."""
    assets = ws.program_assets(program_id)
    assert sorted((a.kind, a.folder, a.name) for a in assets) == SAMPLE_LOCAL
    for a in assets:
        assert ws.read(a.id) == (bundle_dir / a.meta["path"]).read_bytes()
        assert a.meta["entry"]["name"] == a.name and a.meta["bundle"] == "op-lead-management"
