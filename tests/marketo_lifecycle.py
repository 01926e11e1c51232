"""The OP-Lead Management sample with its lead lifecycle added (see samples/extras/README.md)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from programkit.canonical import dumps, refresh_digests

ROOT = Path(__file__).resolve().parent.parent
LIFECYCLE = ROOT / "samples/extras/op-lead-management/lifecycle/lead-lifecycle.json"
ENTRY = {"kind": "leadLifecycle", "name": "Lead Lifecycle", "folder": "Campaigns",
         "path": "lifecycle/lead-lifecycle.json", "sha256": "0" * 64}


def marketo_bundle(dest: Path) -> Path:
    """Copy samples/op-lead-management to ``dest`` and add the lifecycle (unless the sample has it already)."""
    shutil.copytree(ROOT / "samples/op-lead-management", dest)
    manifest = json.loads((dest / "bundle.json").read_text(encoding="utf-8"))
    if not any(a.get("kind") == "leadLifecycle" for a in manifest["assets"]):
        (dest / "lifecycle").mkdir(exist_ok=True)
        shutil.copy(LIFECYCLE, dest / ENTRY["path"])
        manifest["assets"].append(dict(ENTRY))
        (dest / "bundle.json").write_text(dumps(manifest), encoding="utf-8")
    refresh_digests(dest)
    return dest
