"""The bundle format's JSON Schemas: loaded once from package data, validators cached.

Schemas are draft 2020-12 and refer to one another by ``$id``; a
:class:`referencing.Registry` resolves those references offline, so no
validation ever reaches the network.

Two engines, one answer: jsonschema-rs (compiled, Rust) says quickly whether
a document is valid; jsonschema walks only the documents it rejects, so every
error message still comes from jsonschema.
"""

from __future__ import annotations

import difflib
import json
import re
from functools import lru_cache
from typing import Any, Callable, Iterator

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from .errors import BadInput
from .findings import closest_choice
from .jsonpos import escape
from .resources import package_dir

BASE_ID = "https://schemas.programkit.dev/v1/"


@lru_cache(maxsize=None)
def _documents() -> dict[str, dict[str, Any]]:
    docs = {}
    for entry in package_dir("schemas").iterdir():
        if entry.name.endswith(".json"):
            docs[entry.name[: -len(".json")]] = json.loads(entry.read_text(encoding="utf-8"))
    return docs


def schema_names() -> list[str]:
    """Names accepted by :func:`get_schema` and ``programkit schema NAME``."""
    return sorted(_documents())


def get_schema(name: str) -> dict[str, Any]:
    """The schema document called ``name`` (e.g. ``bundle``, ``smartCampaign``)."""
    try:
        return _documents()[name]
    except KeyError:
        raise BadInput(
            f"no schema called {name!r}",
            hint="known schemas: " + ", ".join(schema_names()),
        ) from None


def bundled(name: str) -> dict[str, Any]:
    """The named schema as one self-contained document, for editors and tools that cannot follow $id.

    Every schema it refers to (transitively) is embedded under ``$defs/<name>``
    and each ``$ref`` is rewritten to a local JSON pointer, so nothing is
    fetched from the network and any draft-07-or-later tool resolves it.
    """
    docs = _documents()
    get_schema(name)  # BadInput for an unknown name
    embedded: dict[str, Any] = {}

    def target(ref: str, owner: str | None) -> str:
        doc, _, frag = ref.partition("#")
        if not doc:
            return ref if owner is None else f"#/$defs/{owner}{frag}"
        other = doc.rsplit("/", 1)[-1].removesuffix(".json")
        if other == name:
            return f"#{frag}"
        if other not in embedded:
            embedded[other] = None  # placeholder first: schemas may refer to each other in a cycle
            body = {k: v for k, v in docs[other].items() if k not in ("$id", "$schema")}
            embedded[other] = rewrite(body, other)
        return f"#/$defs/{other}{frag}"

    def rewrite(node: Any, owner: str | None) -> Any:
        if isinstance(node, dict):
            return {k: target(v, owner) if k == "$ref" and isinstance(v, str) else rewrite(v, owner)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v, owner) for v in node]
        return node

    root = rewrite(docs[name], None)
    if embedded:
        defs = dict(root.get("$defs", {}))
        clash = set(defs) & set(embedded)
        if clash:  # pragma: no cover - guards a future schema naming a $defs entry like a schema file
            raise ValueError(f"schema {name}: $defs {sorted(clash)} clash with embedded schemas")
        root["$defs"] = {**defs, **embedded}
    return root


@lru_cache(maxsize=None)
def _registry() -> Registry:
    resources = [(doc["$id"], Resource.from_contents(doc)) for doc in _documents().values()]
    return Registry().with_resources(resources)


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.protocols.Validator:
    """A cached Draft 2020-12 validator for the named schema."""
    schema = get_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry())


def pointer_of(path: Any) -> str:
    """JSON pointer (RFC 6901) for a jsonschema error path."""
    return "".join("/" + escape(p) for p in path)


#: What each ``pattern`` of the shipped schemas accepts, in words that read after "is not": a
#: finding says "'OP Lead' is not a slug: …", never the regular expression. A schema node may
#: also say it itself with ``patternDescription``. (A test checks every shipped pattern is here.)
PATTERN_WORDS: dict[str, str] = {
    "^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$":
        "a slug: lowercase letters, digits and -, starting and ending with a letter or digit, at most 64 characters",
    "^[^\\s].*[^\\s]$|^[^\\s]$": "a one-line name that does not start or end with a space",
    "^[0-9a-f]{64}$": "a sha256: 64 lowercase hexadecimal digits",
    "^[^{}:.][^{}:]*$": "a token name: no { } or :, and not starting with .",
    "^([^@\\s]+@[^@\\s]+\\.[^@\\s]+|\\{\\{[^}]+\\}\\})$": "an email address (name@example.com) or a {{token}}",
    "^(all|any|[0-9 ()]+(\\s*(and|or|AND|OR)\\s*[0-9 ()]+)*)$":
        "rule logic: all, any, or filter numbers joined by and / or, with parentheses (e.g. 1 and (2 or 3))",
    "^[1-9][0-9]* (minutes?|hours?|days?|weeks?)$":
        "a duration: a whole number above 0 and minutes, hours, days or weeks (e.g. 14 days)",
    "^[0-9]+ (minutes?|hours?|days?|weeks?)$": "a duration: a whole number and minutes, hours, days or weeks (e.g. 72 hours)",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "a date: YYYY-MM-DD",
    "^image/[a-z0-9.+-]+$": "an image media type (e.g. image/png)",
    "^[A-Za-z][A-Za-z0-9_]*$": "an identifier: a letter, then letters, digits and _",
    "^[A-Za-z_][A-Za-z0-9_]{0,63}$": "an identifier: a letter or _, then at most 63 letters, digits and _",
    "^[^/]+$": "a name without /",
    "^[^\\n]+$": "one line of text",
    "^(/.*)?$": "a JSON pointer: empty, or starting with /",
    "^-?[0-9]+(\\.[0-9]+)?$": "a number: digits, maybe a leading - and a decimal part",
    "^[+-=]?[0-9]+$": "a score change: a whole number, maybe after + - or =",
    "^[+\\-=]?\\s*([0-9]+|\\{\\{my\\.[^}]+\\}\\})$":
        "a score change: a whole number or a {{my.token}}, maybe after + - or =",
    "^(?!(created|change|score)$)": "a name other than created, change and score",
    "^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$":
        "a landing page URL path: a letter or digit, then letters, digits, . _ and -, no / and no .html "
        "(e.g. event-registration)",
    "^https?://[^\\s]+$": "a URL starting with http:// or https://, without spaces",
}


def shown(value: Any, limit: int = 60) -> str:
    """``value`` as a message quotes it, once: a long string or document is cut."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def problem_in_words(error: ValidationError) -> str | None:
    """What is wrong with the value, in words and without the value, or None (use jsonschema's message)."""
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "pattern":
        words = (error.schema.get("patternDescription") if isinstance(error.schema, dict) else None) \
            or PATTERN_WORDS.get(expected)
        return f"is not {words}" if words else f"does not have the expected form (the pattern {expected!r})"
    if kind == "maxLength" and isinstance(value, str):
        return f"is {len(value)} characters long; the limit is {expected}"
    if kind == "minLength" and isinstance(value, str):
        return "is empty" if not value else f"is {len(value)} characters long; at least {expected} are needed"
    if kind == "enum" and isinstance(expected, list):
        names = [str(e) for e in expected]
        close = closest_choice(value, names, cutoff=0.6) if isinstance(value, str) else None
        mean = f"; did you mean {close!r}?" if close else ""
        return f"is not one of: {', '.join(names)}{mean}"
    if kind == "const":
        return f"is not {expected!r}"
    return None


def located_message(error: ValidationError) -> tuple[str, str]:
    """(JSON pointer, message) for a schema error, as a user wants to read it.

    An unknown property points at that property, not at the object holding it,
    and names the closest allowed one: ``/conflictRule: unknown property; did you
    mean 'conflictRules'?`` instead of jsonschema's "Additional properties are not
    allowed ('conflictRule' was unexpected)" at line 1.
    """
    pointer = pointer_of(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties") or {})
        patterns = [re.compile(p) for p in (error.schema.get("patternProperties") or {})]
        extra = [k for k in error.instance if k not in allowed and not any(p.search(k) for p in patterns)]
        if extra:
            key = extra[0]
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) or \
                [a for a in allowed if a.lower() == key.lower()]
            hint = (f"did you mean {close[0]!r}?" if close else
                    f"allowed here: {', '.join(allowed)}" if allowed else "no other properties are allowed here")
            more = f" (and {len(extra) - 1} more unknown)" if len(extra) > 1 else ""
            return pointer + "/" + escape(key), \
                f"unknown property {key!r}{more}; {hint}"
    words = problem_in_words(error)
    return pointer, f"{shown(error.instance)} {words}" if words else error.message


def describe(error: ValidationError) -> ValidationError:
    """The most specific error under a oneOf/anyOf/allOf failure, for a useful message."""
    if error.context:
        return best_match(error.context) or error
    return error


class _PythonPattern:
    r"""``pattern`` evaluated with Python's :mod:`re`, exactly as jsonschema does.

    jsonschema-rs follows ECMA-262, which disagrees with Python on ``\s``
    (\x1c-\x1f, \x85, \ufeff) and on ``$`` before a final newline; with this
    the quick check and jsonschema accept exactly the same strings, so the quick
    check never lets through a document jsonschema would report.
    """

    def __init__(self, parent_schema: dict[str, Any], value: str, schema_path: list[str | int]):
        self.search = re.compile(value).search

    def validate(self, instance: Any) -> None:
        if isinstance(instance, str) and self.search(instance) is None:
            raise ValueError("does not match pattern")


@lru_cache(maxsize=None)
def fast_check(name: str) -> Callable[[Any], bool]:
    """jsonschema-rs's compiled yes/no check for the named schema (offline; formats are annotations only,
    as in :func:`validator`)."""
    import jsonschema_rs  # here, not at the top: about 10 ms of start-up that only validation needs

    registry = jsonschema_rs.Registry([(doc["$id"], doc) for doc in _documents().values()])
    return jsonschema_rs.validator_for(get_schema(name), registry=registry, offline=True, validate_formats=False,
                                       keywords={"pattern": _PythonPattern}).is_valid


def iter_errors(name: str, instance: Any) -> Iterator[ValidationError]:
    """Every schema error in ``instance``, most specific first within each branch.

    Valid documents, the common case, are recognised by jsonschema-rs alone;
    jsonschema walks only documents that have errors, to describe them.
    """
    try:
        if fast_check(name)(instance):
            return
    except ValueError:
        pass  # a value jsonschema-rs cannot take (a lone surrogate, say): let jsonschema decide
    for error in validator(name).iter_errors(instance):
        yield describe(error)
