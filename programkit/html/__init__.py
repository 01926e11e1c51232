"""HTML reports: one self-contained file for a plan, a bundle, findings or a simulation.

Each report is a single HTML document that fetches nothing: CSS is inline,
charts and diagrams are inline SVG drawn by :mod:`.charts`, and the page's
Content-Security-Policy forbids every network request (``default-src 'none'``;
styles inline, images only ``data:``, script only the report's own small
script, allowed by its sha256). Every string from a bundle, a workspace or a
server goes through Jinja2's autoescaping; rendered email and page previews
are ``<iframe sandbox="" srcdoc="…">`` (no script, an opaque origin) and are
first made to fetch nothing (:func:`.preview.offline`). The essentials are
HTML and SVG, so a report reads with JavaScript off; the script only adds a
filter box and expand/collapse buttons. Light and dark follow the reader's
system setting; ``@media print`` prints every section open.

The templates live in ``programkit/html/templates`` (package data), apart from
the starter bundles of ``programkit new``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache
from typing import Any, Sequence

import jinja2

from .. import __version__
from ..errors import BadInput, require_folder_of
from ..findings import Severity, make, register_code
from . import views

G = "input"
register_code("PK960", "report-exists", Severity.ERROR,
              "The file an --html (or -o) report would be written to already exists (exit 2).",
              hint="Pass --force to replace it, or choose another file name.",
              example="plan.html: already exists; nothing was written", group=G)
# PK961 (report-unwritable) is retired (findings.RETIRED_CODES): a report path that is a directory is PK417 and
# a file system that refuses the write is PK418, as for every other file a command writes (programkit.output).

TEMPLATE_DIR = "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report templates: autoescaping on for every template."""
    # ChainableUndefined: an optional key a plan or result does not have (a workspace without a location,
    # a plan read from an older file) shows as nothing rather than failing the whole report
    env = jinja2.Environment(loader=jinja2.PackageLoader("programkit.html", TEMPLATE_DIR),
                             autoescape=True, undefined=jinja2.ChainableUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["hours"] = _hours
    env.filters["pct"] = lambda v: "–" if v is None else f"{v * 100:.1f}%"
    env.filters["num"] = lambda v: f"{v:,}" if isinstance(v, int) else str(v)
    return env


def _hours(h: float | None) -> str:
    if h is None:
        return "–"
    if h < 1:
        return f"{h * 60:.0f} min"
    if h < 48:
        return f"{h:.1f} h"
    return f"{h / 24:.1f} d"


@lru_cache(maxsize=1)
def _script() -> tuple[str, str]:
    """The report's own script and its CSP source (``'sha256-…'``): the only script the page may run."""
    text = environment().loader.get_source(environment(), "report.js")[0]  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return text, f"'sha256-{digest}'"


def content_security_policy() -> str:
    """No network at all: nothing may be fetched, connected to, framed from elsewhere or submitted."""
    return ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            f"script-src {_script()[1]}; frame-src 'none'; base-uri 'none'; form-action 'none'")


def render(template: str, view: dict[str, Any]) -> str:
    """Render one report template with its view data (see :mod:`.views`)."""
    script, _ = _script()
    return environment().get_template(template).render(
        v=view, csp=content_security_policy(), script=script, version=__version__)


def render_plan(plan: Any, bundle: Any = None, workspace: Any = None) -> str:
    """A plan as HTML. With ``workspace`` (still open) the report diffs each update, replace and rename
    against the workspace's current content and, on Marketo, estimates the calls applying takes."""
    return render("plan.html.j2", views.plan_view(plan, bundle, workspace))


def render_inspection(path: str | os.PathLike[str], limits: Any = None) -> str:
    """A bundle (directory, bundle.json or archive) as HTML: tree, dependencies, campaigns, lifecycles."""
    from ..inspect import inspected

    with inspected(path, limits) as (inspection, bundle, findings):
        return render("inspect.html.j2", views.inspect_view(inspection, bundle, findings))


def render_validation(results: Sequence[Any], unreadable: Sequence[tuple[str, str]] = (), strict: bool = False) -> str:
    """Validation results as HTML: findings grouped by file with the source lines around each."""
    return render("validate.html.j2", views.validate_view(results, unreadable, strict))


def render_simulation(result: Any) -> str:
    """A simulation result as HTML: funnel, conversion, time in stage, volume per day, campaigns fired."""
    return render("simulate.html.j2", views.simulate_view(result))


def check_writable(path: str | os.PathLike[str], force: bool, option: str = "--html") -> None:
    """Refuse, before any work, a report path that exists (without ``force``) or whose folder does not."""
    display = os.fspath(path)
    require_folder_of(display, option)
    from ..output import check_output

    # a directory, FIFO, device or link is never written through, even with --force (PK417)
    check_output(display, option, force=True)
    if os.path.lexists(display) and not force:
        message = f"{display}: already exists; nothing was written"
        raise BadInput(message, [make("PK960", message)], hint="Pass --force to replace it, or choose another name.")


def write_report(path: str | os.PathLike[str], text: str, force: bool = False, option: str = "--html") -> None:
    """Write ``text`` to ``path`` with the project's atomic writer (:func:`programkit.output.write_output`:
    temporary file, fsync, rename), so a reader never sees half a report; an existing file is replaced only
    with ``force`` (PK960, even when it holds the same report), and a file system that refuses is PK418."""
    from ..output import write_output

    check_writable(path, force, option)
    write_output(path, text.encode("utf-8"), option=option, force=force)


def write_plan_report(path: str | os.PathLike[str], plan: Any, bundle: Any = None, workspace: Any = None,
                      force: bool = False) -> None:
    """``plan --html`` / ``import --html``: :func:`render_plan` written with :func:`write_report`."""
    check_writable(path, force)
    write_report(path, render_plan(plan, bundle, workspace), force)


def write_inspection_report(path: str | os.PathLike[str], bundle_path: str | os.PathLike[str], limits: Any = None,
                            force: bool = False) -> Any:
    """``inspect --html``: the report written to ``path``, and the :class:`~programkit.inspect.Inspection` it shows
    (for the text ``inspect`` prints too), from one load of the bundle — a registry reference is fetched once."""
    from ..inspect import inspected

    check_writable(path, force)
    with inspected(bundle_path, limits) as (inspection, bundle, findings):
        page = render("inspect.html.j2", views.inspect_view(inspection, bundle, findings))
    write_report(path, page, force)
    return inspection


def write_simulation_report(path: str | os.PathLike[str], result: Any, force: bool = False) -> None:
    """``simulate --html``."""
    check_writable(path, force)
    write_report(path, render_simulation(result), force)


__all__ = ["render_plan", "render_inspection", "render_validation", "render_simulation", "write_report",
           "write_plan_report", "write_inspection_report", "write_simulation_report", "check_writable",
           "content_security_policy"]
