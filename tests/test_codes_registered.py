"""Every finding code the source raises is registered once the CLI is loaded, so no command can end in a
KeyError from an unregistered code (a code registered in a module that only one command imports lazily)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "programkit"


def test_every_code_the_source_names_is_registered_when_the_cli_loads():
    named = set()
    for path in PACKAGE.rglob("*.py"):
        named |= set(re.findall(r'"(PK\d{3})"', path.read_text(encoding="utf-8")))
    assert len(named) > 100
    # a fresh interpreter: in this one, other tests may already have imported every module
    out = subprocess.run([sys.executable, "-c", "import json, programkit.cli\n"
                          "from programkit.findings import CODES\nprint(json.dumps(sorted(CODES)))"],
                         capture_output=True, text=True, timeout=60, check=True)
    from programkit.findings import RETIRED_CODES  # named only to say they are retired

    assert sorted(named - set(json.loads(out.stdout)) - set(RETIRED_CODES)) == []
