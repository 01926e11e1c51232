"""Print the shape of programkit's import graph: cycles, largest modules, modules per stage.

Reads every module under ``programkit/`` with :mod:`ast` (nothing is imported or run) and takes an arrow
A -> B for every ``import``/``from … import`` of a programkit module B in A, wherever it stands: at module
level, inside a function (an import moved into a function to dodge a cycle still ties the two modules), or
under ``if TYPE_CHECKING:`` (types only, but still one module knowing the other). Cycles are counted three
ways: every arrow; arrows that run (module level and inside functions); module-level arrows only.

    python tools/import_graph.py            # cycles, late imports, largest modules, modules per package
    python tools/import_graph.py --cycles   # only the cycles; exit 1 if there is any

The package ``__init__`` that a dotted import passes through is not an arrow: ``from programkit.kinds.base
import Kind`` ties A to ``programkit.kinds.base`` alone.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "programkit"


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    #: imported module -> how the strongest import of it stands: "top" (module level), "late" (inside a
    #: function) or "types" (under ``if TYPE_CHECKING:``)
    imports: dict[str, str] = field(default_factory=dict)


#: how strongly an import ties two modules: one at module level runs at import time, one in a function when
#: called, one for type checkers never
STRENGTH = {"types": 0, "late": 1, "top": 2}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    """Every import statement with how it stands: "top", "late" or "types" (see :data:`STRENGTH`)."""
    found: list[tuple[ast.stmt, str]] = []

    def visit(node: ast.AST, how: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.body:
                    visit_stmt(sub, "types")
                for sub in child.orelse:
                    visit_stmt(sub, how)
                continue
            visit_stmt(child, how)

    def visit_stmt(child: ast.AST, how: str) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append((child, how))
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            visit(child, "late" if how == "top" else how)
        else:
            visit(child, how)

    visit(tree, "top")
    return found


def read_modules(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Module]:
    """Every module of ``package`` (a folder under ``root``) with the modules of the package it imports."""
    modules: dict[str, Module] = {}
    for path in sorted((root / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        modules[module_name(path, root)] = Module(module_name(path, root), path, text.count("\n"))
    for mod in modules.values():
        tree = ast.parse(mod.path.read_text(encoding="utf-8"), str(mod.path))
        here = mod.name if mod.path.name == "__init__.py" else mod.name.rpartition(".")[0]
        for node, how in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # `from pkg import sub` names a module when pkg/sub.py exists, else a name in pkg
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != mod.name and (target == package or target.startswith(package + ".")):
                    was = mod.imports.get(target)
                    if was is None or STRENGTH[how] > STRENGTH[was]:
                        mod.imports[target] = how
    return modules


def cycles(modules: dict[str, Module], *, weakest: str = "types") -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted, largest first, counting
    the arrows at least as strong as ``weakest`` ("types": every arrow; "late": those that run; "top": module
    level only)."""
    graph = {name: [t for t, how in mod.imports.items() if STRENGTH[how] >= STRENGTH[weakest]]
             for name, mod in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return sorted(found, key=lambda c: (-len(c), c))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", action="store_true", help="print only the cycles; exit 1 if any")
    parser.add_argument("--largest", type=int, default=12, help="how many of the largest modules to list")
    args = parser.parse_args(argv)
    modules = read_modules()
    all_cycles = cycles(modules)
    run_cycles = cycles(modules, weakest="late")
    top_cycles = cycles(modules, weakest="top")
    edges = sum(len(m.imports) for m in modules.values())
    late = sum(1 for m in modules.values() for how in m.imports.values() if how == "late")
    types = sum(1 for m in modules.values() for how in m.imports.values() if how == "types")
    print(f"modules: {len(modules)}, internal import arrows: {edges} ({late} only inside functions, {types} only "
          f"for types), lines: {sum(m.lines for m in modules.values())}")
    print(f"cycles: {len(all_cycles)} (every import); {len(run_cycles)} (imports that run); "
          f"{len(top_cycles)} (module-level imports only)")
    for n, cycle in enumerate(all_cycles, 1):
        print(f"  cycle {n} ({len(cycle)} modules): {', '.join(cycle)}")
    if args.cycles:
        return 1 if all_cycles else 0
    print("largest modules (lines):")
    for mod in sorted(modules.values(), key=lambda m: -m.lines)[: args.largest]:
        print(f"  {mod.lines:5d}  {mod.path.relative_to(ROOT)}")
    per_package: dict[str, list[Module]] = defaultdict(list)
    for mod in modules.values():
        rel = mod.path.relative_to(ROOT / PACKAGE)
        per_package[str(rel.parent) if len(rel.parts) > 1 else "."].append(mod)
    print("modules per package (files, lines):")
    for pkg in sorted(per_package):
        mods = per_package[pkg]
        print(f"  {pkg:24s} {len(mods):3d} {sum(m.lines for m in mods):6d}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # the reader (``| head``) stopped reading: nothing more to say
        sys.stderr.close()
        raise SystemExit(0)
