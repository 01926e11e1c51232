"""What every part of the Marketo target shares: finding codes, Marketo's names for kinds and types, the ids
programkit gives Marketo assets, the local state directory, and small helpers (atomic JSON writes, times).

No module of this package imports another's private helpers: what crosses modules is public here.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ...findings import Severity, register_code
from .client import MarketoClient, MarketoError

_GROUP = "marketo"
register_code("PK806", "marketo-not-readable", Severity.WARNING,
              "The Marketo API cannot read this part of the instance, so preflight cannot check it.",
              hint="Check it by hand in Marketo (e.g. Admin > Webhooks) before importing.",
              example="webhooks cannot be read through the Marketo API: required webhook 'Slack MQL' not checked",
              group=_GROUP)
register_code("PK807", "marketo-crm-inferred", Severity.WARNING,
              "The CRM connection is inferred from person fields; the API cannot read the sync settings.",
              hint="Confirm in Admin > CRM that the sync is enabled.",
              example="CRM 'salesforce' inferred from the person fields sfdcLeadId, sfdcContactId", group=_GROUP)
register_code("PK808", "marketo-tag-not-creatable", Severity.ERROR,
              "The program needs a tag type or value that does not exist; the API cannot create tags.",
              hint="Create it in Admin > Tags, or choose the conflict rule programTags=ignore.",
              example="tag 'Program Purpose' = 'Lead Management' does not exist in Marketo", group=_GROUP)
register_code("PK809", "marketo-manual-steps", Severity.WARNING,
              "The import left steps the Marketo API cannot do; they are listed in the manual-steps checklist.",
              hint="Complete every item of the checklist in the Marketo UI, then activate the campaigns.",
              example="2 campaigns need manual completion: 9 steps (see the checklist)", group=_GROUP)
register_code("PK810", "marketo-unsupported", Severity.ERROR,
              "The bundle has something a Marketo instance cannot hold or the API cannot create.",
              hint="Remove it from the bundle, or import into the embedded workspace instead.",
              example="token {{my.Logo}} of type 'image' cannot be created through the Marketo API", group=_GROUP)
register_code("PK811", "marketo-import-incomplete", Severity.ERROR,
              "A Marketo import stopped part-way; what it created is recorded in its journal.",
              hint="Run the same import again with --resume to finish it, or `programkit rollback` to delete "
                   "what it created.",
              example="import stopped after 5 of 9 steps (journal 20261123T101500-3f2a)", group=_GROUP)
register_code("PK812", "marketo-rollback-manual", Severity.WARNING,
              "Rollback could not delete something through the API.",
              hint="Delete it by hand in Marketo (Design Studio > Images and Files for files).",
              example="file 'logo.png' (id 1001) cannot be deleted through the API", group=_GROUP)

register_code("PK816", "marketo-segment-missing", Severity.ERROR,
              "An email's dynamic content names a segment its segmentation does not have in Marketo.",
              hint="Add the segment to the segmentation in Marketo (Database > Segmentations, then approve it), "
                   "or rename the segment in the email's dynamicContent to one the segmentation has.",
              example="emails/a.json /dynamicContent/body/segments/Retail: segment 'Retail' is not in Marketo's "
                      "segmentation 'Industry' (it has Manufacturing, Healthcare, Default)", group=_GROUP)
register_code("PK817", "marketo-dynamic-default", Severity.WARNING,
              "A section is both a static section and dynamic content, and the dynamic content gives its own "
              "Default segment: Marketo's section is one or the other, so the static HTML is not written.",
              hint="Remove the section from sections (its Default segment is the content leads outside every "
                   "segment see), or drop the Default segment so the static HTML becomes it.",
              example="emails/a.json /sections/body: not written: the section is dynamic and its Default segment "
                      "is written instead", group=_GROUP)

register_code("PK818", "marketo-required-tag-missing", Severity.ERROR,
              "Marketo requires a tag type for this program type, and neither the bundle nor the import gives it.",
              hint="Add the tag to the bundle's program.tags, or import with --tag 'TYPE=VALUE' (a value Admin > Tags "
                   "allows).",
              example="tag type 'Region' is required for default programs in Marketo and the bundle has none "
                      "(allowed: AMER, APAC, EMEA)", group=_GROUP)
register_code("PK826", "marketo-not-approved", Severity.ERROR,
              "Marketo refused to approve an asset the import wrote (--approve); it stays a draft.",
              hint="Fix what Marketo names (e.g. the template's HTML), import again, or approve it in the Marketo UI.",
              example="emailTemplate 'Quick Start Email Template' (id 1001): Marketo 709 on POST "
                      "/rest/asset/v1/emailTemplate/1001/approveDraft.json: Template has errors", group=_GROUP)
register_code("PK836", "marketo-not-activated", Severity.WARNING,
              "Marketo refused to activate a smart campaign (--activate); it stays on the checklist with the reason.",
              hint="Add what the campaign lacks in the Marketo UI (e.g. its triggers), then activate it there.",
              example="smartCampaign '02 - Marketing Qualified' (id 1002): Marketo 709: Cannot activate a smart "
                      "campaign without triggers", group=_GROUP)

#: bundle program type -> Marketo program type
PROGRAM_TYPES = {"default": "Default", "event": "Event", "webinar": "Event with Webinar",
                 "nurture": "Engagement", "email": "Email"}
#: token types the asset API can create (Marketo's spelling)
API_TOKEN_TYPES = {"date", "number", "rich text", "score", "text"}
#: bundle token type -> Marketo's spelling, where they differ
MARKETO_TOKEN_TYPES = {"richText": "rich text", "sfdcCampaign": "sfdc campaign", "emailScript": "email script",
                       "calendarFile": "calendar file"}
BUNDLE_TOKEN_TYPES = {v: k for k, v in MARKETO_TOKEN_TYPES.items()}
#: Design Studio kind -> (Marketo asset segment, browse endpoint, folder name)
DESIGN = {
    "emailTemplate": ("emailTemplate", "/rest/asset/v1/emailTemplates.json", "Email Templates"),
    "landingPageTemplate": ("landingPageTemplate", "/rest/asset/v1/landingPageTemplates.json",
                            "Landing Page Templates"),
    "image": ("file", "/rest/asset/v1/files.json", "Images and Files"),
    "snippet": ("snippet", "/rest/asset/v1/snippets.json", "Snippets"),
}
LOCAL = {"email": ("email", "/rest/asset/v1/emails.json"),
         "smartCampaign": ("smartCampaign", "/rest/asset/v1/smartCampaigns.json")}
#: outcomes of an import that left a checklist: not checked (or a check found steps not done), every step
#: the API can read checked done with some it cannot read left (flows, modules, a lifecycle), all checked done
CHECKLIST_OUTCOMES = ("needs-manual-completion", "verified-except-manual", "verified")
#: program kinds with no Marketo API object: never written, only put on the manual-steps checklist
MANUAL = frozenset({"leadLifecycle"})
#: Marketo program type -> its token in a tag type's applicableProgramTypes ("[program,email_batch,nurture,event,
#: webinar]", developers.marketo.com/rest-api/assets/programs/tags/; which token is which type: from the names)
TYPE_TOKENS = {"Default": "program", "Email": "email_batch", "Engagement": "nurture", "Event": "event",
               "Event with Webinar": "webinar"}


def bracketed(text: Any) -> list[str]:
    """Marketo's one-string lists, ``"[a, b,c]"`` -> ``["a", "b", "c"]`` (a real list is taken as it is)."""
    if isinstance(text, list):
        return [str(v).strip() for v in text if str(v).strip()]
    if not isinstance(text, str):
        return []
    inner = text.strip()
    if inner.startswith("[") and inner.endswith("]"):
        inner = inner[1:-1]
    return [v.strip() for v in inner.split(",") if v.strip()]


#: Marketo ids are per asset type; AssetInfo ids must be unique across kinds, so they encode the kind.
KIND_CODE = {"emailTemplate": 1, "landingPageTemplate": 2, "image": 3, "snippet": 4, "email": 5,
              "smartCampaign": 6, "leadLifecycle": 7, "landingPage": 8, "form": 9, "staticList": 10, "smartList": 11}
CODE_KIND = {v: k for k, v in KIND_CODE.items()}
_ID_BASE = 10**10
A = "/rest/asset/v1"


def asset_id(kind: str, marketo_id: int) -> int:
    return KIND_CODE[kind] * _ID_BASE + int(marketo_id)


def split_id(encoded: int) -> tuple[str, int]:
    code, mid = divmod(int(encoded), _ID_BASE)
    return CODE_KIND[code], mid


def default_state_dir(url: str, workspace: str) -> Path:
    base = os.environ.get("PROGRAMKIT_STATE_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "programkit"
    host = re.sub(r"[^A-Za-z0-9.-]", "_", urlsplit(url).netloc)
    return root / "marketo" / host / re.sub(r"[^A-Za-z0-9. -]", "_", workspace)


def write_json(path: Path, data: Any) -> None:
    """Atomic write: a crash leaves the old file or the new one, never half of one.

    Apart from output.write_output on purpose: this replaces programkit's own state file at every step (no
    --force, no PK416/PK417), and a refused write (OSError) is for the caller to weigh mid-import. A refused
    write still leaves the old file and no temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


#: clock difference tolerated between this machine and Marketo when adopting a lost create
ADOPT_SLACK = datetime.timedelta(minutes=2)


def parse_time(text: Any) -> datetime.datetime | None:
    """Marketo's "2026-11-23T10:13:49Z+0000" and our "2026-11-23T10:13:49Z" (both UTC)."""
    try:
        return datetime.datetime.strptime(str(text)[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None

def dynamic_segments(email: dict[str, Any], html_id: str) -> dict[str, str]:
    """The segments written for dynamic section ``html_id``: the bundle's, plus the section's static HTML (if
    any) as the "Default" segment when the bundle gives no Default (Marketo's section is static or dynamic,
    and a dynamic section's Default segment is what leads outside every segment see)."""
    spec = (email.get("dynamicContent") or {}).get(html_id) or {}
    segments = dict(spec.get("segments") or {})
    static = (email.get("sections") or {}).get(html_id)
    if isinstance(static, str) and "default" not in {n.casefold() for n in segments}:
        segments["Default"] = static
    return segments


def email_content_calls(email: dict[str, Any]) -> int:
    """Calls that write an email's content after its create: one per static section and per variable; per
    dynamic section one to make it dynamic and one per segment, plus one read of the email's content per
    email with dynamic content (for the sections' dynamic content ids); for modules one read and at most one
    add per module (a rearrange only when the template's defaults come in another order)."""
    dyn = email.get("dynamicContent") or {}
    static = [h for h in email.get("sections") or {} if h not in dyn]
    modules = email.get("modules") or []
    return (len(static) + len(email.get("variables") or {}) + len(dyn) + (1 if dyn else 0)
            + sum(len(dynamic_segments(email, h)) for h in dyn)
            + (1 + len(modules) if modules else 0))  # modules: one read, at most one add each


def token_from_marketo(t: dict[str, Any]) -> dict[str, Any]:
    value: Any = t.get("value")
    if t.get("type") in ("number", "score") and isinstance(value, str):
        try:
            value = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
        except ValueError:
            pass
    return {"name": t["name"], "type": BUNDLE_TOKEN_TYPES.get(t.get("type"), t.get("type")), "value": value}

def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "asset"


def delete_remote(client: MarketoClient, segment: str, mid: int) -> None:
    if segment == "file":
        raise MarketoError(f"file {mid} cannot be deleted through the Marketo API", code="PK812")
    form = {"type": "Folder"} if segment == "folder" else {}
    client.post(f"{A}/{segment}/{mid}/delete.json", form)

