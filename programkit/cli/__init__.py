"""The ``programkit`` command line: thin click commands over the library.

Each command lives in its own module here and only parses options, calls one
library function and renders its result.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from .. import __version__
from ..simulate import core_in_use
from .common import run_guarded


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="programkit",
                      message=f"%(prog)s, version %(version)s; simulate core: {core_in_use()}")
def cli() -> None:
    """Package, validate, import and export Marketo-style programs as versioned bundles."""


# Every module in this package that defines COMMANDS contributes its commands,
# so adding a command means adding one module and touching nothing else.
for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _command in getattr(_module, "COMMANDS", ()):
        cli.add_command(_command)


def main(argv: list[str] | None = None, prog_name: str = "programkit") -> None:
    """Console-script entry point."""
    run_guarded(cli, argv if argv is not None else sys.argv[1:], prog_name)
