"""The parts of the distribution protocol the local registry (distribution 2.8) does not have: the referrers API
(distribution spec 1.1) and bearer-token auth, against an in-memory stub of the documented API shapes; plus
references and where credentials come from."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SAMPLE  # noqa: E402
from registry_support import clean_registry_env  # noqa: E402,F401

from programkit import registry as reg  # noqa: E402
from programkit import signing  # noqa: E402
from programkit.errors import ProgramkitError  # noqa: E402
from programkit.oci import Credentials, Reference, parse_challenge, parse_reference  # noqa: E402
from programkit.oci_auth import resolve_credentials  # noqa: E402

INDEX = "application/vnd.oci.image.index.v1+json"
TOKEN_URL = "https://auth.example.test/token"


class StubRegistry:
    """An in-memory registry answering as the distribution spec documents (v1.1 with ``referrers=True``)."""

    def __init__(self, *, referrers: bool = True, bearer: tuple[str, str] | None = None,
                 redirect_blobs: bool = False):
        self.referrers_api = referrers
        self.bearer = bearer
        self.redirect_blobs = redirect_blobs
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.tags: dict[str, str] = {}
        self.log: list[httpx.Request] = []
        self.uploads = 0
        self.ignore_filter = False

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.log.append(request)
        url = request.url
        if str(url).startswith(TOKEN_URL):
            return self._token(request)
        if url.host == "storage.example.test":
            return httpx.Response(200, content=self.blobs[url.path.rsplit("/", 1)[1]])
        if self.bearer and request.headers.get("authorization") != "Bearer tok-123":
            return httpx.Response(401, headers={"WWW-Authenticate": f'Bearer realm="{TOKEN_URL}",service="stub"'},
                                  json={"errors": [{"code": "UNAUTHORIZED"}]})
        m = re.match(r"^/v2/(?P<repo>.+?)/(?P<kind>blobs/uploads|blobs|manifests|tags/list|referrers)(?:/(?P<ref>.*))?$",
                     url.path)
        assert m, url
        kind, ref = m.group("kind"), m.group("ref")
        if kind == "blobs/uploads":
            if request.method == "POST":
                self.uploads += 1
                return httpx.Response(202, headers={"Location": f"/v2/{m.group('repo')}/blobs/uploads/u{self.uploads}"})
            data = request.read()
            digest = url.params["digest"]
            assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
            self.blobs[digest] = data
            return httpx.Response(201, headers={"Docker-Content-Digest": digest})
        if kind == "blobs":
            if ref not in self.blobs:
                return httpx.Response(404, json={"errors": [{"code": "BLOB_UNKNOWN"}]})
            if self.redirect_blobs and request.method == "GET":
                return httpx.Response(307, headers={"Location": f"https://storage.example.test/b/{ref}"})
            return httpx.Response(200, content=b"" if request.method == "HEAD" else self.blobs[ref])
        if kind == "manifests":
            return self._manifest(request, ref)
        if kind == "tags/list":
            return httpx.Response(200, json={"name": m.group("repo"), "tags": sorted(self.tags)})
        if not self.referrers_api:
            return httpx.Response(404, json={"errors": [{"code": "NOT_FOUND"}]})
        wanted = None if self.ignore_filter else url.params.get("artifactType")
        found = []
        for digest, (data, media_type) in sorted(self.manifests.items()):
            doc = json.loads(data)
            if (doc.get("subject") or {}).get("digest") == ref and (not wanted or doc.get("artifactType") == wanted):
                found.append({"mediaType": media_type, "digest": digest, "size": len(data),
                              "artifactType": doc.get("artifactType"), "annotations": doc.get("annotations", {})})
        headers = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
        return httpx.Response(200, headers=headers, json={"schemaVersion": 2, "mediaType": INDEX, "manifests": found})

    def _manifest(self, request: httpx.Request, ref: str) -> httpx.Response:
        if request.method == "PUT":
            data = request.read()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            self.manifests[digest] = (data, request.headers["content-type"])
            if not ref.startswith("sha256:"):
                self.tags[ref] = digest
            headers = {"Docker-Content-Digest": digest}
            subject = json.loads(data).get("subject")
            if subject and self.referrers_api:
                headers["OCI-Subject"] = subject["digest"]
            return httpx.Response(201, headers=headers)
        digest = ref if ref.startswith("sha256:") else self.tags.get(ref)
        if digest not in self.manifests:
            return httpx.Response(404, json={"errors": [{"code": "MANIFEST_UNKNOWN"}]})
        data, media_type = self.manifests[digest]
        return httpx.Response(200, content=data, headers={"Content-Type": media_type, "Docker-Content-Digest": digest})

    def _token(self, request: httpx.Request) -> httpx.Response:
        assert self.bearer is not None
        expected = "Basic " + base64.b64encode(f"{self.bearer[0]}:{self.bearer[1]}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
        assert request.url.params["service"] == "stub"
        assert request.url.params["scope"].startswith("repository:acme/olm:")
        return httpx.Response(200, json={"token": "tok-123"})


REF = "oci://registry.example.test/acme/olm"


def options(stub: StubRegistry, **kw) -> reg.RegistryOptions:
    return reg.RegistryOptions(transport=stub.transport(), **kw)


def keys(tmp_path: Path) -> tuple[Path, Path]:
    pair = signing.keygen(tmp_path / "k")
    return Path(pair.private), Path(pair.public)


def test_signatures_go_through_the_referrers_api_when_the_registry_has_it(tmp_path):
    stub = StubRegistry(referrers=True)
    opts = options(stub)
    pushed = reg.push(SAMPLE, REF, opts)
    private, public = keys(tmp_path)
    result = signing.sign(REF + ":1.0.0", private, opts)
    assert result.stored_as == "referrers API"
    assert list(stub.tags) == ["1.0.0"]  # no sha256-<hex> fallback tag
    stub.log.clear()
    checked = signing.verify(REF + ":1.0.0", [public], opts)
    assert checked.ok and checked.digest == pushed.digest
    asked = [r for r in stub.log if "/referrers/" in r.url.path]
    assert [r.url.path for r in asked] == [f"/v2/acme/olm/referrers/{pushed.digest}"]
    assert asked[0].url.params["artifactType"] == signing.SIGNATURE_ARTIFACT_TYPE
    assert not any(r.url.path.endswith(signing.fallback_tag(pushed.digest)) for r in stub.log)


def test_without_the_referrers_api_signatures_use_the_tag_schema(tmp_path):
    stub = StubRegistry(referrers=False)
    opts = options(stub)
    pushed = reg.push(SAMPLE, REF, opts)
    private, public = keys(tmp_path)
    result = signing.sign(REF + ":1.0.0", private, opts)
    tag = signing.fallback_tag(pushed.digest)
    assert result.stored_as == f"tag {tag}" and tag in stub.tags
    index = json.loads(stub.manifests[stub.tags[tag]][0])
    assert index["mediaType"] == INDEX
    assert [m["artifactType"] for m in index["manifests"]] == [signing.SIGNATURE_ARTIFACT_TYPE]
    assert signing.verify(REF + ":1.0.0", [public], opts).ok
    assert reg.list_tags(REF, opts).versions == ["1.0.0"] and reg.list_tags(REF, opts).others == []


def test_the_referrers_api_list_is_filtered_even_if_the_registry_does_not(tmp_path):
    stub = StubRegistry(referrers=True)
    opts = options(stub)
    pushed = reg.push(SAMPLE, REF, opts)
    client = opts.client(parse_reference(REF))
    other = json.dumps({"schemaVersion": 2, "artifactType": "application/vnd.example.sbom",
                        "subject": {"digest": pushed.digest}}).encode()
    client.put_manifest("sha256:" + hashlib.sha256(other).hexdigest(), other, "application/vnd.oci.image.manifest.v1+json")
    stub.ignore_filter = True  # a registry may ignore the filter (and then omits OCI-Filters-Applied)
    found = client.referrers(pushed.digest, signing.SIGNATURE_ARTIFACT_TYPE)
    assert found == []
    everything = client.referrers(pushed.digest)
    assert [d.artifact_type for d in everything] == ["application/vnd.example.sbom"]


def test_bearer_token_auth_gets_a_token_from_the_realm_with_the_credentials(tmp_path):
    stub = StubRegistry(bearer=("bob", "tok-secret"))
    pushed = reg.push(SAMPLE, REF, options(stub, username="bob", password="tok-secret"))
    assert pushed.tag == "1.0.0"
    token_calls = [r for r in stub.log if str(r.url).startswith(TOKEN_URL)]
    assert token_calls and all("tok-123" not in str(r.url) for r in token_calls)
    registry_calls = [r for r in stub.log if r.url.host == "registry.example.test"]
    assert any(r.headers.get("authorization") == "Bearer tok-123" for r in registry_calls)
    with pytest.raises(ProgramkitError) as refused:
        reg.list_tags(REF, options(stub, username="bob", password="wrong"))
    assert refused.value.findings[0].code == "PK922" and "wrong" not in refused.value.message
    with pytest.raises(ProgramkitError) as anonymous:
        reg.list_tags(REF, options(stub))
    assert "needs credentials and none were found" in anonymous.value.message


def test_a_blob_redirect_to_storage_elsewhere_does_not_carry_the_credentials(tmp_path):
    stub = StubRegistry(bearer=("bob", "pw"), redirect_blobs=True)
    opts = options(stub, username="bob", password="pw")
    reg.push(SAMPLE, REF, opts)
    result = reg.pull(REF + ":1.0.0", tmp_path / "b.zip", opts)
    assert result.kind == "archive"
    storage = [r for r in stub.log if r.url.host == "storage.example.test"]
    assert storage and all("authorization" not in r.headers for r in storage)


def test_a_manifest_whose_bytes_differ_from_the_digest_asked_for_is_refused(tmp_path):
    stub = StubRegistry()
    pushed = reg.push(SAMPLE, REF, options(stub))
    data, media_type = stub.manifests[pushed.digest]
    stub.manifests[pushed.digest] = (data.replace(b'"1.0.0"', b'"6.6.6"'), media_type)
    with pytest.raises(ProgramkitError) as err:
        reg.pull(f"{REF}@{pushed.digest}", tmp_path / "b.zip", options(stub))
    assert err.value.findings[0].code == "PK924"
    assert not (tmp_path / "b.zip").exists()


# --- references -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("oci://localhost:5000/acme/olm", Reference("localhost:5000", "acme/olm")),
    ("oci://r.example.com/a/b/c:1.2.3_build.4", Reference("r.example.com", "a/b/c", "1.2.3_build.4")),
    ("oci://127.0.0.1:5000/olm@sha256:" + "a" * 64, Reference("127.0.0.1:5000", "olm", None, "sha256:" + "a" * 64)),
    ("oci://[::1]:5000/x:t@sha256:" + "b" * 64, Reference("[::1]:5000", "x", "t", "sha256:" + "b" * 64)),
])
def test_references_parse(text, expected):
    assert parse_reference(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text, why", [
    ("localhost:5000/acme", "must start with oci://"),
    ("oci://localhost:5000", "names no repository"),
    ("oci://localhost:5000/Acme", "must be lower case"),
    ("oci://localhost:5000/acme:-bad", "is not a valid tag"),
    ("oci://localhost:5000/acme@sha256:abc", "is not sha256: and 64"),
    ("oci://local\x1b[31mhost/acme", "is not a registry host"),
])
def test_bad_references_say_why(text, why):
    with pytest.raises(ProgramkitError) as err:
        parse_reference(text)
    assert why in err.value.message and err.value.findings[0].code == "PK920"
    assert "\x1b" not in err.value.message


@given(st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", fullmatch=True),
       st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True)),
       st.one_of(st.none(), st.from_regex(r"[a-f0-9]{64}", fullmatch=True)))
def test_a_reference_prints_as_it_parses(repo, tag, hexdigest):
    ref = Reference("host.example:443", repo, tag, f"sha256:{hexdigest}" if hexdigest else None)
    assert parse_reference(str(ref)) == ref


def test_challenges_parse():
    scheme, params = parse_challenge('Bearer realm="https://a/token",service="reg",scope="repository:x:pull,push"')
    assert scheme == "bearer" and params == {"realm": "https://a/token", "service": "reg",
                                             "scope": "repository:x:pull,push"}


# --- credentials ------------------------------------------------------------------------------------------


def test_credentials_never_show_the_secret():
    assert "hunter2" not in repr(Credentials("bob", "hunter2", "--username"))


def test_credentials_in_order_flag_environment_docker_config(monkeypatch, tmp_path):
    import os

    config = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    config.write_text(json.dumps({"auths": {"https://r.example:5000/v1/": {
        "auth": base64.b64encode(b"fromfile:pw1").decode()}, "t.example": {"identitytoken": "refresh-abc"}}}))
    assert resolve_credentials("r.example:5000").username == "fromfile"
    assert resolve_credentials("t.example") == Credentials("<token>", "refresh-abc", f"{config} (auths t.example)")
    assert resolve_credentials("elsewhere.example") is None
    monkeypatch.setenv("PROGRAMKIT_REGISTRY_USERNAME", "fromenv")
    monkeypatch.setenv("PROGRAMKIT_REGISTRY_PASSWORD", "pw2")
    assert resolve_credentials("r.example:5000").username == "fromenv"
    assert resolve_credentials("r.example:5000", "fromflag", "pw3").username == "fromflag"


def test_a_credential_helper_that_is_missing_is_a_clear_error(tmp_path):
    import os

    (Path(os.environ["DOCKER_CONFIG"]) / "config.json").write_text(json.dumps({"credsStore": "nonexistent-pk"}))
    with pytest.raises(ProgramkitError) as err:
        resolve_credentials("r.example")
    assert err.value.findings[0].code == "PK934" and "docker-credential-nonexistent-pk" in err.value.message


def test_an_identity_token_is_exchanged_as_an_oauth2_refresh_token(tmp_path):
    """`docker login` against a registry with OAuth2 stores an identitytoken: programkit posts it to the realm."""
    stub = StubRegistry(bearer=("unused", "unused"))
    posted: list[dict[str, str]] = []

    def token(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and "authorization" not in request.headers
        form = dict(httpx.QueryParams(request.read().decode()))
        posted.append(form)
        ok = form.get("grant_type") == "refresh_token" and form.get("refresh_token") == "refresh-abc"
        return httpx.Response(200, json={"access_token": "tok-123"}) if ok else httpx.Response(401)

    stub._token = token  # type: ignore[method-assign]
    opts = options(stub)
    opts.username, opts.password = "<token>", "refresh-abc"
    assert reg.push(SAMPLE, REF, opts).tag == "1.0.0"
    assert posted and posted[0]["service"] == "stub" and posted[0]["scope"].startswith("repository:acme/olm:")
    assert all("refresh-abc" not in str(r.url) for r in stub.log)


def test_credentials_never_follow_a_link_to_another_host(tmp_path):
    """A tag list whose next page is on another host: that host gets no Authorization header."""
    stub = StubRegistry(bearer=("bob", "pw"))
    original = stub.handle

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "elsewhere.example.test":
            stub.log.append(request)
            return httpx.Response(200, json={"tags": ["9.9.9"]})
        response = original(request)
        if request.url.path.endswith("/tags/list") and response.status_code == 200:
            response.headers["Link"] = '<https://elsewhere.example.test/v2/acme/olm/tags/list?last=x>; rel="next"'
        return response

    stub.handle = handle  # type: ignore[method-assign]
    opts = options(stub, username="bob", password="pw")
    reg.push(SAMPLE, REF, opts)
    assert reg.list_tags(REF, opts).versions == ["9.9.9", "1.0.0"]
    elsewhere = [r for r in stub.log if r.url.host == "elsewhere.example.test"]
    assert elsewhere and all("authorization" not in r.headers for r in elsewhere)


@given(st.text(max_size=80))
def test_any_text_as_a_reference_parses_or_is_refused_with_a_finding(text):
    try:
        ref = parse_reference("oci://" + text)
    except ProgramkitError as err:
        assert err.findings[0].code == "PK920"
        assert not any(ch in err.message for ch in "\x1b\r\n\x00")
    else:
        assert parse_reference(str(ref)) == ref


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2 ** 40) | st.text(max_size=12)
    | st.sampled_from(["sha256:" + "0" * 64, "application/vnd.programkit.bundle.v1",
                       "application/vnd.programkit.bundle.v1+zip", signing.SIGNATURE_ARTIFACT_TYPE]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["mediaType", "artifactType", "config", "layers", "digest", "size", "manifests", "subject",
                         "annotations", "schemaVersion"]), inner, max_size=6),
    max_leaves=25)


@settings(max_examples=60, deadline=None)
@given(manifest=_JSON, index=_JSON)
def test_whatever_json_a_registry_sends_is_refused_with_a_finding_never_a_crash(manifest, index):
    """A hostile or broken registry: any manifest at the tag, any signature index beside it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        stub = StubRegistry(referrers=False)
        pushed = reg.push(SAMPLE, REF, options(stub))
        public = Path(signing.keygen(Path(tmp) / "k").public)
        body = json.dumps(index).encode()
        stub.manifests["sha256:" + hashlib.sha256(body).hexdigest()] = (body, INDEX)
        stub.tags[signing.fallback_tag(pushed.digest)] = "sha256:" + hashlib.sha256(body).hexdigest()
        try:
            signing.verify(REF + ":1.0.0", [public], options(stub))
        except ProgramkitError as err:
            assert err.findings or err.message
        data = json.dumps(manifest).encode()
        stub.manifests["sha256:" + hashlib.sha256(data).hexdigest()] = (data, "application/vnd.oci.image.manifest.v1+json")
        stub.tags["1.0.0"] = "sha256:" + hashlib.sha256(data).hexdigest()
        with pytest.raises(ProgramkitError) as err:
            reg.pull(REF + ":1.0.0", Path(tmp) / "out", options(stub))
        assert err.value.findings and err.value.findings[0].code.startswith("PK92")
        assert not (Path(tmp) / "out").exists()
