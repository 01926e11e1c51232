"""The stand-in's forms and static lists (issue #15), imported by ``tests/fake_marketo.py``.

Each behaviour cites where it comes from: ``EL forms`` / ``EL static-lists`` are Adobe's developer guide pages
https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/forms and
…/assets/static-lists; ``Swagger X`` is the definition or operation X of AdobeDocs/marketo-apis
static/swagger-asset.json. Where Adobe does not say, the comment says "guess".
"""

from __future__ import annotations

import json
from typing import Any

import fake_marketo as fm
from fake_marketo import A, ApiError, _now, _page, _public, route

# -- forms ------------------------------------------------------------------------------------------------

#: the form field types, by their API name (EL forms, "Field Types": checkbox, radio, textarea, picklist,
#: string, email, date, number, double, phone, url, currency, single_checkbox, range); "hidden" is the UI's
#: Hidden type, which the guide's table leaves out (guess: the same word as the Forms 2.0 JavaScript API)
FIELD_TYPES = {"checkbox", "radio", "textarea", "picklist", "string", "email", "date", "number", "double", "phone",
               "url", "currency", "single_checkbox", "range", "hidden"}
#: what a form's field list answers as ``dataType`` for a field added with a type: the guide's Field List shows
#: FirstName (a string) as "text", and the Salutation picklist as "select" (EL forms, Field List and Edit Field)
READ_TYPE = {"string": "text", "picklist": "select"}
#: the default field type for a person field's data type (EL forms, Field Metadata: form/fields.json gives
#: each field's dataType, which is the type a field gets when it is added without one -- "All other fields
#: will either be empty or have default values based on their datatype")
DEFAULT_TYPE = {"integer": "number", "int": "number", "float": "double", "boolean": "single_checkbox",
                "text": "textarea", "datetime": "date"}
#: Swagger VisibilityRuleRequest.operator
VISIBILITY_OPERATORS = {"is", "isNot", "isEmpty", "isNotEmpty", "startsWith", "notStartsWith", "endsWith",
                        "notEndsWith", "contains", "notContains", "greaterThan", "lessThan", "atLeast", "atMost",
                        "between", "notBetween", "notInTimeFrame", "inPast", "notInPast", "after", "before",
                        "inTimeFrame", "onOrAfter", "onOrBefore"}
#: EL forms, Rearranging Field: "a table-like interface, with up to three columns, and up to ten rows"
MAX_ROWS, MAX_COLUMNS = 10, 3


def _of(fk: Any, kind: str) -> dict[int, dict[str, Any]]:
    """The stand-in's assets of a kind, read without adding the kind to its state (``fk.assets`` is a defaultdict
    other tests compare whole)."""
    return fk.assets.get(kind, {})


def form_field_id(name: str) -> str:
    """A person field's id in the Forms API: the SOAP name (EL forms, Field Metadata lists FirstName, Email,
    LeadSource …; guess: for the stand-in's fields, the REST name with its first letter capitalised)."""
    return name[:1].upper() + name[1:]


def available_fields(fk: Any) -> list[dict[str, Any]]:
    """form/fields.json: the person fields a form can use, with their type and default metadata (EL forms,
    Field Metadata). Guess: fields the CRM manages (sfdc…) are not offered, as Marketo does not let a form write
    a field the CRM owns."""
    out = []
    for name, _display, dtype in fk.fields:
        if name.startswith("sfdc") or name in getattr(fk, "unformable_fields", ()):
            continue
        rec = {"id": form_field_id(name), "isRequired": False, "dataType": dtype if dtype != "integer" else "int"}
        if dtype == "string":
            rec["maxLength"] = 255
        out.append(rec)
    return out


def _form(fk: Any, raw_id: Any) -> dict[str, Any]:
    rec = _of(fk, "form").get(int(raw_id))
    if rec is None:
        raise ApiError("702", f"Form {raw_id} not found")
    return rec


def _bool(q: dict[str, Any], key: str) -> bool | None:
    if key not in q:
        return None
    value = str(q[key]).strip().lower()
    if value not in ("true", "false"):
        raise ApiError("1003", f"Invalid value for '{key}': must be true or false")
    return value == "true"


def _json(q: dict[str, Any], key: str) -> Any:
    try:
        return json.loads(q[key])
    except (TypeError, ValueError):
        raise ApiError("1003", f"Invalid value for '{key}': must be JSON")


def _edited(rec: dict[str, Any]) -> None:
    # EL forms, Approval: "updates … are always applied to the draft version first"
    rec["status"], rec["updatedAt"] = "draft", _now()


def _top_fields(rec: dict[str, Any]) -> list[dict[str, Any]]:
    return rec["_fields"]


def _all_field_ids(rec: dict[str, Any]) -> set[str]:
    ids = set()
    for f in rec["_fields"]:
        ids.add(f["id"])
        ids.update(s["id"] for s in f.get("_children", []))
    return ids


def _field_out(f: dict[str, Any], row: int) -> dict[str, Any]:
    """A field as GET form/{id}/fields.json answers it (EL forms, Field List; Swagger LpFormFieldResponse)."""
    if f["id"] == "Profiling":  # EL forms, Progressive Profiling: a fieldset called "Profiling" in the list
        out = {"id": "Profiling", "dataType": "profiling", "rowNumber": row, "columnNumber": 0,
               "fields": [_field_out(c, i) for i, c in enumerate(f.get("_children", []))]}
        if f.get("blankFields") is not None:
            out["blankFields"] = f["blankFields"]
        return out
    out = {k: v for k, v in f.items() if not k.startswith("_")}
    out.update(rowNumber=row, columnNumber=0, dataType=READ_TYPE.get(f["_type"], f["_type"]))
    out.setdefault("visibilityRules", {"ruleType": "alwaysShow"})
    return out


def _new_field(fk: Any, fid: str, ftype: str | None = None, **extra: Any) -> dict[str, Any]:
    meta = next(m for m in available_fields(fk) if m["id"] == fid)
    ftype = ftype or DEFAULT_TYPE.get(meta["dataType"], meta["dataType"])
    f = {"id": fid, "label": f"{fid}:", "_type": ftype, "required": False, "formPrefill": True,
         "validationMessage": "This field is required."}
    if meta.get("maxLength"):
        f["maxLength"] = meta["maxLength"]
    f.update(extra)
    return f


_FORM_DEFAULTS = {"theme": "simple", "language": "English", "locale": "en_US", "progressiveProfiling": False,
                  "labelPosition": "left", "fontFamily": "Helvetica", "fontSize": "13px"}
_FORM_STYLE = ("description", "fontFamily", "fontSize", "labelPosition", "language", "locale", "theme")


@route("GET", f"{A}/forms.json")
def _form_list(fk, pp, q, files):
    items = sorted(_of(fk, "form").values(), key=lambda a: a["id"])
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    if q.get("status"):  # EL forms, Browse: filtering on status
        items = [a for a in items if a["status"] == q["status"]]
    return _page([_public(a) for a in items], q)


@route("POST", f"{A}/forms.json")
def _form_create(fk, pp, q, files):
    # EL forms, Create and Update: "only two required fields: the parent folder of the form, the name of the
    # form"; the record answered is the form (Swagger LpFormResponse) with the defaults the guide shows
    if not q.get("name"):
        raise ApiError("701", "name cannot be blank")
    pp_ = _bool(q, "progressiveProfiling")
    style = {k: q[k] for k in _FORM_STYLE if k in q}
    # the new form "comes with three default fields: First Name, Last Name, Email" (EL forms)
    res = fm._local_create(fk, "form", q, status="draft", url=None, **{**_FORM_DEFAULTS, **style,
                                                                         "progressiveProfiling": bool(pp_)},
                           knownVisitor={"type": "form", "template": None},
                           thankYouList=[{"followupType": "none", "followupValue": None, "default": True}],
                           buttonLocation=120, buttonLabel="Submit", waitingLabel="Please Wait",
                           _css="", _fields=[])
    rec = fk.assets["form"][res["result"][0]["id"]]
    rec["_fields"] = [_new_field(fk, "FirstName", label="First Name:"),
                      _new_field(fk, "LastName", label="Last Name:"),
                      _new_field(fk, "Email", label="Email Address:",
                                 validationMessage="Must be valid email. "
                                                   "<span class='mktoErrorDetail'>example@yourdomain.com</span>")]
    if pp_:
        rec["_fields"].append({"id": "Profiling", "_children": []})
    return {"result": [_public(rec)]}


@route("GET", f"{A}/form/{{id}}.json")
def _form_get(fk, pp, q, files):
    return {"result": [_public(_form(fk, pp["id"]))]}


@route("GET", f"{A}/form/byName.json")
def _form_by_name(fk, pp, q, files):
    hits = [a for a in _of(fk, "form").values() if a["name"] == q["name"]]
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        hits = [a for a in hits if fk.under(a["folder"], ref)]
    if not hits:
        return {"warnings": [fm.NO_ASSETS]}
    return {"result": [_public(hits[0])]}


@route("POST", f"{A}/form/{{id}}.json")
def _form_update(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    if "name" in q and q["name"] != rec["name"] and any(
            a["name"].casefold() == q["name"].casefold() for a in _of(fk, "form").values()):
        raise ApiError("709", f"Asset name '{q['name']}' is already in use")
    for k in ("name",) + _FORM_STYLE:
        if k in q:
            rec[k] = q[k]
    if "customCss" in q:  # Swagger UpdateFormMetaDataRequest has customCss; CreateLpFormRequest has not
        rec["_css"] = q["customCss"]
    prof = _bool(q, "progressiveProfiling")
    if prof is not None:
        rec["progressiveProfiling"] = prof
        has = any(f["id"] == "Profiling" for f in rec["_fields"])
        if prof and not has:  # EL forms, Progressive Profiling: the "Profiling" fieldset comes with it
            rec["_fields"].append({"id": "Profiling", "_children": []})
        if not prof and has:
            prof_set = next(f for f in rec["_fields"] if f["id"] == "Profiling")
            rec["_fields"] = [f for f in rec["_fields"] if f["id"] != "Profiling"] + prof_set.get("_children", [])
    _edited(rec)
    return {"result": [_public(rec)]}


@route("GET", f"{A}/form/fields.json")
def _form_available(fk, pp, q, files):
    return _page(available_fields(fk), q)


@route("GET", f"{A}/form/{{id}}/fields.json")
def _form_fields(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    return {"result": [_field_out(f, i) for i, f in enumerate(_top_fields(rec))]}


def _field_settings(q: dict[str, Any], f: dict[str, Any], *, values_json: bool) -> None:
    for key in ("label", "defaultValue", "validationMessage", "hintText", "instructions", "maskInput"):
        if key in q:
            f[key] = q[key]
    for key in ("required", "formPrefill", "isSensitive", "labelToRight", "initiallyChecked", "multiSelect"):
        value = _bool(q, key)
        if value is not None:
            f[key] = value
    for key in ("maxLength", "fieldWidth", "labelWidth", "visibleLines", "blankFields"):
        if key in q:
            try:
                f[key] = int(q[key])
            except ValueError:
                raise ApiError("1003", f"Invalid value for '{key}': must be an integer")
    if "fieldType" in q:
        if q["fieldType"] not in FIELD_TYPES:
            raise ApiError("1003", f"Invalid fieldType '{q['fieldType']}'")
        f["_type"] = q["fieldType"]
    if "values" in q:
        if values_json:
            # Swagger UpdateFormFieldRequest.values: "Array of JSON objects that contain field attributes. Only for
            # select-field types"; EL forms, Edit Field: values=[{"label":…,"value":…,"isDefault":…,"selected":…}]
            values = _json(q, "values")
            if not isinstance(values, list) or not all(isinstance(v, dict) and "value" in v for v in values):
                raise ApiError("1003", "Invalid value for 'values': a JSON array of {label, value} objects")
        else:
            # Swagger AddFormFieldRequest.values: "Comma-separated list of accepted values for the field"
            values = [{"label": v, "value": v} for v in str(q["values"]).split(",")]
        f.setdefault("fieldMetaData", {})["values"] = values
        f["fieldMetaData"].setdefault("multiSelect", False)
        f["fieldMetaData"].setdefault("visibleLines", 1)


@route("POST", f"{A}/form/{{id}}/fields.json")
def _form_add_field(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    fid = q.get("fieldId")  # Swagger AddFormFieldRequest: required ["fieldId"]
    if not fid:
        raise ApiError("701", "fieldId cannot be blank")
    if fid not in {m["id"] for m in available_fields(fk)}:
        # EL forms, Field Metadata: a form's fields are the valid fields form/fields.json lists (guess: the code)
        raise ApiError("709", f"Field '{fid}' is not available for forms in this instance")
    if fid in _all_field_ids(rec):
        # EL forms, Fieldset: "duplicate fields may not be in both the form's parent field list, and a child
        # fieldset" (guess: nor twice in the list)
        raise ApiError("709", f"Field '{fid}' is already in the form")
    f = _new_field(fk, fid, q.get("fieldType") if q.get("fieldType") in FIELD_TYPES else None)
    _field_settings(q, f, values_json=False)
    fields = rec["_fields"]
    at = next((i for i, x in enumerate(fields) if x["id"] == "Profiling"), len(fields))
    fields.insert(at, f)  # guess: a new field goes in the next free row, above the Profiling fieldset
    _edited(rec)
    return {"result": [_field_out(f, at)]}


def _find_field(rec: dict[str, Any], fid: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    for f in rec["_fields"]:
        if f["id"] == fid:
            return rec["_fields"], f
        for c in f.get("_children", []):
            if c["id"] == fid:
                return f["_children"], c
    raise ApiError("702", f"Field '{fid}' not found in form {rec['id']}")


@route("POST", f"{A}/form/{{id}}/field/{{fieldId}}.json")
def _form_update_field(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    _, f = _find_field(rec, pp["fieldId"])
    if f["id"] == "Profiling":  # the fieldset: only how many blank fields it shows (Swagger blankFields)
        if "blankFields" in q:
            f["blankFields"] = int(q["blankFields"])
    else:
        _field_settings(q, f, values_json=True)
    _edited(rec)
    return {"result": [_field_out(f, 0)]}


@route("POST", f"{A}/form/{{id}}/field/{{fieldId}}/delete.json")
def _form_delete_field(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    siblings, f = _find_field(rec, pp["fieldId"])
    siblings.remove(f)
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/form/{{formId}}/field/{{fieldId}}/visibility.json")
def _form_visibility(fk, pp, q, files):
    rec = _form(fk, pp["formId"])
    _, f = _find_field(rec, pp["fieldId"])
    rule = _json(q, "visibilityRule")
    # Swagger FormFieldVisibilityRequest: required ruleType (show, alwaysShow, hide) and rules; each
    # VisibilityRuleRequest: required operator, subjectField, values; operator from its enum
    if not isinstance(rule, dict) or rule.get("ruleType") not in ("show", "alwaysShow", "hide") or \
            not isinstance(rule.get("rules", []), list):
        raise ApiError("1003", "Invalid value for 'visibilityRule': ruleType show, alwaysShow or hide, and rules")
    form_ids = _all_field_ids(rec)
    for r in rule.get("rules", []):
        if not isinstance(r, dict) or not {"operator", "subjectField", "values"} <= set(r):
            raise ApiError("1003", "Invalid value for 'visibilityRule': each rule has operator, subjectField, values")
        if r["operator"] not in VISIBILITY_OPERATORS:
            raise ApiError("1003", f"Invalid visibility operator '{r['operator']}'")
        if r["subjectField"] not in form_ids:
            # EL forms, Visibility Rule: "the value of a subjectField which is present in the form" (guess: code)
            raise ApiError("709", f"Subject field '{r['subjectField']}' is not in the form")
    # "Changing visibility rules is a destructive update" (EL forms): the new rule replaces the old
    f["visibilityRules"] = {"ruleType": rule["ruleType"],
                            **({"rules": rule["rules"]} if rule["ruleType"] != "alwaysShow" else {})}
    _edited(rec)
    return {"result": [{"formFieldId": f["id"], **f["visibilityRules"]}]}


@route("POST", f"{A}/form/{{id}}/reArrange.json")
def _form_rearrange(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    positions = _json(q, "positions")
    if not isinstance(positions, list):
        raise ApiError("1003", "Invalid value for 'positions': a JSON array")
    by_id = {f["id"]: f for f in rec["_fields"]}
    for f in rec["_fields"]:
        for c in f.get("_children", []):
            by_id[c["id"]] = c
    seen_ids: set[str] = set()

    def place(items: list[Any]) -> list[dict[str, Any]]:
        spots, out = set(), []
        for p in items:
            # Swagger UpdateFieldPosition: required columnNumber, fieldName, rowNumber
            if not isinstance(p, dict) or not {"columnNumber", "rowNumber", "fieldName"} <= set(p):
                raise ApiError("1003", "Invalid value for 'positions': each has columnNumber, rowNumber, fieldName")
            row, col = p["rowNumber"], p["columnNumber"]
            # EL forms, Rearranging Field: up to three columns and ten rows, indexed from 0; unique positions
            if not (isinstance(row, int) and isinstance(col, int) and 0 <= row < MAX_ROWS and 0 <= col < MAX_COLUMNS):
                raise ApiError("1003", f"Invalid position row {row}, column {col} for '{p['fieldName']}': a form "
                                       f"has up to {MAX_COLUMNS} columns and {MAX_ROWS} rows")
            if (row, col) in spots:
                raise ApiError("1003", f"Two fields at row {row}, column {col}")
            spots.add((row, col))
            if p["fieldName"] not in by_id or p["fieldName"] in seen_ids:
                raise ApiError("1003", f"Invalid fieldName '{p['fieldName']}'")
            seen_ids.add(p["fieldName"])
            f = by_id[p["fieldName"]]
            if "fieldList" in p:
                if f["id"] != "Profiling":  # fieldList "Only valid if the target is a fieldset" (Swagger)
                    raise ApiError("1003", f"'{f['id']}' is not a fieldset")
                f["_children"] = place(p["fieldList"])
            out.append((row, col, f))
        return [f for _, _, f in sorted(out, key=lambda t: (t[0], t[1]))]

    new = place(positions)
    # EL forms, Progressive Profiling: "destructive updates, so all fields in the form must be included in each
    # request" (the Profiling fieldset keeps its fields when its position comes without a fieldList)
    required = set(by_id)
    prof = next((p for p in positions if p.get("fieldName") == "Profiling"), None)
    if prof is not None and "fieldList" not in prof:
        required -= {c["id"] for c in by_id["Profiling"].get("_children", [])}
    missing = sorted(required - seen_ids)
    if missing:
        raise ApiError("1003", f"positions must include every field of the form (missing: {', '.join(missing)})")
    rec["_fields"] = new
    _edited(rec)
    return {"result": [{"id": rec["id"]}]}


@route("POST", f"{A}/form/{{id}}/submitButton.json")
def _form_submit(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    # EL forms, Submit Button: buttonPosition, buttonStyle, label, waitingLabel; "This is a destructive update"
    # (guess: what is left out goes back to the default)
    rec["buttonLabel"] = q.get("label", "Submit")
    rec["waitingLabel"] = q.get("waitingLabel", "Please Wait")
    rec["buttonLocation"] = int(q.get("buttonPosition", 120))
    rec["_buttonStyle"] = q.get("buttonStyle")
    _edited(rec)
    return {"result": [_public(rec)]}


@route("GET", f"{A}/form/{{id}}/thankYouPage.json")
def _form_thanks(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    return {"result": [{"id": rec["id"], "thankYouList": rec["thankYouList"]}]}


@route("POST", f"{A}/form/{{id}}/thankYouPage.json")
def _form_set_thanks(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    rules = _json(q, "thankyou")
    if not isinstance(rules, list) or not rules:
        raise ApiError("1003", "Invalid value for 'thankyou': a JSON array of follow-up rules")
    for r in rules:
        # Swagger ThankYouPageRequest: required followupType, followupValue, operator, subjectField, values
        if not isinstance(r, dict) or not {"followupType", "followupValue", "operator", "subjectField",
                                           "values"} <= set(r):
            raise ApiError("1003", "Invalid value for 'thankyou': each rule has followupType, followupValue, "
                                   "operator, subjectField and values")
        # EL forms, Followup: "followupType may be either lp or url, where lp indicates a Marketo Landing Page id
        # for followupValue"
        if r["followupType"] not in ("lp", "url"):
            raise ApiError("1003", f"Invalid followupType '{r['followupType']}': lp or url")
        if r["followupType"] == "lp":
            try:
                page = int(r["followupValue"])
            except (TypeError, ValueError):
                raise ApiError("1003", "followupValue of an lp rule is a landing page id")
            if page not in _of(fk, "landingPage"):  # guess: the code for a page that does not exist
                raise ApiError("702", f"Landing page {page} not found")
    # EL forms, Followup: "default is a Boolean value for which only one record in the array may be true"
    if sum(1 for r in rules if r.get("default") is True) != 1:
        raise ApiError("1003", "Exactly one follow-up rule is the default")
    rec["thankYouList"] = [{"followupType": r["followupType"], "followupValue": r["followupValue"],
                            "default": bool(r.get("default")), "operator": r["operator"],
                            "subjectField": r["subjectField"], "values": r["values"]} for r in rules]
    _edited(rec)
    return {"result": [{"id": rec["id"], "thankYouList": rec["thankYouList"]}]}


@route("POST", f"{A}/form/{{id}}/approveDraft.json")
def _form_approve(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    # EL forms, Approval: "Approving a form takes the current draft version and replacing the approved version"
    rec["status"], rec["updatedAt"] = "approved", _now()
    return {"result": [_public(rec)]}


@route("POST", f"{A}/form/{{id}}/delete.json")
def _form_delete(fk, pp, q, files):
    rec = _form(fk, pp["id"])
    # EL forms, Dependencies: forms are used by landing pages (form/{id}/usedBy.json); guess: a form a landing
    # page holds cannot be deleted, as the Marketo UI refuses to delete an asset in use
    users = [p["name"] for p in _of(fk, "landingPage").values()
             if any(sec.get("type") == "Form" and str(sec.get("value")) == str(rec["id"])
                    for sec in (p.get("_sections") or {}).values())]
    if users:
        raise ApiError("709", f"Form is used by landing page(s) {', '.join(sorted(users))}")
    del fk.assets["form"][rec["id"]]
    return {"result": [{"id": rec["id"]}]}


# -- static lists ------------------------------------------------------------------------------------------
#: static list answers keep a folder as {"id", "type"}: EL static-lists shows "folder": {"id": 13, "type":
#: "Folder"} in every answer, not the {"type", "value", "folderName"} of other assets
fm.ID_FOLDER_ANSWERS.update({"/rest/asset/v1/staticLists.json", "/rest/asset/v1/staticList/{id}.json",
                             "/rest/asset/v1/staticList/byName.json"})


def _list_out(rec: dict[str, Any]) -> dict[str, Any]:
    # EL static-lists, Query: id, name, createdAt, updatedAt, folder, computedUrl; description only once one is
    # set (the guide's answers to a create without one have none)
    out = {k: v for k, v in rec.items() if not k.startswith("_") and (k != "description" or v)}
    out["folder"] = dict(rec["folder"])
    return out


def _static_list(fk: Any, raw_id: Any) -> dict[str, Any]:
    rec = _of(fk, "staticList").get(int(raw_id))
    if rec is None:
        raise ApiError("702", f"Static list {raw_id} not found")
    return rec


def _name_free(fk: Any, name: str, but: int | None = None) -> None:
    # EL static-lists, Create and Update: "The name must be unique" (and so on update); guess: across the
    # instance, as lists are named in smart lists by name alone
    if any(a["name"].casefold() == name.casefold() and a["id"] != but for a in _of(fk, "staticList").values()):
        raise ApiError("709", f"Static list name '{name}' is already in use")


@route("GET", f"{A}/staticLists.json")
def _list_browse(fk, pp, q, files):
    items = sorted(_of(fk, "staticList").values(), key=lambda a: a["id"])
    if "folder" in q:
        ref = fk.folder_ref(q["folder"])
        items = [a for a in items if fk.under(a["folder"], ref)]
    # EL static-lists, Browse: earliestUpdatedAt / latestUpdatedAt bound updatedAt (ISO-8601)
    lo, hi = q.get("earliestUpdatedAt"), q.get("latestUpdatedAt")
    items = [a for a in items if (not lo or a["updatedAt"][:19] >= lo[:19]) and (not hi or a["updatedAt"][:19] <= hi[:19])]
    return _page([_list_out(a) for a in items], q)


@route("POST", f"{A}/staticLists.json")
def _list_create(fk, pp, q, files):
    # Swagger CreateStaticListRequest: required name, folder
    if not q.get("name"):
        raise ApiError("701", "name cannot be blank")
    folder = fk.folder_ref(q.get("folder"))
    _name_free(fk, q["name"])
    lid = fk.new_id("staticList")
    rec = {"id": lid, "name": q["name"], "description": q.get("description", ""), "createdAt": _now(),
           "updatedAt": _now(), "folder": folder, "computedUrl": f"https://app-fake.marketo.com/#ST{lid}A1",
           "_path": f"{fk.path_of(folder)}/{q['name']}", "_members": 0}
    fk.assets["staticList"][lid] = rec
    return {"result": [_list_out(rec)]}


@route("GET", f"{A}/staticList/{{id}}.json")
def _list_get(fk, pp, q, files):
    return {"result": [_list_out(_static_list(fk, pp["id"]))]}


@route("GET", f"{A}/staticList/byName.json")
def _list_by_name(fk, pp, q, files):
    # EL static-lists, By Name: "an exact match against static-list names"
    hit = next((a for a in _of(fk, "staticList").values() if a["name"] == q["name"]), None)
    if hit is None:
        return {"warnings": [fm.NO_ASSETS]}
    return {"result": [_list_out(hit)]}


@route("POST", f"{A}/staticList/{{id}}.json")
def _list_update(fk, pp, q, files):
    rec = _static_list(fk, pp["id"])
    if "name" in q:
        _name_free(fk, q["name"], rec["id"])
        rec["name"] = q["name"]
    if "description" in q:
        rec["description"] = q["description"]
    rec["updatedAt"] = _now()
    return {"result": [_list_out(rec)]}


def list_users(fk: Any, name: str) -> list[str]:
    """Campaigns whose smart list names the list (values of a "Member of List" filter and the like)."""
    users = []
    for camp in _of(fk, "smartCampaign").values():
        rules = camp.get("_rules") or {}
        for rule in (rules.get("triggers") or []) + (rules.get("filters") or []):
            if any(name in (c.get("values") or []) for c in rule.get("conditions") or []):
                users.append(camp["name"])
                break
    return users


@route("POST", f"{A}/staticList/{{id}}/delete.json")
def _list_delete(fk, pp, q, files):
    rec = _static_list(fk, pp["id"])
    # EL static-lists, Delete: "You cannot delete a list used by an import, export, or another asset"
    users = list_users(fk, rec["name"])
    if users:
        raise ApiError("709", f"Static list is used by {', '.join(sorted(users))}")
    del fk.assets["staticList"][rec["id"]]
    return {"result": [{"id": rec["id"]}]}
