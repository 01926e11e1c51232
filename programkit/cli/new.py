"""``programkit new``: start a bundle from a starter template."""

from __future__ import annotations

import json

import click

from ..errors import BadInput, ProgramkitError
from ..findings import make
from ..render import find_template, list_templates, new_bundle, read_values_file
from ..report import render_text
from ..validate import ValidationResult
from .common import EXIT_OK, fail, styler, use_colour


def _parse_sets(pairs: tuple[str, ...]) -> dict[str, str]:
    sets: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            message = f"--set {pair!r} is not key=value"
            raise BadInput(message, [make("PK762", message)], hint="e.g. --set prefix=ACME")
        sets[key.strip()] = value
    return sets


def _show_params(name: str) -> None:
    template = find_template(name)
    click.echo(f"{template.name}: {template.description}")
    for p in template.parameters.values():
        default = "required" if p.required else f"default {json.dumps(p.default, ensure_ascii=False)}"
        allowed = f"; one of {', '.join(map(str, p.enum))}" if p.enum else ""
        if p.pattern_description:
            allowed += f"; {p.pattern_description}"
        if "maxLength" in p.constraints:
            allowed += f"; at most {p.constraints['maxLength']} characters"
        if "minimum" in p.constraints or "maximum" in p.constraints:
            allowed += f"; {p.constraints.get('minimum', '')}..{p.constraints.get('maximum', '')}"
        click.echo(f"  {p.name} ({p.type}, {default}{allowed})")
        click.echo(f"      {p.description}")


@click.command("new")
@click.argument("template", required=False)
@click.argument("dest", required=False, type=click.Path())
@click.option("--list", "list_", is_flag=True, help="List the starter templates.")
@click.option("--params", is_flag=True, help="Show TEMPLATE's parameters.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set a parameter (repeatable).")
@click.option("--values", "values_file", type=click.Path(), metavar="FILE.json",
              help="Parameter values from a JSON object; --set wins over it.")
@click.option("--force", is_flag=True,
              help="Replace the bundle in a non-empty DEST: its files become exactly the render's (files the "
                   "render no longer has are removed); refused if DEST holds files its bundle.json does not list.")
def new_cmd(template: str | None, dest: str | None, list_: bool, params: bool, sets: tuple[str, ...],
            values_file: str | None, force: bool) -> None:
    """Render a starter TEMPLATE into DEST as a new bundle, then validate it.

    TEMPLATE is a shipped template name (see --list) or a folder holding a
    template.json. Parameters not set keep their defaults. Nothing is written
    when a value is invalid or the rendered bundle does not validate.

    Exit status: 0 written, 1 the rendered bundle has errors,
    2 bad parameters, a broken template or a non-empty DEST (with --force:
    a DEST holding files that are not its bundle's, listed; nothing written).
    """
    try:
        if list_:
            for t in list_templates():
                click.echo(f"{t.name:<24} {t.description}")
                click.echo(f"{'':<24} parameters: {', '.join(t.parameters) or 'none'}")
            click.echo("`programkit new NAME --params` explains each parameter and its default.")
            return
        if template is None:
            raise BadInput("missing TEMPLATE", hint="`programkit new --list` shows the templates.")
        if params:
            _show_params(template)
            return
        if dest is None:
            raise BadInput("missing DEST directory", hint=f"e.g. programkit new {template} ./my-program")
        values = read_values_file(values_file) if values_file else None
        result = new_bundle(template, dest, values=values, sets=_parse_sets(sets), force=force)
    except ProgramkitError as err:
        fail(err)
        return
    style = styler(use_colour())
    report = render_text([ValidationResult(result.dest, result.findings)], style, summary=False)
    click.echo(report, nl=False)
    for rel in result.removed:
        click.echo(f"removed {rel} (the new render has no such file)")
    done = "replaced" if result.replaced else "created"
    click.echo(f"{style(done, fg='green', bold=True)} {result.dest} from {result.template} "
               f"({len(result.files)} files, validated: {len(result.findings)} findings)")
    # the slug the program name became (transliterated: '東京イベント' → dongjingibento) is what plan and history say
    b = result.bundle
    click.echo(f"  bundle {b['name']} {b['version']}, program {b['program']!r}")
    raise SystemExit(EXIT_OK)


COMMANDS = [new_cmd]
