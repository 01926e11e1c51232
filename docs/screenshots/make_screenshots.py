"""Regenerate the README's report screenshots (docs/screenshots/*.png) with headless Chromium.

    python docs/screenshots/make_screenshots.py        # needs chromium, chromium-driver, selenium;
                                                       # pngquant (optional) makes the PNGs small

Each report is written by the CLI from the samples, opened at 1200 px wide, and the top of the page
(1200 x 1000) is saved; pngquant, when installed, reduces it to 64 colours.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
SAMPLES = ROOT / "samples"
EXAMPLES = ROOT / "docs" / "examples" / "simulate"


def programkit(*args: str, ok: tuple[int, ...] = (0,), cwd: Path | None = None) -> None:
    rc = subprocess.run([sys.executable, "-m", "programkit", *args], capture_output=True, cwd=cwd).returncode
    if rc not in ok:
        raise SystemExit(f"programkit {' '.join(args)}: exit {rc}")


def reports(d: Path) -> dict[str, tuple[Path, str | None]]:
    """name → (report, CSS selector of the element to start the picture at, or None for the top)."""
    db = d / "w.db"
    programkit("workspace", "init", "--crm", "salesforce", "--target", str(db))
    programkit("import", str(SAMPLES / "op-lead-management"), "--yes", "--target", str(db))
    newer = d / "olm-1.1"
    shutil.copytree(SAMPLES / "op-lead-management", newer)
    email = newer / "emails" / "01-email-alert-mql.json"
    doc = json.loads(email.read_text())
    doc["subject"] = "New MQL: {{lead.First Name:default=A person}} {{lead.Last Name}} needs follow-up"
    doc["sections"]["headline"] = "<h1>MQL: {{lead.First Name:default=A person}} {{lead.Last Name}}</h1>"
    email.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    template = newer / "design-studio" / "quick-start-email-template.html"
    template.write_text(template.read_text().replace("#1473e6", "#b3261e"))
    manifest = json.loads((newer / "bundle.json").read_text())
    manifest["version"] = "1.1.0"
    (newer / "bundle.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    programkit("pack", str(newer), "--update-digests", "-o", str(d / "olm-1.1.zip"))
    out = {"plan": d / "plan.html", "inspect": d / "inspect.html", "validate": d / "validate.html",
           "simulate": d / "simulate.html"}
    programkit("plan", str(newer), "--target", str(db), "--html", str(out["plan"]))
    programkit("inspect", str(SAMPLES / "partner-center-referrals"), "--html", str(out["inspect"]))
    broken = d / "op-lead-management"  # a copy with a mistyped token, validated by its relative name
    shutil.copytree(SAMPLES / "op-lead-management", broken)
    doc = json.loads((broken / "emails" / "01-email-alert-mql.json").read_text())
    doc["sections"]["body"] = doc["sections"]["body"].replace("MQL Score Threshold", "MQL Treshold")
    (broken / "emails" / "01-email-alert-mql.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    programkit("validate", broken.name, "--format", "html", "-o", str(out["validate"]), ok=(1,), cwd=d)
    programkit("simulate", str(SAMPLES / "partner-center-referrals"), "--events", str(EXAMPLES / "referrals.jsonl"),
               "--until", "2026-05-01T00:00:00Z", "--html", str(out["simulate"]))
    return {"plan": (out["plan"], "tr.diff-row"), "inspect": (out["inspect"], "section[aria-labelledby=lifecycles]"),
            "validate": (out["validate"], None), "simulate": (out["simulate"], None)}


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1200,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, (report, start) in reports(Path(tmp)).items():
                driver.get(report.as_uri())
                if start:
                    for _ in range(2):  # sections lay out when scrolled to (content-visibility): settle, then again
                        driver.execute_script(f"document.querySelector({json.dumps(start)}).scrollIntoView(); "
                                              "window.scrollBy(0, -120)")
                        time.sleep(0.3)
                time.sleep(0.5)  # lazy preview frames load once scrolled into view
                png = OUT / f"{name}.png"
                driver.save_screenshot(str(png))
                if shutil.which("pngquant"):
                    subprocess.run(["pngquant", "--force", "--skip-if-larger", "--ext", ".png", "64", str(png)],
                                   check=False)
                print(png.relative_to(ROOT), png.stat().st_size, "bytes")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
