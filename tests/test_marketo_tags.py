"""`import --tag TYPE=VALUE` on a Marketo target: the tags the command line supplied are part of the plan
(JSON and text), of the history (`history show N`) and of a saved plan (`plan --out` / `import --plan`), so an
admin can see later which tags came from the command line rather than the bundle. A bad --tag is PK230, a
Marketo-only option on a workspace file PK231; an import Marketo refuses at its first write says to run it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fake_marketo import FakeMarketo
from marketo_support import CLIENT_ID, SECRET, cli_env, marketo_env  # noqa: F401

SAMPLE = str(Path(__file__).resolve().parent.parent / "samples" / "op-lead-management")


@pytest.fixture
def fake():
    """An instance that requires a Region tag on default programs (the sample's bundle has none)."""
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=50, rate_window=1.0, max_concurrent=10,
                         required_tags={"Region": ["program"]})
    server.start()
    yield server
    server.stop()


def _program_tags(fake: FakeMarketo) -> dict[str, str]:
    [prog] = [p for p in fake.programs.values() if p["name"] == "OP-Lead Management"]
    return {t["tagType"]: t["tagValue"] for t in prog["tags"]}


def test_plan_records_the_tags_given_and_says_them(fake, cli_env, invoke):
    res = invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=AMER", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["options"] == {"as": None, "prune": False, "allowDowngrade": False,
                                                 "tags": {"Region": "AMER"}}
    text = invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=AMER")
    assert text.stdout.splitlines()[0] == (
        "Plan: import op-lead-management 1.0.0 into workspace 'Default' as program 'OP-Lead Management' "
        "with tags Region=AMER (--tag)")
    without = invoke("plan", SAMPLE, "--target", fake.url, "--format", "json")
    assert without.exit_code == 1  # PK818: Region is required and neither the bundle nor --tag gives it
    assert "tags" not in json.loads(without.stdout)["options"]


def test_the_plan_report_says_the_tags_given(fake, cli_env, invoke, tmp_path):
    from lxml import html as lxml_html

    out = tmp_path / "plan.html"
    res = invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=AMER", "--html", str(out))
    assert res.exit_code == 0, res.output
    meta = lxml_html.fromstring(out.read_text(encoding="utf-8")).xpath("string(//p[@class='meta'][1])")
    assert " ".join(meta.split()).endswith("as program OP-Lead Management with tags Region=AMER (--tag).")


def test_history_show_says_which_tags_the_import_supplied(fake, cli_env, invoke):
    done = invoke("import", SAMPLE, "--target", fake.url, "--tag", "Region=AMER", "--yes")
    assert done.exit_code == 0, done.output
    assert _program_tags(fake) == {"Program Purpose": "Lead Management", "Region": "AMER"}
    shown = invoke("history", "show", "1", "--target", fake.url)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "  options:  allowDowngrade false, as null, prune false" in lines
    assert "  tags:     Region=AMER  (--tag: given at import, not in the bundle)" in lines
    as_json = json.loads(invoke("history", "show", "1", "--target", fake.url, "--format", "json").stdout)
    assert as_json["options"]["tags"] == {"Region": "AMER"} and as_json["plan"]["options"]["tags"] == {
        "Region": "AMER"}


def test_a_saved_plan_applies_the_tags_it_records(fake, cli_env, invoke, tmp_path):
    saved = tmp_path / "plan.json"
    res = invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=APAC", "--out", str(saved))
    assert res.exit_code == 0, res.output
    assert json.loads(saved.read_text())["options"]["tags"] == {"Region": "APAC"}
    other = invoke("import", SAMPLE, "--target", fake.url, "--plan", str(saved), "--tag", "Region=EMEA", "--yes")
    assert other.exit_code == 1 and "PK534" in other.output  # a different --tag is not the saved plan
    assert [p for p in fake.programs.values() if p["name"] == "OP-Lead Management"] == []
    applied = invoke("import", SAMPLE, "--target", fake.url, "--plan", str(saved), "--yes")
    assert applied.exit_code == 0, applied.output
    assert _program_tags(fake)["Region"] == "APAC"


def test_a_saved_plan_whose_tags_are_not_text_is_refused(fake, cli_env, invoke, tmp_path):
    saved = tmp_path / "plan.json"
    assert invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=APAC", "--out", str(saved)).exit_code == 0
    data = json.loads(saved.read_text())
    data["options"]["tags"] = {"Region": 7}
    saved.write_text(json.dumps(data))
    res = invoke("import", SAMPLE, "--target", fake.url, "--plan", str(saved), "--yes")
    assert res.exit_code == 2
    assert "PK531" in res.output and "/options/tags must map tag types to values" in res.output


def test_an_import_refused_at_its_first_write_does_not_point_to_resume(fake, cli_env, invoke):
    """Marketo refuses the program itself: nothing was written, no journal is kept, so the way on is to run the
    import again — not `--resume`, which would answer that there is no journal."""
    fake.add_fault({"code": "709", "name": "OP-Lead Management", "message": "Program name is reserved"})
    stopped = invoke("import", SAMPLE, "--target", fake.url, "--tag", "Region=EMEA", "--yes")
    assert stopped.exit_code == 1
    assert "error: import stopped before it wrote anything: Marketo 709 on POST /rest/asset/v1/programs.json: " \
           "Program name is reserved" in stopped.output
    assert "hint: nothing was written; once the cause is fixed, run the same import again" in stopped.output
    assert "--resume" not in stopped.output and "PK811" not in stopped.output
    fake.faults.clear()
    again = invoke("import", SAMPLE, "--target", fake.url, "--tag", "Region=EMEA", "--yes")
    assert again.exit_code == 0, again.output
    assert _program_tags(fake)["Region"] == "EMEA"


@pytest.mark.parametrize("specs, message", [
    (["Region"], "--tag 'Region' is not TYPE=VALUE"),
    (["=EMEA"], "--tag '=EMEA' is not TYPE=VALUE"),
    (["Region= "], "--tag 'Region= ' is not TYPE=VALUE"),
    (["Region=EMEA", "region=AMER"], "--tag gives tag type 'Region' two values: 'EMEA' and 'AMER'"),
])
def test_a_bad_tag_option_is_pk230_and_nothing_is_written(fake, cli_env, invoke, specs, message):
    args = [a for spec in specs for a in ("--tag", spec)]
    res = invoke("import", SAMPLE, "--target", fake.url, *args, "--yes")
    assert res.exit_code == 2
    assert res.output.splitlines()[:2] == [f"error: {message}", "  PK230 [bad-tag-option]"]
    assert [p for p in fake.programs.values() if p["name"] == "OP-Lead Management"] == []


def test_the_same_tag_twice_is_one_tag(fake, cli_env, invoke):
    res = invoke("plan", SAMPLE, "--target", fake.url, "--tag", "Region=AMER", "--tag", " Region = AMER",
                 "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["options"]["tags"] == {"Region": "AMER"}


@pytest.mark.parametrize("args, used", [
    (["--tag", "Region=EMEA"], "--tag only applies"),
    (["--approve", "--activate"], "--approve, --activate only apply"),
])
def test_marketo_only_options_on_a_workspace_file_are_pk231(invoke, tmp_path, args, used):
    db = str(tmp_path / "pk.db")
    assert invoke("workspace", "init", "--crm", "salesforce", "--target", db).exit_code == 0
    before = (tmp_path / "pk.db").read_bytes()
    res = invoke("import", SAMPLE, "--target", db, *args, "--yes")
    assert res.exit_code == 2
    assert res.output.splitlines()[:2] == [
        f"error: {used} to a Marketo target (--target https://…mktorest.com)", "  PK231 [marketo-only-option]"]
    assert (tmp_path / "pk.db").read_bytes() == before
