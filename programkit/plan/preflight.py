"""The plan's preflight: what is checked against the workspace before, and apart from, deciding the actions.

The name ``--as`` gives (PK536); what the bundle requires and the workspace lacks: fields, segmentations,
snippets, webhooks, custom objects, a CRM connection, the program's channel and statuses (PK501–PK509); names
the documents use that may be in the workspace instead of the bundle (PK537); and, when the rules use the
workspace's own Design Studio asset, what the bundle's documents would lose on it (PK538). Pure functions:
they read the bundle and the workspace and return findings.
"""

from __future__ import annotations

import re
from typing import Any

from .. import kinds
from ..errors import BadInput
from ..findings import Finding, Severity, make, register_code
from ..jsontypes import as_list
from ..model import Asset, Bundle
from ..rules import RULE_OF_KIND
from ..schema import get_schema
from ..workspaces.base import AssetInfo, Workspace

G = "import"
register_code("PK501", "missing-field", Severity.ERROR, "A person field the bundle requires is not in the workspace.",
              hint="Create the field in the instance (same API name and type); the embedded workspace learns an "
                   "instance's fields from `programkit workspace load INVENTORY.json`, whose {\"fields\": [...]} "
                   "entries are shaped as requires.fields is (apiName, displayName, type): copy the missing ones "
                   "there to rehearse. Then plan again.",
              example="/requires/fields/0: field 'leadGrade' (string) is missing in workspace 'default'", group=G)
register_code("PK502", "field-type-mismatch", Severity.ERROR,
              "A required person field exists in the workspace with another type (Marketo's import fails on this).",
              hint="Use a field of the required type, or change requires.fields if the bundle can use this type.",
              example="/requires/fields/1: field 'mqlDate' is datetime in workspace 'default'; the bundle needs date",
              group=G)
register_code("PK503", "missing-segmentation", Severity.ERROR, "A segmentation the bundle requires is not in the workspace.",
              hint="Create and approve the segmentation in the workspace, then plan again.",
              example="/requires/segmentations/0: segmentation 'Region' is missing in workspace 'default'", group=G)
register_code("PK504", "missing-snippet", Severity.ERROR,
              "A snippet the bundle requires is neither in the workspace nor in the bundle.",
              hint="Create the snippet in the workspace or add it to the bundle.",
              example="/requires/snippets/0: snippet 'Footer' is missing in workspace 'default'", group=G)
register_code("PK505", "missing-webhook", Severity.ERROR, "A webhook the bundle requires is not in the workspace.",
              hint="Create the webhook in the workspace, then plan again.",
              example="/requires/webhooks/0: webhook 'Enrich' is missing in workspace 'default'", group=G)
register_code("PK506", "missing-custom-object", Severity.ERROR,
              "A custom object the bundle requires is not in the workspace.",
              hint="Create and approve the custom object in the workspace, then plan again.",
              example="/requires/customObjects/0: custom object 'Subscription' is missing in workspace 'default'",
              group=G)
#: PK507's hint, for the CRM the bundle needs: a real instance connects it; ours says so with our commands
CRM_HINT = ("Connect {what} to the instance. An embedded workspace: create it with `programkit workspace init --crm "
            "{crm}`, or give an existing one the CRM with `programkit workspace load INVENTORY.json`, the inventory "
            'saying {{"crm": "{crm}"}}.')
register_code("PK507", "missing-crm", Severity.ERROR, "The bundle needs a CRM connection the workspace does not have.",
              hint=CRM_HINT.format(what="the CRM requires.crm names (here salesforce)", crm="salesforce"),
              example="/requires/crm: the bundle needs a salesforce connection; workspace 'default' has none", group=G)
register_code("PK508", "unknown-channel", Severity.ERROR, "The program's channel is not a channel of the workspace.",
              hint="Create the channel in the workspace (Admin → Tags → Channels) or change program.channel.",
              example="/program/channel: channel 'Operational' is not in workspace 'default' (channels: Content)",
              group=G)
register_code("PK509", "unknown-membership-status", Severity.ERROR,
              "A program membership status is not a status of its channel in the workspace.",
              hint="Add the status to the channel in the workspace, or use one of the channel's statuses.",
              example="/program/membershipStatuses/0: '01-Member' is not a status of channel 'Operational' "
                      "(statuses: Member)", group=G)
register_code("PK536", "bad-program-name", Severity.ERROR,
              "The program name given with --as is empty, blank, starts or ends with a space, holds a line break, "
              "or is longer than Marketo's 255 characters (exit 2).",
              hint="Give --as a program name of 1 to 255 characters, without leading or trailing spaces.",
              example="--as '   ': the program name is blank", group=G)


register_code("PK537", "missing-referenced-asset", Severity.ERROR,
              "A campaign or smart list names a form, landing page, smart list or static list that is neither in "
              "the bundle nor in the workspace.",
              hint="Add it to the bundle, create it in the workspace first, or fix the name in the trigger or filter.",
              example="campaigns/registered.json:14:21 /smartList/triggers/0/constraints/0/values/0: form "
                      "'Event Registration' is neither in the bundle nor in workspace 'Default'", group=G)


register_code("PK538", "destination-template-lacks-section", Severity.ERROR,
              "With useDestination, a landing page of the bundle would be shown on the workspace's own template, "
              "which lacks an editable element or variable the page fills: that content would be lost.",
              hint="Import with --on-landing-page-template copy (the bundle's template as a copy), or add the "
                   "element to the workspace's template.",
              example="landing-pages/register.json:6:5 /sections/form: the workspace's template 'Event Page' has no "
                      "editable element 'form' (rule landingPageTemplates=useDestination)", group=G)


def check_program_name(name: str, what: str = "--as") -> None:
    """Raise BadInput (PK536, exit 2) unless ``name`` is a program name Marketo takes: the rules a bundle's own
    ``program.name`` follows (schemas/program.json: 1 to 255 characters, no leading or trailing whitespace, one
    line); 255 is also the limit the Marketo asset API's Swagger gives a program name (clone program)."""
    rule = get_schema("program")["properties"]["name"]
    if not name:
        why = "the program name is empty"
    elif not name.strip():
        why = "the program name is blank"
    elif name != name.strip():
        why = "the program name starts or ends with whitespace"
    elif len(name) > rule["maxLength"]:
        why = f"the program name has {len(name)} characters; a Marketo program name has at most {rule['maxLength']}"
    elif not re.fullmatch(rule["pattern"], name):
        why = "the program name holds a line break"
    else:
        return
    message = f"{what} {name[:40]!r}{'…' if len(name) > 40 else ''}: {why}"
    raise BadInput(message, [make("PK536", message)])


def _fold(s: Any) -> str:
    return s.casefold() if isinstance(s, str) else ""


def requirement_problems(bundle: Bundle, workspace: Workspace) -> list[Finding]:
    """What the bundle requires of the target and the target lacks: fields (PK501, PK502), named assets (PK503–
    PK506), then what its documents name that is neither in the bundle nor in the target (PK537, at the document
    that names it), then the CRM (PK507), the channel and its statuses (PK508, PK509); the rest at bundle.json."""
    out: list[Finding] = []

    def problem(code: str, message: str, pointer: str | None = None, file: str | None = None,
                hint: str | None = None) -> None:
        out.append(make(code, message, file=file or bundle.manifest_path, pointer=pointer, hint=hint))

    req, ws = bundle.requires, workspace.name
    fields = {_fold(k): v for k, v in workspace.fields().items()}
    for i, f in enumerate(req.get("fields") or []):
        if not isinstance(f, dict) or not isinstance(f.get("apiName"), str):
            continue
        have = fields.get(_fold(f["apiName"]))
        pointer = f"/requires/fields/{i}"
        if have is None:
            problem("PK501", f"{pointer}: field {f['apiName']!r} ({f.get('type')}) is missing in "
                             f"workspace {ws!r}", pointer)
        elif f.get("type") and _fold(have.type) != _fold(f["type"]):
            problem("PK502", f"{pointer}: field {f['apiName']!r} is {have.type} in workspace {ws!r}; "
                             f"the bundle needs {f['type']}", pointer)
    bundled_snippets = {_fold(a.name) for a in bundle.assets_of("snippet")}
    for key, code, what in (("segmentations", "PK503", "segmentation"), ("snippets", "PK504", "snippet"),
                            ("webhooks", "PK505", "webhook"), ("customObjects", "PK506", "custom object")):
        wanted = [n for n in req.get(key) or [] if isinstance(n, str)]
        if not wanted or key in getattr(workspace, "unreadable", ()):
            continue  # a target that cannot list these warns about them in its own preflight
        have_names = {_fold(n) for n in workspace.names(key)}
        for i, name in enumerate(req.get(key) or []):
            if not isinstance(name, str) or _fold(name) in have_names:
                continue
            if key == "snippets" and _fold(name) in bundled_snippets:
                continue
            problem(code, f"/requires/{key}/{i}: {what} {name!r} is missing in workspace {ws!r}",
                    f"/requires/{key}/{i}")
    out.extend(reference_problems(bundle, workspace))
    crm = req.get("crm")
    if isinstance(crm, str) and workspace.crm() != crm:
        have = workspace.crm()
        problem("PK507", f"/requires/crm: the bundle needs a {crm} connection; workspace {ws!r} has "
                         f"{have or 'none'}", "/requires/crm", hint=CRM_HINT.format(what=crm, crm=crm))
    prog = bundle.program
    channel = prog.get("channel")
    if isinstance(channel, str):
        channels = {_fold(k): (k, v) for k, v in workspace.channels().items()}
        found = channels.get(_fold(channel))
        if found is None:
            names = ", ".join(sorted(k for k, _ in channels.values())) or "none"
            problem("PK508", f"/program/channel: channel {channel!r} is not in workspace {ws!r} "
                             f"(channels: {names})", "/program/channel")
        else:
            statuses = {_fold(s) for s in found[1]}
            for i, status in enumerate(as_list(prog.get("membershipStatuses"))):
                if isinstance(status, str) and _fold(status) not in statuses:
                    problem("PK509", f"/program/membershipStatuses/{i}: {status!r} is not a status of "
                                     f"channel {found[0]!r} (statuses: {', '.join(found[1]) or 'none'})",
                            f"/program/membershipStatuses/{i}")
    return out


def reference_problems(bundle: Bundle, workspace: Workspace) -> list[Finding]:
    """PK537: what the bundle's documents name that may already be in the target (a form in a "Fills Out Form"
    trigger, a smart list in "Member of Smart List") is in the bundle or in the workspace (kind units say which
    references these are). The workspace is asked only about names the bundle does not have."""
    out: list[Finding] = []
    present: dict[str, set[str]] = {}
    for a in bundle.assets:
        present.setdefault(a.kind, set()).add(_fold(a.name))
    wanted: list[tuple[Asset, Any]] = []
    for a in bundle.assets:
        unit = kinds.get(a.kind)
        if unit is None or a.content is None:
            continue
        for ref in unit.references(a.content):
            target = kinds.get(ref.kind)
            if ref.outside and target is not None and target.local and _fold(ref.name) not in present.get(ref.kind, ()):
                wanted.append((a, ref))
    have: dict[str, set[str]] = {}
    for a, ref in wanted:
        if ref.kind not in have:
            have[ref.kind] = {_fold(n) for n in workspace.local_names(ref.kind)}
        if _fold(ref.name) not in have[ref.kind]:
            out.append(make("PK537", f"{ref.pointer}: {ref.label or ref.kind} {ref.name!r} is neither in the bundle "
                                     f"nor in workspace {workspace.name!r}", file=a.path, pointer=ref.pointer, hint=None))
    return out


def destination_problems(bundle: Bundle, workspace: Workspace, a: Asset, existing: AssetInfo) -> list[Finding]:
    """PK538: documents that would lose content on the workspace's own asset (``useDestination``), as their kind
    units say (a landing page section the workspace's template does not have)."""
    out: list[Finding] = []
    units = [u for u in kinds.all_kinds() if u.on_destination is not None]
    content = workspace.read(existing.id) if units else b""
    for unit in units:
        for asset, pointer, message in unit.on_destination(bundle, a.kind, a.name, content):
            out.append(make("PK538", f"{pointer}: {message} (rule {RULE_OF_KIND.get(a.kind)}=useDestination)",
                            file=asset.path, pointer=pointer, hint=None))
    return out
