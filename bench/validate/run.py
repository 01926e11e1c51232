"""Benchmark: `programkit validate` (whole CLI) against check-jsonschema on the same JSON files.

Generates deterministic synthetic bundles of 1k and 10k assets (smart campaigns
sending emails, emails on templates using program tokens, Email 2.0
templates) in a temporary directory, then times, in the same run:

- programkit: ``programkit validate DIR`` as a subprocess: JSON syntax, schemas,
  digests, names, folders, references, tokens, campaign checks;
- baseline: ``check-jsonschema`` validating the same JSON files with the same
  schemas (the manifest against bundle.json, each campaign and email against its
  kind's schema): three subprocesses, schema checks only.

Prints the time of each (best of --repeat), the ratio programkit / baseline
(goal <= 1.0) and the 10k / 1k time ratio of each tool (linear: about 10, less
while start-up still counts). Needs the bench extra: pip install -e '.[bench]'.

    python bench/validate/run.py [--sizes 1000 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "programkit" / "schemas"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]))
    if not found:
        sys.exit(f"{name} not found: pip install -e '.[bench]'")
    return found


TEMPLATE = """<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml">
<head>
  <meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
  <title>Template {n}</title>
  <meta class="mktoString" id="footerText" mktoName="Footer Text" default="Footer {n}" />
  <meta class="mktoColor" id="accentColor" mktoName="Accent Color" default="#1473e6" />
</head>
<body>
  <table width="600" cellpadding="0" cellspacing="0" border="0">
    <tr><td><div class="mktoText" id="headline" mktoName="Headline"><h1>Headline</h1></div></td></tr>
    <tr><td><div class="mktoText" id="body" mktoName="Body"><p>Body text.</p></div></td></tr>
    <tbody class="mktoContainer" id="modules">
      <tr class="mktoModule" id="details" mktoName="Details"><td>
        <div class="mktoText" id="detailsText" mktoName="Details Text"><p>Details.</p></div>
      </td></tr>
    </tbody>
    <tr><td style="color: ${{accentColor}}">${{footerText}}</td></tr>
  </table>
</body>
</html>
"""


def _write(root: Path, rel: str, data: bytes) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _doc(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def generate(root: Path, n: int) -> dict[str, list[str]]:
    """A valid bundle of ``n`` assets: 5% templates, the rest half emails, half campaigns sending them."""
    templates = max(1, n // 20)
    emails = (n - templates) // 2
    campaigns = n - templates - emails
    assets: list[dict[str, str]] = []
    files: dict[str, list[str]] = {"smartCampaign": [], "email": []}
    for t in range(templates):
        rel = f"design-studio/template-{t:05d}.html"
        assets.append({"kind": "emailTemplate", "name": f"Template {t:05d}", "path": rel,
                       "sha256": _write(root, rel, TEMPLATE.format(n=t).encode("utf-8"))})
    for e in range(emails):
        rel = f"emails/email-{e:05d}.json"
        doc = {
            "subject": f"Alert {e}: {{{{lead.First Name:default=Someone}}}} reached {{{{my.Threshold}}}}",
            "fromName": "Marketing Operations", "fromEmail": "ops@example.com", "replyTo": "ops@example.com",
            "operational": True, "template": f"Template {e % templates:05d}",
            "sections": {"headline": f"<h1>Alert {e}</h1>",
                         "body": "<p>{{lead.First Name}} {{lead.Last Name}} scored {{lead.Person Score}}; "
                                 "follow up within {{my.SLA Hours}} hours.</p>",
                         "detailsText": "<p>{{lead.Email Address}} · {{lead.Job Title:default=n/a}}</p>"},
            "variables": {"footerText": f"Footer for email {e}"},
            "modules": ["details"],
            "text": "{{lead.First Name}} reached {{my.Threshold}}.",
        }
        files["email"].append(rel)
        assets.append({"kind": "email", "name": f"Email {e:05d}", "folder": "Emails", "path": rel,
                       "sha256": _write(root, rel, _doc(doc))})
    for c in range(campaigns):
        rel = f"campaigns/campaign-{c:05d}.json"
        doc = {
            "type": "trigger", "active": True, "qualificationRule": "once", "communicationLimits": False,
            "description": f"Synthetic campaign {c}",
            "smartList": {
                "triggers": [{"trigger": "Score is Changed", "constraints": [
                    {"name": "New Score", "operator": "at least", "values": ["{{my.Threshold}}"]}]}],
                "filters": [{"filter": "Person Score", "operator": "at least", "values": ["{{my.Threshold}}"]},
                            {"filter": "Email Address", "operator": "is not empty"},
                            {"filter": "Person Status", "operator": "is not", "values": ["MQL", "Customer"]}],
                "ruleLogic": "1 and (2 or 3)",
            },
            "flow": [
                {"step": "Change Data Value", "attribute": "Person Status", "newValue": "MQL"},
                {"step": "Sync Person to SFDC", "assignTo": "Use Auto-Assignment Rules"},
                {"step": "Send Alert", "email": f"Email {c % max(emails, 1):05d}", "sendToOwner": "Person Owner"},
                {"step": "Change Program Status", "program": "Synthetic", "newStatus": "01-Member"},
                {"step": "Wait", "duration": "1 day"},
            ],
        }
        files["smartCampaign"].append(rel)
        assets.append({"kind": "smartCampaign", "name": f"Campaign {c:05d}", "folder": "Campaigns", "path": rel,
                       "sha256": _write(root, rel, _doc(doc))})
    manifest = {
        "$schema": "https://schemas.programkit.dev/v1/bundle.json",
        "format": "programkit/1", "name": f"synthetic-{n}", "version": "1.0.0",
        "description": f"Synthetic bundle of {n} assets for bench/validate.",
        "program": {
            "name": "Synthetic", "type": "default", "channel": "Operational", "analyticsBehavior": "Operational",
            "membershipStatuses": ["01-Member"],
            "tokens": [{"name": "Threshold", "type": "number", "value": 100},
                       {"name": "SLA Hours", "type": "number", "value": 24}],
            "folders": [{"name": "Campaigns"}, {"name": "Emails"}],
        },
        "assets": assets,
        "requires": {"crm": "salesforce"},
    }
    (root / "bundle.json").write_bytes(_doc(manifest))
    return files


def bundled_manifest_schema(dest: Path) -> Path:
    """bundle.json's schema as one self-contained file, exactly as a user gets it for an editor.

    ``programkit schema bundle`` embeds the schemas it refers to and rewrites each
    $ref to a local pointer, so check-jsonschema resolves everything offline.
    """
    dest.write_bytes(subprocess.run([tool("programkit"), "schema", "bundle"], check=True,
                                    capture_output=True).stdout)
    return dest


def baseline_commands(bundle: Path, files: dict[str, list[str]], schema_dir: Path) -> list[list[str]]:
    cjs = tool("check-jsonschema")
    return [
        [cjs, "--schemafile", str(schema_dir / "bundle.bundled.json"), str(bundle / "bundle.json")],
        [cjs, "--schemafile", str(SCHEMAS / "smartCampaign.json"), *[str(bundle / f) for f in files["smartCampaign"]]],
        [cjs, "--schemafile", str(SCHEMAS / "email.json"), *[str(bundle / f) for f in files["email"]]],
    ]


def timed(commands: list[list[str]], expect: int = 0) -> float:
    start = time.perf_counter()
    for cmd in commands:
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != expect:
            sys.exit(f"unexpected exit {done.returncode} from {cmd[0]} {' '.join(cmd[1:3])}…\n"
                     f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def prove_baseline_validates(work: Path, schema_dir: Path) -> None:
    """check-jsonschema must reject a broken manifest (through a $ref into program.json) and a broken campaign."""
    bad = work / "broken"
    files = generate(bad, 4)
    m = json.loads((bad / "bundle.json").read_text())
    m["program"]["type"] = "defualt"
    (bad / "bundle.json").write_text(json.dumps(m))
    c = bad / files["smartCampaign"][0]
    doc = json.loads(c.read_text())
    doc["flow"][0].pop("attribute")
    c.write_text(json.dumps(doc))
    for cmd in baseline_commands(bad, files, schema_dir)[:2]:
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 1 and ("defualt" in done.stdout or "'attribute' is a required" in done.stdout), \
            f"check-jsonschema did not report the broken file: {done.stdout}{done.stderr}"
    pk = subprocess.run([tool("programkit"), "validate", "-f", "json", str(bad)], capture_output=True, text=True)
    codes = sorted({f["code"] for f in json.loads(pk.stdout)})
    assert pk.returncode == 1 and codes == ["PK102", "PK103", "PK106"], codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pk = tool("programkit")
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        work = Path(tmp)
        bundled_manifest_schema(work / "bundle.bundled.json")
        prove_baseline_validates(work, work)
        startup = min(timed([[pk, "--version"]]) for _ in range(args.repeat))
        rows = []
        for n in args.sizes:
            bundle = work / f"bundle-{n}"
            files = generate(bundle, n)
            ours = min(timed([[pk, "validate", str(bundle)]]) for _ in range(args.repeat))
            base = min(timed(baseline_commands(bundle, files, work)) for _ in range(args.repeat))
            rows.append((n, ours, base))
        print(f"{'assets':>8} {'programkit s':>13} {'check-jsonschema s':>19} {'ratio':>6}")
        for n, ours, base in rows:
            print(f"{n:>8} {ours:>13.2f} {base:>19.2f} {ours / base:>6.2f}")
        if len(rows) >= 2:
            (n0, o0, b0), (n1, o1, b1) = rows[0], rows[-1]
            print(f"growth {n1}/{n0} assets (x{n1 / n0:g}): programkit x{o1 / o0:.1f}, check-jsonschema x{b1 / b0:.1f}")
            print(f"programkit start-up {startup:.2f} s; beyond it: {(o0 - startup) / n0 * 1e3:.3f} ms/asset at {n0}, "
                  f"{(o1 - startup) / n1 * 1e3:.3f} ms/asset at {n1} (linear: equal)")


if __name__ == "__main__":
    main()
