"""Starter templates: render a parameterised bundle (``programkit new``).

A template is a folder with ``template.json`` (its parameters, checked
against ``schemas/template.json``) and ``bundle/``, the bundle's files as
Jinja2 templates. Rendering is sandboxed (:class:`ImmutableSandboxedEnvironment`,
:class:`StrictUndefined`) and uses ``[[ … ]]`` / ``[% … %]`` / ``[# … #]``
delimiters, so Marketo tokens (``{{my.X}}``, ``{{lead.First Name:default=…}}``)
and Email 2.0 variables (``${x}``) pass through untouched.

Rendering writes into a temporary directory, rewrites every JSON file
canonically, fills in the manifest's digests and validates the result; only
a clean bundle is moved to its destination, so a bad value or a broken
template leaves nothing behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable  # importlib.abc.Traversable goes in Python 3.14
from pathlib import Path
from typing import Any, Iterator, Mapping

import jinja2
import jsonschema
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import canonical, schema, slugs
from .errors import BadInput, ProgramkitError, no_such_path, require_path
from .findings import CODES, Finding, Severity, closest_choice, make, register_code
from .resources import package_dir

MANIFEST = "template.json"
FILES = "bundle"
#: Largest template file read (templates are small text files).
MAX_TEMPLATE_FILE = 4 << 20


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str
    required: bool = False
    default: Any = None
    enum: list[Any] | None = None
    constraints: dict[str, Any] = field(default_factory=dict)
    #: what ``constraints["pattern"]`` accepts, in words (e.g. "an email address"), for messages
    pattern_description: str | None = None

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema a value of this parameter must match."""
        s: dict[str, Any] = {"type": self.type, **self.constraints}
        if self.enum is not None:
            s["enum"] = self.enum
        return s

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required,
                             "description": self.description}
        if not self.required:
            d["default"] = self.default
        if self.enum is not None:
            d["enum"] = self.enum
        d.update(self.constraints)
        if self.pattern_description:
            d["patternDescription"] = self.pattern_description
        return d


@dataclass(frozen=True)
class Template:
    """A loaded starter template: its manifest and where its files are."""

    name: str
    description: str
    parameters: dict[str, Parameter]
    root: Traversable

    def files(self) -> Iterator[tuple[str, bytes]]:
        """(relative path, bytes) of every file under bundle/, sorted."""
        yield from sorted(_walk(self.root.joinpath(FILES), ""))


def _walk(node: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for child in node.iterdir():
        rel = prefix + child.name
        if isinstance(child, Path) and child.is_symlink():
            raise BadInput(f"template file {rel} is a symbolic link", hint="Templates hold plain files only.")
        if child.is_dir():
            yield from _walk(child, rel + "/")
        elif child.is_file():
            data = child.read_bytes()
            if len(data) > MAX_TEMPLATE_FILE:
                raise BadInput(f"template file {rel} is larger than {MAX_TEMPLATE_FILE >> 20} MiB")
            yield rel, data


# --- finding templates ---------------------------------------------------------

def _is_template_dir(node: Traversable) -> bool:
    return node.is_dir() and node.joinpath(MANIFEST).is_file()


def list_templates() -> list[Template]:
    """The starter templates shipped with programkit, by name."""
    root = package_dir("templates")
    if not root.is_dir():
        return []
    found = [load_template(d) for d in root.iterdir() if _is_template_dir(d)]
    return sorted(found, key=lambda t: t.name)


def find_template(name_or_path: str) -> Template:
    """A shipped template by name, or a template folder on disk (one holding template.json).

    A bare name is a shipped template first, so a rendered bundle that happens
    to be called like its template in the current directory does not shadow it.
    """
    path = Path(name_or_path)
    is_path = os.sep in name_or_path or "/" in name_or_path or name_or_path in (".", "..")
    shipped = package_dir("templates").joinpath(name_or_path)
    if not is_path and _is_template_dir(shipped):
        return load_template(shipped)
    if _is_template_dir(path):
        return load_template(path)
    if is_path and not path.exists():
        raise no_such_path(name_or_path, "TEMPLATE is a shipped template's name (`programkit new --list`) or a "
                                         "folder holding template.json.")
    if is_path or path.is_dir():
        raise BadInput(f"{name_or_path} is not a template folder (it has no {MANIFEST})")
    known = ", ".join(t.name for t in list_templates()) or "none"
    raise BadInput(f"no template called {name_or_path!r}", hint=f"known templates: {known} (see `programkit new --list`)")


def load_template(root: Traversable) -> Template:
    """Read and schema-check a template's manifest."""
    try:
        doc = json.loads(root.joinpath(MANIFEST).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BadInput(f"{root}/{MANIFEST} is not valid JSON: {e}") from None
    errors = [f"{pointer or '/'}: {message}"
              for pointer, message in map(schema.located_message, schema.iter_errors("template", doc))]
    if errors:
        raise BadInput(f"{root}/{MANIFEST} does not match the template schema: " + "; ".join(errors),
                       hint="See `programkit schema template`.")
    params = {}
    for name, spec in doc["parameters"].items():
        constraints = {k: spec[k] for k in ("pattern", "minLength", "maxLength", "minimum", "maximum") if k in spec}
        if "pattern" in spec:
            try:
                re.compile(spec["pattern"])
            except re.error as e:
                raise BadInput(f"{root}/{MANIFEST}: the pattern of parameter {name!r} is not a regular "
                               f"expression: {e}") from None
        p = Parameter(name, spec["type"], spec["description"], spec.get("required", False), spec.get("default"),
                      spec.get("enum"), constraints, spec.get("patternDescription"))
        if not p.required:
            problem = _check_value(p, p.default)
            if problem:
                raise BadInput(f"{root}/{MANIFEST}: the default of parameter {name!r} is invalid: {problem}")
        params[name] = p
    if not root.joinpath(FILES).is_dir():
        raise BadInput(f"template {doc['name']!r} has no {FILES}/ folder")
    return Template(doc["name"], doc["description"], params, root)


# --- parameter values ----------------------------------------------------------

G = "new"
register_code("PK761", "bad-values-file", Severity.ERROR,
              "The --values file of `programkit new` is not a JSON object of parameter names to values.",
              hint='--values names a JSON file holding an object of parameter names to values, '
                   'e.g. {"prefix": "ACME", "mqlThreshold": 90}.',
              example="error: values file values.json is not valid JSON: Expecting ',' delimiter\n"
                      "  values.json:3:5: PK761 [bad-values-file]", group=G)
register_code("PK762", "bad-parameter", Severity.ERROR,
              "A template parameter given to `programkit new` is unknown, missing or has a value the template "
              "does not allow.",
              hint="`programkit new TEMPLATE --params` lists the parameters, their types and allowed values.",
              example="parameter 'alertRecipient': 'x' is not 'Person Owner', 'Account Owner', 'Opportunity Owner' "
                      "or email addresses separated by commas", group=G)
VALUES_HINT = CODES["PK761"].hint

def _shown(value: Any, limit: int = 40) -> str:
    """``value`` as it is quoted in a message: a long string is cut, so the message shows it once, briefly."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + "…"
    return repr(value)


def _check_value(p: Parameter, value: Any) -> str | None:
    """Why ``value`` is not acceptable for ``p``, or None."""
    if (p.type in ("integer", "number") and isinstance(value, bool)) or (p.type == "integer" and isinstance(value, float)):
        return f"{value!r} is not of type {p.type!r}"
    validator = jsonschema.Draft202012Validator(p.json_schema())
    for error in validator.iter_errors(value):
        if error.validator == "enum":
            close = closest_choice(str(value), [str(e) for e in p.enum or []], cutoff=0.6)
            mean = f"; did you mean {close!r}?" if close else ""
            return f"{value!r} is not one of the allowed values: {', '.join(map(str, p.enum or []))}{mean}"
        if error.validator == "maxLength":
            return f"{_shown(value)} is {len(value)} characters long; the limit is {error.validator_value}"
        if error.validator == "minLength":
            return f"{value!r} is {len(value)} characters long; at least {error.validator_value} are needed"
        if error.validator == "pattern":
            if p.pattern_description:
                return f"{_shown(value)} is not {p.pattern_description}"
            return f"{_shown(value)} does not match the pattern {p.constraints['pattern']!r}"
        return error.message
    return None


def _canonical_choice(p: Parameter, value: Any) -> Any:
    """A string given in another case than an allowed value (``--set crm=Dynamics``) is that value."""
    if isinstance(value, str) and p.enum and value not in p.enum:
        same = [e for e in p.enum if isinstance(e, str) and e.casefold() == value.casefold()]
        if len(same) == 1:
            return same[0]
    return value


def parse_set(p: Parameter, text: str) -> Any:
    """Convert a ``--set key=value`` string to the parameter's type."""
    if p.type == "string":
        return text
    if p.type == "boolean":
        low = text.strip().lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise BadInput(f"parameter {p.name!r}: {text!r} is not a boolean (use true or false)")
    try:
        if p.type == "integer" or re.fullmatch(r"\s*-?\d+\s*", text):
            return int(text)
        return float(text)
    except ValueError:
        raise BadInput(f"parameter {p.name!r}: {text!r} is not of type {p.type!r}") from None


def resolve_values(template: Template, values: Mapping[str, Any] | None = None,
                   sets: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then ``values`` (typed, e.g. from --values FILE.json), then ``sets`` (strings from --set).

    Every problem is collected and raised together as one BadInput naming each parameter.
    """
    problems: list[str] = []
    merged: dict[str, Any] = {}
    values, sets = _by_parameter_name(template, values or {}), _by_parameter_name(template, sets or {})
    for source in (values, sets):
        for key in source:
            if key not in template.parameters:
                close = closest_choice(key, template.parameters, cutoff=0.6)
                problems.append(f"unknown parameter {key!r}" + (f" (did you mean {close!r}?)" if close else ""))
    for name, p in template.parameters.items():
        if sets and name in sets:
            try:
                merged[name] = parse_set(p, sets[name])
            except BadInput as e:
                problems.append(e.message)
                continue
        elif values and name in values:
            merged[name] = values[name]
        elif p.required:
            problems.append(f"missing required parameter {name!r}")
            continue
        else:
            merged[name] = p.default
        merged[name] = _canonical_choice(p, merged[name])
        problem = _check_value(p, merged[name])
        if problem:
            problems.append(f"parameter {name!r}: {problem}")
    if problems:
        known = ", ".join(template.parameters) or "none"
        message = "; ".join(problems)
        raise BadInput(message, [make("PK762", message)],
                       hint=f"parameters of {template.name}: {known} (see `programkit new {template.name} --params`)")
    return merged


def _by_parameter_name(template: Template, given: Mapping[str, Any]) -> dict[str, Any]:
    """Keys spelt in another case than a parameter (``mqlthreshold``) name that parameter."""
    names = {n.casefold(): n for n in template.parameters}
    return {(k if k in template.parameters else names.get(k.casefold(), k)): v for k, v in given.items()}


def read_values_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameter values from a JSON object file (--values)."""
    require_path(path, VALUES_HINT)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        raise BadInput(f"cannot read values file {os.fspath(path)}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        message = f"values file {os.fspath(path)} is not valid JSON: {e.msg}"
        raise BadInput(message, [make("PK761", e.msg, file=os.fspath(path), line=e.lineno, column=e.colno)],
                       hint=VALUES_HINT) from None
    except (ValueError, UnicodeDecodeError) as e:
        message = f"values file {os.fspath(path)} is not valid JSON: {e}"
        raise BadInput(message, [make("PK761", message)], hint=VALUES_HINT) from None
    if not isinstance(data, dict):
        message = f"values file {os.fspath(path)} must hold a JSON object of parameter names to values"
        raise BadInput(message, [make("PK761", message, file=os.fspath(path))], hint=VALUES_HINT)
    return data


# --- rendering -------------------------------------------------------------------

def slug(text: str) -> str:
    """A bundle slug: lowercase ASCII letters and digits, '-' between words, at most 64 characters.

    Other scripts are transliterated first (anyascii): "Équipe Montréal" → ``equipe-montreal``,
    "営業チーム" → ``yingyechimu``, "Straße" → ``strasse``.
    """
    return slugs.slug(text) or "bundle"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_text(value: Any) -> str:
    """``value`` escaped for the inside of a JSON string: ``"Lead status is [[ status | jsontext ]]."``."""
    return json.dumps(str(value), ensure_ascii=False)[1:-1]


#: Largest string or list a template expression may build with ``*`` (and largest ``**`` exponent).
MAX_PRODUCT = 1 << 20
MAX_EXPONENT = 256


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no ``_`` attributes, no mutation of lists and dicts) that also
    refuses ``'x' * 10**10``-style expressions that would exhaust memory."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise jinja2.exceptions.SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_PRODUCT:
                    raise jinja2.exceptions.SecurityError(f"'*' would build {len(seq) * n} items")
        return super().call_binop(context, operator, left, right)


def environment(files: Mapping[str, str]) -> ImmutableSandboxedEnvironment:
    """The sandboxed Jinja environment. Its delimiters never occur in Marketo tokens or ``${var}``."""
    env = _Sandbox(
        loader=jinja2.DictLoader(dict(files)),  # includes resolve inside the template only
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        block_start_string="[%", block_end_string="%]",
        variable_start_string="[[", variable_end_string="]]",
        comment_start_string="[#", comment_end_string="#]",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.filters["json"] = _json
    env.filters["jsontext"] = _json_text
    env.filters["slug"] = slug
    return env


#: Limits on rendering one template (a custom template is code someone else wrote): total output, and seconds
#: (env PROGRAMKIT_RENDER_TIMEOUT). Loops are bounded by the sandbox's range() limit but nest; recursion by
#: Python's own limit, caught below.
MAX_RENDER_BYTES = 64 << 20
RENDER_TIMEOUT = 20.0


class _RenderTimeout(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _RenderTimeout in the rendering code after ``seconds`` (POSIX main thread; elsewhere no limit)."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_: Any) -> None:
        raise _RenderTimeout()

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _render_bounded(tpl: Any, values: dict[str, Any], budget: list[int]) -> str:
    """Render streaming, stopping once the output passes what is left of ``budget[0]`` bytes."""
    out = []
    for chunk in tpl.generate(values):
        budget[0] -= len(chunk)
        if budget[0] < 0:
            raise _RenderTooLarge()
        out.append(chunk)
    return "".join(out)


class _RenderTooLarge(Exception):
    pass


def render_files(template: Template, values: Mapping[str, Any]) -> dict[str, bytes]:
    """Render every file of the template; JSON files come out canonical. Raises BadInput on template errors."""
    texts: dict[str, str] = {}
    binary: dict[str, bytes] = {}
    for rel, data in template.files():
        try:
            texts[rel] = data.decode("utf-8")
        except UnicodeDecodeError:
            binary[rel] = data  # images and the like are copied as they are
    env = environment(texts)
    out: dict[str, bytes] = dict(binary)
    budget = [MAX_RENDER_BYTES]
    try:
        timeout = float(os.environ.get("PROGRAMKIT_RENDER_TIMEOUT") or RENDER_TIMEOUT)
    except ValueError:
        timeout = RENDER_TIMEOUT
    with _deadline(timeout):
        for rel in sorted(texts):
            out[rel] = _render_one(template, env, rel, values, budget, timeout)
    if "bundle.json" not in out:
        raise BadInput(f"template {template.name} has no bundle/bundle.json")
    return out


def _render_one(template: Template, env: Any, rel: str, values: Mapping[str, Any], budget: list[int],
                timeout: float) -> bytes:
    try:
        text = _render_bounded(env.get_template(rel), dict(values), budget)
    except _RenderTimeout:
        raise BadInput(f"template {template.name}: {rel}: rendering took longer than {timeout:g} s; stopped",
                       hint="A loop in the template runs too long; PROGRAMKIT_RENDER_TIMEOUT=SECONDS allows "
                            "more.") from None
    except _RenderTooLarge:
        raise BadInput(f"template {template.name}: {rel}: the rendered bundle is larger than "
                       f"{MAX_RENDER_BYTES >> 20} MiB; stopped", hint="A loop in the template writes too much.") \
            from None
    except RecursionError:
        raise BadInput(f"template {template.name}: {rel}: macros or includes nest too deeply (a macro that "
                       "calls itself without end?); stopped") from None
    except MemoryError:
        raise BadInput(f"template {template.name}: {rel}: rendering ran out of memory; stopped") from None
    except jinja2.TemplateSyntaxError as e:
        raise BadInput(f"template {template.name}: {rel}:{e.lineno}: {e.message}") from None
    except jinja2.exceptions.SecurityError as e:
        raise BadInput(f"template {template.name}: {rel}: blocked by the sandbox: {e}") from None
    except jinja2.UndefinedError as e:
        raise BadInput(f"template {template.name}: {rel}: {e.message}",
                       hint="Templates can use their declared parameters only; attributes starting "
                            "with '_' are blocked by the sandbox.") from None
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        raise BadInput(f"template {template.name}: {rel}: {type(e).__name__}: {e}") from None
    if rel.endswith(".json"):
        try:
            text = canonical.dumps(json.loads(text))
        except ValueError as e:
            raise BadInput(f"template {template.name}: {rel} does not render to valid JSON: {e}",
                           hint="Insert values into JSON with the json filter: [[ value | json ]].") from None
    return text.encode("utf-8")


@dataclass
class RenderResult:
    template: str
    dest: str
    values: dict[str, Any]
    files: list[str]
    findings: list[Finding] = field(default_factory=list)
    #: with ``force``: files of the bundle that was in ``dest`` which the render no longer has, removed
    removed: list[str] = field(default_factory=list)
    #: with ``force``: ``dest`` held a bundle, which the render replaced
    replaced: bool = False
    #: the rendered bundle's name (the slug derived from the program name), version and program name
    bundle: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"template": self.template, "dest": self.dest, "values": self.values, "files": self.files,
                "removed": self.removed, "replaced": self.replaced, "findings": [f.to_dict() for f in self.findings],
                "bundle": self.bundle}


def _write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _replace_files(root: Path, files: Mapping[str, bytes]) -> None:
    """``--force``: each file replaced atomically (never half a file), bundle.json last, so a full disk part-way
    leaves the old manifest, and the error says how far it got (validate then names the files that differ)."""
    from .output import write_output

    order = sorted(files, key=lambda rel: rel == "bundle.json")
    for done, rel in enumerate(order):
        target = root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            write_output(target, files[rel], option="", force=True)
        except (OSError, BadInput) as e:
            if done == 0:
                raise
            message = (f"{root}: {getattr(e, 'message', e)}; {done} of {len(order)} files were replaced before "
                       "it, bundle.json not yet: run the command again when it can write")
            raise BadInput(message, list(getattr(e, "findings", [])), hint=getattr(e, "hint", "")) from None


def _replace_plan(dest: Path, rendered: Mapping[str, bytes]) -> list[str]:
    """For ``--force``: the earlier bundle's files the new render no longer has (to remove).

    Refuses (BadInput, nothing written) when ``dest`` holds a file that is neither in its
    bundle.json nor in the new render -- a file of the user's, never deleted or left behind
    silently -- or when a path to write goes through a symbolic link. Hidden files and folders
    (``.git``, ``.gitignore``) are not part of a bundle and are left alone.
    """
    from .bundle import DirSource, foreign_files_error, listed_files

    present = DirSource(dest).names()  # what validate and pack see: hidden entries and linked folders excluded
    listed = listed_files(dest)
    foreign = [p for p in present if p not in listed and p not in rendered]
    if foreign:
        raise foreign_files_error(dest, foreign)
    links = sorted({os.fspath(q.relative_to(dest)) for rel in rendered for q in _on_the_way(dest, rel)
                    if q.is_symlink()})
    if links:
        raise BadInput(f"{dest}: {', '.join(links)} is a symbolic link; nothing was written",
                       hint="programkit never writes through links: replace the link or choose a new directory.")
    return sorted(p for p in present if p in listed and p not in rendered)


def _on_the_way(root: Path, rel: str) -> Iterator[Path]:
    """Every path from ``root`` down to ``root/rel``: the folders on the way, then the file."""
    path = root
    for part in rel.split("/"):
        path = path / part
        yield path


def _remove_files(root: Path, stale: list[str]) -> None:
    """Remove ``stale`` files of ``root``, then the folders they leave empty (never ``root`` itself)."""
    for rel in stale:
        (root / rel).unlink(missing_ok=True)
    for rel in stale:
        parent = (root / rel).parent
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def render_bundle(template: Template, dest: str | os.PathLike[str], values: Mapping[str, Any],
                  force: bool = False) -> RenderResult:
    """Render ``template`` with resolved ``values`` into ``dest`` and validate it.

    Nothing is written unless the rendered bundle validates without errors.
    ``dest`` must not exist or be empty; with ``force`` it may hold a bundle
    (rendered before, or any bundle): its files are replaced by the render's,
    and those the render no longer has are removed (:attr:`RenderResult.removed`),
    so ``dest`` ends up exactly the render. Files there that the old bundle.json
    does not list are never removed: they make ``force`` refuse, listed.
    Hidden files and folders (``.git``) are not a bundle's and are left alone.
    """
    from .output import refused_write
    from .validate import validate_path  # validate imports the lint checks; keep render importable alone

    dest_path = Path(dest)
    if dest_path.is_symlink() or (dest_path.exists() and not dest_path.is_dir()):
        raise BadInput(f"{dest_path} exists and is not a directory")
    if dest_path.is_dir() and any(dest_path.iterdir()) and not force:
        raise BadInput(f"{dest_path} is not empty",
                       hint="Choose a new directory, or pass --force to replace the bundle in it.")
    files = render_files(template, values)
    stale: list[str] = []
    replaced = False
    try:  # staged beside DEST (one file system): the finished bundle is renamed into place
        dest_path.absolute().parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{dest_path.name}.", suffix=".new", dir=dest_path.absolute().parent)
    except OSError as e:
        raise refused_write(dest_path, e, option="") from None
    try:
        staging = Path(tmp) / "bundle"
        try:
            _write_tree(staging, files)
        except OSError as e:  # a full disk or a read-only folder: only the staging copy was written, removed below
            raise refused_write(dest_path, e, option="") from None
        canonical.refresh_digests(staging)
        rendered = {rel: (staging / rel).read_bytes() for rel in files}
        result = validate_path(staging)
        if not result.ok:
            raise ProgramkitError(
                f"template {template.name} rendered an invalid bundle with these values; nothing was written",
                findings=[f for f in result.findings if f.severity is Severity.ERROR])
        if dest_path.is_dir() and not any(dest_path.iterdir()):
            dest_path.rmdir()
        if dest_path.exists():  # --force: replace the bundle there, file by file; hidden entries stay
            stale = _replace_plan(dest_path, rendered)
            replaced = True
            _replace_files(dest_path, rendered)
            _remove_files(dest_path, stale)
        else:
            try:
                os.rename(staging, dest_path)
            except OSError as e:
                raise refused_write(dest_path, e, option="") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RenderResult(template.name, os.fspath(dest_path), dict(values), sorted(rendered), result.findings,
                        removed=stale, replaced=replaced)


def new_bundle(name_or_path: str, dest: str | os.PathLike[str], values: Mapping[str, Any] | None = None,
               sets: Mapping[str, str] | None = None, force: bool = False) -> RenderResult:
    """``programkit new``: find the template, resolve the values, render, validate, write."""
    template = find_template(name_or_path)
    result = render_bundle(template, dest, resolve_values(template, values, sets), force=force)
    # what the bundle is called: the slug the program name became is what plan and history will say
    manifest = json.loads((Path(result.dest) / "bundle.json").read_text(encoding="utf-8"))  # it validated
    result.bundle = {"name": manifest["name"], "version": manifest["version"], "program": manifest["program"]["name"]}
    return result
