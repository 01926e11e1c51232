"""Forms on the Marketo target: the form, its fields in order, pick-list values, hidden fields' default values,
visibility rules, progressive profiling, submit button, custom CSS, thank-you behaviour and approval.

Adobe's pages: "Forms" (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/forms, cited
"EL forms") and the Swagger definitions named beside the code. What the Forms API cannot write goes on the
checklist with the reason (``manual_steps``); what it cannot read goes to the export's ``needsCompletion``:

- a hidden field's autofill (URL parameter, cookie, referrer): AddFormFieldRequest / UpdateFormFieldRequest have
  ``defaultValue`` but no autofill setting, and no answer carries one;
- "show when all of its rules match": FormFieldVisibilityRequest has a ruleType and a list of rules, evaluated
  "top to bottom, and the first rule which evaluates to true is the one which will be applied" -- any, not all;
- a rich-text field: the bundle format has no HTML for it (``richText.json`` needs the HTML);
- custom CSS can be written (UpdateFormMetaDataRequest.customCss) but LpFormResponse never gives it back.

A thank-you landing page is a landing page of the bundle (PK220), created after the form (landing pages rank
after forms: a page embeds its form, so it needs the form's id). The form's thank-you rule names the page's id
(ThankYouPageRequest ``followupType: lp``), so it is written in ``after_writes``, once every page exists, and
before ``--approve`` approves the form and then the pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from ....canonical import dump_bytes
from ....catalog import standard_field_names
from ....findings import Finding, Severity, make, register_code
from ..client import MarketoError
from ..common import A
from .base import MarketoKind, StepCheck

if TYPE_CHECKING:  # pragma: no cover - types only
    from ..apply import MarketoWriter
    from ..inventory import MarketoInventory

_GROUP = "marketo"
register_code("PK840", "marketo-form-field-unavailable", Severity.ERROR,
              "A form field names a person field the Marketo instance does not offer to forms "
              "(GET /rest/asset/v1/form/fields.json does not list it).",
              hint="Use a field the instance offers to forms (Admin > Field Management: a field the CRM manages or "
                   "a hidden/blocked field is not one), or remove it from the form.",
              example="forms/registration.json /fields/4/field: 'Job Title' (title) is not a field Marketo offers "
                      "to forms in this instance", group=_GROUP)
register_code("PK842", "marketo-form-layout", Severity.ERROR,
              "A form has more fields than the Forms API can lay out: up to ten rows (and up to ten in the "
              "progressive profiling field set).",
              hint="Split the form, or move fields into progressive profiling; the Forms API places fields in a "
                   "grid of at most 3 columns and 10 rows (Adobe's Forms page, Rearranging Field).",
              example="forms/registration.json /fields: 12 rows in the form (and 0 in progressive profiling); "
                      "Marketo's form layout through the API has 10 rows", group=_GROUP)
register_code("PK843", "marketo-form-visibility-operator", Severity.ERROR,
              "A form field's visibility rule uses an operator Marketo's Forms API does not have.",
              hint="Use one of Marketo's operators: is, isNot, isEmpty, isNotEmpty, startsWith, contains, "
                   "greaterThan, lessThan, atLeast, atMost, between, … (Swagger VisibilityRuleRequest).",
              example="forms/registration.json /fields/1/visibility/rules/0/operator: 'matches' is not an operator "
                      "of Marketo's visibility rules", group=_GROUP)
register_code("PK844", "marketo-thank-you-page-missing", Severity.ERROR,
              "A form's thank-you landing page is not in Marketo when the form's follow-up rule is written.",
              hint="Import the bundle with its landing pages (the page is created before the rule is written); "
                   "`--resume` finishes an import that stopped here.",
              example="form 'Registration' (id 1001): thank-you landing page 'Thanks' is not in the program in "
                      "Marketo", group=_GROUP)

register_code("PK845", "marketo-form-stay-unwritable", Severity.WARNING,
              "An upgrade sends a form's visitors back to stay on the page, which the Forms API cannot write "
              "(a follow-up rule is a landing page or a URL).",
              hint="In Marketo, open the form, Form Settings > Follow-up, and choose to stay on the page; then approve it.",
              example="form 'Registration' (id 1001): its thank-you behaviour is to stay on the page now, but the "
                      "Forms API writes only a landing page or URL follow-up", group=_GROUP)

#: bundle field type -> Forms API field type (EL forms, Field Types; "hidden" is the UI's Hidden type, which the
#: guide's table leaves out)
API_TYPE = {"string": "string", "email": "email", "phone": "phone", "number": "number", "date": "date",
            "textArea": "textarea", "select": "picklist", "checkbox": "single_checkbox", "checkboxes": "checkbox",
            "radioButtons": "radio", "hidden": "hidden", "range": "range", "url": "url"}
#: what a form's field list answers as dataType -> bundle type (EL forms: a string field reads back as "text",
#: a picklist as "select")
BUNDLE_TYPE = {**{v: k for k, v in API_TYPE.items()}, "text": "string", "select": "select", "double": "number",
               "currency": "number", "int": "number", "integer": "number"}
#: Swagger VisibilityRuleRequest.operator
OPERATORS = ("is", "isNot", "isEmpty", "isNotEmpty", "startsWith", "notStartsWith", "endsWith", "notEndsWith",
             "contains", "notContains", "greaterThan", "lessThan", "atLeast", "atMost", "between", "notBetween",
             "notInTimeFrame", "inPast", "notInPast", "after", "before", "inTimeFrame", "onOrAfter", "onOrBefore")
#: EL forms, Rearranging Field: "up to three columns, and up to ten rows"
MAX_ROWS = 10
#: the validation message a field gets when none is given (EL forms, Field List)
DEFAULT_MESSAGES = ("This field is required.",
                    "Must be valid email. <span class='mktoErrorDetail'>example@yourdomain.com</span>")
#: the fields a new form comes with (EL forms, Create and Update), by their API and display names
NEW_FORM_FIELDS = ({"firstname", "first name"}, {"lastname", "last name"}, {"email", "email address"})
#: Marketo's defaults the export leaves out, so a bundle that does not set them comes back as it was
DEFAULT_LANGUAGE = "English"
AUTOFILL = {"url": "URL Parameter", "cookie": "Cookie Value", "referrer": "Referrer Parameter"}
WHY_AUTOFILL = "the Forms API has no autofill setting for a hidden field"
WHY_ALL = ("the Forms API has no all/any setting: Marketo applies the first of a field's rules that matches "
           "(Adobe's Forms page, Visibility Rule)")
WHY_RICH_TEXT = "the bundle format carries no HTML for a rich-text field, which form/{id}/richText.json needs"


def _fields(doc: Any) -> list[dict[str, Any]]:
    return [f for f in (doc or {}).get("fields") or [] if isinstance(f, dict) and isinstance(f.get("field"), str)]


def _profiling(doc: Any) -> dict[str, Any]:
    prof = (doc or {}).get("progressiveProfiling")
    return prof if isinstance(prof, dict) else {}


def _profiled(doc: Any) -> set[str]:
    prof = _profiling(doc)
    return {n.casefold() for n in prof.get("fields") or [] if isinstance(n, str)} if prof.get("enabled") else set()


def _layout(doc: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The form's written fields: those in the grid, in order, and those in the Profiling field set."""
    prof = _profiled(doc)
    fields = [f for f in _fields(doc) if f.get("type") != "richText"]
    return ([f for f in fields if f["field"].casefold() not in prof],
            [f for f in fields if f["field"].casefold() in prof])


def available_fields(ws: Any) -> list[dict[str, Any]]:
    """GET form/fields.json (EL forms, Field Metadata): the person fields a form can use, read once."""
    return ws.cached("form-fields", lambda: list(ws.client.browse(f"{A}/form/fields.json")))


def person_field(ws: Any, name: str) -> tuple[str, str] | None:
    """A bundle field name (API or display name) -> the person field's (REST name, display name), or None."""
    for info in ws.fields().values():
        if name.casefold() in (info.api_name.casefold(), info.display_name.casefold()):
            return info.api_name, info.display_name
    return None


def form_field_id(ws: Any, name: str) -> str | None:
    """The Forms API's id of a person field (``FirstName`` for ``firstName``), as form/fields.json lists it;
    None if the instance does not offer it to forms."""
    person = person_field(ws, name)
    wanted = {name.casefold()} | ({person[0].casefold()} if person else set())
    return next((f["id"] for f in available_fields(ws) if str(f.get("id", "")).casefold() in wanted), None)


def _field_form(f: dict[str, Any]) -> dict[str, Any]:
    """AddFormFieldRequest / UpdateFormFieldRequest parameters of a bundle field (pick-list values apart). A
    field without a label gets an empty one, not Marketo's "FieldName:" (guess: an empty label is accepted, as the
    UI allows a hidden field without one)."""
    out: dict[str, Any] = {"label": f.get("label", ""), "required": bool(f.get("required"))}
    if f.get("type") in API_TYPE:
        out["fieldType"] = API_TYPE[f["type"]]
    for key in ("validationMessage", "defaultValue", "maxLength"):
        if key in f:
            out[key] = f[key]
    return out


def _values(f: dict[str, Any]) -> list[dict[str, Any]]:
    # EL forms, Edit Field: values=[{"label":"Select...","value":"","isDefault":true,"selected":true}, …]
    return [{k: v[k] for k in ("label", "value", "selected") if k in v} for v in f.get("values") or []]


def _visibility(f: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    rules = (f.get("visibility") or {}).get("rules") or []
    return {"ruleType": "show", "rules": [
        {"subjectField": ids.get(r["field"].casefold(), r["field"]), "operator": r["operator"],
         "values": list(r.get("values") or [])} for r in rules]}


def settle(writer: "MarketoWriter", segment: str, kind: str, mid: int, sha: str) -> None:
    """Journal the bundle file's digest with the asset's ``updatedAt`` after every call that changed it: the
    next plan knows the content without reading it while nobody edits it (the create's and the replace's steps
    hold an ``updatedAt`` the follow-up calls have since moved)."""
    key = f"settled:{kind}:{mid}:{sha}"
    if not sha or writer.journal.done(key):
        return
    rec = next(iter(writer.client.get(f"{A}/{segment}/{mid}.json")), {})
    writer.journal.add({"key": key, "op": "content", "kind": kind, "id": mid, "sha256": sha,
                        "updatedAt": rec.get("updatedAt")})


class FormKind(MarketoKind):
    kind = "form"
    label = "form"
    segment = "form"
    browse = f"{A}/forms.json"
    approvable = True
    approve_rank = 10  # before the landing pages that embed it

    # -- apply ----------------------------------------------------------------------------------------
    def prepare(self, writer: "MarketoWriter", docs: list[Any]) -> None:
        # the person fields and the fields offered to forms, read once before forms are written side by side
        writer.ws.fields()
        available_fields(writer.ws)

    def create(self, writer: "MarketoWriter", name: str, doc: Any, folder: dict[str, Any],
               meta: dict[str, Any]) -> dict[str, Any]:
        # CreateLpFormRequest: folder, name, the style settings and progressiveProfiling (no customCss: that is
        # UpdateFormMetaDataRequest's, written in write_content)
        form: dict[str, Any] = {"name": name, "folder": folder, "description": doc.get("description") or None,
                                "progressiveProfiling": bool(_profiling(doc).get("enabled"))}
        for key in ("labelPosition", "language", "theme"):
            if doc.get(key):
                form[key] = doc[key]
        return writer.client.post(f"{A}/forms.json", form)[0]

    def write_content(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        self._write(writer, mid, doc)

    def replace(self, writer: "MarketoWriter", mid: int, doc: Any, meta: dict[str, Any]) -> None:
        # the settings first (the create's, through UpdateFormMetaDataRequest), then the same follow-ups as a new
        # form; keys carry the bundle file's digest, so a later upgrade writes again and a resume does not
        entry = meta.get("entry") or {}
        self._write(writer, mid, doc, tag=f":{entry.get('sha256') or 'replace'}", name=entry.get("name"))

    def _write(self, writer: "MarketoWriter", mid: int, doc: Any, tag: str = "", name: str | None = None) -> None:
        """Fields, visibility, layout, button, CSS and a URL thank-you: one journal step per call. ``tag``: set
        for a replace (the settings are written first, and what a new form has by default is reset)."""
        client, journal = writer.client, writer.journal

        def once(what: str, call: Any) -> None:
            key = f"form:{mid}{tag}:{what}"
            if not journal.done(key):
                call()
                journal.add({"key": key, "op": "content", "kind": "form", "id": mid})

        if tag:
            settings = {k: doc[k] for k in ("labelPosition", "language", "theme") if doc.get(k)}
            once("settings", lambda: client.post(f"{A}/form/{mid}.json", {
                **settings, "description": doc.get("description") or "",
                "progressiveProfiling": bool(_profiling(doc).get("enabled"))}))

        grid, profiled = _layout(doc)
        ids = {f["field"].casefold(): form_field_id(writer.ws, f["field"]) or f["field"] for f in grid + profiled}
        # EL forms, Field List: "the field list should always be retrieved before attempting edits"
        listed = client.get(f"{A}/form/{mid}/fields.json")
        present = {str(f.get("id")) for f in listed}
        rules_now = {str(c.get("id")): (c.get("visibilityRules") or {}).get("ruleType") or "alwaysShow"
                     for f in listed for c in [f] + list(f.get("fields") or [])}
        for f in grid + profiled:
            fid = ids[f["field"].casefold()]
            if fid in present:
                once(f"field:{fid}", lambda fid=fid, f=f: client.post(f"{A}/form/{mid}/field/{fid}.json",
                                                                      _field_form(f)))
            else:  # EL forms, Edit Field: fields are added one at a time
                once(f"field:{fid}", lambda fid=fid, f=f: client.post(f"{A}/form/{mid}/fields.json",
                                                                      {"fieldId": fid, **_field_form(f)}))
            if f.get("values"):
                # AddFormFieldRequest.values is a comma-separated list; UpdateFormFieldRequest.values the JSON
                # array with labels and the selected choice (EL forms, Edit Field): the update writes them
                once(f"values:{fid}", lambda fid=fid, f=f: client.post(f"{A}/form/{mid}/field/{fid}.json",
                                                                       {"values": _values(f)}))
        wanted = set(ids.values())
        for fid in sorted(present - wanted - {"Profiling"}):  # a new form's First Name, Last Name, Email
            once(f"delete:{fid}", lambda fid=fid: client.post(f"{A}/form/{mid}/field/{fid}/delete.json"))
        for f in grid + profiled:
            fid = ids[f["field"].casefold()]
            if (f.get("visibility") or {}).get("rules"):
                once(f"visibility:{fid}", lambda fid=fid, f=f: client.post(
                    f"{A}/form/{mid}/field/{fid}/visibility.json", {"visibilityRule": _visibility(f, ids)}))
            elif rules_now.get(fid, "alwaysShow") != "alwaysShow":  # an upgrade dropped the field's rules
                once(f"visibility:{fid}", lambda fid=fid: client.post(
                    f"{A}/form/{mid}/field/{fid}/visibility.json", {"visibilityRule": {"ruleType": "alwaysShow",
                                                                                        "rules": []}}))
        prof = _profiling(doc)
        positions = [{"columnNumber": 0, "rowNumber": i, "fieldName": ids[f["field"].casefold()]}
                     for i, f in enumerate(grid)]
        if prof.get("enabled"):  # EL forms, Progressive Profiling: fields go into the "Profiling" field set
            positions.append({"columnNumber": 0, "rowNumber": len(grid), "fieldName": "Profiling", "fieldList": [
                {"columnNumber": 0, "rowNumber": i, "fieldName": ids[f["field"].casefold()]}
                for i, f in enumerate(profiled)]})
            if prof.get("blankFields"):  # UpdateFormFieldRequest.blankFields, on the field set (guess: its id)
                once("blankFields", lambda: client.post(f"{A}/form/{mid}/field/Profiling.json",
                                                        {"blankFields": prof["blankFields"]}))
        # EL forms, Rearranging Field: every field, as one unit
        once("layout", lambda: client.post(f"{A}/form/{mid}/reArrange.json", {"positions": positions}))
        if doc.get("buttonText") or doc.get("waitingText"):
            # EL forms, Submit Button: "a destructive update": both labels, Marketo's defaults where unset
            once("button", lambda: client.post(f"{A}/form/{mid}/submitButton.json", {
                "label": doc.get("buttonText") or "Submit", "waitingLabel": doc.get("waitingText") or "Please Wait"}))
        if doc.get("customCss") or tag:
            once("css", lambda: client.post(f"{A}/form/{mid}.json", {"customCss": doc.get("customCss") or ""}))
        thanks = doc.get("thankYou") or {}
        if thanks.get("type") == "url":
            once("thankYou", lambda: self._thank_you(client, mid, "url", thanks["url"]))
        elif thanks.get("type", "stay") == "stay" and tag:
            # EL forms, Followup: a rule's followupType is lp or url; "stay on the page" is only a new form's
            # default, so a form an upgrade sends back to "stay" keeps its follow-up until an admin changes it
            now = next(iter(client.get(f"{A}/form/{mid}/thankYouPage.json")), {})
            if any(r.get("followupType") not in (None, "none") for r in now.get("thankYouList") or []):
                writer.ws.apply_warnings.append(make(
                    "PK845", f"form {name or ''!r} (id {mid}): its thank-you behaviour is to stay on the page now, "
                             "but the Forms API writes only a landing page or URL follow-up: set it to stay in the "
                             "form editor (Form Settings > Follow-up)"))

    @staticmethod
    def _thank_you(client: Any, mid: int, ftype: str, value: Any) -> None:
        # EL forms, Followup: one rule, the default; ThankYouPageRequest requires every member (guess: a default
        # rule compares nothing, so its operator and subject field are null and its values empty)
        client.post(f"{A}/form/{mid}/thankYouPage.json", {"thankyou": [
            {"followupType": ftype, "followupValue": value, "default": True, "operator": None, "subjectField": None,
             "values": []}]})

    def after_writes(self, writer: "MarketoWriter", mid: int, name: str, doc: Any, meta: dict[str, Any]) -> None:
        thanks = (doc or {}).get("thankYou") or {}
        sha = (meta.get("entry") or {}).get("sha256") or ""
        key = f"form:{mid}:{sha}:thankYouPage"
        if thanks.get("type") == "landingPage" and not writer.journal.done(key):
            page = self._page_id(writer, mid, thanks["page"])
            if page is None:
                raise MarketoError(f"form {name!r} (id {mid}): thank-you landing page {thanks['page']!r} is not in "
                                   "the program in Marketo", code="PK844")
            self._thank_you(writer.client, mid, "lp", page)
            writer.journal.add({"key": key, "op": "content", "kind": "form", "id": mid})
        settle(writer, self.segment, self.kind, mid, sha)

    @staticmethod
    def _page_id(writer: "MarketoWriter", mid: int, page: str) -> int | None:
        """The Marketo id of a landing page of the bundle: created by this import (its journal), or already in
        the form's program (an upgrade that left the page as it was)."""
        for s in reversed(writer.journal.data["steps"]):
            if s.get("kind") == "landingPage" and s.get("op") == "create" and \
                    str(s.get("name") or "").casefold() == page.casefold():
                return int(s["id"])
        browse = writer.ws.program_kinds().get("landingPage")  # the landing-page kind module's list endpoint
        if browse is None:
            return None
        form = next(iter(writer.client.get(f"{A}/form/{mid}.json")), {})
        base = writer.ws.folder_path(form.get("folder")) or ""
        prog = next((p for p in writer.ws.program_records() if base == writer.ws.program_path(p)
                     or base.startswith(writer.ws.program_path(p) + "/")), None)
        for rec in writer.client.browse(browse, folder={"id": prog["id"], "type": "Program"}) if prog else []:
            if str(rec.get("name") or "").casefold() == page.casefold():
                return int(rec["id"])
        return None

    def manual_steps(self, doc: Any) -> list[str]:
        out = []
        for f in _fields(doc):
            fill = f.get("autofill") or {}
            if f.get("type") == "hidden" and fill.get("source") in AUTOFILL:
                what = AUTOFILL[fill["source"]] + (f" \"{fill['parameter']}\"" if fill.get("parameter") else "")
                out.append(f"Field \"{f['field']}\" (hidden): set Autofill to {what} ({WHY_AUTOFILL})")
            vis = f.get("visibility") or {}
            if len(vis.get("rules") or []) > 1 and vis.get("show", "all") == "all":
                out.append(f"Field \"{f['field']}\": set its visibility to show when All of its rules match "
                           f"({WHY_ALL})")
            if f.get("type") == "richText":
                out.append(f"Field \"{f['field']}\" (rich text): add it in the form editor ({WHY_RICH_TEXT})")
        return out

    def expect(self, doc: Any) -> dict[str, Any]:
        return {"form": doc}

    def check_steps(self, expect: dict[str, Any], found: Any, steps: list[str]) -> list[StepCheck]:
        out: list[StepCheck] = []
        for s in steps:
            why = next((w for w in (WHY_AUTOFILL, WHY_ALL, WHY_RICH_TEXT) if w in s), None)
            out.append(("manual", s, None, None, f"{why}: check it in the form editor" if why else
                        "programkit cannot read this through the API: check it in the UI"))
        return out

    # -- inventory / plan -------------------------------------------------------------------------------
    def preflight(self, inventory: "MarketoInventory", asset: Any) -> Iterable[Finding]:
        doc = asset.content if isinstance(asset.content, dict) else {}
        for i, f in enumerate(doc.get("fields") or []):
            if not isinstance(f, dict) or not isinstance(f.get("field"), str) or f.get("type") == "richText":
                continue
            person = person_field(inventory, f["field"])
            if person is None and f["field"].casefold() not in standard_field_names():
                pass  # a requires.fields field the instance lacks: the plan's own preflight reports it
            elif form_field_id(inventory, f["field"]) is None:
                which = f" ({person[0]})" if person else " (a standard field this instance does not have)"
                yield make("PK840", f"/fields/{i}/field: {f['field']!r}{which} is not a field Marketo offers "
                                    "to forms in this instance (form/fields.json does not list it)",
                           file=asset.path, pointer=f"/fields/{i}/field")
            for j, rule in enumerate((f.get("visibility") or {}).get("rules") or []):
                if isinstance(rule, dict) and rule.get("operator") not in OPERATORS:
                    p = f"/fields/{i}/visibility/rules/{j}/operator"
                    yield make("PK843", f"{p}: {rule.get('operator')!r} is not an operator of Marketo's visibility "
                                        "rules", file=asset.path, pointer=p)
        grid, profiled = _layout(doc)
        rows = len(grid) + bool(_profiling(doc).get("enabled"))
        if rows > MAX_ROWS or len(profiled) > MAX_ROWS:
            yield make("PK842", f"/fields: {rows} rows in the form (and {len(profiled)} in progressive profiling); "
                                f"Marketo's form layout through the API has {MAX_ROWS} rows",
                       file=asset.path, pointer="/fields")

    def calls(self, doc: Any, action: str) -> int:
        if action == "delete":
            return 1
        if not isinstance(doc, dict):
            return 1
        grid, profiled = _layout(doc)
        fields = grid + profiled
        n = (action in ("create", "rename")) + (action in ("replace", "update")) + 1  # create or update; field list
        n += len(fields) + sum(1 for f in fields if f.get("values")) + 1  # each field, its values; the layout
        if action in ("create", "rename"):  # a new form's First Name, Last Name and Email, deleted when not wanted
            names = {f["field"].casefold() for f in fields}
            n += sum(1 for d in NEW_FORM_FIELDS if not names & d)
        n += sum(1 for f in fields if (f.get("visibility") or {}).get("rules"))
        n += bool(doc.get("buttonText") or doc.get("waitingText")) + bool(doc.get("customCss"))
        n += bool(_profiling(doc).get("blankFields")) + ((doc.get("thankYou") or {}).get("type") in ("url", "landingPage"))
        n += 1  # its updatedAt read after the writes (settle)
        return n

    # -- export / verify ------------------------------------------------------------------------------
    def document(self, inventory: "MarketoInventory", record: dict[str, Any]) -> tuple[bytes, list[dict[str, str]]]:
        mid = int(record["id"])
        listed = inventory.client.get(f"{A}/form/{mid}/fields.json")
        defaults = {str(f.get("id")): f for f in available_fields(inventory)}
        names = {}
        for f in listed + [c for p in listed for c in p.get("fields") or []]:
            fid = str(f.get("id"))
            person = person_field(inventory, fid)
            names[fid] = person[1] if person else fid
        gaps: list[dict[str, str]] = []
        fields, prof_names = [], []
        for f in listed:
            if f.get("dataType") == "profiling":
                for c in f.get("fields") or []:
                    fields.append(self._field_doc(c, names, defaults))
                    prof_names.append(names[str(c.get("id"))])
                continue
            if f.get("dataType") == "htmltext":
                gaps.append({"pointer": "/fields", "what": "a rich-text field", "why": WHY_RICH_TEXT})
                continue
            fields.append(self._field_doc(f, names, defaults))
        for i, f in enumerate(fields):
            if f.get("type") == "hidden":
                gaps.append({"pointer": f"/fields/{i}", "what": f"autofill of hidden field {f['field']!r}",
                             "why": f"{WHY_AUTOFILL} (the field list gives only its default value)"})
            if len((f.get("visibility") or {}).get("rules") or []) > 1:
                gaps.append({"pointer": f"/fields/{i}/visibility", "what": f"whether field {f['field']!r} shows "
                             "when all or any of its rules match", "why": WHY_ALL})
        doc: dict[str, Any] = {"buttonText": record.get("buttonLabel") or "Submit", "fields": fields,
                               "labelPosition": record.get("labelPosition") or "left",
                               "theme": record.get("theme") or "simple",
                               "waitingText": record.get("waitingLabel") or "Please Wait"}
        if record.get("description"):
            doc["description"] = record["description"]
        if record.get("language") and record["language"] != DEFAULT_LANGUAGE:
            doc["language"] = record["language"]
        prof: dict[str, Any] = {"enabled": bool(record.get("progressiveProfiling"))}
        blank = next((f.get("blankFields") for f in listed if f.get("dataType") == "profiling"), None)
        if prof["enabled"] and prof_names:
            prof["fields"] = prof_names
        if prof["enabled"] and blank:
            prof["blankFields"] = blank
        doc["progressiveProfiling"] = prof
        doc["thankYou"] = self._thank_you_doc(inventory, record, gaps)
        gaps.append({"pointer": "", "what": "custom CSS",
                     "why": "the Forms API writes a form's custom CSS (form/{id}.json) but no answer gives it back"})
        return dump_bytes(doc), gaps

    @staticmethod
    def _field_doc(f: dict[str, Any], names: dict[str, str], defaults: dict[str, dict[str, Any]]) -> dict[str, Any]:
        fid = str(f.get("id"))
        out: dict[str, Any] = {"field": names.get(fid, fid),
                               "type": BUNDLE_TYPE.get(str(f.get("dataType")), str(f.get("dataType") or "string"))}
        if f.get("label"):
            out["label"] = f["label"]
        if f.get("required"):
            out["required"] = True
        message = f.get("validationMessage")
        if isinstance(message, str) and message and message not in DEFAULT_MESSAGES:
            out["validationMessage"] = message
        if f.get("maxLength") and f["maxLength"] != (defaults.get(fid) or {}).get("maxLength"):
            out["maxLength"] = f["maxLength"]
        if f.get("defaultValue"):
            out["defaultValue"] = f["defaultValue"]
        values = ((f.get("fieldMetaData") or {}).get("values")) or []
        if values:
            out["values"] = [{k: v[k] for k in ("label", "value", "selected") if k in v and (k != "selected" or v[k])}
                             for v in values]
        rules = (f.get("visibilityRules") or {}).get("rules") or []
        if (f.get("visibilityRules") or {}).get("ruleType") == "show" and rules:
            vis: dict[str, Any] = {"rules": [{"field": names.get(str(r.get("subjectField")), r.get("subjectField")),
                                              "operator": r.get("operator"), "values": list(r.get("values") or [])}
                                             for r in rules]}
            if len(rules) > 1:
                vis["show"] = "any"  # the first rule that matches applies (EL forms, Visibility Rule)
            out["visibility"] = vis
        return out

    @staticmethod
    def _thank_you_doc(inventory: "MarketoInventory", record: dict[str, Any],
                       gaps: list[dict[str, str]]) -> dict[str, Any]:
        rules = record.get("thankYouList") or []
        rule = next((r for r in rules if r.get("default")), rules[0] if rules else {})
        if len(rules) > 1:
            gaps.append({"pointer": "/thankYou", "what": "follow-up rules beyond the default one",
                         "why": "the bundle format has one thank-you behaviour per form"})
        if rule.get("followupType") == "url":
            return {"type": "url", "url": str(rule.get("followupValue"))}
        if rule.get("followupType") == "lp":
            page = next((r for (k, i), r in inventory.asset_records.items() if k == "landingPage"
                         and str(i) == str(rule.get("followupValue"))), None)
            if page is not None:
                return {"page": page["name"], "type": "landingPage"}
            gaps.append({"pointer": "/thankYou", "what": "the thank-you landing page",
                         "why": f"landing page {rule.get('followupValue')} is not a page of the program"})
        return {"type": "stay"}


HANDLER = FormKind()
