"""Rollback of Marketo imports that changed or deleted things, unknown journals, local history per host,
the stand-in's fault specs, and export of an empty program (review of issue #8)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from marketo_support import CLIENT_ID, SECRET, client, cli_env, fake, marketo_env  # noqa: F401

from programkit.workspaces.marketo_client import MarketoClient

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "op-lead-management"


def _post_faults(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url + "/_fake/faults", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


# -- the stand-in's faults ---------------------------------------------------------------------------------


def test_an_http_status_fault_for_the_next_calls_is_served_not_a_crash(fake, client):
    status, body = _post_faults(fake.url, json.dumps({"http": 503, "times": 3}).encode())
    assert (status, body) == (200, {"ok": True, "faults": 1})
    # the client retries HTTP 5xx: three 503s, then the answer
    assert list(client.browse("/rest/asset/v1/programs.json")) == []
    assert fake.snapshot()["http"] == {"503": 3}
    assert fake.faults == []


@pytest.mark.parametrize("spec, message", [
    ({"http": 503}, "say when the fault strikes: times, call, path or name"),
    ({"code": "606", "http": 503, "times": 1}, "a fault has exactly one of code, http, expireTokens (got code, http)"),
    ({"times": 2}, "a fault has exactly one of code, http, expireTokens"),
    ({"code": "606", "times": 0}, "times must be a whole number of at least 1, not 0"),
    ({"code": "606", "times": 2, "call": 4}, "a fault strikes on one of times, call, path, name (got times, call)"),
    ({"http": 200, "call": 3}, "http must be an HTTP error status 400-599, not 200"),
    ({"code": "busy", "times": 1}, 'code must be a Marketo error code such as "606", not \'busy\''),
    ({"code": "610", "path": "GET /rest/asset/v1/nope.json"},
     "path 'GET /rest/asset/v1/nope.json' is not an endpoint the stand-in serves"),
    ({"http": 503, "name": "X"}, "name (a string) goes with a code"),
    ({"code": "606", "times": 1, "after": True}, "after (true or false) goes with http"),
    ({"code": "606", "tims": 1}, "unknown key(s) tims"),
    (["x"], "a fault is a JSON object, not str"),
])
def test_a_fault_spec_that_makes_no_sense_is_refused_with_400_and_adds_nothing(fake, spec, message):
    status, body = _post_faults(fake.url, json.dumps(spec).encode())
    assert status == 400
    assert body["error"].startswith("bad fault spec: " + message)
    assert fake.faults == []


def test_a_fault_list_with_one_bad_spec_adds_none_and_a_body_that_is_not_json_is_refused(fake):
    status, body = _post_faults(fake.url, json.dumps([{"code": "606", "times": 1}, {"http": 503}]).encode())
    assert status == 400 and "say when the fault strikes" in body["error"]
    assert fake.faults == []
    status, body = _post_faults(fake.url, b"{not json")
    assert status == 400 and body["error"].startswith("bad fault spec: ")


# -- export of a program with no assets ----------------------------------------------------------------------


def test_exporting_a_program_with_no_assets_says_so(fake, cli_env, invoke, tmp_path):
    import shutil

    from programkit.canonical import refresh_digests

    bundle = tmp_path / "empty"
    shutil.copytree(SAMPLE, bundle)
    data = json.loads((bundle / "bundle.json").read_text())
    data["assets"], data["program"]["folders"] = [], []
    data.pop("requires", None)
    (bundle / "bundle.json").write_text(json.dumps(data, indent=2))
    refresh_digests(bundle)
    imported = invoke("import", str(bundle), "--target", fake.url, "--yes")
    assert imported.exit_code == 0, imported.output
    out = invoke("export", "OP-Lead Management", "--target", fake.url, "--out", str(tmp_path / "out"))
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert first.startswith(f"Exported 'OP-Lead Management' to {tmp_path / 'out'}: op-lead-management 1.0.0")
    assert first.endswith(" (no assets)")
