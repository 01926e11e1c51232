"""Import conflict rules: the options, their precedence, and Marketo's copy naming.

Four rules come from Marketo's import wizard (program tags, landing page
templates, images and email templates with the same name), each with a
``fail`` option added for CI, and a ``reuseIdentical`` switch: a same-named
asset whose content has the same sha256 is reused rather than copied.

Every rule is decided at one of four levels, highest first: a command-line
flag, a ``--rules FILE``, the bundle's ``conflictRules``, the built-in
recommended default. :class:`Rules` remembers, for each rule, the value and
the level that set it, so a plan can say who decided every action.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from . import kinds, schema
from .errors import BadInput, require_path
from .findings import Finding, Severity, make, register_code, sort_key
from .load import parse_json_text

#: rule → options, recommended (default) first. The JSON names of conflictRules.json.
OPTIONS: dict[str, tuple[str, ...]] = {
    "programTags": ("create", "ignore", "fail"),
    "landingPageTemplates": ("copy", "useDestination", "reuseIfIdentical", "fail"),
    "images": ("keepBoth", "replace", "reuseIfIdentical", "fail"),
    "emailTemplates": ("keepBoth", "replace", "reuseIfIdentical", "fail"),
}
#: The switch: identical content (same sha256) is reused instead of copied or replaced.
REUSE_IDENTICAL = "reuseIdentical"
DEFAULTS: dict[str, Any] = {**{rule: options[0] for rule, options in OPTIONS.items()}, REUSE_IDENTICAL: True}
#: The command-line flag for each rule (the CLI builds its options from this table).
FLAGS: dict[str, str] = {
    "programTags": "--on-tag",
    "landingPageTemplates": "--on-landing-page-template",
    "images": "--on-image",
    "emailTemplates": "--on-email-template",
    REUSE_IDENTICAL: "--no-reuse-identical",
}
#: Design Studio kind → the rule that governs a same-named asset of that kind (declared by each kind unit).
RULE_OF_KIND: dict[str, str] = kinds.rules_of_kinds()
#: Levels, highest precedence first.
LEVELS = ("flag", "rules-file", "bundle", "default")

G = "import"
register_code("PK530", "rules-file-invalid", Severity.ERROR,
              "A --rules file is not valid JSON or does not match the conflict rules schema.",
              hint="See `programkit schema conflictRules`; options are listed in docs/import.md.",
              example="rules.json:3:13: /images: 'keep-both' is not one of ['keepBoth', 'replace', "
                      "'reuseIfIdentical', 'fail']", group=G)


@dataclass(frozen=True)
class Decision:
    """One rule's value and the level that set it."""

    value: Any
    decided_by: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "decidedBy": self.decided_by}


@dataclass(frozen=True)
class Rules:
    """The effective conflict rules for one import."""

    decisions: Mapping[str, Decision] = field(default_factory=dict)

    def __getitem__(self, rule: str) -> Decision:
        return self.decisions.get(rule) or Decision(DEFAULTS[rule], "default")

    def value(self, rule: str) -> Any:
        return self[rule].value

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {rule: self[rule].to_dict() for rule in DEFAULTS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Rules":
        return cls({rule: Decision(d["value"], d["decidedBy"]) for rule, d in data.items() if rule in DEFAULTS})

    @property
    def values(self) -> dict[str, Any]:
        return {rule: self.value(rule) for rule in DEFAULTS}


def resolve(
    *,
    flags: Mapping[str, Any] | None = None,
    rules_file: Mapping[str, Any] | None = None,
    bundle: Mapping[str, Any] | None = None,
) -> Rules:
    """Combine the levels: flag > rules file > bundle conflictRules > default.

    ``None`` values in ``flags`` mean "flag not given". Values are assumed
    already checked (the CLI's choices, the rules-file schema, validate's
    bundle schema); an unknown option raises ValueError as a programming error.
    """
    levels = (("flag", flags or {}), ("rules-file", rules_file or {}), ("bundle", bundle or {}))
    decisions: dict[str, Decision] = {}
    for rule, default in DEFAULTS.items():
        decisions[rule] = Decision(default, "default")
        for level, source in levels:
            value = source.get(rule)
            if value is None:
                continue
            allowed = (True, False) if rule == REUSE_IDENTICAL else OPTIONS[rule]
            if value not in allowed:
                raise ValueError(f"{rule}: {value!r} is not one of {allowed}")
            decisions[rule] = Decision(value, level)
            break
    return Rules(decisions)


def canonical_case(data: Any) -> Any:
    """Rules-file keys and options spelt in another case (``"Images": "keepboth"``) as the schema spells them.

    Anything that is not a rule or an option of it in another case is left for the schema check,
    which names it and suggests the closest name.
    """
    if not isinstance(data, dict):
        return data
    rules = {r.casefold(): r for r in DEFAULTS}
    out: dict[str, Any] = {}
    for key, value in data.items():
        rule = key if key in DEFAULTS else rules.get(key.casefold(), key)
        if rule in OPTIONS and isinstance(value, str) and value not in OPTIONS[rule]:
            value = next((o for o in OPTIONS[rule] if o.casefold() == value.casefold()), value)
        out[rule if rule not in out else key] = value
    return out


def load_rules_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and schema-check a ``--rules`` file. Raises BadInput (exit 2) with every finding."""
    file = os.fspath(path)
    require_path(file, '--rules names a JSON file of conflict rules (`programkit schema conflictRules`), '
                       'e.g. {"images": "reuseIfIdentical"}.')
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(f"cannot read rules file {file}: {getattr(e, 'strerror', None) or e}") from None
    findings: list[Finding] = []
    ok, data = parse_json_text(text, file, findings)
    if ok:
        from .jsonpos import locate

        data = canonical_case(data)
        for error in schema.iter_errors("conflictRules", data):
            pointer, message = schema.located_message(error)  # an unknown key: that key, and a suggestion
            pos = locate(text, pointer) if pointer else (1, 1)
            findings.append(make("PK530", f"{pointer or '/'}: {message}", file=file, pointer=pointer,
                                 line=pos[0] if pos else None, column=pos[1] if pos else None))
    if findings:
        findings.sort(key=sort_key)  # in file order, as validate lists them
        raise BadInput(f"rules file {file} is not valid", findings)  # PK530's hint says where the options are
    return {k: v for k, v in data.items() if k != "$schema"}


# --- Marketo's copy naming ------------------------------------------------------

_EXT_RE = re.compile(r"^(?P<stem>.+?)(?P<ext>\.[A-Za-z0-9]{1,8})$")


def copy_name(kind: str, name: str, n: int) -> str:
    """The n-th copy's name, as Marketo names "keep both" copies.

    "Quick Start Email Template" → "Quick Start Email Template - 1". Images keep
    their extension last, so the copy still opens as an image: "logo.png" →
    "logo - 1.png" (a name without an extension gets " - 1" at the end).
    """
    stem, ext = copy_stem(kind, name)
    return f"{stem} - {n}{ext}"


def copy_stem(kind: str, name: str) -> tuple[str, str]:
    """Where Marketo puts a copy's number: (what goes before " - N", what goes after it).

    Images keep their extension last ("logo.png" → ("logo", ".png")); every other name is all stem.
    """
    unit = kinds.get(kind)
    if unit is not None and unit.copy_keeps_extension:
        m = _EXT_RE.match(name)
        if m:
            return m["stem"], m["ext"]
    return name, ""


def copy_pattern(kind: str, base: str) -> re.Pattern[str]:
    """Matches (``fullmatch``, any case) ``base`` and every copy name of it: "base - N", and for images
    "stem - N.ext" (the form :func:`copy_name` makes) as well as "logo.png - N". One pattern for every
    target, so an earlier keep-both copy is found, and reused, the same way on each."""
    stem, ext = copy_stem(kind, base)
    alternatives = [re.escape(base), re.escape(base) + r" - [0-9]+"]
    if ext:
        alternatives.append(re.escape(stem) + r" - [0-9]+" + re.escape(ext))
    return re.compile("|".join(alternatives), re.IGNORECASE)


def first_free_copy(kind: str, name: str, taken: Iterable[str] | Callable[[list[str]], set[str]]) -> str:
    """The first "Name - N" (N = 1, 2, …) not taken.

    ``taken`` is a set of casefolded names, or a function that, given
    candidate names, returns the casefolded ones that are taken (a bulk look-up).
    """
    if callable(taken):
        lookup = taken
    else:
        used = {t.casefold() for t in taken}

        def lookup(names: list[str]) -> set[str]:
            return {c.casefold() for c in names} & used
    start, batch = 1, 16
    while True:  # look names up in growing batches: one query usually settles it
        candidates = [copy_name(kind, name, n) for n in range(start, start + batch)]
        used_now = lookup(candidates)
        for c in candidates:
            if c.casefold() not in used_now:
                return c
        start += batch
        batch *= 2


