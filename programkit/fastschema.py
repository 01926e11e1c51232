"""A fast yes/no check for the bundle schemas, so valid documents skip jsonschema's slower walk.

jsonschema builds a validator object per keyword and per level, which makes
a clean 10,000-asset bundle spend most of its time proving that nothing is
wrong. This module compiles a schema once into nested closures that only
answer "valid or not", for exactly the keywords the bundle schemas use.
:func:`programkit.schema.iter_errors` asks it first and runs jsonschema only
for documents it rejects, so every error message still comes from jsonschema.

It is deliberately conservative: a keyword it does not implement makes
:func:`compile_schema` return None and that schema always goes to jsonschema.
The tests compare its answer with jsonschema's on generated documents.
"""

from __future__ import annotations

import re
from typing import Any, Callable

Check = Callable[[Any], bool]

#: keywords that carry no assertion
_IGNORED = {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "deprecated",
            "readOnly", "writeOnly",
            # annotations only: programkit's jsonschema validators are built without a format checker
            "format", "contentMediaType", "contentEncoding"}
#: keywords that look at other keywords' results (unevaluatedProperties needs to know about these)
_IN_PLACE = {"allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "dependentSchemas"}


class Unsupported(Exception):
    """The schema uses a keyword this checker does not implement."""


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers, 1 == 1.0, containers deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, (list, tuple, dict)) or isinstance(b, (list, tuple, dict)):
        return False
    return a == b


def _is_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if name == "number":
        return isinstance(value, (int, float))
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    raise Unsupported(f"type {name!r}")


def _unique(items: list[Any]) -> bool:
    return all(not _equal(items[i], items[j]) for i in range(len(items)) for j in range(i + 1, len(items)))


class _Compiler:
    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.by_pointer: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if not ref.startswith("#"):
            raise Unsupported(f"non-local $ref {ref!r}")
        pointer = ref[1:]
        if pointer not in self.by_pointer:
            node: Any = self.root
            for token in pointer.lstrip("/").split("/") if pointer else []:
                token = token.replace("~1", "/").replace("~0", "~")
                node = node[int(token)] if isinstance(node, list) else node[token]
            self.by_pointer[pointer] = lambda v: True  # placeholder while compiling a recursive schema
            self.by_pointer[pointer] = self.compile(node)
        table = self.by_pointer
        return lambda v: table[pointer](v)  # late-bound, so recursion reaches the finished check

    def compile(self, schema: Any) -> Check:  # noqa: C901 - one branch per keyword is the clearest form
        if schema is True or schema == {}:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, dict):
            raise Unsupported("schema is not an object")
        checks: list[Check] = []
        unknown = set(schema) - _IGNORED - {
            "type", "enum", "const", "properties", "required", "additionalProperties", "unevaluatedProperties",
            "items", "minItems", "maxItems", "minLength", "maxLength", "pattern", "propertyNames", "uniqueItems",
            "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "minimum", "maximum"}
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))

        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            for t in types:
                _is_type(None, t)  # raises Unsupported for an unknown type name
            checks.append(lambda v, types=types: any(_is_type(v, t) for t in types))
        if "enum" in schema:
            options = schema["enum"]
            checks.append(lambda v: any(_equal(v, o) for o in options))
        if "const" in schema:
            const = schema["const"]
            checks.append(lambda v: _equal(v, const))

        # objects
        props = {k: self.compile(s) for k, s in (schema.get("properties") or {}).items()}
        required = list(schema.get("required") or [])
        additional = schema.get("additionalProperties", True)
        unevaluated = schema.get("unevaluatedProperties", True)
        if unevaluated is not True:
            if _IN_PLACE & set(schema) or "additionalProperties" in schema:
                raise Unsupported("unevaluatedProperties next to other applicators")
            additional = unevaluated  # with only "properties" beside it, the two keywords agree
        extra = None if additional is True else self.compile(additional)
        names = self.compile(schema["propertyNames"]) if "propertyNames" in schema else None
        if props or required or extra or names:
            def obj(v: Any) -> bool:
                if not isinstance(v, dict):
                    return True
                for k in required:
                    if k not in v:
                        return False
                for k, x in v.items():
                    check = props.get(k)
                    if check is not None:
                        if not check(x):
                            return False
                    elif extra is not None and not extra(x):
                        return False
                    if names is not None and not names(k):
                        return False
                return True
            checks.append(obj)

        # arrays
        if "items" in schema:
            item = self.compile(schema["items"])
            checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
        if "minItems" in schema:
            n = schema["minItems"]
            checks.append(lambda v: not isinstance(v, list) or len(v) >= n)
        if "maxItems" in schema:
            n2 = schema["maxItems"]
            checks.append(lambda v: not isinstance(v, list) or len(v) <= n2)
        if schema.get("uniqueItems") is True:
            checks.append(lambda v: not isinstance(v, list) or _unique(v))

        # strings
        if "minLength" in schema:
            lo = schema["minLength"]
            checks.append(lambda v: not isinstance(v, str) or len(v) >= lo)
        if "maxLength" in schema:
            hi = schema["maxLength"]
            checks.append(lambda v: not isinstance(v, str) or len(v) <= hi)
        if "pattern" in schema:
            search = re.compile(schema["pattern"]).search
            checks.append(lambda v: not isinstance(v, str) or search(v) is not None)

        # numbers
        if "minimum" in schema:
            mn = schema["minimum"]
            checks.append(lambda v: isinstance(v, bool) or not isinstance(v, (int, float)) or v >= mn)
        if "maximum" in schema:
            mx = schema["maximum"]
            checks.append(lambda v: isinstance(v, bool) or not isinstance(v, (int, float)) or v <= mx)

        # applicators
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "allOf" in schema:
            parts = [self.compile(s) for s in schema["allOf"]]
            checks.append(lambda v: all(p(v) for p in parts))
        if "anyOf" in schema:
            any_parts = [self.compile(s) for s in schema["anyOf"]]
            checks.append(lambda v: any(p(v) for p in any_parts))
        if "oneOf" in schema:
            one_parts = [self.compile(s) for s in schema["oneOf"]]
            checks.append(lambda v: sum(1 for p in one_parts if p(v)) == 1)
        if "not" in schema:
            negated = self.compile(schema["not"])
            checks.append(lambda v: not negated(v))
        if "if" in schema:
            cond = self.compile(schema["if"])
            then = self.compile(schema.get("then", True))
            other = self.compile(schema.get("else", True))
            checks.append(lambda v: then(v) if cond(v) else other(v))

        if not checks:
            return lambda v: True
        if len(checks) == 1:
            return checks[0]
        return lambda v: all(c(v) for c in checks)


def compile_schema(schema: dict[str, Any]) -> Check | None:
    """A function telling whether a document is valid against ``schema`` (self-contained, local $refs only),
    or None if the schema uses something this checker does not implement."""
    try:
        return _Compiler(schema).compile(schema)
    except (Unsupported, KeyError, IndexError, ValueError, re.error):
        return None
