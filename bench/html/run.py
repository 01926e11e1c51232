"""The HTML plan report of a 10,000-asset bundle: time to write it, its size, and how long headless
Chromium takes to load it, against loading the same plan as plain text and as JSON in the same run;
and the same for ``inspect --html`` of the bundle against the text ``inspect`` prints.

    python bench/html/run.py [--assets 10000] [--emails 200] [--repeat 3] [--dir DIR]

Two plans of one bundle (the OP-Lead Management sample plus N assets: --emails emails, the rest
~1 KiB images), into a workspace holding nothing of it (every action a create) and into one that
holds the previous version (the emails changed: that many updates, each with a side-by-side diff and
two rendered previews; the images unchanged):

- generate: ``programkit.html.render_plan`` (the diffs read the workspace), and its file size;
- load: Chromium (Debian's, through chromedriver) opens the file, until the load event (navigation
  timing ``loadEventEnd``, and the wall time of ``driver.get``), best of --repeat;
- baselines in the same run: the same plan as the text ``programkit plan`` prints (``.txt``) and as
  ``plan --format json`` (``.json``), loaded by the same browser.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.apply import apply_plan  # noqa: E402
from programkit.canonical import refresh_digests  # noqa: E402
from programkit.cli.plan_text import render_plan as render_text_plan  # noqa: E402
from programkit.html import render_inspection, render_plan  # noqa: E402
from programkit.inspect import inspect_path, render_text as inspect_text  # noqa: E402
from programkit.plan import plan_path  # noqa: E402
from programkit.workspaces import open_target  # noqa: E402
from programkit.workspaces.sqlite import init_workspace  # noqa: E402

SAMPLE = ROOT / "samples" / "op-lead-management"
EMAIL = SAMPLE / "emails" / "01-email-alert-mql.json"


def make_bundle(dest: Path, assets: int, emails: int, version: str, subject: str) -> Path:
    shutil.copytree(SAMPLE, dest)
    manifest = json.loads((dest / "bundle.json").read_text())
    manifest["version"] = version
    email = json.loads(EMAIL.read_text())
    (dest / "images").mkdir()
    for i in range(emails):
        email["subject"] = f"{subject} #{i}: {{{{lead.Last Name}}}}"
        path = f"emails/generated-{i:05d}.json"
        (dest / path).write_text(json.dumps(email, indent=2, sort_keys=True) + "\n")
        manifest["assets"].append({"kind": "email", "name": f"Generated Email {i:05d}", "folder": "Email Alert",
                                   "path": path, "sha256": ""})
    for i in range(assets - emails):
        data = (f"image-{i}:".encode() + bytes(range(256)) * 4)[:1024]
        path = f"images/img-{i:05d}.png"
        (dest / path).write_bytes(data)
        manifest["assets"].append({"kind": "image", "name": f"img-{i:05d}.png", "path": path,
                                   "sha256": hashlib.sha256(data).hexdigest()})
    (dest / "bundle.json").write_text(json.dumps(manifest, indent=2))
    refresh_digests(dest)
    return dest


def browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(300)
    return driver


def load_time(driver, path: Path, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best of ``repeat``: (loadEventEnd in s, wall time of driver.get in s)."""
    best_nav = best_wall = float("inf")
    for _ in range(repeat):
        driver.get("about:blank")
        t = time.perf_counter()
        driver.get(path.as_uri())
        wall = time.perf_counter() - t
        nav = driver.execute_script("var n = performance.getEntriesByType('navigation')[0]; return n.loadEventEnd;")
        best_nav, best_wall = min(best_nav, nav / 1000), min(best_wall, wall)
    return best_nav, best_wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--emails", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-html-"))
    v1 = make_bundle(work / "v1", args.assets, args.emails, "1.0.0", "MQL alert")
    v2 = make_bundle(work / "v2", args.assets, args.emails, "1.1.0", "New MQL")
    fresh, upgraded = work / "fresh.db", work / "upgraded.db"
    init_workspace(fresh, "Default", crm="salesforce").close()
    init_workspace(upgraded, "Default", crm="salesforce").close()
    ws = open_target(str(upgraded), "Default", create=False)
    plan, loaded = plan_path(str(v1), ws)
    apply_plan(plan, loaded, ws)
    ws.close()
    driver = browser()
    print(f"bundle: the sample + {args.assets:,} assets ({args.emails:,} emails, {args.assets - args.emails:,} images); "
          f"best of {args.repeat}")
    try:
        for label, db in (("all create", fresh), (f"upgrade ({args.emails} updates with diffs)", upgraded)):
            ws = open_target(str(db), "Default", create=False)
            try:
                plan, bundle = plan_path(str(v2), ws, keep_bytes=False)
                gen = float("inf")
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    html = render_plan(plan, bundle, ws)
                    gen = min(gen, time.perf_counter() - t)
            finally:
                ws.close()
            stem = work / label.split()[0]
            files = {"html": stem.with_suffix(".html"), "text": stem.with_suffix(".txt"),
                     "json": stem.with_suffix(".json")}
            files["html"].write_text(html, encoding="utf-8")
            files["text"].write_text(render_text_plan(plan, colour=False), encoding="utf-8")
            files["json"].write_text(plan.to_json(), encoding="utf-8")
            loads = {k: load_time(driver, p, args.repeat) for k, p in files.items()}
            print(f"\n{label}: {len(plan.actions):,} actions")
            print(f"  generate HTML: {gen:.2f} s")
            for k, p in files.items():
                nav, wall = loads[k]
                print(f"  {k:<5} {p.stat().st_size / 1e6:7.2f} MB  load {nav:5.2f} s (driver.get {wall:5.2f} s)")
            for i, what in ((0, "load event"), (1, "driver.get")):  # the JSON viewer renders after its load event
                print(f"  ratio HTML / text ({what}): {loads['html'][i] / loads['text'][i]:.1f}x; "
                      f"HTML / JSON: {loads['html'][i] / loads['json'][i]:.2f}x")
        # the same bundle as `inspect --html` (tree, dependencies, every email with its preview), against
        # the text `inspect` prints
        t = time.perf_counter()
        page = render_inspection(v2)
        gen = time.perf_counter() - t
        files = {"html": work / "inspect.html", "text": work / "inspect.txt"}
        files["html"].write_text(page, encoding="utf-8")
        files["text"].write_text(inspect_text(inspect_path(v2)), encoding="utf-8")
        loads = {k: load_time(driver, p, args.repeat) for k, p in files.items()}
        print(f"\ninspect: {args.assets + 5:,} assets")
        print(f"  generate HTML: {gen:.2f} s")
        for k, p in files.items():
            print(f"  {k:<5} {p.stat().st_size / 1e6:7.2f} MB  load {loads[k][0]:5.2f} s (driver.get {loads[k][1]:5.2f} s)")
        print(f"  ratio HTML / text (driver.get): {loads['html'][1] / loads['text'][1]:.1f}x")
    finally:
        driver.quit()
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
