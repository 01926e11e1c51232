"""Derive tests/data/marketo_endpoints.json from Adobe's published Swagger files.

Source: https://github.com/AdobeDocs/marketo-apis (static/swagger-asset.json,
swagger-identity.json, swagger-mapi.json), read at commit 3d7e817. Only the
endpoints programkit's Marketo target and the stand-in server use are kept:
method, path, request content type and parameter names (query/path/form, and
the properties of a body parameter's schema), plus the few parameters Adobe's
developer guide documents and the Swagger omits (GUIDE_ONLY, each marked with
its source).

    python tests/data/derive_marketo_endpoints.py /path/to/marketo-apis/static > tests/data/marketo_endpoints.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

USED = {
    "identity": [("GET", "/identity/oauth/token")],
    "mapi": [("GET", "/rest/v1/leads/describe2.json"), ("GET", "/rest/v1/customobjects.json")],
    "asset": [
        ("GET", "/rest/asset/v1/folders.json"), ("POST", "/rest/asset/v1/folders.json"),
        ("POST", "/rest/asset/v1/folder/{id}/delete.json"),
        ("GET", "/rest/asset/v1/folder/{id}/tokens.json"), ("POST", "/rest/asset/v1/folder/{id}/tokens.json"),
        ("POST", "/rest/asset/v1/folder/{id}/tokens/delete.json"),
        ("GET", "/rest/asset/v1/programs.json"), ("POST", "/rest/asset/v1/programs.json"),
        ("GET", "/rest/asset/v1/program/byName.json"), ("POST", "/rest/asset/v1/program/{id}.json"),
        ("POST", "/rest/asset/v1/program/{id}/delete.json"),
        ("GET", "/rest/asset/v1/channels.json"),
        ("GET", "/rest/asset/v1/tagTypes.json"), ("GET", "/rest/asset/v1/tagType/byName.json"),
        ("GET", "/rest/asset/v1/emailTemplates.json"), ("POST", "/rest/asset/v1/emailTemplates.json"),
        ("GET", "/rest/asset/v1/emailTemplate/{id}/content"), ("POST", "/rest/asset/v1/emailTemplate/{id}/content.json"),
        ("POST", "/rest/asset/v1/emailTemplate/{id}/delete.json"),
        ("GET", "/rest/asset/v1/landingPageTemplates.json"), ("POST", "/rest/asset/v1/landingPageTemplates.json"),
        ("GET", "/rest/asset/v1/landingPageTemplate/{id}/content.json"),
        ("POST", "/rest/asset/v1/landingPageTemplate/{id}/content.json"),
        ("POST", "/rest/asset/v1/landingPageTemplate/{id}/delete.json"),
        ("GET", "/rest/asset/v1/files.json"), ("POST", "/rest/asset/v1/files.json"),
        ("POST", "/rest/asset/v1/file/{id}/content.json"),
        ("GET", "/rest/asset/v1/snippets.json"), ("POST", "/rest/asset/v1/snippets.json"),
        ("GET", "/rest/asset/v1/snippet/{id}/content.json"), ("POST", "/rest/asset/v1/snippet/{id}/content.json"),
        ("POST", "/rest/asset/v1/snippet/{id}/delete.json"),
        ("GET", "/rest/asset/v1/segmentation.json"), ("GET", "/rest/asset/v1/segmentation/{id}/segments.json"),
        ("GET", "/rest/asset/v1/emails.json"), ("POST", "/rest/asset/v1/emails.json"),
        ("POST", "/rest/asset/v1/email/{id}/content/{htmlId}.json"), ("POST", "/rest/asset/v1/email/{id}/variable/{name}.json"),
        ("GET", "/rest/asset/v1/email/{id}/content.json"), ("GET", "/rest/asset/v1/email/{id}/variables.json"),
        ("GET", "/rest/asset/v1/email/{id}/fullContent.json"),
        ("GET", "/rest/asset/v1/email/{id}/dynamicContent/{contentId}.json"),
        ("POST", "/rest/asset/v1/email/{id}/dynamicContent/{contentId}.json"),
        ("POST", "/rest/asset/v1/email/{id}/delete.json"),
        ("GET", "/rest/asset/v1/smartCampaigns.json"), ("POST", "/rest/asset/v1/smartCampaigns.json"),
        ("GET", "/rest/asset/v1/smartCampaign/{id}/smartList.json"),
        ("POST", "/rest/asset/v1/smartCampaign/{id}/delete.json"),
        # approval, activation, modules, single-record reads (issue #13: what the API can do)
        ("GET", "/rest/asset/v1/program/{id}.json"),
        ("POST", "/rest/asset/v1/emailTemplate/{id}/approveDraft.json"),
        ("POST", "/rest/asset/v1/email/{id}/approveDraft.json"),
        ("POST", "/rest/asset/v1/snippet/{id}/approveDraft.json"),
        ("POST", "/rest/asset/v1/landingPageTemplate/{id}/approveDraft.json"),
        ("GET", "/rest/asset/v1/smartCampaign/{id}.json"),
        ("POST", "/rest/asset/v1/smartCampaign/{id}/activate.json"),
        ("POST", "/rest/asset/v1/smartCampaign/{id}/deactivate.json"),
        ("POST", "/rest/asset/v1/smartCampaign/{id}/clone.json"),
        ("POST", "/rest/asset/v1/email/{id}/content/{moduleId}/add.json"),
        ("POST", "/rest/asset/v1/email/{id}/content/{moduleId}/delete.json"),
        ("POST", "/rest/asset/v1/email/{id}/content/rearrange.json"),
        ("GET", "/rest/asset/v1/email/{id}.json"), ("GET", "/rest/asset/v1/emailTemplate/{id}.json"),
        ("GET", "/rest/asset/v1/snippet/{id}.json"), ("GET", "/rest/asset/v1/landingPageTemplate/{id}.json"),
        # landing pages (issue #15; EL assets/landing-pages)
        ("GET", "/rest/asset/v1/landingPages.json"), ("POST", "/rest/asset/v1/landingPages.json"),
        ("GET", "/rest/asset/v1/landingPage/{id}.json"), ("POST", "/rest/asset/v1/landingPage/{id}.json"),
        ("GET", "/rest/asset/v1/landingPage/{id}/content.json"), ("POST", "/rest/asset/v1/landingPage/{id}/content.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/content/{contentId}.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/content/{contentId}/delete.json"),
        ("GET", "/rest/asset/v1/landingPage/{id}/variables.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/variable/{variableId}.json"),
        ("GET", "/rest/asset/v1/landingPage/{id}/dynamicContent/{contentId}.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/dynamicContent/{contentId}.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/approveDraft.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/unapprove.json"),
        ("POST", "/rest/asset/v1/landingPage/{id}/delete.json"),
        # reusable smart lists (issue #15; EL assets/smart-lists: query, clone and delete -- no create)
        ("GET", "/rest/asset/v1/smartLists.json"), ("GET", "/rest/asset/v1/smartList/{id}.json"),
        ("GET", "/rest/asset/v1/smartList/byName.json"),
        ("POST", "/rest/asset/v1/smartList/{id}/clone.json"), ("POST", "/rest/asset/v1/smartList/{id}/delete.json"),
    ],
}

#: parameters Adobe's developer guide documents and the Swagger omits: (method, path) -> (parameter, where, why).
#: The guide's Dynamic Content page (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/
#: dynamic-content) updates one segment of an email's dynamic section with ``segment=Southwest&type=HTML&value=…``,
#: but UpdateEmailDynamicContentRequest has no ``segment`` property: without it the call could not say which segment.
GUIDE_ONLY = {
    ("POST", "/rest/asset/v1/email/{id}/dynamicContent/{contentId}.json"): [
        {"name": "segment", "in": "body", "source": "developer guide, Dynamic Content (not in the Swagger)"}],
}


# forms and static lists (issue #15; EL assets/forms, assets/static-lists). Kept apart from USED's literal so
# the kinds' additions do not touch the same lines.
USED["asset"] += [
    ("GET", "/rest/asset/v1/forms.json"), ("POST", "/rest/asset/v1/forms.json"),
    ("GET", "/rest/asset/v1/form/{id}.json"), ("POST", "/rest/asset/v1/form/{id}.json"),
    ("GET", "/rest/asset/v1/form/byName.json"),
    ("GET", "/rest/asset/v1/form/fields.json"),
    ("GET", "/rest/asset/v1/form/{id}/fields.json"), ("POST", "/rest/asset/v1/form/{id}/fields.json"),
    ("POST", "/rest/asset/v1/form/{id}/field/{fieldId}.json"),
    ("POST", "/rest/asset/v1/form/{id}/field/{fieldId}/delete.json"),
    ("POST", "/rest/asset/v1/form/{formId}/field/{fieldId}/visibility.json"),
    ("POST", "/rest/asset/v1/form/{id}/reArrange.json"),
    ("POST", "/rest/asset/v1/form/{id}/submitButton.json"),
    ("GET", "/rest/asset/v1/form/{id}/thankYouPage.json"), ("POST", "/rest/asset/v1/form/{id}/thankYouPage.json"),
    ("POST", "/rest/asset/v1/form/{id}/approveDraft.json"),
    ("POST", "/rest/asset/v1/form/{id}/delete.json"),
    ("GET", "/rest/asset/v1/staticLists.json"), ("POST", "/rest/asset/v1/staticLists.json"),
    ("GET", "/rest/asset/v1/staticList/{id}.json"), ("POST", "/rest/asset/v1/staticList/{id}.json"),
    ("GET", "/rest/asset/v1/staticList/byName.json"),
    ("POST", "/rest/asset/v1/staticList/{id}/delete.json"),
]

def main(static: Path) -> None:
    out = []
    for api, used in USED.items():
        doc = json.loads((static / f"swagger-{api}.json").read_text(encoding="utf-8"))
        defs = doc.get("definitions", {})
        for method, path in used:
            op = doc["paths"][path][method.lower()]
            params = []
            for p in op.get("parameters", []):
                if p["in"] == "body":
                    ref = p.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                    params += ([{"name": n, "in": "body"} for n in defs.get(ref, {}).get("properties", {})] if ref
                               else [{"name": p["name"], "in": "body"}])  # a plain body value (e.g. positions)
                else:
                    params.append({"name": p["name"], "in": p["in"], "required": bool(p.get("required"))})
            params += GUIDE_ONLY.get((method, path), [])
            out.append({"method": method, "path": path, "consumes": (op.get("consumes") or [None])[0],
                        "params": params})
    json.dump({"source": "AdobeDocs/marketo-apis@3d7e817 static/swagger-*.json", "endpoints": out},
              sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
