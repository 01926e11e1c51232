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
import tempfile
from functools import lru_cache
from pathlib import Path
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
register_code("PK961", "report-unwritable", Severity.ERROR,
              "An HTML report cannot be written where asked: a directory, no permission, a full disk (exit 2).",
              hint="Choose a file in a folder you can write to.",
              example="out/: cannot write the report (Is a directory); nothing was written", group=G)

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
    from ..inspect import inspect_path
    from ..load import load_bundle
    from ..validate import validate_loaded

    inspection = inspect_path(path, limits)
    loaded = load_bundle(path, limits)
    try:
        findings = validate_loaded(loaded)
        return render("inspect.html.j2", views.inspect_view(inspection, loaded.bundle, findings))
    finally:
        close = getattr(loaded.bundle.source, "close", None)
        if callable(close):
            close()


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
    if os.path.isdir(display):
        message = f"{display}: is a directory; {option} names the report file to write"
        raise BadInput(message, [make("PK961", message)])
    if os.path.lexists(display) and not force:
        message = f"{display}: already exists; nothing was written"
        raise BadInput(message, [make("PK960", message)], hint="Pass --force to replace it, or choose another name.")


def write_report(path: str | os.PathLike[str], text: str, force: bool = False, option: str = "--html") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so a reader
    never sees half a report; an existing file is replaced only with ``force``."""
    from ..archive import usual_mode

    check_writable(path, force, option)
    target = Path(path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent if
                                   str(target.parent) else ".")
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, usual_mode())
        if not force and os.path.lexists(target):  # appeared meanwhile: still never replaced without --force
            raise BadInput(f"{path}: already exists; nothing was written",
                           [make("PK960", f"{path}: already exists; nothing was written")])
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        message = f"{path}: cannot write the report ({e.strerror or e}); nothing was written"
        raise BadInput(message, [make("PK961", message)]) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def write_plan_report(path: str | os.PathLike[str], plan: Any, bundle: Any = None, workspace: Any = None,
                      force: bool = False) -> None:
    """``plan --html`` / ``import --html``: :func:`render_plan` written with :func:`write_report`."""
    check_writable(path, force)
    write_report(path, render_plan(plan, bundle, workspace), force)


def write_inspection_report(path: str | os.PathLike[str], bundle_path: str | os.PathLike[str], limits: Any = None,
                            force: bool = False) -> None:
    """``inspect --html``."""
    check_writable(path, force)
    write_report(path, render_inspection(bundle_path, limits), force)


def write_simulation_report(path: str | os.PathLike[str], result: Any, force: bool = False) -> None:
    """``simulate --html``."""
    check_writable(path, force)
    write_report(path, render_simulation(result), force)


__all__ = ["render_plan", "render_inspection", "render_validation", "render_simulation", "write_report",
           "write_plan_report", "write_inspection_report", "write_simulation_report", "check_writable",
           "content_security_policy"]
