"""The docs show commands with the output they really print (as sqlite-utils' docs do).

Each console block listed in BLOCKS runs, command by command, in a fresh folder that holds `samples/` and
`docs/` (links to the project's) and whatever the block's setup made, and each command must print what the
doc shows. The docs' conventions, which this test reads them by:

- ``$ `` starts a command; the lines after it, up to the next ``$ ``, are its output (stdout and stderr);
- a command shown without output is run (it must succeed) but its output is not compared;
- a line ``...`` or ``…`` (indented or not) stands for any lines;
- ``(exit N)`` as the last line is the exit status, else 0 (only programkit's: ``diff`` says 1 for a difference);
- a ``# comment`` after a command is not part of it; a time (``2026-11-23T11:12:06.645Z``) is any time;
  the folder the examples run in is shown as ``/tmp/tour``.

`programkit …` commands run in-process (CliRunner); anything else (``diff``, ``echo $?``) through the shell.
When a doc changes what a command prints, or a command changes what it prints, this test says where.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
SHELL = set("|&;<>$`*?")


@dataclass
class Block:
    doc: str
    first: str  # the block's first command, as the doc writes it (after "$ ")
    setup: list[str] = field(default_factory=list)  # commands run before the block (their output unchecked)
    files: dict[str, str] = field(default_factory=dict)  # files the prose around the block describes
    links: tuple[str, ...] = ()  # files of tests/fixtures/ the block names, linked into its folder
    skip: tuple[str, ...] = ()  # commands of the block that need what a test cannot have (a real Marketo)
    #: commands run before one of the block's commands (as the doc writes it), for what the prose says changed
    before: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.doc}: $ {self.first}"


INIT = "programkit workspace init --crm salesforce"
IMPORT = "programkit import samples/op-lead-management --yes"
LOAD_ACME = "programkit workspace load inventory-acme.json"
#: an instance with its own "Quick Start Email Template" (docs/import.md describes it in words)
OWN_TEMPLATE = ('{"emailTemplates": [{"name": "Quick Start Email Template", '
                '"content": "<html><body></body></html>"}]}')
PYTHON = shlex.quote(sys.executable)
#: the bundles docs/import.md describes in words, made from the sample
NEEDS_FIELDS = """\
import json, shutil
shutil.copytree("samples/op-lead-management", "needs-fields")
m = json.load(open("needs-fields/bundle.json"))
m["requires"]["fields"] = [{"apiName": "leadGrade", "displayName": "Lead Grade", "type": "string"},
                           {"apiName": "mqlDate", "displayName": "MQL Date", "type": "date"},
                           {"apiName": "partnerTier", "displayName": "Partner Tier", "type": "string"}]
m["requires"]["webhooks"] = ["Enrich Person"]
open("needs-fields/bundle.json", "w").write(json.dumps(m, indent=2, sort_keys=True) + "\\n")
"""
#: docs/workspace.md's bad.json: the acme inventory with a mistyped field type, then with that fixed and a
#: duplicate field and a missing image file instead
BAD_INVENTORY = """\
import json, sys
m = json.load(open("inventory-acme.json"))
if sys.argv[1] == "schema":
    m["fields"][3]["type"] = "strin"
else:
    m["fields"].append({"apiName": "leadgrade", "displayName": "Lead Grade", "type": "string"})
    m["images"][1]["path"] = "acme/missing.png"
open("bad.json", "w").write(json.dumps(m, indent=2, ensure_ascii=False) + "\\n")
"""
#: docs/import.md's edited-olm: the sample with campaign 01 edited, the version left at 1.0.0
EDITED = """\
import json, shutil
shutil.copytree("samples/op-lead-management", "edited-olm")
c = "edited-olm/campaigns/01-sync-new-people-to-crm.json"
d = json.load(open(c))
d["description"] += " Now also for imported lists."
open(c, "w").write(json.dumps(d, indent=2, sort_keys=True) + "\\n")
"""
#: docs/import.md's cut-down and edited plans, made from the plan of the sample
EDITED_PLANS = """\
import json
plan = json.load(open("plan.json"))
cut = dict(plan, actions=plan["actions"][:3])
open("t3.json", "w").write(json.dumps(cut, indent=2))
plan["program"]["as"] = "Evil"
plan["actions"][4]["action"] = plan["actions"][7]["action"] = "skip"
open("edited.json", "w").write(json.dumps(plan, indent=2))
"""
V110 = """\
import json, os, shutil
shutil.copytree("samples/op-lead-management", "v1.1.0")
m = json.load(open("v1.1.0/bundle.json"))
m["version"] = "1.1.0"
[t.update(value=120) for t in m["program"]["tokens"] if t["name"] == "MQL Score Threshold"]
m["assets"] = [a for a in m["assets"] if a["name"] != "02 - Marketing Qualified"]
os.remove("v1.1.0/campaigns/02-marketing-qualified.json")
open("v1.1.0/bundle.json", "w").write(json.dumps(m, indent=2, sort_keys=True) + "\\n")
c = "v1.1.0/campaigns/01-sync-new-people-to-crm.json"
d = json.load(open(c))
d["description"] += " Now also for imported lists."
open(c, "w").write(json.dumps(d, indent=2, sort_keys=True) + "\\n")
"""

#: "a copy of the sample with a mistyped token and an edited file" (README.md, docs/bundle-format.md)
MISTYPED_TOKEN = ["cp -r samples/op-lead-management op-lead-management",
                  "sed -i 's/{{my.MQL Score Threshold}}/{{my.MQL Treshold}}/g' "
                  "op-lead-management/emails/01-email-alert-mql.json"]

BLOCKS = [
    Block("README.md", "programkit validate samples/op-lead-management"),  # the quick tour
    Block("README.md", "programkit new --list"),
    Block("README.md", "programkit workspace load --from https://123-ABC-456.mktorest.com",
          setup=[INIT, IMPORT], skip=("programkit workspace load --from", "programkit workspace remove")),
    Block("README.md", "programkit validate op-lead-management", setup=MISTYPED_TOKEN),
    Block("docs/bundle-format.md", "programkit validate op-lead-management        # a copy with a mistyped token",
          setup=MISTYPED_TOKEN),
    Block("docs/import.md", "programkit workspace init --crm salesforce"),
    Block("docs/import.md", "programkit plan samples/op-lead-management --on-email-template fail",
          setup=[INIT, "programkit workspace load inv.json"],
          files={"inv.json": OWN_TEMPLATE}),
    Block("docs/import.md", "programkit import needs-fields",
          setup=[INIT, "programkit workspace load inv.json", f"{PYTHON} make.py"],
          files={"inv.json": OWN_TEMPLATE, "make.py": NEEDS_FIELDS}),
    Block("docs/import.md", "programkit import v1.1.0 --dry-run",
          setup=[INIT, "programkit workspace load inv.json", IMPORT, f"{PYTHON} make.py",
                 "programkit validate --fix-digests v1.1.0"],
          files={"inv.json": OWN_TEMPLATE, "make.py": V110}),
    Block("docs/import.md", "programkit import samples/op-lead-management --plan plan.json",
          setup=[INIT, "programkit workspace load inv.json",
                 "programkit plan samples/op-lead-management --rules rules.json --format json --out plan.json",
                 IMPORT, f"{PYTHON} make.py", "programkit validate --fix-digests v1.1.0",
                 "programkit import v1.1.0 --prune --yes"],
          files={"inv.json": OWN_TEMPLATE, "make.py": V110, "rules.json": '{"emailTemplates": "replace"}'}),
    Block("docs/import.md", "programkit plan edited-olm",
          setup=[INIT, IMPORT, f"{PYTHON} make.py", "programkit validate --fix-digests edited-olm"],
          files={"make.py": EDITED}),
    Block("docs/import.md", "programkit import samples/op-lead-management --plan t3.json --yes",
          setup=[INIT, "programkit plan samples/op-lead-management --out plan.json", f"{PYTHON} make.py"],
          files={"make.py": EDITED_PLANS}),
    Block("docs/import.md", "programkit import samples/op-lead-management --plan edited.json --yes",
          setup=[INIT, "programkit plan samples/op-lead-management --out plan.json", f"{PYTHON} make.py"],
          files={"make.py": EDITED_PLANS}),
    Block("docs/import.md", "programkit import samples/op-lead-management --as \"OLM Copy\" --yes",
          setup=[INIT, "programkit workspace load inv.json", IMPORT], files={"inv.json": OWN_TEMPLATE}),
    Block("docs/import.md", "programkit history show 1", setup=[INIT, IMPORT]),
    Block("docs/bundle-format.md", "programkit schema --list"),
    Block("docs/templates.md", "programkit new --list"),
    Block("docs/templates.md", "programkit new op-lead-management --params"),
    Block("docs/templates.md",
          "programkit new op-lead-management other --set crm=hubspot --set mqlThreshold=high --set colour=red",
          setup=["programkit new op-lead-management acme-olm"], files={"acme.json": '{\n  mqlThreshold: 90\n}\n'}),
    Block("docs/templates.md", "programkit new op-lead-management x --set crm=dynamic --set mqlTreshold=80"),
    Block("docs/templates.md",
          "programkit new op-lead-management acme-olm --set crm=dynamics --set prefix=ACME --set mqlThreshold=80"),
    Block("docs/workspace.md", "programkit workspace init --crm salesforce"),
    Block("docs/workspace.md", "programkit workspace init", setup=[INIT]),
    Block("docs/workspace.md", "programkit workspace load inventory-acme.json", setup=[INIT],
          links=("inventory-acme.json", "acme")),
    Block("docs/workspace.md", "programkit workspace load bad.json", setup=[INIT, f"{PYTHON} bad.py schema"],
          links=("inventory-acme.json", "acme"), files={"bad.py": BAD_INVENTORY},
          before={"programkit workspace load bad.json      # schema fixed; a missing image file and a duplicate "
                  "field": [f"{PYTHON} bad.py duplicate"]}),
    Block("docs/workspace.md", "programkit workspace show", setup=[INIT, LOAD_ACME, IMPORT],
          links=("inventory-acme.json", "acme")),
    Block("docs/workspace.md", "programkit workspace show --kind smartCampaign", setup=[INIT, IMPORT]),
    Block("docs/workspace.md", "programkit workspace used-by acme-logo.png", setup=[INIT, LOAD_ACME, IMPORT],
          links=("inventory-acme.json", "acme")),
    Block("docs/workspace.md", "programkit workspace remove \"OLM Copy\" --dry-run",
          setup=[INIT, IMPORT, IMPORT.replace("--yes", "--as 'OLM Copy' --yes")]),
    Block("docs/workspace.md", "programkit export \"OP-Lead Management\" -o exported", setup=[INIT, IMPORT]),
    Block("docs/workspace.md", "programkit export \"OP-Lead Management\" -o out",
          setup=[INIT, "programkit workspace load inv.json", IMPORT], files={"inv.json": OWN_TEMPLATE}),
]


def console_blocks(doc: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for line in (ROOT / doc).read_text(encoding="utf-8").splitlines():
        if line.startswith("```console"):
            current = []
        elif line.startswith("```") and current is not None:
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def commands(lines: list[str]) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def find(block: Block) -> list[tuple[str, list[str]]]:
    blocks = [b for b in console_blocks(block.doc) if b]
    # the command as written (with its comment, when two blocks start alike), else without the comment
    found = [commands(b) for b in blocks if b[0][2:] == block.first] or \
        [commands(b) for b in blocks if _command(b[0][2:]) == block.first]
    assert found, f"{block}: no console block starts with this command any more (update BLOCKS)"
    return found[0]


def _lines(text: str) -> list[str]:
    lines = [TIME.sub("<time>", line.rstrip()) for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _matches(expected: list[str], got: list[str]) -> bool:
    if not expected:
        return not got
    if expected[0].strip() in ("...", "…"):
        return any(_matches(expected[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and expected[0] == got[0] and _matches(expected[1:], got[1:])


def _command(line: str) -> str:
    """A command as the doc writes it, without the ``# comment`` after it."""
    return re.sub(r"\s+#.*$", "", line)


def run(command: str, cwd: Path, invoke, last_status: int) -> tuple[int, str]:
    command = _command(command)
    if command.startswith("programkit ") and not SHELL & set(command):
        res = invoke(*shlex.split(command)[1:])
        return res.exit_code, res.output
    command = command.replace("$?", str(last_status))
    # the console script of this interpreter's environment, whether or not it is activated
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=60, env=env)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("block", BLOCKS, ids=str)
def test_the_docs_show_what_the_commands_print(block: Block, tmp_path, monkeypatch, invoke):
    for name in ("samples", "docs"):
        (tmp_path / name).symlink_to(ROOT / name)
    for name in block.links:
        (tmp_path / name).symlink_to(ROOT / "tests/fixtures" / name)
    for name, text in block.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for var in ("PROGRAMKIT_TARGET", "PROGRAMKIT_WORKSPACE", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PROGRAMKIT_STATE_DIR", str(tmp_path / ".state"))
    for command in block.setup:
        status, output = run(command, tmp_path, invoke, 0)
        assert status == 0, f"{block}: setup `{command}` failed:\n{output}"
    status = 0
    steps = find(block)
    for i, (command, shown) in enumerate(steps):
        if block.skip and _command(command).startswith(block.skip):
            continue
        for prepare in block.before.get(command, []):
            prepared, output = run(prepare, tmp_path, invoke, 0)
            assert prepared == 0, f"{block}: `{prepare}` (before `{command}`) failed:\n{output}"
        status, output = run(command, tmp_path, invoke, status)
        expected = _lines("\n".join(shown))
        exit_status = 0
        if expected and re.fullmatch(r"\(exit \d\)", expected[-1]):
            exit_status = int(expected.pop()[6])
        elif i + 1 < len(steps) and steps[i + 1][0] == "echo $?":
            exit_status = status  # the doc shows the status with the next command
        elif not _command(command).startswith("programkit "):
            exit_status = status  # diff says 1 for "files differ": only programkit's own status is the doc's
        if not expected and exit_status == 0:  # shown without output: it must work, what it prints is not shown
            assert status == 0, f"{block}: `{command}` failed:\n{output}"
            continue
        got = _lines(output.replace(str(tmp_path), "/tmp/tour"))  # the folder the docs' examples ran in
        assert _matches(expected, got) and status == exit_status, (
            f"{block}: `{command}` prints (exit {status}):\n" + "\n".join(got) +
            "\n\nbut the doc shows (exit {exit_status}):\n".format(exit_status=exit_status) + "\n".join(expected))


def test_the_matcher_reads_the_docs_conventions():
    assert _matches(["a", "...", "z"], ["a", "b", "c", "z"]) and _matches(["...", "z"], ["z"])
    assert not _matches(["a", "...", "z"], ["a", "b"]) and not _matches(["a"], ["a", "b"])
    assert _lines("#1  2026-11-23T11:12:06.645Z  applied\n\n") == ["#1  <time>  applied"]
    assert os.path.basename(BLOCKS[0].doc) == "README.md"
