"""landingPage on the Marketo target: a program's landing pages.

From Adobe's Landing Pages page (``LP`` = https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/
rest/assets/landing-pages) and the Swagger's Landing Pages operations:

- a page is created on a template by id, in a folder (``landingPages.json``: name, folder, template required;
  title, urlPageName, robots, keywords, customHeadHTML, facebookOgTags, mobileEnabled — free-form pages only —
  optional); its meta description is only in ``UpdateLandingPageRequest`` (``metaTagsDescription``), so it
  takes a second call, and ``LandingPageResponse`` has no field for it: it is written but cannot be read back;
- "A section must be present in the content list of a page in order to update the content": a guided page
  comes with its template's sections, which are updated (``content/{contentId}.json``); a free-form page starts
  with none, and each is added (``content.json`` with ``contentId``) — Section Types: RichText and HTML take the
  HTML, Form, Snippet and Image the asset's id (an Image also a URL);
- variables of a guided page (``variable/{variableId}.json``, ``value``), read as strings;
- dynamic content: the section's type set to ``DynamicContent`` with the segmentation's id, its dynamic content
  id read from ``content.json``, then each segment (``dynamicContent/{id}.json``: ``segment``, ``value``);
- drafts until ``approveDraft`` (after the forms the page places: ``approve_rank``), and "Before deleting a
  landing page, ensure that it is not approved": rollback unapproves one first.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import quote

from ....canonical import dump_bytes
from ....findings import Finding, Severity, make, register_code
from ...base import renamed_design
from ..client import MarketoError
from ..common import A, dynamic_segments, sha256_hex
from ..export import Gaps, read_failed as _fail
from .base import MarketoKind

if TYPE_CHECKING:  # pragma: no cover
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

register_code("PK850", "marketo-page-url-in-use", Severity.ERROR,
              "A landing page's url is the URL of another landing page in the Marketo instance.",
              hint="Give the page another url in its file, or rename or delete the page that has it in Marketo.",
              example="pages/register.json /url: 'register' is the URL of landing page 'Register' (id 1042) in "
                      "Marketo", group="marketo")
register_code("PK851", "marketo-page-section-type", Severity.ERROR,
              "A landing page section has a type the page's guided template element cannot hold in Marketo.",
              hint="On a guided page a text element (mktoText) holds rich text: make the section richText, or use "
                   "a free-form template for HTML sections.",
              example="pages/register.json /sections/body: an html section on guided template 'Event Page': "
                      "Marketo's guided text elements hold rich text", group="marketo")

#: the bundle's section type -> Marketo's content type (LP, Section Types)
TYPES = {"richText": "RichText", "html": "HTML", "image": "Image", "form": "Form", "snippet": "Snippet"}
BUNDLE_TYPES = {v: k for k, v in TYPES.items()}
_META = re.compile(r"<meta\b([^>]*)>", re.I)
_ELEMENT = re.compile(r"<(\w+)\b([^>]*\bclass\s*=\s*\"[^\"]*\bmkto(?:Text|Img|Form|Snippet|Video)\b[^>]*)>", re.S)


def _sha(value: Any) -> str:
    return sha256_hex(json.dumps(value, sort_keys=True).encode("utf-8"))[:12]


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'\b{name}\s*=\s*"([^"]*)"', attrs, re.I)
    return m.group(1) if m else None


def template_defaults(html: str) -> tuple[dict[str, str], dict[str, str]]:
    """A guided template's own content: editable element id -> its inner HTML, variable id -> its default (what a
    page on it holds where the bundle gives nothing; export leaves those out)."""
    sections = {}
    for m in _ELEMENT.finditer(html):
        ident = _attr(m.group(2), "id")
        end = html.find(f"</{m.group(1)}>", m.end())
        if ident and end >= 0:
            sections[ident] = html[m.end():end]
    variables = {}
    for attrs in _META.findall(html):
        ident, classes = _attr(attrs, "id"), (_attr(attrs, "class") or "").split()
        if ident and any(c in ("mktoString", "mktoColor", "mktoBoolean", "mktoNumber", "mktoList") for c in classes):
            variables[ident] = _attr(attrs, "default") or ""
    return sections, variables


def _same_html(a: Any, b: Any) -> bool:
    return " ".join(str(a or "").split()) == " ".join(str(b or "").split())


def _variable_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


class LandingPageKind(MarketoKind):
    kind = "landingPage"
    label = "landing page"
    segment = "landingPage"
    browse = f"{A}/landingPages.json"
    approvable = True
    approve_rank = 60  # after the forms a page places (Marketo will not approve a page on a draft form)

    # -- apply ----------------------------------------------------------------------------------------
    def _template(self, ws: Any, doc: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
        name = renamed_design(meta, "landingPageTemplate").get(doc["template"].casefold(), doc["template"])
        hit = next((t for t in ws.design_records("landingPageTemplate")
                    if str(t.get("name", "")).casefold() == name.casefold()), None)
        if hit is None:
            raise MarketoError(f"landing page template {name!r} not found in Marketo", code="PK810")
        return hit

    def prepare(self, writer: "MarketoWriter", docs: list[Any]) -> None:
        # what the pages' creates and content calls share, read once before the workers: the templates, and the
        # images, snippets and segmentations they place
        writer.ws.design_records("landingPageTemplate")
        docs = [json.loads(d) if isinstance(d, (bytes, str)) else d for d in docs]
        kinds = {s.get("type") for d in docs if isinstance(d, dict) for s in (d.get("sections") or {}).values()}
        for kind in ("image", "snippet"):
            if kind in kinds:
                writer.ws.design_records(kind)
        for d in docs:
            writer.ws.load_segments(d.get("dynamicContent") if isinstance(d, dict) else None)

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any] | None:
        template = self._template(writer.ws, doc, meta)
        form: dict[str, Any] = {"name": name, "folder": folder, "template": int(template["id"]),
                                "title": doc.get("title"), "description": doc.get("description") or None,
                                "urlPageName": doc.get("url"), "robots": doc.get("robots"),
                                "keywords": doc.get("keywords"), "customHeadHTML": doc.get("customHeadHtml"),
                                "facebookOgTags": doc.get("facebookOgTags")}
        if "mobileEnabled" in doc and template.get("templateType") != "guided":  # Swagger: free-form pages only
            form["mobileEnabled"] = bool(doc["mobileEnabled"])
        return writer.client.post(f"{A}/landingPages.json", form)[0]

    def write_content(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        self._note_fields(writer, mid, doc)
        if doc.get("metaDescription"):
            self._post_once(writer, f"lp-meta:{mid}:{_sha(doc['metaDescription'])}", mid,
                            f"{A}/landingPage/{mid}.json", {"metaTagsDescription": doc["metaDescription"]},
                            metaDescription=True)
        self._content(writer, mid, doc, meta)

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        # the metadata in one update (Swagger UpdateLandingPageRequest), then the content as after a create
        self._note_fields(writer, mid, doc)
        self._post_once(writer, f"lp-update:{mid}:{_sha(doc)}", mid, f"{A}/landingPage/{mid}.json", {
            "title": doc.get("title"), "description": doc.get("description") or "", "urlPageName": doc.get("url"),
            "robots": doc.get("robots"), "keywords": doc.get("keywords") or "",
            "customHeadHTML": doc.get("customHeadHtml") or "", "facebookOgTags": doc.get("facebookOgTags") or "",
            "metaTagsDescription": doc.get("metaDescription") or ""}, metaDescription=bool(doc.get("metaDescription")))
        self._content(writer, mid, doc, meta, replacing=True)

    def _note_fields(self, writer: "MarketoWriter", mid: int, doc: dict[str, Any]) -> None:
        """Journal (no call) which optional fields the bundle gave, e.g. ``robots`` equal to Marketo's default: an
        export gives back what the bundle said, not every default Marketo answers with."""
        fields = sorted(k for k in ("robots", "mobileEnabled") if k in doc)
        alts = sorted(i for i, s in (doc.get("sections") or {}).items() if s.get("type") == "image" and s.get("alt"))
        key = f"lp-fields:{mid}:{_sha([fields, alts])}"
        if not writer.journal.done(key):
            writer.journal.add({"key": key, "op": "content", "kind": self.kind, "id": mid, "fields": fields,
                                "alts": alts})

    @staticmethod
    def _post_once(writer: "MarketoWriter", key: str, mid: int, path: str, form: dict[str, Any],
                   **extra: Any) -> dict[str, Any] | None:
        """One journalled write: skipped when the journal has it (``--resume``)."""
        done = writer.journal.done(key)
        if done:
            return done
        writer.client.post(path, form)
        step = {"key": key, "op": "content", "kind": "landingPage", "id": mid, **extra}
        writer.journal.add(step)
        return None

    def _content(self, writer: "MarketoWriter", mid: int, doc: dict[str, Any], meta: dict[str, Any],
                 replacing: bool = False) -> None:
        sections = doc.get("sections") or {}
        dynamic = doc.get("dynamicContent") or {}
        guided = self._template(writer.ws, doc, meta).get("templateType") == "guided"
        have: dict[str, dict[str, Any]] | None = None
        if sections or dynamic or replacing:
            have = {str(c.get("id")): c for c in writer.client.get(f"{A}/landingPage/{mid}/content.json")}
        for ident, section in sorted(sections.items()):
            kind, value = TYPES[section["type"]], self._value(writer, section, meta)
            key = f"lp-section:{mid}:{ident}:{_sha([kind, value])}"
            if writer.journal.done(key):
                continue
            if guided or ident in (have or {}):
                # LP: "A section must be present in the content list of a page in order to update the content"
                writer.client.post(f"{A}/landingPage/{mid}/content/{quote(ident, safe='')}.json",
                                   {"type": kind, "value": value})
            else:  # LP: "For free-form pages, add each required content section"
                writer.client.post(f"{A}/landingPage/{mid}/content.json",
                                   {"contentId": ident, "type": kind, "value": value})
            writer.journal.add({"key": key, "op": "content", "kind": self.kind, "id": mid, "section": ident})
        if replacing and not guided:  # a free-form section the bundle no longer has goes
            for ident in sorted(set(have or {}) - set(sections) - set(dynamic)):
                self._post_once(writer, f"lp-section-delete:{mid}:{ident}", mid,
                                f"{A}/landingPage/{mid}/content/{quote(ident, safe='')}/delete.json", {}, deleted=ident)
        for var, value in sorted((doc.get("variables") or {}).items()):
            # Swagger: value is a query parameter; sent in the form body (never content in a URL), which Marketo's
            # form-encoded POSTs read as well
            self._post_once(writer, f"lp-variable:{mid}:{var}:{_sha(value)}", mid,
                            f"{A}/landingPage/{mid}/variable/{quote(var, safe='')}.json",
                            {"value": _variable_text(value)}, variable=var)
        if dynamic:
            self._dynamic(writer, mid, doc)

    def _value(self, writer: "MarketoWriter", section: dict[str, Any], meta: dict[str, Any]) -> str:
        """A section's value as Marketo takes it (LP, Section Types): HTML, or the id of the form, snippet, image."""
        kind, value = section["type"], section["value"]
        if kind in ("richText", "html"):
            return value
        if kind == "image" and re.search(r"[/:]", value):
            return value  # a URL
        if kind == "form":
            mid = _form_id(writer, value)
            if mid is None:
                raise MarketoError(f"form {value!r} (placed on a landing page) not found in Marketo", code="PK810")
            return str(mid)
        design = {"image": "image", "snippet": "snippet"}[kind]
        name = renamed_design(meta, design).get(value.casefold(), value)
        hit = next((a for a in writer.ws.design_records(design) if str(a.get("name", "")).casefold()
                    == name.casefold()), None)
        if hit is None:
            raise MarketoError(f"{design} {name!r} (placed on a landing page) not found in Marketo", code="PK810")
        return str(hit["id"])

    def _dynamic(self, writer: "MarketoWriter", mid: int, doc: dict[str, Any]) -> None:
        """LP, Dynamic Content: make each section dynamic, read the page's content once for the sections'
        dynamic content ids, then write each segment. Each call is a journal step (the id kept with it)."""
        content_ids: dict[str, str] = {}
        made: list[tuple[str, str]] = []
        for ident, spec in sorted(doc["dynamicContent"].items()):
            sid = writer.ws.segmentation_id(spec["segmentation"])
            if sid is None:
                raise MarketoError(f"segmentation {spec['segmentation']!r} not found in Marketo", code="PK810")
            key = f"lp-dynamic:{mid}:{ident}:{sid}"
            done = writer.journal.done(key)
            if done:
                content_ids[ident] = str(done["contentId"])
                continue
            writer.client.post(f"{A}/landingPage/{mid}/content/{quote(ident, safe='')}.json",
                               {"type": "DynamicContent", "value": sid})
            made.append((ident, key))
        if made:
            found = {str(c.get("id")): c for c in writer.client.get(f"{A}/landingPage/{mid}/content.json")}
            for ident, key in made:
                cid = _content_value((found.get(ident) or {}).get("content"))
                if (found.get(ident) or {}).get("type") != "DynamicContent" or not cid:
                    raise MarketoError(f"Marketo did not make section {ident!r} of landing page {mid} dynamic",
                                       code="PK803")
                content_ids[ident] = cid
                writer.journal.add({"key": key, "op": "content", "kind": self.kind, "id": mid, "section": ident,
                                    "contentId": cid})
        for ident in sorted(doc["dynamicContent"]):
            for segment, html in dynamic_segments(doc, ident).items():
                self._post_once(writer, f"lp-segment:{mid}:{ident}:{segment}:{_sha(html)}", mid,
                                f"{A}/landingPage/{mid}/dynamicContent/{quote(content_ids[ident], safe='')}.json",
                                {"segment": segment, "value": html}, section=ident, segment=segment)

    def manual_steps(self, doc: Any) -> list[str]:
        # CreateLandingPageContentRequest and UpdateLandingPageContentRequest have no alt text for an image
        return [f'Image "{ident}": set its alt text to {json.dumps(s["alt"], ensure_ascii=False)} (the API\'s '
                "content calls take no alt text)"
                for ident, s in sorted((doc.get("sections") or {}).items()) if s.get("type") == "image" and s.get("alt")]

    def calls(self, doc: Any, action: str) -> int:
        if action == "delete":
            return 3  # read its status, unapprove when approved, delete
        doc = doc if isinstance(doc, dict) else {}
        dyn = doc.get("dynamicContent") or {}
        sections, variables = doc.get("sections") or {}, doc.get("variables") or {}
        n = 1 + bool(doc.get("metaDescription")) if action in ("create", "rename") else 1
        n += bool(sections or dyn) + len(sections) + len(variables)
        return n + (len(dyn) + 1 + sum(len(dynamic_segments(doc, h)) for h in dyn) if dyn else 0)

    def delete(self, writer_or_ws: Any, mid: int) -> None:
        # LP, Delete: "Before deleting a landing page, ensure that it is not approved"
        client = writer_or_ws.client
        rec = client.get(f"{A}/landingPage/{mid}.json")
        if rec and str(rec[0].get("status") or "").lower() == "approved":
            client.post(f"{A}/landingPage/{mid}/unapprove.json", {})
        client.post(f"{A}/landingPage/{mid}/delete.json", {})

    # -- preflight -----------------------------------------------------------------------------------
    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable[Finding]:
        doc = asset.content if isinstance(asset.content, dict) else {}
        url = doc.get("url")
        bundle = getattr(inventory, "preflight_bundle", None)
        name = str(((bundle.program or {}) if bundle is not None else {}).get("name") or "")
        prog = next((p for p in inventory.program_records() if p["name"].casefold() == name.casefold()), None)
        base = inventory.program_path(prog) if prog else None
        if isinstance(url, str):
            for rec in inventory.all_local_records(self.kind):
                taken = str(rec.get("URL") or "").rsplit("/", 1)[-1]
                ours = base is not None and ((inventory.folder_path(rec.get("folder")) or "") + "/").startswith(
                    base + "/") and str(rec.get("name", "")).casefold() == asset.name.casefold()
                if taken.casefold() == f"{url}.html".casefold() and not ours:  # this page itself, on an upgrade
                    yield make("PK850", f"/url: {url!r} is the URL of landing page {rec.get('name')!r} (id "
                                        f"{rec.get('id')}) in Marketo", file=asset.path, pointer="/url")
        tpl = next((a for a in bundle.assets_of("landingPageTemplate") if isinstance(doc.get("template"), str)
                    and a.name.casefold() == doc["template"].casefold()), None) if bundle is not None else None
        if tpl is not None and tpl.entry.get("templateType") == "guided":
            for ident, section in sorted((doc.get("sections") or {}).items()):
                if isinstance(section, dict) and section.get("type") == "html":
                    yield make("PK851", f"/sections/{ident}: an html section on guided template {tpl.name!r}: "
                                        "Marketo's guided text elements hold rich text", file=asset.path,
                               pointer=f"/sections/{ident}")
        yield from inventory.missing_segments(doc.get("dynamicContent"), asset.path)

    # -- export --------------------------------------------------------------------------------------
    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        mid, gaps = int(record["id"]), Gaps()
        template = next((t for t in inventory.design_records("landingPageTemplate")
                         if int(t["id"]) == int(record.get("template") or 0)), None)
        if template is None:
            raise _fail(self.kind, record, MarketoError(
                f"its template (id {record.get('template')}) is not a landing page template of the workspace",
                code="PK914"))
        guided = template.get("templateType") == "guided"
        written = _written(inventory, mid)
        try:
            content = inventory.client.get(f"{A}/landingPage/{mid}/content.json")
            variables = inventory.client.get(f"{A}/landingPage/{mid}/variables.json") if guided else []
            html = inventory.read(inventory.design_assets("landingPageTemplate", [template["name"]])[
                template["name"].casefold()].id).decode("utf-8", "replace") if guided else ""
        except MarketoError as err:
            raise _fail(self.kind, record, err) from None
        default_sections, default_vars = template_defaults(html)
        doc: dict[str, Any] = {"template": template["name"], "title": record.get("title") or ""}
        for field, key in (("description", "description"), ("keywords", "keywords"),
                           ("customHeadHTML", "customHeadHtml"), ("facebookOgTags", "facebookOgTags")):
            if isinstance(record.get(field), str) and record[field]:
                doc[key] = record[field]
        # Marketo answers every page's robots (default "index, nofollow") and mobileEnabled: given back where the
        # bundle gave them (the journal says), else where they are not Marketo's defaults
        said = written["fields"] if written is not None and written["fields"] is not None else None
        if record.get("robots") and (record["robots"] != "index, nofollow" if said is None else "robots" in said):
            doc["robots"] = record["robots"]
        if isinstance(record.get("mobileEnabled"), bool) and not guided and (
                record["mobileEnabled"] if said is None else "mobileEnabled" in said):
            doc["mobileEnabled"] = record["mobileEnabled"]
        url = str(record.get("URL") or "").rsplit("/", 1)[-1]
        if url.endswith(".html"):
            doc["url"] = url[:-len(".html")]
        # Swagger LandingPageResponse has no meta description: written by an import, never read back
        if written is None or written["metaDescription"]:
            gaps.add("", "meta description",  # no member to point at: the document lacks it
                     "Marketo's API writes a landing page's meta description (metaTagsDescription) but does not "
                     "give it back (LandingPageResponse has no such field); copy it from the Marketo UI (Landing "
                     "Page > Edit Page Meta Tags)" + ("" if written is None else ", or from the imported bundle"))
        sections: dict[str, Any] = {}
        dynamic: dict[str, Any] = {}
        for c in sorted(content, key=lambda c: c.get("index") or 0):
            ident, ctype = str(c.get("id")), str(c.get("type") or "")
            value = _content_value(c.get("content"))
            if ctype == "DynamicContent":
                spec = self._read_dynamic(inventory, record, ident, value, gaps, written)
                if spec:
                    dynamic[ident] = spec
                continue
            if ctype not in BUNDLE_TYPES:
                gaps.add(f"/sections/{ident}", f"section {ident!r}",
                         f"Marketo's {ctype} section has no place in a bundle landing page")
                continue
            if not value:
                continue  # an empty element (a form slot nothing fills)
            kept = written is not None and ident in written["sections"]
            if ctype in ("RichText", "HTML") and ident in default_sections and not kept and \
                    _same_html(value, default_sections[ident]):
                continue  # the template's own content, which the bundle left to the template
            sections[ident] = {"type": BUNDLE_TYPES[ctype], "value": self._name_of(inventory, record, ctype, value)}
            if ctype == "Image" and (written is None or ident in (written.get("alts") or ())):
                # the content requests and answers have no alt text
                gaps.add(f"/sections/{ident}", f"alt text of image section {ident!r}",
                         "Marketo's API neither writes nor reads an image section's alt text; copy it from the "
                         "Marketo UI" + ("" if written is None else " or from the imported bundle"))
        if sections:
            doc["sections"] = sections
        if dynamic:
            doc["dynamicContent"] = dynamic
        out_vars: dict[str, Any] = {}
        for v in variables:
            ident = str(v.get("id"))
            value: Any = v.get("value")
            if str(v.get("type") or "").lower() == "boolean" and str(value).lower() in ("true", "false"):
                value = str(value).lower() == "true"
            kept = written is not None and ident in written["variables"]
            if not kept and ident in default_vars and str(v.get("value")).casefold() == default_vars[ident].casefold():
                continue  # the template's default
            out_vars[ident] = value
        if out_vars:
            doc["variables"] = out_vars
        return dump_bytes(doc), gaps.items

    def _name_of(self, inventory: "MarketoInventory", record: dict[str, Any], ctype: str, value: str) -> str:
        """A section's value in the bundle: HTML as it is, a form, snippet or image by name (an image URL as it is)."""
        if ctype in ("RichText", "HTML") or (ctype == "Image" and not value.isdigit()):
            return value
        if ctype == "Form":
            recs = inventory.all_local_records("form") if "form" in inventory.program_kinds() else []
        else:
            recs = inventory.design_records("image" if ctype == "Image" else "snippet")
        hit = next((r for r in recs if str(r.get("id")) == value), None)
        if hit is None:
            raise _fail(self.kind, record, MarketoError(f"its {ctype.lower()} (id {value}) is not in the workspace",
                                                       code="PK914"))
        return str(hit["name"])

    def _read_dynamic(self, inventory: "MarketoInventory", record: dict[str, Any], ident: str, cid: str,
                      gaps: Any, written: dict[str, Any] | None) -> dict[str, Any] | None:
        try:
            found = inventory.client.get(f"{A}/landingPage/{int(record['id'])}/dynamicContent/{quote(cid, safe='')}.json")
        except MarketoError as err:
            raise _fail(self.kind, record, err) from None
        rec = found[0] if found else {}
        seg = next((s for s in inventory.segmentation_list() if str(s.get("id")) == str(rec.get("segmentation"))),
                   None)
        # LP's example names the list "segments"; the Swagger's LandingPageDynamicContentResponse "content"
        items = rec.get("segments") if isinstance(rec.get("segments"), list) else rec.get("content") or []
        if seg is None:
            gaps.add(f"/dynamicContent/{ident}", f"dynamic content of section {ident!r}",
                     f"its segmentation (id {rec.get('segmentation')}) is not readable in the workspace")
            return None
        kept = (written or {}).get("segments", {}).get(ident)
        segments = {str(s["segmentName"]): str(s.get("content") or "") for s in items
                    if isinstance(s, dict) and isinstance(s.get("segmentName"), str)
                    and (kept is None or s["segmentName"] in kept)}
        return {"segmentation": seg["name"], "segments": segments}


def _content_value(content: Any) -> str:
    """A content section's value: HTML as it is, or the id in LP's ``{"content": "189", "contentType": "Form"}``."""
    if isinstance(content, dict):
        content = content.get("content", content.get("value"))
    return "" if content is None else str(content)


def _form_id(writer: "MarketoWriter", name: str) -> int | None:
    """The Marketo id of the program's form ``name``: one this import created (its journal), else one the plan
    read (the inventory's records)."""
    for s in reversed(writer.journal.data["steps"]):
        if s.get("kind") == "form" and s.get("op") == "create" and str(s.get("name", "")).casefold() == name.casefold():
            return int(s["id"])
    for (kind, mid), rec in list(writer.ws.asset_records.items()):
        if kind == "form" and str(rec.get("name", "")).casefold() == name.casefold():
            return int(mid)
    return None


def _written(inventory: "MarketoInventory", mid: int) -> dict[str, Any] | None:
    """What this machine's imports wrote to page ``mid`` (from their journals): its sections, variables,
    segments and whether a meta description — so export gives back what the bundle said, also where it equals
    the template's own content. None: no journal knows the page (another machine's, or the UI's)."""
    def steps() -> Any:
        # the journals' JSON Lines read here, not through journal.py (which imports this registry)
        for path in sorted((inventory.state_dir / "journals").glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    step = json.loads(line)
                except ValueError:
                    continue
                if isinstance(step, dict):
                    yield step

    def load() -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        if True:
            for s in steps():
                if s.get("kind") != "landingPage" or s.get("id") is None or s.get("rolledBack"):
                    continue
                w = out.setdefault(int(s["id"]), {"sections": set(), "variables": set(), "segments": {},
                                                  "metaDescription": False, "fields": None})
                if s.get("op") == "create":  # a page created again under the same id starts afresh
                    w.update(sections=set(), variables=set(), segments={}, metaDescription=False, fields=None)
                if isinstance(s.get("fields"), list):
                    w["fields"] = set(s["fields"])
                    w["alts"] = set(s.get("alts") or [])
                if s.get("segment"):
                    w["segments"].setdefault(s["section"], set()).add(s["segment"])
                elif s.get("section"):
                    w["sections"].add(s["section"])
                if s.get("variable"):
                    w["variables"].add(s["variable"])
                if "metaDescription" in s:
                    w["metaDescription"] = bool(s["metaDescription"])
        return out

    return inventory.cached("landing-pages-written", load).get(mid)


HANDLER = LandingPageKind()
