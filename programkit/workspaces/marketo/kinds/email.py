"""Emails on the Marketo target: create on a template, sections and text version, modules, variables, dynamic
content, approval; the plan's preflight and call estimate; export's email document; verify's text check.

Adobe's Emails page (Experience League, Marketo developer docs, REST > Assets > Emails) and the Swagger's
``email/…`` endpoints; each call is cited where it is made.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterable

from .... import canonical
from ....findings import Finding, make
from ...base import renamed_design
from ..checklist import NO_MODULES, UNKNOWN_STEP, email_expect
from ..client import MarketoError
from ..common import A, dynamic_segments, email_content_calls, sha256_hex
from ..export import Gaps, read_failed, ref_id, unmappable
from .base import MarketoKind, StepCheck

if TYPE_CHECKING:  # pragma: no cover
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

#: a from/reply address Marketo may hold: an address or a token
_EMAIL = re.compile(r"^([^@\s]+@[^@\s]+\.[^@\s]+|\{\{[^}]+\}\})$")
#: the checklist line of an email whose text version the API cannot carry
NO_TEXT_CARRIER = ("Edit Text Version: paste the text version from the bundle (the email has no static section to "
                   "carry it through the API)")


class EmailKind(MarketoKind):
    kind, label, segment, browse = "email", "email", "email", f"{A}/emails.json"
    approvable, approve_rank = True, 90  # after the templates and snippets it uses (Design Studio comes first)

    def prepare(self, writer: "MarketoWriter", docs: list[Any]) -> None:
        writer.ws.design_records("emailTemplate")
        for content in docs:
            writer.ws.load_segments(json.loads(content).get("dynamicContent"))

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any]:
        # the template's keep-both copy, if the import made one
        template = meta.get("template") or renamed_design(meta, "emailTemplate").get(
            doc["template"].casefold(), doc["template"])
        return writer.client.post(f"{A}/emails.json", {
            "name": name, "folder": folder, "template": _template_id(writer, template),
            "subject": doc.get("subject", ""), "fromName": doc.get("fromName", ""),
            "fromEmail": doc.get("fromEmail", ""), "replyEmail": doc.get("replyTo") or doc.get("fromEmail", ""),
            "operational": bool(doc.get("operational")), "description": doc.get("description") or None})[0]

    def write_content(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        _write_content(writer, mid, doc)

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        _write_content(writer, mid, doc)

    def manual_steps(self, doc: Any) -> list[str]:
        return [NO_TEXT_CARRIER] if doc.get("text") and not text_section(doc) else []

    def expect(self, doc: Any) -> dict[str, Any]:
        expect = email_expect(doc)
        expect.pop("modules", None)  # written through the API
        return expect

    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable[Finding]:
        return _dynamic_preflight(inventory, asset)

    def calls(self, doc: Any, action: str) -> int:
        if action == "delete":
            return 1
        return (action in ("create", "rename")) + email_content_calls(doc if isinstance(doc, dict) else {})

    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        return email_document(inventory, record)

    def check_steps(self, expect: dict[str, Any], found: Any, steps: list[str]) -> list[StepCheck]:
        return _check_steps(expect, found, steps)


# -- apply ------------------------------------------------------------------------------------------
def _template_id(w: "MarketoWriter", name: str) -> int:
    hit = next((t for t in w.ws.design_records("emailTemplate") if t["name"].casefold() == name.casefold()), None)
    if hit is None:
        raise MarketoError(f"email template {name!r} not found in Marketo", code="PK810")
    return int(hit["id"])


def _write_content(w: "MarketoWriter", mid: int, email: dict[str, Any]) -> None:
    dynamic = email.get("dynamicContent") or {}
    carrier = text_section(email)
    for html_id, value in sorted((email.get("sections") or {}).items()):
        if html_id not in dynamic:  # a dynamic section's static HTML is its Default segment (below)
            form = {"type": "Text", "value": value}
            if email.get("text") and carrier:
                # the text version goes with the first static section (textValue, Swagger
                # UpdateEmailComponentContentRequest); the other sections' text is emptied, so the email's
                # text version is the bundle's
                form["textValue"] = email["text"] if html_id == carrier else ""
            w.client.post(f"{A}/email/{mid}/content/{html_id}.json", form)
    if email.get("modules"):
        _modules(w, mid, list(email["modules"]))
    for var, value in sorted((email.get("variables") or {}).items()):
        w.client.post(f"{A}/email/{mid}/variable/{var}.json", {"value": value})
    if dynamic:
        _write_dynamic_content(w, mid, email)


def _modules(w: "MarketoWriter", mid: int, wanted: list[str]) -> None:
    """Make the email's modules the bundle's, in its order: read them (content.json lists Module sections),
    delete the others, add the missing, rearrange (Adobe's Emails page, Modules; the Swagger's
    email/{id}/content/{moduleId}/add.json, delete.json and content/rearrange.json)."""
    key = f"modules:{mid}:{sha256_hex(json.dumps(wanted).encode())[:12]}"
    if w.journal.done(key):
        return
    content = w.client.get(f"{A}/email/{mid}/content.json")
    have = [c["htmlId"] for c in sorted((c for c in content if c.get("contentType") == "Module"),
                                        key=lambda c: c.get("index", 0)) if isinstance(c.get("htmlId"), str)]
    for module in [m for m in have if m not in wanted]:
        w.client.post(f"{A}/email/{mid}/content/{module}/delete.json")
        have.remove(module)
    for i, module in enumerate(wanted):
        if module not in have:
            w.client.post(f"{A}/email/{mid}/content/{module}/add.json",
                             query={"name": module, "index": min(i, len(have))})
            have.insert(min(i, len(have)), module)
    if have != wanted:
        w.client.post(f"{A}/email/{mid}/content/rearrange.json", {
            "positions": json.dumps([{"index": i, "moduleId": m} for i, m in enumerate(wanted)])})
    w.journal.add({"key": key, "op": "content", "kind": "email", "id": mid, "modules": wanted})


def _write_dynamic_content(w: "MarketoWriter", mid: int, email: dict[str, Any]) -> None:
    """Write an email's dynamic content as Adobe's guide does (Dynamic Content, Marketo developer docs).

    Per section: ``POST email/{id}/content/{htmlId}.json`` with ``type=DynamicContent&value=<segmentation
    id>``; then one ``GET email/{id}/content.json`` for the email, whose dynamic sections' ``value`` is
    their dynamic content id; then per segment ``POST email/{id}/dynamicContent/{contentId}.json`` with
    ``segment=<name>&type=HTML&value=<html>``. Adobe's Swagger leaves ``segment`` out of
    UpdateEmailDynamicContentRequest; the guide sends it, and without it the call could not say which
    segment it sets, so this follows the guide. Each call is a journal step (the content id kept with
    the section's), so a resumed import redoes none that was answered.
    """
    dynamic = email["dynamicContent"]
    content_ids: dict[str, str] = {}
    segmentations: dict[str, int] = {}
    made: list[tuple[str, str]] = []
    for html_id, spec in sorted(dynamic.items()):
        sid = w.ws.segmentation_id(spec["segmentation"])
        if sid is None:
            raise MarketoError(f"segmentation {spec['segmentation']!r} (dynamic content of section {html_id!r}) "
                               "not found in Marketo", code="PK810")
        segmentations[html_id] = sid
        key = f"dynamic:{mid}:{html_id}:{sid}"
        done = w.journal.done(key)
        if done:
            content_ids[html_id] = str(done["contentId"])
            continue
        w.client.post(f"{A}/email/{mid}/content/{html_id}.json", {"type": "DynamicContent", "value": sid})
        made.append((html_id, key))
    if made:
        sections = {c.get("htmlId"): c for c in w.client.get(f"{A}/email/{mid}/content.json")}
        for html_id, key in made:
            found = sections.get(html_id) or {}
            if found.get("contentType") != "DynamicContent" or not isinstance(found.get("value"), (str, int)):
                raise MarketoError(f"Marketo did not make section {html_id!r} of email {mid} dynamic (its "
                                   f"content type is {found.get('contentType')!r})", code="PK803")
            content_ids[html_id] = str(found["value"])
            w.journal.add({"key": key, "op": "content", "kind": "email", "id": mid, "section": html_id,
                              "contentId": content_ids[html_id]})
    for html_id in sorted(dynamic):
        spelled = {n.casefold(): n for n in w.ws.segment_names(segmentations[html_id])}
        for segment, html in dynamic_segments(email, html_id).items():
            key = f"segment:{mid}:{html_id}:{segment}:{sha256_hex(html.encode('utf-8'))[:12]}"
            if w.journal.done(key):
                continue
            w.client.post(f"{A}/email/{mid}/dynamicContent/{content_ids[html_id]}.json", {
                "segment": spelled.get(segment.casefold(), segment), "type": "HTML", "value": html})
            w.journal.add({"key": key, "op": "content", "kind": "email", "id": mid, "section": html_id,
                              "segment": segment})


def text_section(email: dict[str, Any]) -> str | None:
    """The static section that carries an email's text version through the API (the first by id), or None."""
    dynamic = email.get("dynamicContent") or {}
    return next((h for h in sorted(email.get("sections") or {}) if h not in dynamic), None)


# -- preflight ----------------------------------------------------------------------------------------
def _dynamic_preflight(inv: "MarketoInventory", asset: Any) -> list[Finding]:
    """Every segment the email's dynamic content names that its Marketo segmentation lacks (PK816), and static
    sections the dynamic content overrides (PK817)."""
    email = asset.content if isinstance(asset.content, dict) else {}
    dyn = email.get("dynamicContent")
    out = inv.missing_segments(dyn, asset.path)
    for html_id, spec in sorted(dyn.items() if isinstance(dyn, dict) else ()):
        if isinstance(spec, dict) and html_id in (email.get("sections") or {}) and "default" in {
                n.casefold() for n in spec.get("segments") or {}}:
            out.append(make("PK817", f"section {html_id!r} is not written as static HTML: it is dynamic "
                                     "and its Default segment is written instead",
                            file=asset.path, pointer=f"/sections/{html_id}"))
    return out


# -- export -------------------------------------------------------------------------------------------
def _html(value: Any) -> str | None:
    """A section's HTML: a string, or Marketo's list of {type: HTML|Text, value} (the HTML one)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for part in value:
            if isinstance(part, dict) and str(part.get("type", "")).upper() == "HTML" and isinstance(
                    part.get("value"), str):
                return part["value"]
    return None


def email_document(ws: "MarketoInventory", rec: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
    """An email record (from the browse list) → the bundle's email document, with what it could not read."""
    mid, gaps = int(rec["id"]), Gaps()
    try:
        content = ws.client.get(f"{A}/email/{mid}/content.json")
        variables = ws.client.get(f"{A}/email/{mid}/variables.json")
        # fullContent serves Email 1.0 only; a 2.0 email's text version is in its sections (textValue)
        text = ws.client.get(f"{A}/email/{mid}/fullContent.json", type="Text") if rec.get("version") == 1 else None
    except MarketoError as err:
        raise read_failed("email", rec, err) from None
    doc: dict[str, Any] = {}

    def header(field: str, key: str) -> str | None:
        h = rec.get(field)
        if isinstance(h, dict):
            if h.get("type") not in (None, "Text"):
                gaps.add("", f"{key} ({h.get('type')})",
                         f"the email's {key} is {h.get('type')} in Marketo, which a bundle email cannot hold; "
                         "set it in the Marketo UI")
                return None
            h = h.get("value")
        return h if isinstance(h, str) and h.strip() else None

    subject = header("subject", "subject")
    if subject is None:
        raise unmappable("email", rec, "has no subject in Marketo (a bundle email needs one)")
    doc["subject"] = subject
    templates = {int(t["id"]): t["name"] for t in ws.design_records("emailTemplate")}
    tid = ref_id(rec.get("template"))
    if tid not in templates:
        raise unmappable("email", rec, f"uses email template id {tid}, which is not in Marketo workspace "
                                        f"{ws.name!r}")
    doc["template"] = templates[tid]
    for field, key in (("fromName", "fromName"), ("fromEmail", "fromEmail"), ("replyEmail", "replyTo")):
        value = header(field, key)
        if value is not None and (key == "fromName" or _EMAIL.match(value)):
            doc[key] = value
        elif value is not None:
            gaps.add("", key, f"Marketo's {field} {value!r} is not an email address or a token")
    if isinstance(rec.get("description"), str) and rec["description"]:
        doc["description"] = rec["description"]
    if isinstance(rec.get("preHeader"), str) and rec["preHeader"]:
        doc["preheader"] = rec["preHeader"]
    if isinstance(rec.get("operational"), bool):  # Marketo always says: false is a choice too (Email Blast vs alert)
        doc["operational"] = rec["operational"]
    if rec.get("textOnly") is True:
        doc["textOnly"] = True
    snippets = {int(s["id"]): s["name"] for s in ws.design_records("snippet")} if any(
        isinstance(c, dict) and c.get("contentType") == "Snippet" for c in content) else {}
    sections: dict[str, str] = {}
    dynamic: dict[str, str] = {}  # section id -> Marketo's dynamic content id
    modules: list[str] = []
    texts: list[str] = []  # section text versions set apart from the HTML (textValue)
    for c in sorted((c for c in content if isinstance(c, dict)), key=lambda c: c.get("index") or 0):
        hid, ctype = c.get("htmlId"), c.get("contentType")
        if not isinstance(hid, str) or not hid:
            continue
        if ctype == "Module":  # the email's modules, in its order (Adobe's Emails page, Modules)
            modules.append(hid)
            continue
        if ctype in (None, "Text", "RichText", "HTML"):
            section_text = _section_text(c.get("value"))
            if section_text is not None:
                texts.append(section_text)
        if ctype == "Snippet" and ref_id(c.get("value")) in snippets:
            sections[hid] = snippets[ref_id(c.get("value"))]  # type: ignore[index]
        elif ctype in (None, "Text", "RichText", "HTML") and _html(c.get("value")) is not None:
            sections[hid] = _html(c.get("value"))  # type: ignore[assignment]
        elif ctype == "DynamicContent" and isinstance(c.get("value"), (str, int)) and str(c["value"]):
            dynamic[hid] = str(c["value"])
        else:
            gaps.add("", f"section {hid!r} ({ctype})",
                     f"a {ctype} section has no bundle equivalent; set it in the Marketo UI")
    if sections:
        doc["sections"] = sections
    if dynamic:
        doc["dynamicContent"] = _read_dynamic_content(ws, rec, dynamic, gaps)
    globals_: dict[str, Any] = {}
    for v in variables:
        if not isinstance(v, dict) or not isinstance(v.get("name"), str):
            continue
        if v.get("moduleScope"):
            gaps.add("", f"variable {v['name']!r} of module {v.get('moduleId')!r}",
                     "module-local variables have no place in a bundle email (only template variables)")
        elif isinstance(v.get("value"), (str, int, float, bool)):
            globals_[v["name"]] = v["value"]
    if globals_:
        doc["variables"] = globals_
    if text is not None:  # Email 1.0: fullContent's text version
        body = (text[0].get("content") if text and isinstance(text[0], dict) else None) or ""
    else:
        body = "".join(texts)
    if isinstance(body, str) and body.strip():
        doc["text"] = body
    if modules:
        doc["modules"] = modules
    return canonical.dump_bytes(doc), gaps.items


def _section_text(value: Any) -> str | None:
    """A static section's text version when it was set apart from its HTML (``textValue``), else None.

    Marketo answers a Text section's value as ``[{"type": "HTML", …}, {"type": "Text", …}]``; a text part that is
    only the HTML with its tags removed is what Marketo derives by itself (guess: the stand-in derives it so),
    not a text version anyone wrote."""
    if not isinstance(value, list):
        return None
    parts = {v.get("type"): v.get("value") for v in value if isinstance(v, dict)}
    html, text = parts.get("HTML"), parts.get("Text")
    if not isinstance(text, str) or not isinstance(html, str):
        return None
    return None if text == re.sub(r"<[^>]*>", "", html) else text


def _read_dynamic_content(ws: "MarketoInventory", rec: dict[str, Any], dynamic: dict[str, str],
                     gaps: Gaps) -> dict[str, Any]:
    """Each dynamic section's segmentation (by name) and per-segment HTML (one call per section)."""
    segmentations = {int(s["id"]): s["name"] for s in ws.segmentation_list() if ref_id(s.get("id")) is not None}
    out: dict[str, Any] = {}
    for hid, cid in sorted(dynamic.items()):
        try:
            found = ws.client.get(f"{A}/email/{int(rec['id'])}/dynamicContent/{cid}.json")
        except MarketoError as err:
            raise read_failed("email", rec, err) from None
        dc = found[0] if found and isinstance(found[0], dict) else {}
        seg = segmentations.get(ref_id(dc.get("segmentation")) or -1)
        segments = {i["segmentName"]: i["content"] for i in dc.get("content") or []
                    if isinstance(i, dict) and isinstance(i.get("segmentName"), str)
                    and isinstance(i.get("content"), str) and str(i.get("type", "HTML")).upper() == "HTML"}
        if seg is None or not segments:
            gaps.add("", f"dynamic content of section {hid!r}",
                     f"Marketo's answer names {'no segmentation export knows' if seg is None else 'no HTML segment'}"
                     "; copy each segment's content from the Marketo UI into dynamicContent")
            continue
        out[hid] = {"segmentation": seg, "segments": segments}
    return out


# -- verify -------------------------------------------------------------------------------------------
def _norm_text(text: Any) -> str:
    return "\n".join(line.rstrip() for line in str(text or "").replace("\r\n", "\n").strip().split("\n"))


def _check_steps(expect: dict[str, Any], found: dict[str, Any], steps: list[str]) -> list[StepCheck]:
    """The text version is read back and compared line by line; modules and other steps the API cannot read."""
    out: list[StepCheck] = []
    for step in steps:
        if step.startswith("Edit Text Version") and expect.get("text"):
            want, have = _norm_text(expect["text"]), _norm_text(found.get("text"))
            if want == have:
                out.append(("done", step, None, None, None))
            elif not have:
                out.append(("missing", step, f"a text version of {len(want.splitlines())} line(s)",
                            "no text version", None))
            else:
                w, h = want.split("\n"), have.split("\n")
                n = next((k for k in range(max(len(w), len(h)))
                          if k >= len(w) or k >= len(h) or w[k] != h[k]))
                out.append(("differs", step,
                            f"line {n + 1}: " + (repr(w[n]) if n < len(w) else "(end of text)"),
                            f"line {n + 1}: " + (repr(h[n]) if n < len(h) else "(end of text)"), None))
        elif step.startswith("Check the modules"):
            out.append(("manual", step, None, None, NO_MODULES))
        else:
            out.append(("manual", step, None, None, UNKNOWN_STEP))
    return out


HANDLER = EmailKind()
