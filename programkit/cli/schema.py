"""``programkit schema [NAME]``: print a bundled JSON Schema."""

from __future__ import annotations

import json

import click

from ..errors import ProgramkitError
from ..schema import get_schema, schema_names
from .common import fail


@click.command("schema")
@click.argument("name", required=False)
@click.option("--list", "list_", is_flag=True, help="List schema names.")
def schema_cmd(name: str | None, list_: bool) -> None:
    """Print the JSON Schema called NAME (default: bundle), for editors and other tools.

    Point a bundle's "$schema" at a saved copy to get completion and checks
    in your editor:  programkit schema bundle > bundle.schema.json
    """
    if list_:
        for n in schema_names():
            doc = get_schema(n)
            click.echo(f"{n:<22} {doc.get('$id', '')}")
        return
    try:
        doc = get_schema(name or "bundle")
    except ProgramkitError as err:
        fail(err)
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


COMMANDS = [schema_cmd]
