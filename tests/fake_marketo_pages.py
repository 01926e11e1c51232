"""The stand-in's landing pages and reusable smart lists (issue #15), imported by tests/fake_marketo.py.

Each behaviour is modelled from Adobe's own pages, cited beside it:

- ``LP`` = https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/landing-pages
- ``SL`` = https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/smart-lists
- ``Swagger`` = AdobeDocs/marketo-apis static/swagger-asset.json (the operation or definition named)

Where Adobe does not say, the comment says "guess".
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import unquote

import fake_marketo as fm
from fake_marketo import A, NO_ASSETS, ApiError, FakeMarketo, _asset, _edited, _local_create, _now, _page, _public, route

# -- landing pages -----------------------------------------------------------------------------------------

#: a guided template's editable elements: class → the content type of the section a page gets for it
#: (LP, Manage Content Section; guess: mktoText holds RichText, as "RichText … may only contain rich text elements")
_ELEMENT_TYPES = {"mktoText": "RichText", "mktoImg": "Image", "mktoForm": "Form", "mktoSnippet": "Snippet",
                  "mktoVideo": "Video"}
_ELEMENT = re.compile(r"<(\w+)\b([^>]*\bclass\s*=\s*\"[^\"]*\bmkto\w+[^>]*)>", re.S)
_META = re.compile(r"<meta\b([^>]*)>", re.I)


def _attr(attrs: str, name: str) -> str | None:
    m = re.search(rf'\b{name}\s*=\s*"([^"]*)"', attrs, re.I)
    return m.group(1) if m else None


def _template_parts(fk: FakeMarketo, template: int) -> tuple[str, dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """A landing page template's type, editable elements (id → section) and variables (id → {value, type})."""
    rec = fk.assets["landingPageTemplate"][template]
    if rec.get("templateType") != "guided":
        return "freeForm", {}, {}
    html = rec["_content"].decode("utf-8", "replace")
    sections: dict[str, dict[str, Any]] = {}
    for m in _ELEMENT.finditer(html):
        tag, attrs = m.group(1), m.group(2)
        end = html.find(f"</{tag}>", m.end())  # guess enough: editable elements hold no element of their tag
        inner = html[m.end():end if end >= 0 else m.end()]
        classes = (_attr(attrs, "class") or "").split()
        kind = next((_ELEMENT_TYPES[c] for c in classes if c in _ELEMENT_TYPES), None)
        ident = _attr(attrs, "id")
        if kind and ident:
            # a guided page starts with the template's content in each element (LP: "guided landing pages come
            # with a set of sections which are defined by the template"; guess: the element's inner HTML)
            sections[ident] = {"type": kind, "value": inner.strip() if kind == "RichText" else ""}
    variables: dict[str, dict[str, Any]] = {}
    for attrs in _META.findall(html):
        classes = (_attr(attrs, "class") or "").split()
        vtype = next((c[4:].lower() for c in classes if c in ("mktoString", "mktoColor", "mktoBoolean")), None)
        ident = _attr(attrs, "id")
        if vtype and ident:  # LP, Variables: meta tags of class mktoString, mktoColor, mktoBoolean
            variables[ident] = {"value": _attr(attrs, "default") or "", "type": vtype}
    return "guided", sections, variables


def _program_of(fk: FakeMarketo, folder: dict[str, Any]) -> dict[str, Any] | None:
    path = fk.path_of(folder)
    return next((p for p in fk.programs.values() if (path + "/").startswith(p["_path"] + "/")), None)


def _url_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "", text)


def _page_url(fk: FakeMarketo, name: str) -> str:
    # LP, Create: "URL": "https://app-devlocal1.marketo.com/lp/622-LME-718/createLandingPage.html"
    return f"{fk.url}/lp/123-ABC-456/{name}.html"


@route("GET", f"{A}/landingPages.json")
def _lp_list(fk, pp, q, files):
    # Swagger browseLandingPagesUsingGET: status, folder, maxReturn, offset
    items = sorted(fk.assets.get("landingPage", {}).values(), key=lambda a: a["id"])
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    if q.get("status"):
        items = [a for a in items if a["status"] == q["status"]]
    return _page([_public(a) for a in items], q)


@route("POST", f"{A}/landingPages.json")
def _lp_create(fk, pp, q, files):
    # LP, Create: "The page name, template ID, and destination folder are required"
    try:
        template = int(q["template"])
    except ValueError:
        raise ApiError("1003", "template must be a landing page template id")
    if template not in fk.assets["landingPageTemplate"]:
        raise ApiError("710", f"Landing page template {template} not found")
    folder = fk.folder_ref(q.get("folder"))
    # Swagger CreateLandingPageRequest.urlPageName: "Derived from the name field if unset"; LP, Clone shows a
    # page of a program derived as program name + page name ("DefaultProgramWithGuidedLPPerkutoTestLP-Clone-1")
    program = _program_of(fk, folder)
    url_name = q.get("urlPageName") or _url_name((program["name"] if program else "") + q["name"])
    # guess: a URL path names one page of the instance; Marketo refuses a second one (the UI says so)
    if any(p["_url"].casefold() == url_name.casefold() for p in fk.assets["landingPage"].values()):
        raise ApiError("709", f"URL page name '{url_name}' is already in use")
    ttype, sections, variables = _template_parts(fk, template)
    # LP, Create response: status draft, robots default "index, nofollow", formPrefill and mobileEnabled false
    return _local_create(
        fk, "landingPage", q, status="draft", template=template, title=q.get("title", ""),
        keywords=q.get("keywords", ""), robots=q.get("robots", "index, nofollow"),
        customHeadHTML=q.get("customHeadHTML", ""), facebookOgTags=q.get("facebookOgTags", ""),
        formPrefill=str(q.get("prefillForm", "false")).lower() == "true",
        mobileEnabled=str(q.get("mobileEnabled", "false")).lower() == "true",
        URL=_page_url(fk, url_name), computedUrl=None,
        # Swagger LandingPageResponse has no metaTagsDescription: it is written (update) but never read back
        _url=url_name, _meta="", _type=ttype, _sections=sections, _variables=variables, _dynamic={})


def _page_rec(fk: FakeMarketo, raw_id: str) -> dict[str, Any]:
    if int(raw_id) not in fk.assets.get("landingPage", {}):  # a read adds no empty kind to the state
        raise ApiError("702", f"landingPage {raw_id} not found")
    return _asset(fk, "landingPage", raw_id)


@route("GET", f"{A}/landingPage/{{id}}.json")
def _lp_get(fk, pp, q, files):
    return {"result": [_public(_page_rec(fk, pp["id"]))]}


@route("POST", f"{A}/landingPage/{{id}}.json")
def _lp_update(fk, pp, q, files):
    # Swagger updateLandingPageUsingPOST (UpdateLandingPageRequest): metadata; the edit makes a draft (LP,
    # Approval: "Updates apply to the draft and become live only after approval")
    rec = _page_rec(fk, pp["id"])
    if "urlPageName" in q and q["urlPageName"] != rec["_url"]:
        if any(p["_url"].casefold() == q["urlPageName"].casefold() for p in fk.assets["landingPage"].values()):
            raise ApiError("709", f"URL page name '{q['urlPageName']}' is already in use")
        rec["_url"], rec["URL"] = q["urlPageName"], _page_url(fk, q["urlPageName"])
    for key in ("name", "description", "title", "keywords", "robots", "customHeadHTML", "facebookOgTags"):
        if key in q:
            rec[key] = q[key]
    if "mobileEnabled" in q:
        rec["mobileEnabled"] = str(q["mobileEnabled"]).lower() == "true"
    if "metaTagsDescription" in q:
        rec["_meta"] = q["metaTagsDescription"]
    rec["updatedAt"] = _now()
    _edited(rec)
    return {"result": [_public(rec)]}


def _section_content(fk: FakeMarketo, ident: str, section: dict[str, Any], index: int) -> dict[str, Any]:
    """A section as Get Landing Page Content answers it (LP, Query: a Form section's content is
    {"content": "189", "contentType": "Form", "contentUrl": …}; Swagger LandingPageContentResponse.content:
    "RichText: HTML Content. HTML: HTML Content. Form: A form id. Image: An image URL. Snippet: A snippet id")."""
    kind, value = section["type"], section["value"]
    if kind in ("RichText", "HTML"):
        content: Any = value
    elif kind == "Image":
        content = value
    else:  # Form, Snippet, DynamicContent: an id (guess: Snippet and DynamicContent in the Form section's shape)
        content = {"content": value, "contentType": kind}
    return {"id": ident, "type": kind, "index": index, "content": content, "formattingOptions": {}}


@route("GET", f"{A}/landingPage/{{id}}/content.json")
def _lp_content(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    out = []
    for i, (ident, section) in enumerate(rec["_sections"].items()):
        shown = dict(section)
        if ident in rec["_dynamic"]:
            shown = {"type": "DynamicContent", "value": rec["_dynamic"][ident]["id"]}
        out.append(_section_content(fk, ident, shown, i + 1))
    return {"result": out} if out else {"warnings": [NO_ASSETS]}


def _check_value(fk: FakeMarketo, kind: str, value: str) -> None:
    """The value a section type takes (LP, Section Types: Form "the id of the form", Snippet "the id of the
    snippet", Image "the id of the image asset", DynamicContent "the id of the segmentation")."""
    lookup = {"Form": "form", "Snippet": "snippet", "Image": "file"}.get(kind)
    if kind == "Image" and not str(value).isdigit():
        return  # guess: an image section also takes a URL (Swagger's content response: "An image URL")
    if lookup:
        if not str(value).isdigit() or int(value) not in fk.assets.get(lookup, {}):
            raise ApiError("702", f"{kind} {value!r} not found")


@route("POST", f"{A}/landingPage/{{id}}/content.json")
def _lp_content_add(fk, pp, q, files):
    # LP, Manage Content Section: "For free-form pages, add each required content section"; Swagger
    # CreateLandingPageContentRequest.type: Image, Form, Rectangle, Snippet, RichText, HTML
    rec = _page_rec(fk, pp["id"])
    if q["type"] not in ("Image", "Form", "Rectangle", "Snippet", "RichText", "HTML"):
        raise ApiError("1003", f"Invalid type '{q['type']}'")
    ident = q["contentId"]
    if rec["_type"] == "guided":
        # LP: guided pages "come with a set of sections which are defined by the template"; the brief of issue
        # #15 and the page: sections of a guided page are updated, not added (guess: the code and wording)
        raise ApiError("709", f"Cannot add content section '{ident}' to a guided landing page: its sections "
                              "come from its template")
    if ident in rec["_sections"]:
        raise ApiError("709", f"Content section '{ident}' already exists")
    _check_value(fk, q["type"], q.get("value", ""))
    rec["_sections"][ident] = {"type": q["type"], "value": q.get("value", "")}
    _edited(rec)
    rec["updatedAt"] = _now()
    return {"result": [{"id": ident}]}


@route("POST", f"{A}/landingPage/{{id}}/content/{{contentId}}.json")
def _lp_content_update(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    ident = unquote(pp["contentId"])
    # LP, Query: "A section must be present in the content list of a page in order to update the content"
    if ident not in rec["_sections"]:
        raise ApiError("702", f"Content section '{ident}' not found in landing page {rec['id']}")
    kind = q["type"]
    if kind not in ("Image", "Form", "Rectangle", "Snippet", "RichText", "HTML", "DynamicContent"):
        raise ApiError("1003", f"Invalid type '{kind}'")
    section = rec["_sections"][ident]
    if kind == "DynamicContent":
        # LP, Dynamic Content: set the type to DynamicContent (value: the segmentation's id); "Marketo creates
        # underlying dynamic sections that inherit the converted element's base type and content"
        seg = fm._segmentation(fk, q.get("value"))
        old = rec["_dynamic"].get(ident)
        if old is None or old["segmentation"] != seg:
            dyn_id = base64.b64encode(f"LP-{rec['id']}-{ident}".encode()).decode()
            rec["_dynamic"][ident] = {"id": dyn_id, "segmentation": seg, "segments": {
                name: {"type": section["type"], "content": section["value"]} for name in fk.segments[seg]}}
    else:
        if rec["_type"] == "guided" and kind != section["type"]:
            # guess: a guided element keeps its kind (a mktoForm holds a form, a mktoText rich text)
            raise ApiError("709", f"Section '{ident}' of a guided landing page is {section['type']}, not {kind}")
        _check_value(fk, kind, q.get("value", ""))
        rec["_dynamic"].pop(ident, None)
        section.update(type=kind, value=q.get("value", ""))
    _edited(rec)
    rec["updatedAt"] = _now()
    return {"result": [{"id": ident}]}


@route("POST", f"{A}/landingPage/{{id}}/content/{{contentId}}/delete.json")
def _lp_content_delete(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    ident = unquote(pp["contentId"])
    if ident not in rec["_sections"]:
        raise ApiError("702", f"Content section '{ident}' not found")
    if rec["_type"] == "guided":  # guess, as for add: a guided page's sections are its template's
        raise ApiError("709", "Cannot delete a content section of a guided landing page")
    del rec["_sections"][ident]
    rec["_dynamic"].pop(ident, None)
    _edited(rec)
    return {"result": [{"id": ident}]}


@route("GET", f"{A}/landingPage/{{id}}/variables.json")
def _lp_variables(fk, pp, q, files):
    # LP, Variables, Query: [{"id": "stringVar", "value": "Hello World!", "type": "string"}, …]; values as strings
    rec = _page_rec(fk, pp["id"])
    out = [{"id": k, "value": v["value"], "type": v["type"]} for k, v in rec["_variables"].items()]
    return {"result": out} if out else {"warnings": [NO_ASSETS]}


@route("POST", f"{A}/landingPage/{{id}}/variable/{{variableId}}.json")
def _lp_variable(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    var = rec["_variables"].get(pp["variableId"])
    if var is None:  # LP: variables are the guided template's <meta> tags (guess: the code of the refusal)
        raise ApiError("702", f"Variable '{pp['variableId']}' not found in landing page {rec['id']}")
    value = q.get("value", "")
    if var["type"] == "boolean" and value not in ("true", "false"):
        raise ApiError("1003", f"Invalid value '{value}' for a boolean variable")  # guess
    var["value"] = value
    _edited(rec)
    rec["updatedAt"] = _now()
    return {"result": [{"id": pp["variableId"], "value": value, "type": var["type"]}]}


def _lp_dynamic_section(fk: FakeMarketo, pp: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = _page_rec(fk, pp["id"])
    spec = next((d for d in rec["_dynamic"].values() if d["id"] == unquote(pp["contentId"])), None)
    if spec is None:
        raise ApiError("702", f"Dynamic content {pp['contentId']} not found")
    return rec, spec


@route("GET", f"{A}/landingPage/{{id}}/dynamicContent/{{contentId}}.json")
def _lp_dynamic(fk, pp, q, files):
    # LP, Dynamic Content: {"segmentation": 1007, "segments": [{"segmentId", "segmentName", "type", "content"}]}
    # (the guide's example; Swagger LandingPageDynamicContentResponse names the list "content")
    rec, spec = _lp_dynamic_section(fk, pp)
    seg_id = fk.segmentations.index(spec["segmentation"]) + 1
    order = fk.segments[spec["segmentation"]]
    return {"result": [{"id": rec["id"], "segmentation": seg_id, "segments": [
        {"segmentId": seg_id * 100 + order.index(name) + 1, "segmentName": name, "type": s["type"],
         "content": s["content"]} for name, s in spec["segments"].items()]}]}


@route("POST", f"{A}/landingPage/{{id}}/dynamicContent/{{contentId}}.json")
def _lp_dynamic_set(fk, pp, q, files):
    # LP, Dynamic Content: "segment=New Segment&value=New Content" (segment in UpdateLandingPageDynamicContentRequest)
    rec, spec = _lp_dynamic_section(fk, pp)
    if q.get("segment") not in spec["segments"]:
        raise ApiError("709", f"Segment '{q.get('segment')}' not found in segmentation '{spec['segmentation']}'")
    seg = spec["segments"][q["segment"]]
    seg["content"] = q.get("value", "")
    if q.get("type"):
        seg["type"] = q["type"]
    _edited(rec)
    rec["updatedAt"] = _now()
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/landingPage/{{id}}/approveDraft.json")
def _lp_approve(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    template = fk.assets.get("landingPageTemplate", {}).get(rec.get("template"))
    if template is not None and template["status"] != "approved":
        # guess, as for emails: a page on a template that was never approved cannot be approved
        raise ApiError("709", "Landing page template is not approved")
    for ident, section in rec["_sections"].items():
        # guess (issue #15: "approval of pages … after the forms it embeds"): a page whose form or snippet is
        # still a draft is not approved
        kind = {"Form": "form", "Snippet": "snippet"}.get(section["type"])
        ref = fk.assets.get(kind, {}).get(int(section["value"])) if kind and str(section["value"]).isdigit() else None
        if ref is not None and ref.get("status") != "approved":
            raise ApiError("709", f"Cannot approve: {section['type'].lower()} '{ref['name']}' in section "
                                  f"'{ident}' is not approved")
    rec["status"], rec["updatedAt"] = "approved", _now()
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/landingPage/{{id}}/unapprove.json")
def _lp_unapprove(fk, pp, q, files):
    # Swagger unapproveLandingPageUsingPOST
    rec = _page_rec(fk, pp["id"])
    if rec["status"] != "approved":
        raise ApiError("709", "Landing page is not approved")  # guess
    rec["status"], rec["updatedAt"] = "draft", _now()
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/landingPage/{{id}}/delete.json")
def _lp_delete(fk, pp, q, files):
    rec = _page_rec(fk, pp["id"])
    # LP, Delete: "Before deleting a landing page, ensure that it is not approved and that no other Marketo asset
    # references it"
    if rec["status"] == "approved":
        raise ApiError("709", f"Cannot delete approved landing page {rec['id']}: unapprove it first")
    for form in fk.assets.get("form", {}).values():  # a form's thank-you page (guess: the record's thankYouList)
        if any(str(t.get("followupType")).lower() == "lp" and str(t.get("followupValue")) == str(rec["id"])
               for t in form.get("thankYouList") or []):
            raise ApiError("709", f"Landing page {rec['id']} is used by form '{form['name']}'")
    del fk.assets["landingPage"][rec["id"]]
    return {"result": [{"id": rec["id"]}]}


# -- reusable smart lists ------------------------------------------------------------------------------------
# SL: "Use the Smart Lists REST APIs to query, clone, and delete smart lists" -- the API has no create and no
# rule update (Swagger: smartLists.json is GET only; smartList/{id} has clone and delete).


def _sl_public(fk: FakeMarketo, rec: dict[str, Any], rules: bool) -> dict[str, Any]:
    out = _public(rec)
    if rules:  # SL, By Id: "rules": {"filterMatchType": "all", "triggers": [], "filters": [...]}
        out["rules"] = rec["_rules"]
    return out


def add_smart_list(fk: FakeMarketo, name: str, rules: dict[str, Any] | None = None,
                   folder: dict[str, Any] | None = None, description: str = "") -> int:
    """A smart list an admin built in the Marketo UI (the API cannot create one): in ``folder`` (default: the
    Default workspace's root), with Marketo's rules."""
    with fk.lock:
        folder = folder or {"id": 8, "type": "Folder"}
        sid = fk.new_id("smartList")
        path = fk.path_of(folder)
        fk.assets["smartList"][sid] = {
            "id": sid, "name": name, "description": description, "createdAt": _now(), "updatedAt": _now(),
            "url": f"https://app-fake.marketo.com/#SL{sid}A1", "folder": folder, "workspace": fk.workspace_of(folder),
            "_path": f"{path}/{name}", "_rules": rules or {"filterMatchType": "all", "triggers": [], "filters": []}}
        return sid


def set_smart_list_rules(fk: FakeMarketo, name: str, rules: dict[str, Any]) -> None:
    """An admin edits a smart list's rules in the UI."""
    with fk.lock:
        rec = next(a for a in fk.assets["smartList"].values() if a["name"] == name)
        rec["_rules"], rec["updatedAt"] = rules, _now()


@route("GET", f"{A}/smartLists.json")
def _sl_list(fk, pp, q, files):
    # SL, Browse: optional folder ({"id", "type"}), offset and maxReturn (guess: the other browses' 20 and 200)
    items = sorted(fk.assets.get("smartList", {}).values(), key=lambda a: a["id"])
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    return _page([_sl_public(fk, a, False) for a in items], q)


@route("GET", f"{A}/smartList/{{id}}.json")
def _sl_get(fk, pp, q, files):
    if int(pp["id"]) not in fk.assets.get("smartList", {}):  # a read adds no empty kind to the state
        raise ApiError("702", f"smartList {pp['id']} not found")
    rec = _asset(fk, "smartList", pp["id"])
    return {"result": [_sl_public(fk, rec, str(q.get("includeRules", "false")).lower() == "true")]}


@route("GET", f"{A}/smartList/byName.json")
def _sl_by_name(fk, pp, q, files):
    # SL, By Name: "an exact name match"
    hits = [a for a in fk.assets.get("smartList", {}).values() if a["name"] == q["name"]]
    return {"result": [_sl_public(fk, hits[0], False)]} if hits else {"warnings": [NO_ASSETS]}


@route("POST", f"{A}/smartList/{{id}}/clone.json")
def _sl_clone(fk, pp, q, files):
    src = _asset(fk, "smartList", pp["id"])
    folder = fk.folder_ref(q.get("folder"))
    # SL, Clone: "The parent must be a program or smart-list folder" (guess: a program's own folders, which hold
    # its local assets, count as the program's)
    if folder["type"] != "Program" and _program_of(fk, folder) is None and \
            fk.folders[folder["id"]].get("folderType") != "Smart List":
        raise ApiError("709", "The parent folder of a smart list must be a program or a smart list folder")
    # SL, Clone: "The name must be unique" (guess: within the program, as other local assets' names, or among the
    # smart lists outside programs)
    out = _local_create(fk, "smartList", q, url=None, _rules=json.loads(json.dumps(src["_rules"])))
    rec = fk.assets["smartList"][out["result"][0]["id"]]
    rec["url"] = f"https://app-fake.marketo.com/#SL{rec['id']}A1"
    return {"result": [_sl_public(fk, rec, False)]}


@route("POST", f"{A}/smartList/{{id}}/delete.json")
def _sl_delete(fk, pp, q, files):
    rec = _asset(fk, "smartList", pp["id"])
    for c in fk.assets.get("smartCampaign", {}).values():
        for f in (c.get("_rules") or {}).get("filters") or []:
            if str(f.get("name", "")).lower() == "member of smart list" and any(
                    rec["name"] in (cond.get("values") or []) for cond in f.get("conditions") or []):
                # guess: Marketo refuses to delete an asset another one uses (as it does for templates)
                raise ApiError("709", f"Smart list is used by smart campaign '{c['name']}'")
    del fk.assets["smartList"][rec["id"]]
    return {"result": [{"id": rec["id"]}]}


def _edit(fk: FakeMarketo, data: dict[str, Any]) -> None:
    """``POST /_fake/edit`` with ``{"smartList": name, "rules": {…}}``: an admin builds a smart list's rules in the
    UI (creating it, with ``"folder": {"id", "type"}``, when there is none of that name)."""
    if any(a["name"] == data["smartList"] for a in fk.assets["smartList"].values()):
        set_smart_list_rules(fk, data["smartList"], data.get("rules") or {})
    else:
        add_smart_list(fk, data["smartList"], data.get("rules"), data.get("folder"))


fm.EDITS["smartList"] = _edit
# SL's examples answer a smart list's folder as {"id": 1041, "type": "Program"} (By Id, By Name, Browse, Clone)
fm.ID_FOLDER_ANSWERS.update({f"{A}/smartLists.json", f"{A}/smartList/{{id}}.json", f"{A}/smartList/byName.json",
                             f"{A}/smartList/{{id}}/clone.json"})
