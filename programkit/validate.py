"""Validate stage: load a bundle, then run every named check over it.

Each check is a small function registered with :func:`check`; it reads the
loaded :class:`~programkit.model.Bundle` and yields findings with codes it
registered. Later stages (template lint, lifecycle checks) add checks the
same way, so ``validate`` runs them all and reports everything at once.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .jsontypes import as_list
from .bundle import ArchiveLimits, UnsafeArchive
from .findings import Finding, Severity, count, did_you_mean, make, register_code, sort_key
from .jsonpos import escape, locate_all, tokens as pointer_tokens
from .load import LoadResult, load_bundle
from .model import HTML_KINDS, PROGRAM_KINDS, Asset, Bundle, folder_tree
from . import kinds
from .catalog import known_field_names

Check = Callable[[Bundle], Iterable[Finding]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register a bundle check; it runs inside every ``validate``."""
    CHECKS.append(fn)
    return fn


@dataclass
class ValidationResult:
    """Findings for one bundle path."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    bundle: Bundle | None = None

    @property
    def counts(self) -> dict[str, int]:
        return count(self.findings)

    @property
    def ok(self) -> bool:
        return self.counts["error"] == 0

    def failed(self, strict: bool = False) -> bool:
        c = self.counts
        return c["error"] > 0 or (strict and c["warning"] > 0)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "counts": self.counts, "findings": [f.to_dict() for f in self.findings]}


def validate_path(path: str | os.PathLike[str], limits: ArchiveLimits | None = None) -> ValidationResult:
    """Validate a bundle directory, bundle.json or archive. Raises BadInput if it is not a bundle."""
    display = os.fspath(path)
    try:
        loaded = load_bundle(path, limits)
    except UnsafeArchive as e:
        return ValidationResult(display, sorted(e.findings, key=sort_key))
    return ValidationResult(display, validate_loaded(loaded), loaded.bundle)


def bundles_containing(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The bundles a set of touched paths belongs to, once each: what a pre-commit hook validates.

    Each path maps to the bundle directory around it (the nearest one at or above it with a
    bundle.json), whether the path still exists or was deleted -- a commit that only removes a
    bundle's file must still have the remaining bundle checked. A ``.zip`` that is a bundle archive
    is a bundle itself (a ``.zip`` that does not open as one is kept too, so validate says why).
    Paths in no bundle, and bundles that no longer exist, are dropped. Relative paths are searched
    no higher than the current directory, so a hook run in a repository stays inside it.
    """
    out: dict[str, None] = {}
    for path in paths:
        p = Path(path)
        if p.suffix.lower() == ".zip" and p.is_file() and _may_be_bundle_archive(p):
            out.setdefault(os.fspath(p), None)
        for d in ([p] if p.is_dir() else []) + list(p.parents):
            if (d / "bundle.json").is_file():
                out.setdefault(os.fspath(d), None)
                break
    return list(out)


def _may_be_bundle_archive(path: Path) -> bool:
    """False only for a readable zip with no bundle.json at its root or one folder down (some other zip)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
    except (OSError, zipfile.BadZipFile):
        return True
    return any(n == "bundle.json" or (n.endswith("/bundle.json") and n.count("/") == 1) for n in names)


#: set by ``pre-commit run --from-ref X --to-ref Y`` (as in CI): the range whose changes are checked
PRE_COMMIT_REFS = ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF")


def git_changed_paths(cwd: str | os.PathLike[str] | None = None) -> list[str]:
    """Every path the commit being made changes -- added, modified, renamed from or to, and deleted --
    relative to ``cwd``, from ``git diff --cached``; or the changes between $PRE_COMMIT_FROM_REF and
    $PRE_COMMIT_TO_REF when pre-commit sets them. (pre-commit passes a hook only the files that still
    exist, so deletions have to come from git.) Raises BadInput outside a git repository.
    """
    import subprocess

    from .errors import BadInput

    refs = [os.environ.get(name) for name in PRE_COMMIT_REFS]
    args = ["git", "diff", "--name-only", "--no-renames", "--no-ext-diff", "--relative", "-z"]
    args += [f"{refs[0]}...{refs[1]}"] if all(refs) else ["--cached"]
    try:
        done = subprocess.run(args, cwd=cwd, capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BadInput(f"--git-changes: cannot run git ({e})", hint="Install git, or pass the paths.") from None
    if done.returncode:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BadInput(f"--git-changes: `{' '.join(args)}` failed: {detail[0] if detail else done.returncode}",
                       hint="Run it inside a git repository (pre-commit does), or pass the paths.")
    return [os.fsdecode(p) for p in done.stdout.split(b"\0") if p]


def validate_bundle(bundle: Bundle) -> list[Finding]:
    """Run every registered check over an already loaded bundle."""
    findings: list[Finding] = []
    for fn in CHECKS:
        findings.extend(fn(bundle))
    return findings


def validate_loaded(loaded: LoadResult) -> list[Finding]:
    findings = list(loaded.findings)
    if loaded.bundle.manifest is not None:
        findings.extend(validate_bundle(loaded.bundle))
    return sorted(_with_lines(findings, loaded.bundle.texts), key=sort_key)


def _with_lines(findings: list[Finding], texts: dict[str, str]) -> list[Finding]:
    """Fill in line:column for findings that only know a JSON pointer (one pass per file)."""
    wanted: dict[str, set[str]] = {}
    for f in findings:
        if f.line is None and f.pointer is not None and f.file in texts:
            wanted.setdefault(f.file, set()).add(f.pointer)
    positions = {file: locate_all(texts[file], pointers) for file, pointers in wanted.items()}
    out = []
    for f in findings:
        pos = positions.get(f.file or "", {}).get(f.pointer or "") if f.line is None else None
        out.append(replace(f, line=pos[0], column=pos[1]) if pos else f)
    return out


# --- helpers ---------------------------------------------------------------

#: A Marketo token: {{scope.Name}} or {{scope.Name:default=value}}.
#: The name keeps any trailing spaces (strip it): a lazy name followed by \s* would backtrack
#: quadratically on a long unclosed "{{my.   …" in a hostile file.
TOKEN_RE = re.compile(r"\{\{\s*([A-Za-z_]+)\.([^{}:]*)(?::default=[^{}]*)?\}\}")


def iter_strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with its pointer, in document order.

    Iterative, so a hostile document nested a thousand levels deep cannot
    exhaust the interpreter's stack.
    """
    stack: list[tuple[str, Any]] = [(pointer, value)]
    while stack:
        p, v = stack.pop()
        if isinstance(v, str):
            yield p, v
        elif isinstance(v, dict):
            stack.extend(reversed([(f"{p}/{escape(k)}", x) for k, x in v.items()]))
        elif isinstance(v, list):
            stack.extend(reversed([(f"{p}/{i}", x) for i, x in enumerate(v)]))


def asset_strings(asset: Asset) -> Iterator[tuple[str | None, int | None, str]]:
    """Strings of an asset that may hold tokens: (pointer, line, text)."""
    if asset.content is None:
        return
    if asset.kind in HTML_KINDS:
        text = asset.content
        for lineno, line in enumerate(text.splitlines(), 1):
            if "{{" in line:
                yield None, lineno, line
    else:
        for pointer, s in iter_strings(asset.content):
            if "{{" in s:
                yield pointer, None, s


def folder_paths(program: dict[str, Any]) -> tuple[set[str], list[tuple[str, str]]]:
    """All folder paths of the program's tree, and (pointer, path) of duplicates."""
    paths: set[str] = set()
    seen: set[str] = set()
    dups: list[tuple[str, str]] = []
    for path, pointer in folder_tree(program):
        if path.casefold() in seen:
            dups.append((pointer + "/name", path))
        seen.add(path.casefold())
        paths.add(path)
    return paths, dups


# --- checks ------------------------------------------------------------------

G = "references"
register_code("PK201", "duplicate-name", Severity.ERROR,
              "Two assets of the same kind share a name in the same folder (names that differ only in case, or "
              "in Unicode normalisation: 'é' as one code point or as 'e' and an accent, are one name).",
              hint="Marketo needs names unique per kind and folder; rename one of them.",
              example="/assets/5/name: smartCampaign '01 - Sync New People to CRM' already defined at /assets/0",
              group=G)
register_code("PK202", "duplicate-path", Severity.ERROR, "Two asset entries point at the same file.",
              hint="Each asset has its own file.", example="/assets/4/path: emails/a.json is also used by /assets/2",
              group=G)


def same_name(name: str) -> str:
    """What two names that read the same have in common: case folded, and Unicode-normalised (NFC), so 'é' as
    one code point and as 'e' with a combining accent are one name, as they are one name to a reader."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


@check
def duplicate_names(bundle: Bundle) -> Iterator[Finding]:
    seen: dict[tuple[str, str, str], Asset] = {}
    paths: dict[str, Asset] = {}
    for a in bundle.assets:
        key = (a.kind, same_name(a.folder or ""), same_name(a.name))
        if key in seen:
            p = a.pointer + "/name"
            other = seen[key]
            spelt = ("" if other.name.casefold() == a.name.casefold() and (other.folder or "").casefold() ==
                     (a.folder or "").casefold() else " (the same name in other Unicode code points: "
                                                      f"{other.name!r} there)")
            yield make("PK201", f"{p}: {a.kind} {a.name!r} already defined at {other.pointer}"
                                f"{' in folder ' + repr(a.folder) if a.folder else ''}{spelt}",
                       file=bundle.manifest_path, pointer=p)
        else:
            seen[key] = a
        if a.path in paths:
            p = a.pointer + "/path"
            yield make("PK202", f"{p}: {a.path} is also used by {paths[a.path].pointer}",
                       file=bundle.manifest_path, pointer=p)
        else:
            paths[a.path] = a


register_code("PK203", "unknown-folder", Severity.ERROR,
              "An asset is placed in a folder the program's folder tree does not have.",
              hint="Add the folder under program.folders, or fix the asset's folder.",
              example="/assets/2/folder: 'Email Alerts' is not a folder of the program (folders: Campaigns, Email Alert)",
              group=G)
register_code("PK204", "duplicate-folder", Severity.ERROR, "Two sibling folders have the same name.",
              hint="Folder names are unique among siblings.", example="/program/folders/2/name: 'Campaigns' appears twice",
              group=G)
register_code("PK205", "missing-folder", Severity.WARNING,
              "A program asset has no folder, so it lands at the program's top level.",
              hint="Give the asset a folder from program.folders to keep the program tidy.",
              example="/assets/0: smartCampaign '01 - Sync' has no folder", group=G)


@check
def folders(bundle: Bundle) -> Iterator[Finding]:
    paths, dups = folder_paths(bundle.program)
    for pointer, path in dups:
        yield make("PK204", f"{pointer}: folder {path!r} appears twice", file=bundle.manifest_path, pointer=pointer)
    folded = {p.casefold() for p in paths}
    listing = ", ".join(sorted(paths)) or "none"
    for a in bundle.assets:
        if a.kind not in PROGRAM_KINDS:
            continue
        if a.folder is None:
            yield make("PK205", f"{a.pointer}: {a.kind} {a.name!r} has no folder", file=bundle.manifest_path,
                       pointer=a.pointer)
        elif a.folder.casefold() not in folded:
            p = a.pointer + "/folder"
            yield make("PK203", f"{p}: {a.folder!r} is not a folder of the program (folders: {listing})",
                       file=bundle.manifest_path, pointer=p)


def _bundle_names(bundle: Bundle) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for a in bundle.assets:
        out.setdefault(a.kind, set()).add(a.name.casefold())
    return out


@check
def references(bundle: Bundle) -> Iterator[Finding]:
    """Every reference a kind unit declares in its documents names an asset of the bundle (references that may
    name an asset of the target instead are left to the plan's preflight)."""
    present = _bundle_names(bundle)
    for unit in kinds.all_kinds():
        for a in bundle.assets_of(unit.name):
            if a.content is None:
                continue
            for ref in unit.references(a.content):
                if ref.outside or ref.name.casefold() in present.get(ref.kind, ()):
                    continue
                article = "an" if ref.kind[0] in "aeiou" else "a"
                yield make(ref.code, f"{ref.pointer}: {ref.name!r} is not {article} {ref.kind} in this bundle",
                           file=a.path, pointer=ref.pointer or None)


register_code("PK209", "undefined-token", Severity.ERROR,
              "A {{my.Name}} token is used but the program defines no such local token.",
              hint="Add the token under program.tokens or fix its name (token names are case-insensitive).",
              example="emails/alert.json /subject: {{my.MQL Treshold}} is not a program token", group=G)
register_code("PK210", "unknown-lead-field", Severity.ERROR,
              "A {{lead.Field}} token or a Change Data Value step names a field that is neither standard nor required.",
              hint="Add the field to requires.fields (apiName, displayName, type) so preflight checks the target has it.",
              example="emails/alert.json /sections/body: {{lead.Lead Grade}} is not a standard field or in requires.fields",
              group=G)
register_code("PK211", "duplicate-token", Severity.ERROR, "Two program tokens have the same name.",
              hint="Token names are unique within a program.", example="/program/tokens/3/name: 'MQL Threshold' is defined twice",
              group=G)
register_code("PK212", "malformed-token", Severity.ERROR,
              "Text that starts like a token ({{name.) is not a well-formed token, so Marketo shows it as written.",
              hint="Write a token as {{namespace.Name}} or {{namespace.Name:default=value}}: no space before the '.', "
                   "closed with '}}'.",
              example="emails/alert.json:12:16 /subject: {{lead.Person Score} is not closed with '}}'", group=G)
register_code("PK213", "unknown-token-namespace", Severity.WARNING,
              "A token's namespace (the part before the '.') is not one Marketo documents.",
              hint="Marketo's token namespaces: my, lead, company, campaign, program, member, trigger, system, social, "
                   "salesperson (any case), and {{sp_…}} Sales Insight tokens. Check the spelling.",
              example="emails/alert.json:9:14 /sections/body: {{compnay.Company Name}}: 'compnay' is not a Marketo "
                      "token namespace; did you mean 'company'?", group=G)

#: token namespaces Marketo documents (Tokens Overview, My Tokens, System Tokens Glossary), case-folded;
#: Sales Insight's {{sp_…}} tokens have no '.' and are not checked
TOKEN_NAMESPACES = ("my", "lead", "company", "campaign", "program", "member", "trigger", "system", "social",
                    "salesperson")
#: where a token seems to start: "{{", a word, a '.' (spaces allowed around the word)
_TOKEN_START = re.compile(r"\{\{\s*([A-Za-z_]+)(\s*)\.")


def token_syntax(text: str) -> Iterator[tuple[int, str, str]]:
    """Problems of the tokens in ``text``: (offset, code, message) for each malformed token (PK212) and
    each well-formed one whose namespace Marketo does not document (PK213)."""
    for start in _TOKEN_START.finditer(text):
        at = start.start()
        whole = TOKEN_RE.match(text, at)
        if whole is not None:
            scope = whole.group(1)
            if scope.casefold() not in TOKEN_NAMESPACES:
                close = did_you_mean(scope, TOKEN_NAMESPACES, cutoff=0.6)
                yield at, "PK213", (f"{whole.group(0)}: {scope!r} is not a Marketo token namespace"
                                    + (f"; {close}" if close else ""))
            continue
        # every search stops at the next "{{": a string of many unclosed tokens is still read once
        again = text.find("{{", at + 2)
        bound = again if again >= 0 else len(text)
        end = text.find("}}", at + 2, bound)
        newline = text.find("\n", at, bound)
        stop = min(x for x in (end, newline, bound) if x >= 0)
        brace, tag = text.find("}", at, stop), text.find("<", at, stop)  # shown up to a lone '}' or a tag
        stop = brace + 1 if brace >= 0 and (tag < 0 or brace < tag) else tag if tag >= 0 else stop
        shown = text[at:min(stop, at + 60)].rstrip() + ("…" if stop > at + 60 else "")
        if start.group(2):
            yield at, "PK212", (f"{shown}{'}}' if stop == end else ''}: a space between {start.group(1)!r} and '.'; "
                                f"write {{{{{start.group(1)}.…}}}}")
        elif end < 0 or stop != end:
            yield at, "PK212", f"{shown} is not closed with '}}}}'"
        else:
            yield at, "PK212", (f"{shown}}}}}: not a token (after the name only ':default=value' may follow)")


@check
def tokens(bundle: Bundle) -> Iterator[Finding]:
    defined: set[str] = set()
    for i, t in enumerate(as_list(bundle.program.get("tokens"))):
        if isinstance(t, dict) and isinstance(t.get("name"), str):
            name = t["name"].strip().casefold()
            if name in defined:
                p = f"/program/tokens/{i}/name"
                yield make("PK211", f"{p}: {t['name']!r} is defined twice", file=bundle.manifest_path, pointer=p)
            defined.add(name)
    fields = known_field_names(bundle)
    for a in bundle.assets:
        for pointer, line, text in asset_strings(a):
            where = f"{pointer}: " if pointer else ""
            for offset, code, message in token_syntax(text):
                yield make(code, where + message, file=a.path, pointer=pointer, line=line,
                           column=offset + 1 if line is not None else None)
            for m in TOKEN_RE.finditer(text):
                scope, name = m.group(1).lower(), m.group(2).strip()
                if scope == "my" and name.casefold() not in defined:
                    yield make("PK209", f"{where}{{{{my.{name}}}}} is not a program token", file=a.path,
                               pointer=pointer, line=line)
                elif scope == "lead" and name.casefold() not in fields:
                    yield make("PK210", f"{where}{{{{lead.{name}}}}} is not a standard field or in requires.fields",
                               file=a.path, pointer=pointer, line=line)
        unit = kinds.get(a.kind)
        if unit is not None and a.content is not None:
            for p, name in unit.fields(a.content):
                if name.strip().casefold() not in fields:
                    yield make("PK210", f"{p}: field {name!r} is not a standard field or in requires.fields",
                               file=a.path, pointer=p)


@check
def kind_checks(bundle: Bundle) -> Iterator[Finding]:
    """The checks each kind unit declares (a campaign's triggers, filters and flow; an email's sections…)."""
    for unit in kinds.all_kinds():
        for fn in unit.checks:
            yield from fn(bundle)


G3 = "completion"
register_code("PK113", "needs-completion", Severity.WARNING,
              "The bundle lists something its export could not read from the source (needsCompletion): "
              "complete it by hand before relying on the bundle.",
              hint="Fill in what the item names (e.g. the campaign's flow steps, from the Marketo UI), then remove "
                   "the item from needsCompletion in bundle.json.",
              example="smartCampaign '01 - Sync': flow steps to complete by hand: Marketo's asset API has no "
                      "endpoint that reads a smart campaign's flow", group=G3)
register_code("PK114", "needs-completion-unknown-path", Severity.ERROR,
              "A needsCompletion item names a file that is not an asset of the bundle.",
              hint="Use the path of an asset listed in assets, or leave path out for the program as a whole.",
              example="/needsCompletion/0/path: 'campaigns/gone.json' is not an asset of the bundle", group=G3)
register_code("PK115", "needs-completion-unknown-pointer", Severity.ERROR,
              "A needsCompletion item's pointer does not lead anywhere in the document it is about.",
              hint="Point at an existing member (e.g. /flow or /smartList), or leave pointer out.",
              example="/needsCompletion/0/pointer: '/flows' is not in campaigns/01-sync.json", group=G3)


def _resolves(doc: Any, pointer: str) -> bool:
    """Whether JSON pointer ``pointer`` (RFC 6901) names a member of ``doc``."""
    node = doc
    for key in pointer_tokens(pointer):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return False
    return True


@check
def needs_completion(bundle: Bundle) -> Iterator[Finding]:
    """One warning per item an export could not read (at the place to complete), errors for dangling items."""
    items = (bundle.manifest or {}).get("needsCompletion")
    by_path = {a.path: a for a in bundle.assets}
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("what"), str) or not isinstance(item.get("why"), str):
            continue  # the schema reports it
        here = f"/needsCompletion/{i}"
        path, pointer = item.get("path"), item.get("pointer")
        pointer = pointer if isinstance(pointer, str) else None
        if isinstance(path, str) and path not in by_path:
            yield make("PK114", f"{here}/path: {path!r} is not an asset of the bundle", file="bundle.json",
                       pointer=f"{here}/path")
            continue
        asset = by_path.get(path) if isinstance(path, str) else None
        doc = bundle.manifest if asset is None else asset.content
        if pointer and (asset is None or asset.kind not in HTML_KINDS) and doc is not None \
                and not _resolves(doc, pointer):
            yield make("PK115", f"{here}/pointer: {pointer!r} is not in {path or 'bundle.json'}", file="bundle.json",
                       pointer=f"{here}/pointer")
            continue
        what = f"{asset.kind} {asset.name!r}: " if asset is not None else ""
        message = f"{what}{item['what']} to complete by hand: {item['why']}"
        if asset is not None and asset.kind not in HTML_KINDS and isinstance(asset.content, (dict, list)):
            yield make("PK113", message, file=asset.path, pointer=pointer or "")
        else:
            yield make("PK113", message, file="bundle.json", pointer=here)


# Template lint and the lead-lifecycle checks register their own checks; importing them
# here makes every validate run them, whoever calls validate.
from . import lifecycle as _lifecycle  # noqa: E402,F401
from . import lint as _lint  # noqa: E402,F401
