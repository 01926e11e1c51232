"""The Marketo REST client against the stand-in server: auth, limits, retries, paging, errors."""

from __future__ import annotations

import threading

import pytest

from programkit.errors import BadInput
from programkit.workspaces.marketo.client import Limits, MarketoClient, MarketoError, RateLimiter

from marketo_support import CLIENT_ID, FAST, SECRET, FakeMarketo, client, fake, marketo_env  # noqa: F401

PROGRAMS = "/rest/asset/v1/programs.json"


def make_programs(fake: FakeMarketo, n: int) -> None:
    for i in range(n):
        pid = fake.new_id("program")
        fake.programs[pid] = {"id": pid, "name": f"P{i:04d}", "type": "Default", "channel": "Operational",
                              "folder": {"id": 1, "type": "Folder"}, "tags": [], "costs": [],
                              "_path": f"/Marketing Activities/P{i:04d}"}


def test_token_fetched_once_and_refreshed_when_it_expires_mid_run(fake, client):
    assert client.get("/rest/asset/v1/tagTypes.json")
    fake.add_fault({"expireTokens": True})
    assert [c["name"] for c in client.get("/rest/asset/v1/channels.json")][0] == "Operational"
    assert fake.stats["identity"] == 2
    assert fake.stats["codes"]["602"] == 1
    assert client.retried["token"] == 1


def test_credentials_only_from_environment(marketo_env, fake):
    c = MarketoClient.from_env(fake.url, FAST)
    assert c.get("/rest/asset/v1/tagTypes.json")
    with pytest.raises(BadInput) as info:
        MarketoClient.from_env(fake.url, FAST, env={"MARKETO_CLIENT_ID": "x"})
    assert info.value.exit_code == 2
    assert [f.code for f in info.value.findings] == ["PK801"]
    assert "MARKETO_CLIENT_SECRET is not set" in info.value.message


def test_refused_credentials_are_a_clear_error_without_the_secret(fake):
    c = MarketoClient(fake.url, CLIENT_ID, SECRET + "-wrong", FAST)
    with pytest.raises(MarketoError) as info:
        c.get("/rest/asset/v1/tagTypes.json")
    assert info.value.findings[0].code == "PK802"
    assert "Bad client credentials" in info.value.message
    assert SECRET not in repr(info.value) + str(info.value.findings) + repr(c)


def test_paging_browses_200_at_a_time(fake, client):
    make_programs(fake, 450)
    names = [p["name"] for p in client.browse(PROGRAMS)]
    assert names == [f"P{i:04d}" for i in range(450)]
    assert fake.stats["paths"][f"GET {PROGRAMS}"] == 3  # 200 + 200 + 50


def test_606_and_615_storms_are_absorbed(fake, client):
    make_programs(fake, 5)
    fake.add_fault({"code": "606", "times": 5})
    fake.add_fault({"code": "615", "times": 3})
    assert len(list(client.browse(PROGRAMS))) == 5
    assert client.retried["606"] == 5 and client.retried["615"] == 3


def test_timeouts_unavailability_and_5xx_are_retried(fake, client):
    fake.add_fault({"code": "604", "times": 1})
    fake.add_fault({"code": "608", "times": 1})
    assert client.get("/rest/asset/v1/tagTypes.json")
    fake.add_fault({"http": 503, "call": fake.stats["calls"] + 1})
    assert client.get("/rest/asset/v1/tagTypes.json")
    assert (client.retried["604"], client.retried["608"], client.retried["http5xx"]) == (1, 1, 1)


def test_retries_are_bounded(fake):
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, Limits(calls=50, window=1.0, retries=2, backoff=0.01))
    fake.add_fault({"code": "615", "times": 50})
    with pytest.raises(MarketoError) as info:
        c.get("/rest/asset/v1/tagTypes.json")
    assert info.value.findings[0].code == "PK804"
    assert "Marketo 615 on GET /rest/asset/v1/tagTypes.json: still failing after 2 retries" == info.value.message
    assert c.calls == 3


def test_business_rule_error_carries_marketos_code_and_message(fake, client):
    fake.add_fault({"code": "709", "name": "Blocked", "message": "Asset name is reserved"})
    with pytest.raises(MarketoError) as info:
        client.post("/rest/asset/v1/emailTemplates.json", {"name": "Blocked", "folder": {"id": 3, "type": "Folder"}},
                    files={"content": ("t.html", b"<html></html>", "text/html")})
    assert info.value.marketo_code == "709"
    assert info.value.findings[0].code == "PK803"
    assert info.value.message == ("Marketo 709 on POST /rest/asset/v1/emailTemplates.json: "
                                  "Asset name is reserved")
    assert client.retried == {}  # a business rule is not retried


def test_pacing_keeps_within_the_rate_limit_so_marketo_never_answers_606(fake, client):
    for _ in range(120):  # more than two windows' worth at 50 calls / 1 s
        client.get("/rest/asset/v1/tagTypes.json")
    assert fake.stats["accepted"] == 120
    assert "606" not in fake.stats["codes"]
    assert fake.stats["maxInWindow"] <= 50


def test_concurrency_is_capped_client_side(fake):
    fake.latency = 0.05
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, Limits(calls=500, window=1.0, concurrent=4, backoff=0.01))
    errors = []

    def work():
        try:
            for _ in range(3):
                c.get("/rest/asset/v1/tagTypes.json")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert fake.stats["accepted"] == 36
    assert 1 < fake.stats["maxActive"] <= 4
    assert "615" not in fake.stats["codes"]


def test_rate_limiter_spreads_calls_over_the_window():
    now = [0.0]
    starts = []

    def sleep(s):
        now[0] += s

    rl = RateLimiter(10, 2.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(25):
        rl.acquire()
        starts.append(now[0])
    gaps = [round(b - a, 6) for a, b in zip(starts, starts[1:])]
    assert set(gaps) == {0.2, 0.24}  # evenly spaced, never a burst; 0.04 s margin once per window
    assert gaps.count(0.24) == 2
    assert all(sum(1 for s in starts if t <= s < t + 2.0) <= 10 for t in starts)


def test_limits_from_environment():
    assert Limits.from_env({}) == Limits()
    got = Limits.from_env({"PROGRAMKIT_MARKETO_RATE": "50/10", "PROGRAMKIT_MARKETO_CONCURRENCY": "4"})
    assert (got.calls, got.window, got.concurrent) == (50, 10.0, 4)
    with pytest.raises(BadInput) as info:
        Limits.from_env({"PROGRAMKIT_MARKETO_RATE": "fast"})
    assert "is not CALLS/SECONDS" in info.value.message


def test_stand_in_serves_exactly_the_contract_it_was_derived_from():
    import json
    from pathlib import Path

    from fake_marketo import ROUTES

    data = json.loads((Path(__file__).parent / "data" / "marketo_endpoints.json").read_text())
    contract = {(e["method"], e["path"]) for e in data["endpoints"]} - {("GET", "/identity/oauth/token")}
    assert set(ROUTES) == contract


def test_undocumented_parameters_are_refused_by_the_stand_in(fake, client):
    with pytest.raises(MarketoError) as info:
        client.get(PROGRAMS, maxReturn=10, folderName="x")
    assert info.value.marketo_code == "1003"
    assert "folderName not in Adobe's contract" in info.value.message


def test_token_renewed_before_it_expires(fake):
    fake.token_ttl = 2.0  # the client renews within min(60 s, window) of expiry: here 1 s before
    now = [0.0]
    c = MarketoClient(fake.url, CLIENT_ID, SECRET, FAST, clock=lambda: now[0],
                      sleep=lambda s: now.__setitem__(0, now[0] + s))
    c.get("/rest/asset/v1/tagTypes.json")
    now[0] += 1.5
    c.get("/rest/asset/v1/tagTypes.json")
    assert fake.stats["identity"] == 2 and "602" not in fake.stats["codes"]


def test_credentials_never_travel_over_plain_http_to_another_host():
    with pytest.raises(BadInput) as info:
        MarketoClient("http://123-abc-456.mktorest.com", CLIENT_ID, SECRET)
    assert "reached over https" in info.value.message
    MarketoClient("https://123-abc-456.mktorest.com", CLIENT_ID, SECRET)  # no call is made here
