"""The ``programkit`` command line: thin click commands over the library.

Each command lives in its own module here and only parses options, calls one
library function and renders its result.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from .common import run_guarded
from . import validate as _validate
from . import schema as _schema


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="programkit")
def cli() -> None:
    """Package, validate, import and export Marketo-style programs as versioned bundles."""


for module in (_validate, _schema):
    for command in module.COMMANDS:
        cli.add_command(command)


def main(argv: list[str] | None = None, prog_name: str = "programkit") -> None:
    """Console-script entry point."""
    run_guarded(cli, argv if argv is not None else sys.argv[1:], prog_name)
