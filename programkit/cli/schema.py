"""``programkit schema [NAME]``: print a bundled JSON Schema."""

from __future__ import annotations

import json

import click

from ..errors import ProgramkitError
from ..schema import bundled, get_schema, schema_names
from .common import fail


@click.command("schema")
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List schema names.")
@click.option("--raw", is_flag=True,
              help="Print the schema as published, with $refs to its sibling schemas by $id "
                   "(default: one self-contained document with them embedded).")
def schema_cmd(name: str | None, list_: bool, raw: bool) -> None:
    """Print the JSON Schema called NAME (default: bundle), for editors and other tools.

    The output is self-contained (schemas it refers to are embedded), so an
    editor or validator needs nothing else:

    \b
        programkit schema bundle > bundle.schema.json

    then point a bundle's "$schema" (or your editor's settings) at that file.
    """
    if list_:
        for n in schema_names():
            doc = get_schema(n)
            click.echo(f"{n:<22} {doc.get('$id', '')}")
        return
    try:
        doc = get_schema(name or "bundle") if raw else bundled(name or "bundle")
    except ProgramkitError as err:
        fail(err)
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


COMMANDS = [schema_cmd]
