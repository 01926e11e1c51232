"""The HTML reports in a real browser: Debian's headless Chromium driven through chromedriver (selenium).

One browser for the whole session. For a report of every sample (plan and inspect), a validation with
findings, a plan with diffs and a simulation: no console errors, no network request at all (the DevTools
performance log, and a local server that counts the hits a hostile bundle's beacons would make), the
key elements visible, a script planted in an email never runs, and a screenshot of each report is saved
in the test's temporary folder. Marked ``browser``: ``pytest -m "not browser"`` skips them; with ``CI``
set, a missing chromium or chromedriver fails them instead of skipping.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from html_support import EXAMPLES, SAMPLE_NAMES, SAMPLES, changed_copy, cli_ok, hostile_copy, workspace

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PROGRAMKIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PROGRAMKIT_CHROMEDRIVER", "/usr/bin/chromedriver")


def _unavailable(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{why}: CI must run the browser tests (sh .ci/system-packages installs chromium)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium with console and network (performance) logging; the system's browser and driver,
    never one downloaded."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) or shutil.which(path)):
            _unavailable(f"{path} is not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


class Beacon:
    """An HTTP server on 127.0.0.1 that counts every request: where a hostile bundle points its images,
    stylesheets and scripts. A report that keeps its promise never reaches it."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def beacon() -> Iterator[Beacon]:
    b = Beacon()
    try:
        yield b
    finally:
        b.close()


def open_report(driver: Any, path: Path, shot: Path) -> dict[str, Any]:
    """Load a report, wait until it (and its frames) loaded, save a full-page screenshot; return what the
    console said and every request the page made (the report's own file:// load excluded)."""
    driver.get_log("browser")
    driver.get_log("performance")  # drop what earlier pages left
    driver.set_window_size(1200, 900)
    driver.get(path.resolve().as_uri())
    driver.execute_script("return document.readyState")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(max(height, 600), 8000))
    driver.save_screenshot(str(shot))
    console = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url != path.resolve().as_uri():
                requests.append(url)
    return {"console": console, "requests": requests}


def visible(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, css)
    assert found, f"nothing matches {css}"
    for el in found:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        assert el.is_displayed(), f"{css}: {el.text[:80]!r} is not visible"
    return found


def assert_clean(loaded: dict[str, Any]) -> None:
    assert loaded["console"] == []
    assert loaded["requests"] == []


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every report the CLI writes: plan and inspect of each sample, a plan with diffs, a validation with
    findings, a simulation."""
    d = tmp_path_factory.mktemp("reports")
    out: dict[str, Path] = {}
    target = workspace(d / "w.db")
    for name in SAMPLE_NAMES:
        out[f"plan-{name}"] = d / f"plan-{name}.html"
        # samples that need fields the fresh workspace lacks plan with problems (exit 1): shown in the report too
        cli_ok("plan", str(SAMPLES / name), "--target", str(target), "--html", str(out[f"plan-{name}"]), codes=(0, 1))
        out[f"inspect-{name}"] = d / f"inspect-{name}.html"
        cli_ok("inspect", str(SAMPLES / name), "--html", str(out[f"inspect-{name}"]))
    upgraded = workspace(d / "upgraded.db")
    cli_ok("import", str(SAMPLES / "op-lead-management"), "--yes", "--target", str(upgraded))
    out["plan-upgrade"] = d / "plan-upgrade.html"
    cli_ok("import", str(changed_copy(d / "olm-1.1")), "--dry-run", "--target", str(upgraded), "--html",
           str(out["plan-upgrade"]))
    broken = changed_copy(d / "broken", subject="{{my.No Such Token}}")
    (broken / "bundle.json").write_text((broken / "bundle.json").read_text().replace('"1.1.0"', '"1.1"'))
    out["validate"] = d / "validate.html"
    cli_ok("validate", str(broken), str(SAMPLES / "hubspot-lead-settings"), "--format", "html", "-o",
           str(out["validate"]), codes=(1,))
    out["simulate"] = d / "simulate.html"
    cli_ok("simulate", str(SAMPLES / "partner-center-referrals"), "--events", str(EXAMPLES / "referrals.jsonl"),
           "--until", "2026-05-01T00:00:00Z", "--html", str(out["simulate"]))
    out["simulate-olm"] = d / "simulate-olm.html"
    cli_ok("simulate", str(SAMPLES / "op-lead-management"), "--people", str(EXAMPLES / "marketo-people.csv"),
           "--events", str(EXAMPLES / "marketo-events.jsonl"), "--html", str(out["simulate-olm"]))
    return out


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_plan_report_of_each_sample_shows_every_action(browser: Any, reports: dict[str, Path], tmp_path: Path,
                                                       name: str) -> None:
    loaded = open_report(browser, reports[f"plan-{name}"], tmp_path / f"plan-{name}.png")
    assert_clean(loaded)
    manifest = json.loads((SAMPLES / name / "bundle.json").read_text())
    rows = visible(browser, "tr.action")
    shown = {r.find_element("css selector", "td:nth-child(3)").text for r in rows}
    assert {a["name"] for a in manifest["assets"]} <= shown
    assert manifest["program"]["name"] in shown
    assert (tmp_path / f"plan-{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_inspect_report_of_each_sample_shows_every_lifecycle_stage(browser: Any, reports: dict[str, Path],
                                                                    tmp_path: Path, name: str) -> None:
    loaded = open_report(browser, reports[f"inspect-{name}"], tmp_path / f"inspect-{name}.png")
    assert_clean(loaded)
    folder = SAMPLES / name / "lifecycle"
    for lifecycle in sorted(folder.iterdir()) if folder.is_dir() else ():  # the event program has no lifecycle
        states = [s["name"] for s in json.loads(lifecycle.read_text())["states"]]
        drawn = visible(browser, "figure g.state")
        assert {g.get_attribute("data-state") for g in drawn} - {"(any state)"} == set(states)
        assert [r.get_attribute("data-state") for r in visible(browser, "tr.state-row")] == states
    visible(browser, "section[aria-labelledby=deps] svg")
    visible(browser, "ul.tree a")
    frames = browser.find_elements("css selector", "iframe.preview")
    for frame in frames:
        assert frame.get_attribute("sandbox") == ""


def test_plan_report_with_diffs_and_previews(browser: Any, reports: dict[str, Path], tmp_path: Path) -> None:
    loaded = open_report(browser, reports["plan-upgrade"], tmp_path / "plan-upgrade.png")
    assert_clean(loaded)
    updates = [r.text for r in visible(browser, 'tr.action[data-action="update"]')]
    assert len(updates) == 3
    visible(browser, "tr.diff-row table.d")
    frames = visible(browser, "tr.diff-row iframe.preview")
    assert len(frames) == 4  # the email and the template, each as it is now and as the bundle has it
    browser.switch_to.frame(frames[1])
    try:  # the bundle's email, rendered in its frame: the changed body is there
        assert "Changed body." in browser.find_element("css selector", "body").text
    finally:
        browser.switch_to.default_content()


def test_validate_report_shows_every_finding(browser: Any, reports: dict[str, Path], tmp_path: Path) -> None:
    loaded = open_report(browser, reports["validate"], tmp_path / "validate.png")
    assert_clean(loaded)
    findings = visible(browser, "article.finding")
    codes = sorted(f.find_element("css selector", "a code").text for f in findings)
    assert codes == ["PK110", "PK209"]
    visible(browser, "pre.source span.here")
    link = findings[0].find_element("css selector", "a")
    link.click()
    assert browser.execute_script("return location.hash").startswith("#code-pk")


@pytest.mark.parametrize("report", ["simulate", "simulate-olm"])
def test_simulation_report_charts(browser: Any, reports: dict[str, Path], tmp_path: Path, report: str) -> None:
    loaded = open_report(browser, reports[report], tmp_path / f"{report}.png")
    assert_clean(loaded)
    visible(browser, "#funnel ~ div svg, section[aria-labelledby=funnel] svg")
    visible(browser, "section[aria-labelledby=states] tr.stage-row")
    visible(browser, "section[aria-labelledby=volume] svg")
    visible(browser, "section[aria-labelledby=campaigns] svg")
    stages = [r.get_attribute("data-state") for r in visible(browser, "section[aria-labelledby=funnel] tr.stage-row")]
    assert stages and stages[0] in ("Received", "New")


def test_script_planted_in_a_bundle_never_runs_and_nothing_is_fetched(browser: Any, beacon: Beacon,
                                                                       tmp_path: Path) -> None:
    bundle = hostile_copy(tmp_path / "hostile", beacon=beacon.url)
    target = workspace(tmp_path / "w.db")
    cli_ok("import", str(SAMPLES / "op-lead-management"), "--yes", "--target", str(target))
    reports = [tmp_path / "inspect.html", tmp_path / "plan.html"]
    cli_ok("inspect", str(bundle), "--html", str(reports[0]))
    edited = bundle / "bundle.json"
    edited.write_text(edited.read_text().replace('"1.0.0"', '"1.2.0"'))  # an upgrade: the email is diffed
    cli_ok("plan", str(bundle), "--target", str(target), "--html", str(reports[1]))
    for report in reports:
        loaded = open_report(browser, report, tmp_path / f"hostile-{report.stem}.png")
        assert loaded["requests"] == []
        title = browser.title
        assert "pwned" not in title and title.endswith("· programkit")
        assert browser.execute_script("return typeof window.pwned") == "undefined"
        frames = [f for f in browser.find_elements("css selector", "iframe.preview") if f.is_displayed()]
        hostile = [f for f in frames if "ALERT - MQL" in (f.get_attribute("title") or "")
                   or "bundle" in (f.get_attribute("title") or "")]
        assert hostile
        planted = 0
        for frame in hostile:
            assert frame.get_attribute("sandbox") == ""
            browser.switch_to.frame(frame)
            try:  # inside the sandboxed frame: the planted script is there, and did not run there either
                planted += browser.execute_script(
                    "return [...document.scripts].filter(s => s.text.includes('window.pwned')).length")
                assert browser.execute_script("return typeof window.pwned") == "undefined"
            finally:
                browser.switch_to.default_content()
        assert planted >= 1  # the email with the script was rendered, so the sandbox is what stopped it
        # the only console messages, if any: Chromium saying it blocked the planted script in the sandbox
        assert all("Blocked script execution" in e["message"] for e in loaded["console"]), loaded["console"]
    assert beacon.hits == []


def test_reports_work_without_javascript_print_and_follow_dark_mode(browser: Any, reports: dict[str, Path],
                                                                    tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    report = reports["plan-op-lead-management"]
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        loaded = open_report(browser, report, tmp_path / "no-js.png")
        assert_clean(loaded)
        assert len(visible(browser, "tr.action")) == 12  # everything essential is HTML
        assert not browser.find_element("css selector", ".filter").is_displayed()  # the script's extras stay hidden
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    open_report(browser, report, tmp_path / "js.png")
    box = browser.find_element("css selector", "#filter")
    assert box.is_displayed()
    box.send_keys("Quick Start")
    shown = [r for r in browser.find_elements("css selector", "tr.action") if r.is_displayed()]
    assert [r.find_element("css selector", "td:nth-child(3)").text for r in shown] == ["Quick Start Email Template"]
    # keyboard: the first Tab reaches the skip link, which leads to the report
    from selenium.webdriver.common.action_chains import ActionChains

    open_report(browser, report, tmp_path / "keyboard.png")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    active = browser.switch_to.active_element
    assert active.get_attribute("class") == "skip" and active.is_displayed()
    active.send_keys(Keys.ENTER)
    assert browser.execute_script("return location.hash") == "#main"
    background = "return getComputedStyle(document.documentElement).backgroundColor"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme",
                                                                          "value": "dark"}]})
    try:
        assert browser.execute_script(background) == "rgb(15, 17, 21)"
        browser.save_screenshot(str(tmp_path / "dark.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme",
                                                                              "value": "light"}]})
    assert browser.execute_script(background) == "rgb(255, 255, 255)"
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element("css selector", "nav.toc").is_displayed()
        pdf = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        (tmp_path / "plan.pdf").write_bytes(__import__("base64").b64decode(pdf["data"]))
        assert (tmp_path / "plan.pdf").read_bytes().startswith(b"%PDF")
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_previews_past_the_first_ones_are_built_on_request(browser: Any, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A large plan builds in only the first previews (each frame costs the browser a document); the others
    come from a button, and with JavaScript off a note says so instead."""
    from programkit.html import views

    monkeypatch.setattr(views, "EAGER_PREVIEWS", 0)
    target = workspace(tmp_path / "w.db")
    cli_ok("import", str(SAMPLES / "op-lead-management"), "--yes", "--target", str(target))
    report = tmp_path / "plan.html"
    cli_ok("plan", str(changed_copy(tmp_path / "olm-1.1")), "--target", str(target), "--html", str(report))
    loaded = open_report(browser, report, tmp_path / "deferred.png")
    assert_clean(loaded)
    assert browser.find_elements("css selector", "iframe") == []
    buttons = visible(browser, "button[data-show-preview]")
    assert len(buttons) == 4  # the email and the template, now and in the bundle
    assert not any(n.is_displayed() for n in browser.find_elements("css selector", ".js-off-note"))
    buttons[1].click()
    (frame,) = visible(browser, "iframe.preview")
    assert frame.get_attribute("sandbox") == "" and frame.get_attribute("title") == "Rendered: in the bundle"
    browser.switch_to.frame(frame)
    try:
        assert "Changed body." in browser.find_element("css selector", "body").text
    finally:
        browser.switch_to.default_content()
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        open_report(browser, report, tmp_path / "deferred-no-js.png")
        assert len(visible(browser, ".js-off-note")) == 4
        assert not any(b.is_displayed() for b in browser.find_elements("css selector", "button[data-show-preview]"))
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
