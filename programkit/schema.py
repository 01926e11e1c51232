"""The bundle format's JSON Schemas: loaded once from package data, validators cached.

Schemas are draft 2020-12 and refer to one another by ``$id``; a
:class:`referencing.Registry` resolves those references offline, so no
validation ever reaches the network.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Iterator

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from .errors import BadInput
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
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def describe(error: ValidationError) -> ValidationError:
    """The most specific error under a oneOf/anyOf/allOf failure, for a useful message."""
    if error.context:
        return best_match(error.context) or error
    return error


def iter_errors(name: str, instance: Any) -> Iterator[ValidationError]:
    """Every schema error in ``instance``, most specific first within each branch."""
    for error in validator(name).iter_errors(instance):
        yield describe(error)
