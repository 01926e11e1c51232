"""form: a form of the program — fields in order (each a person field), hidden fields and their source,
visibility rules, progressive profiling, button text, thank-you behaviour, theme and custom CSS.

References: every field names a person field (standard or ``requires.fields``: PK210, and the plan's
preflight checks the target has it); a thank-you landing page is a page of this bundle (PK220). Campaigns
name forms in "Fills Out Form" triggers and "Filled Out Form" filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from ..findings import Finding, Severity, make, register_code
from ..jsontypes import as_list
from .base import Kind, Ref
from .smart_campaign import SMART_LIST_REFS

if TYPE_CHECKING:
    from ..model import Bundle

G = "pages and forms"
register_code("PK220", "thank-you-page-outside", Severity.ERROR,
              "A form's thank-you landing page is not a landing page of the bundle.",
              hint="Add the landing page to the bundle, or send people to a URL (thankYou.type 'url') instead.",
              example="forms/registration.json /thankYou/page: 'Thanks' is not a landingPage in this bundle", group=G)
register_code("PK221", "form-duplicate-field", Severity.ERROR, "A form lists the same person field twice.",
              hint="A field appears once in a form; remove the second one.",
              example="forms/registration.json /fields/3/field: 'Email' is already the form's field /fields/0", group=G)
register_code("PK222", "form-values-missing", Severity.ERROR,
              "A select, checkboxes or radio buttons form field has no pick-list values.",
              hint="List the choices under values ({\"label\": …, \"value\": …}).",
              example="forms/registration.json /fields/4/type: 'Industry' is a select without values", group=G)
register_code("PK223", "form-unknown-rule-field", Severity.ERROR,
              "A form's visibility rule or progressive profiling names a field that is not a field of the form.",
              hint="Name a field listed in the form's fields (its 'field' value).",
              example="forms/registration.json /fields/5/visibility/rules/0/field: 'Country' is not a field of this form",
              group=G)

PICK_LIST = ("select", "checkboxes", "radioButtons")

# campaigns name forms: "Fills Out Form" (trigger, its Form constraint) and "Filled Out Form" (filter)
SMART_LIST_REFS.update({"fills out form": ("form", "form", "PK537", "form"),
                        "filled out form": ("form", "form", "PK537", "form")})


def references(doc: Any) -> Iterator[Ref]:
    thanks = doc.get("thankYou") if isinstance(doc, dict) else None
    if isinstance(thanks, dict) and thanks.get("type") == "landingPage" and isinstance(thanks.get("page"), str):
        yield Ref("/thankYou/page", "landingPage", thanks["page"], code="PK220", label="thank-you page")


def fields(doc: Any) -> Iterator[tuple[str, str]]:
    for i, f in enumerate(as_list(doc.get("fields")) if isinstance(doc, dict) else []):
        if isinstance(f, dict) and isinstance(f.get("field"), str):
            yield f"/fields/{i}/field", f["field"]


def form_checks(bundle: "Bundle") -> Iterator[Finding]:
    for a in bundle.assets_of("form"):
        doc = a.content
        if not isinstance(doc, dict):
            continue
        seen: dict[str, int] = {}
        for i, f in enumerate(as_list(doc.get("fields"))):
            if not isinstance(f, dict) or not isinstance(f.get("field"), str):
                continue
            key = f["field"].strip().casefold()
            if key in seen:
                p = f"/fields/{i}/field"
                yield make("PK221", f"{p}: {f['field']!r} is already the form's field /fields/{seen[key]}",
                           file=a.path, pointer=p)
            else:
                seen[key] = i
            if f.get("type") in PICK_LIST and not f.get("values"):
                yield make("PK222", f"/fields/{i}/type: {f['field']!r} is a {f['type']} without values",
                           file=a.path, pointer=f"/fields/{i}/type")
        for i, f in enumerate(as_list(doc.get("fields"))):
            vis = f.get("visibility") if isinstance(f, dict) else None
            for j, rule in enumerate(as_list(vis.get("rules")) if isinstance(vis, dict) else []):
                if isinstance(rule, dict) and isinstance(rule.get("field"), str) and \
                        rule["field"].strip().casefold() not in seen:
                    p = f"/fields/{i}/visibility/rules/{j}/field"
                    yield make("PK223", f"{p}: {rule['field']!r} is not a field of this form", file=a.path, pointer=p)
        prof = doc.get("progressiveProfiling")
        for j, name in enumerate(as_list(prof.get("fields")) if isinstance(prof, dict) else []):
            if isinstance(name, str) and name.strip().casefold() not in seen:
                p = f"/progressiveProfiling/fields/{j}"
                yield make("PK223", f"{p}: {name!r} is not a field of this form", file=a.path, pointer=p)


# rank 15: before the landing pages that embed it (a target needs the form's id to place it on a page)
KIND = Kind(name="form", label="forms", format="json", scope="program", directory="forms", schema="form",
            rank=15, batch=True, references=references, fields=fields, checks=(form_checks,))
