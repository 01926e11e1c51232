"""Options of `plan`/`import` that only a Marketo target takes: ``--tag TYPE=VALUE``, ``--approve``,
``--activate``. Parsed and checked here, so a mistake is a finding with a code, not a bare usage line."""

from __future__ import annotations

from typing import Any, Iterable

from .errors import BadInput
from .findings import Severity, make, register_code

G = "import"
register_code("PK230", "bad-tag-option", Severity.ERROR,
              "A --tag option is not TYPE=VALUE, or gives one tag type two values (exit 2).",
              hint="Give each tag type Marketo requires once, as --tag 'TYPE=VALUE', e.g. --tag 'Region=EMEA' "
                   "(a value Admin > Tags allows).",
              example="--tag 'Region' is not TYPE=VALUE", group=G)
register_code("PK231", "marketo-only-option", Severity.ERROR,
              "--tag, --approve or --activate was given for a target that is not a Marketo instance (exit 2): a "
              "workspace file has no approvals, activations or required tag types.",
              hint="Leave the option out for a workspace file, or import into the instance with "
                   "--target https://<munchkin>.mktorest.com.",
              example="--tag only applies to a Marketo target (--target https://…mktorest.com)", group=G)


def parse_tags(specs: Iterable[str]) -> dict[str, str]:
    """``--tag`` values as {tag type: value}, each stripped. PK230 for one that is not TYPE=VALUE and for a tag
    type given two different values (the same value twice is the same tag)."""
    tags: dict[str, str] = {}
    for spec in specs:
        ttype, sep, value = spec.partition("=")
        ttype, value = ttype.strip(), value.strip()
        if not sep or not ttype or not value:
            message = f"--tag {spec!r} is not TYPE=VALUE"
            raise BadInput(message, [make("PK230", message)])
        known = next((t for t in tags if t.casefold() == ttype.casefold()), None)
        if known is not None and tags[known] != value:
            message = f"--tag gives tag type {known!r} two values: {tags[known]!r} and {value!r}"
            raise BadInput(message, [make("PK230", message)])
        tags.setdefault(ttype, value)
    return tags


def apply_marketo_options(ws: Any, tags: Iterable[str] = (), approve: bool = False, activate: bool = False) -> None:
    """Hand --tag, --approve and --activate to a Marketo target (``ws.extra_tags``, ``ws.approve``,
    ``ws.activate``); PK231 on any other target, PK230 for a bad --tag."""
    specs = list(tags)
    if not (specs or approve or activate):
        return
    if not hasattr(ws, "extra_tags"):
        used = [f for f, on in (("--tag", specs), ("--approve", approve), ("--activate", activate)) if on]
        message = (f"{', '.join(used)} only appl{'ies' if len(used) == 1 else 'y'} to a Marketo target "
                   "(--target https://…mktorest.com)")
        raise BadInput(message, [make("PK231", message)])
    ws.extra_tags.update(parse_tags(specs))
    ws.approve, ws.activate = approve, activate
