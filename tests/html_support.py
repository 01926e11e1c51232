"""Bundles, workspaces and reports the HTML tests share (with and without a browser)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bundle_edits import EMAIL, TEMPLATE, edit_json
from programkit.canonical import refresh_digests
from programkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SAMPLE_NAMES = sorted(p.name for p in SAMPLES.iterdir() if (p / "bundle.json").is_file())
EXAMPLES = ROOT / "docs" / "examples" / "simulate"

#: what a hostile bundle plants: markup in names, script and beacons in an email
HOSTILE_NAME = "<script>document.title='pwned-name'</script>\"><img src=x onerror=\"document.title='pwned-attr'\">"
PLANTED_SCRIPT = "<script>window.pwned = 1; document.title = 'pwned'; parent.document.title = 'pwned'</script>"


def cli_ok(*args: str, codes: tuple[int, ...] = (0,)) -> Any:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in codes, result.output
    return result


def workspace(path: Path) -> Path:
    cli_ok("workspace", "init", "--crm", "salesforce", "--target", str(path))
    return path


def changed_copy(dest: Path, subject: str = "NEW MQL: {{lead.Last Name}}", colour: str = "#c01020",
                 version: str = "1.1.0", body_extra: str = "") -> Path:
    """The OP-Lead Management sample with a changed email subject and body and template colour, as a newer
    version: importing it over the sample updates the email and the template."""
    shutil.copytree(SAMPLES / "op-lead-management", dest)

    def email(d: dict[str, Any]) -> None:
        d["subject"] = subject
        d["sections"]["body"] = "<p>Changed body.</p>" + body_extra

    edit_json(dest / EMAIL, email)
    template = dest / TEMPLATE
    template.write_text(template.read_text(encoding="utf-8").replace("#1473e6", colour), encoding="utf-8")
    edit_json(dest / "bundle.json", lambda m: m.update(version=version))
    refresh_digests(dest)
    return dest


def hostile_copy(dest: Path, beacon: str = "http://127.0.0.1:9/beacon") -> Path:
    """A bundle whose names hold markup and whose email holds a script, an onerror handler and images, a
    stylesheet and a CSS background that would call ``beacon``."""
    shutil.copytree(SAMPLES / "op-lead-management", dest)
    planted = (PLANTED_SCRIPT + f'<img src="{beacon}/img.png" onerror="parent.document.title=\'pwned-onerror\'">'
               f'<link rel="stylesheet" href="{beacon}/style.css">'
               f'<div style="background:url({beacon}/bg.png)">bg</div>'
               f'<iframe src="{beacon}/frame"></iframe>')

    def email(d: dict[str, Any]) -> None:
        d["sections"]["body"] = planted
        d["subject"] = HOSTILE_NAME

    edit_json(dest / EMAIL, email)
    template = dest / TEMPLATE
    template.write_text(template.read_text(encoding="utf-8").replace(
        "</head>", f'<link rel="stylesheet" href="{beacon}/t.css"><script src="{beacon}/t.js"></script></head>'),
        encoding="utf-8")

    def manifest(m: dict[str, Any]) -> None:
        m["description"] = HOSTILE_NAME
        m["program"]["description"] = HOSTILE_NAME
        m["program"]["tags"] = {"Program Purpose": HOSTILE_NAME}

    edit_json(dest / "bundle.json", manifest)
    refresh_digests(dest)
    return dest


def json_dump(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
