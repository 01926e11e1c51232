"""The house's imports run one way: no module imports, even inside a function or for types only, a module that
imports it back. ``python tools/import_graph.py`` prints the graph's cycles and shape (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import import_graph  # noqa: E402

#: the Marketo target's package has a circle through imports made for types only (its workspace, writer,
#: inventory and kinds name each other's classes); it is restructured by its own work, not this test's
MARKETO = "programkit.workspaces.marketo"


def test_no_import_runs_in_a_circle():
    """Module-level imports and imports inside functions alike: a late import does not hide a circle."""
    modules = import_graph.read_modules()
    assert import_graph.cycles(modules, weakest="late") == []


def test_no_circle_even_through_imports_for_types_outside_the_marketo_target():
    modules = import_graph.read_modules()
    found = [c for c in import_graph.cycles(modules) if not all(m.startswith(MARKETO) for m in c)]
    assert found == []


def test_the_kinds_import_no_stage_and_the_library_no_command_line():
    modules = import_graph.read_modules()
    # (the kinds may name the loaded bundle, programkit.model, in their checks' types: it imports no kind)
    stages = ("programkit.load", "programkit.validate", "programkit.plan", "programkit.apply", "programkit.export",
              "programkit.workspaces")
    for name, mod in modules.items():
        if name.startswith("programkit.kinds"):
            assert not [t for t in mod.imports if t.startswith(stages)], name
        if not name.startswith("programkit.cli") and name != "programkit.__main__":
            assert not [t for t in mod.imports if t.startswith("programkit.cli")], name


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_circle_hidden_in_a_function_or_behind_type_checking_is_found(tmp_path):
    _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from . import b\n",
        "b.py": "def f():\n    from .a import x\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .d import D\n",
        "d.py": "from pkg.c import C\n",
        "e.py": "from .a import x\n",
    })
    modules = import_graph.read_modules(tmp_path, "pkg")
    assert import_graph.cycles(modules) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d"]]
    assert import_graph.cycles(modules, weakest="late") == [["pkg.a", "pkg.b"]]
    assert import_graph.cycles(modules, weakest="top") == []


def test_the_script_prints_the_shape_and_exits_0():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "0 (imports that run); 0 (module-level imports only)" in done.stdout
    assert "largest modules (lines):" in done.stdout and "modules per package" in done.stdout
