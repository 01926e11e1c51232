"""A small client for the OCI distribution protocol (registries), on httpx.

Only what programkit needs: references, blobs (monolithic upload, verified
download), manifests, tags, the referrers API, and the two ways registries
authenticate (HTTP basic, and bearer tokens from the realm a ``401`` names).
Why not ORAS's Python client: see docs/registry.md ("Why a small client").

Every error is a :class:`RegistryError` with a PK92x finding; messages name
the registry, the repository and what was asked, never a credential.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from .errors import BadInput, ProgramkitError
from . import registry_findings  # noqa: F401  (registers the PK92x/PK93x codes)
from .findings import make

SCHEME = "oci://"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
#: the manifest types programkit asks for; a Docker image answers with its own and is refused as not a bundle
ACCEPT = ", ".join([MANIFEST_TYPE, INDEX_TYPE, "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])
#: largest manifest or index programkit reads (the distribution spec's suggested limit)
MAX_MANIFEST = 4 << 20
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
CHUNK = 1 << 20

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPO = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{1,5})?$")


class RegistryError(ProgramkitError):
    """The registry could not do what was asked, or what it sent cannot be trusted (exit 1)."""


class RegistryInputError(BadInput, RegistryError):
    """Unreadable input: a bad reference, an unreachable registry, refused credentials, not found (exit 2)."""


def registry_error(code: str, message: str, *, usage: bool = True, hint: str | None = None) -> RegistryError:
    cls = RegistryInputError if usage else RegistryError
    return cls(message, [make(code, message)], hint=hint or "")


@dataclass(frozen=True)
class Reference:
    """``oci://REGISTRY/REPOSITORY[:TAG][@DIGEST]`` parsed."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def host(self) -> str:
        """The registry's host name without the port (and without IPv6 brackets)."""
        host = self.registry
        if host.startswith("["):
            return host[1:host.index("]")]
        return host.rsplit(":", 1)[0] if ":" in host else host

    @property
    def target(self) -> str:
        """What the manifest endpoint is asked for: the digest if there is one, else the tag."""
        target = self.digest or self.tag
        if target is None:
            raise registry_error("PK920", f"{self}: names no tag or digest")
        return target

    @property
    def repo(self) -> str:
        """``oci://REGISTRY/REPOSITORY`` without tag or digest."""
        return f"{SCHEME}{self.registry}/{self.repository}"

    def with_tag(self, tag: str | None) -> "Reference":
        return Reference(self.registry, self.repository, tag, self.digest)

    def with_digest(self, digest: str | None) -> "Reference":
        return Reference(self.registry, self.repository, self.tag, digest)

    def __str__(self) -> str:
        return self.repo + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def is_reference(text: object) -> bool:
    """Whether a command argument is a registry reference rather than a path."""
    return isinstance(text, str) and text.startswith(SCHEME)


def parse_reference(text: str, *, need_target: bool = False) -> Reference:
    """Parse ``oci://HOST[:PORT]/REPOSITORY[:TAG][@sha256:HEX]``. Raises BadInput (PK920)."""
    shown = printable(text)
    if not is_reference(text):
        raise registry_error("PK920", f"{shown}: not a registry reference (it must start with {SCHEME})")
    rest = text[len(SCHEME):]
    registry, slash, path = rest.partition("/")
    if not slash or not path:
        raise registry_error("PK920", f"{shown}: names no repository (oci://HOST/REPOSITORY)")
    if not _HOST.match(registry):
        raise registry_error("PK920", f"{shown}: {printable(registry)!r} is not a registry host[:port]")
    digest = None
    if "@" in path:
        path, _, digest = path.partition("@")
        if not _DIGEST.match(digest):
            raise registry_error("PK920", f"{shown}: digest {printable(digest)!r} is not sha256: and 64 lower-case hex "
                                  "digits")
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise registry_error("PK920", f"{shown}: tag {printable(tag)!r} is not a valid tag (letters, digits, '_', "
                                  "'.', '-'; at most 128)")
    if not _REPO.match(path):
        why = "must be lower case" if _REPO.match(path.lower()) else "is not a repository name"
        raise registry_error("PK920", f"{shown}: repository {printable(path)!r} {why}")
    ref = Reference(registry, path, tag, digest)
    if need_target and tag is None and digest is None:
        raise registry_error("PK920", f"{shown}: names no tag or digest (add :TAG or @sha256:…)")
    return ref


def printable(text: str, limit: int = 200) -> str:
    """Text from a user or a server, safe on a terminal: control characters shown escaped, long text cut."""
    out = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return out if len(out) <= limit else out[:limit] + "…"


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """The bytes programkit stores for a manifest or index: sorted keys, no whitespace (same input, same digest)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def basic_header(creds: Credentials) -> str:
    token = base64.b64encode(f"{creds.username}:{creds.password}".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plain_http(ref: Reference) -> None:
    """Plain HTTP only to this machine, or to hosts the user listed (PROGRAMKIT_INSECURE_REGISTRIES)."""
    listed = {h.strip().lower() for h in os.environ.get("PROGRAMKIT_INSECURE_REGISTRIES", "").split(",") if h.strip()}
    if is_loopback(ref.host) or ref.registry.lower() in listed or ref.host.lower() in listed:
        return
    raise registry_error("PK928", f"--plain-http: {ref.registry} is not on this machine; programkit talks to it only over "
                          "HTTPS")


@dataclass(frozen=True)
class Credentials:
    """A user name and secret for one registry, and where they came from (said in errors; the secret never is)."""

    username: str
    password: str = field(repr=False)
    source: str = ""


@dataclass
class Descriptor:
    media_type: str
    digest: str
    size: int
    artifact_type: str | None = None
    annotations: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            d["artifactType"] = self.artifact_type
        if self.annotations:
            d["annotations"] = self.annotations
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str) -> "Descriptor":
        if not (isinstance(d, dict) and isinstance(d.get("mediaType"), str) and isinstance(d.get("digest"), str)
                and _DIGEST.match(d["digest"]) and isinstance(d.get("size"), int) and d["size"] >= 0):
            raise registry_error("PK927", f"{where}: not a valid OCI descriptor", usage=False)
        ann = d.get("annotations")
        return cls(d["mediaType"], d["digest"], d["size"], d.get("artifactType") if isinstance(
            d.get("artifactType"), str) else None, ann if isinstance(ann, dict) else None)


@dataclass
class Manifest:
    """A manifest or index as received: its bytes, digest, media type and parsed JSON."""

    data: bytes
    digest: str
    media_type: str
    doc: dict[str, Any]


_CHALLENGE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` → ("bearer", {"realm": …, "service": …})."""
    scheme, _, rest = header.strip().partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)) for m in
              _CHALLENGE.finditer(rest)}
    return scheme.lower(), params


class RegistryClient:
    """One registry, one repository's worth of requests, with authentication handled on a 401."""

    def __init__(self, ref: Reference, *, plain_http: bool = False, credentials: Credentials | None = None,
                 transport: httpx.BaseTransport | None = None, timeout: httpx.Timeout = TIMEOUT):
        if plain_http:
            check_plain_http(ref)
        self.ref = ref
        self.credentials = credentials
        self.base = f"{'http' if plain_http else 'https'}://{ref.registry}/v2/{ref.repository}"
        # never follow redirects blindly with credentials: blob GETs redirect to storage (S3, CDN), which must
        # not receive the Authorization header; _send follows them itself without it
        self.http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                 headers={"User-Agent": "programkit"})
        self._auth: dict[str, str] = {}  # scope → Authorization header value
        self._basic_challenged = False

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "RegistryClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------------

    def _where(self) -> str:
        return str(self.ref.repo)

    def _send(self, method: str, url: str, *, scope: str, stream: bool = False, redirects: int = 5,
              **kw: Any) -> httpx.Response:
        """One request, authenticated as the registry asks (once per scope), following redirects without the
        Authorization header. Network failures become PK921."""
        headers = dict(kw.pop("headers", {}) or {})
        # credentials only ever go to the registry itself, never to a host an upload Location or a Link names
        ours = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(self.base).netloc
        for attempt in range(2):
            if hasattr(kw.get("content"), "seek"):  # a file being uploaded: from its start on every attempt
                kw["content"].seek(0)
            auth = (self._auth.get(scope) or self._auth.get("*")) if ours else None
            h = dict(headers, Authorization=auth) if auth else headers
            response = self._raw(method, url, headers=h, stream=stream, **kw)
            if response.status_code != 401 or attempt == 1 or not ours:
                break
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            self._authenticate(challenge, scope)
        hops = 0
        while response.status_code in (301, 302, 303, 307, 308) and "location" in response.headers:
            if hops >= redirects:
                break
            hops += 1
            target = urllib.parse.urljoin(url, response.headers["location"])
            response.close()
            if ours and urllib.parse.urlsplit(target).netloc == urllib.parse.urlsplit(url).netloc:
                response = self._raw(method, target, headers=dict(headers, **({"Authorization": auth} if auth else {})),
                                     stream=stream, **kw)
            else:
                response = self._raw(method, target, headers=headers, stream=stream, **kw)
            url = target
        return response

    def _raw(self, method: str, url: str, *, headers: dict[str, str], stream: bool, **kw: Any) -> httpx.Response:
        try:
            request = self.http.build_request(method, url, headers=headers, **kw)
            return self.http.send(request, stream=stream)
        except httpx.TimeoutException:
            raise registry_error("PK921", f"{self._where()}: {self.ref.registry} did not answer in time") from None
        except httpx.TransportError as e:
            raise registry_error("PK921", f"{self._where()}: cannot reach {self.ref.registry} ({_reason(e)})") from None

    def _authenticate(self, challenge: str, scope: str) -> None:
        scheme, params = parse_challenge(challenge)
        creds = self.credentials
        if scheme == "basic":
            if creds is None:
                raise self._needs_credentials()
            if self._basic_challenged:
                raise self._refused()
            self._basic_challenged = True
            self._auth["*"] = basic_header(creds)
            return
        if scheme == "bearer" and params.get("realm"):
            self._auth[scope] = "Bearer " + self._token(params, scope)
            return
        raise registry_error("PK927", f"{self._where()}: the registry asks for authentication programkit does not know "
                              f"({printable(scheme or 'none')})")

    def _token(self, params: dict[str, str], scope: str) -> str:
        """A bearer token from the realm (the Docker token protocol; OAuth2 refresh tokens from a credential
        helper's identity token)."""
        realm = params["realm"]
        realm_url = urllib.parse.urlsplit(realm)
        if not (realm_url.scheme == "https" or (realm_url.scheme == "http" and is_loopback(realm_url.hostname or ""))):
            raise registry_error("PK927", f"{self._where()}: the token realm {printable(realm)} is not HTTPS; "
                                  "credentials are not sent there")
        query = {"service": params.get("service", ""), "scope": params.get("scope") or scope}
        creds = self.credentials
        try:
            if creds is not None and creds.username == "<token>":  # an identity (refresh) token
                r = self.http.post(realm, data=dict(query, grant_type="refresh_token", refresh_token=creds.password,
                                                    client_id="programkit"))
            else:
                auth = httpx.BasicAuth(creds.username, creds.password) if creds else None
                r = self.http.get(realm, params=query, auth=auth)
        except httpx.TransportError as e:
            raise registry_error("PK921", f"{self._where()}: cannot reach the token service ({_reason(e)})") from None
        if r.status_code in (401, 403):
            raise self._refused() if creds else self._needs_credentials()
        if r.status_code != 200:
            raise registry_error("PK927", f"{self._where()}: the token service answered HTTP {r.status_code}")
        try:
            body = r.json()
        except ValueError:
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise registry_error("PK927", f"{self._where()}: the token service sent no token")
        return token

    def _needs_credentials(self) -> RegistryError:
        return registry_error("PK922", f"{self._where()}: the registry needs credentials and none were found")

    def _refused(self) -> RegistryError:
        source = f" (from {self.credentials.source})" if self.credentials and self.credentials.source else ""
        return registry_error("PK922", f"{self._where()}: the registry refused the credentials{source}")

    def _check(self, response: httpx.Response, what: str, *ok: int) -> httpx.Response:
        if response.status_code in ok:
            return response
        try:
            response.read()  # a streamed error response: its body says which OCI error it is
        except httpx.HTTPError:
            pass
        codes = _error_codes(response)
        status = response.status_code
        if status == 401:
            raise self._refused() if self.credentials else self._needs_credentials()
        if status == 403:
            raise registry_error("PK922", f"{self._where()}: {what}: access denied{codes}")
        if status == 404:
            raise registry_error("PK923", f"{self._where()}: {what}: not found{codes}")
        raise registry_error("PK927", f"{self._where()}: {what}: HTTP {status}{codes}", usage=False)

    def _scope(self, push: bool) -> str:
        return f"repository:{self.ref.repository}:{'pull,push' if push else 'pull'}"

    # --- blobs -----------------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        r = self._send("HEAD", f"{self.base}/blobs/{digest}", scope=self._scope(True))
        if r.status_code == 404:
            return False
        self._check(r, f"blob {digest}", 200)
        return True

    def upload_blob(self, data: bytes | IO[bytes], digest: str) -> None:
        """Upload a blob in one PUT (skipped if the registry has it already); a file is streamed, not read
        into memory."""
        if self.blob_exists(digest):
            return
        scope = self._scope(True)
        r = self._check(self._send("POST", f"{self.base}/blobs/uploads/", scope=scope), "start blob upload", 202)
        location = r.headers.get("location")
        if not location:
            raise registry_error("PK927", f"{self._where()}: the registry started an upload but gave no location",
                         usage=False)
        url = urllib.parse.urljoin(f"{self.base}/blobs/uploads/", location)
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode({"digest": digest})
        self._check(self._send("PUT", url, scope=scope, content=data,
                               headers={"Content-Type": "application/octet-stream"}), f"upload blob {digest}", 201)

    def download_blob(self, desc: Descriptor, out: IO[bytes], max_size: int) -> None:
        """Stream a blob into ``out``, refusing more bytes than its descriptor says and a digest mismatch."""
        if desc.size > max_size:
            raise registry_error("PK929", f"blob {desc.digest} is {_human(desc.size)}; the limit is {_human(max_size)}",
                         usage=False)
        r = self._send("GET", f"{self.base}/blobs/{desc.digest}", scope=self._scope(False), stream=True)
        try:
            self._check(r, f"blob {desc.digest}", 200)
            h = hashlib.sha256()
            n = 0
            try:
                for chunk in r.iter_bytes(CHUNK):
                    n += len(chunk)
                    if n > desc.size:
                        break
                    h.update(chunk)
                    out.write(chunk)
            except httpx.TransportError as e:
                raise registry_error("PK921", f"{self._where()}: {self.ref.registry} stopped answering while sending blob "
                                      f"{desc.digest} ({_reason(e)})") from None
        finally:
            r.close()
        got = "sha256:" + h.hexdigest()
        if n != desc.size or got != desc.digest:
            what = f"{n} bytes or more, not {desc.size}" if n > desc.size else (
                f"{n} bytes, not {desc.size}" if n != desc.size else f"sha256 {got}")
            raise registry_error("PK924", f"{self._where()}: blob {desc.digest}: received {what}; nothing was written",
                         usage=False)

    def read_blob(self, desc: Descriptor, max_size: int = MAX_MANIFEST) -> bytes:
        import io

        buf = io.BytesIO()
        self.download_blob(desc, buf, max_size)
        return buf.getvalue()

    # --- manifests -------------------------------------------------------------------------

    def get_manifest(self, target: str, *, accept: str = ACCEPT, missing_ok: bool = False) -> Manifest | None:
        """The manifest at a tag or digest, its bytes checked against the digest asked for (or the one the
        registry names)."""
        r = self._send("GET", f"{self.base}/manifests/{target}", scope=self._scope(False), stream=True,
                       headers={"Accept": accept})
        try:
            if r.status_code == 404 and missing_ok:
                return None
            self._check(r, f"manifest {printable(target)}", 200)
            data = bytearray()
            try:
                for chunk in r.iter_bytes(CHUNK):
                    data += chunk
                    if len(data) > MAX_MANIFEST:
                        raise registry_error("PK929", f"{self._where()}: manifest {printable(target)} is larger than "
                                              f"{_human(MAX_MANIFEST)}", usage=False)
            except httpx.TransportError as e:
                raise registry_error("PK921", f"{self._where()}: {self.ref.registry} stopped answering ({_reason(e)})") \
                    from None
        finally:
            r.close()
        digest = sha256_digest(bytes(data))
        expected = target if _DIGEST.match(target) else r.headers.get("docker-content-digest")
        if expected and expected.startswith("sha256:") and expected != digest:
            raise registry_error("PK924", f"{self._where()}: manifest {printable(target)}: received bytes have {digest}, "
                                  f"not {printable(expected)}", usage=False)
        try:
            doc = json.loads(bytes(data))
        except (ValueError, RecursionError):
            doc = None
        if not isinstance(doc, dict):
            raise registry_error("PK927", f"{self._where()}: manifest {printable(target)} is not a JSON object", usage=False)
        media_type = mt if isinstance(mt := doc.get("mediaType"), str) else \
            r.headers.get("content-type", "").split(";")[0]
        return Manifest(bytes(data), digest, media_type, doc)

    def manifest_digest(self, target: str) -> str | None:
        """The digest a tag points to, or None if there is no such tag."""
        m = self.get_manifest(target, missing_ok=True)
        return m.digest if m else None

    def put_manifest(self, target: str, data: bytes, media_type: str) -> httpx.Response:
        r = self._send("PUT", f"{self.base}/manifests/{target}", scope=self._scope(True), content=data,
                       headers={"Content-Type": media_type})
        return self._check(r, f"put manifest {printable(target)}", 201, 200)

    # --- tags and referrers ----------------------------------------------------------------

    def list_tags(self) -> list[str]:
        tags: list[str] = []
        url: str | None = f"{self.base}/tags/list?n=1000"
        for _ in range(1000):  # bounded: a registry that paginates forever is cut off
            if url is None:
                break
            r = self._check(self._send("GET", url, scope=self._scope(False)), "list tags", 200)
            try:
                body = r.json()
            except ValueError:
                body = None
            page = body.get("tags") if isinstance(body, dict) else None
            tags += [t for t in page or [] if isinstance(t, str)]
            url = _next_link(url, r.headers.get("link"))
        return tags

    def referrers(self, digest: str, artifact_type: str | None = None) -> list[Descriptor] | None:
        """The referrers API (distribution spec 1.1): descriptors of manifests whose subject is ``digest``;
        None when the registry has no referrers API (it answers 404), so the caller uses the tag schema."""
        url = f"{self.base}/referrers/{digest}"
        if artifact_type:
            url += "?" + urllib.parse.urlencode({"artifactType": artifact_type})
        out: list[Descriptor] = []
        for _ in range(1000):
            r = self._send("GET", url, scope=self._scope(False), headers={"Accept": INDEX_TYPE})
            if r.status_code == 404 and not out:
                return None
            self._check(r, f"referrers of {digest}", 200)
            try:
                body = r.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("manifests"), list):
                raise registry_error("PK927", f"{self._where()}: referrers of {digest}: not an image index", usage=False)
            out += [Descriptor.from_dict(d, f"referrers of {digest}") for d in body["manifests"]]
            nxt = _next_link(url, r.headers.get("link"))
            if nxt is None:
                break
            url = nxt
        if artifact_type:  # a registry may ignore the filter (it then omits OCI-Filters-Applied)
            out = [d for d in out if d.artifact_type == artifact_type]
        return out


def _next_link(url: str, link: str | None) -> str | None:
    if not link:
        return None
    m = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
    return urllib.parse.urljoin(url, m.group(1)) if m else None


def _error_codes(response: httpx.Response) -> str:
    """`` (MANIFEST_UNKNOWN)``: the OCI error codes of an error response, escaped; '' if none."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    codes = [c for e in errors or [] if isinstance(e, dict) and isinstance(c := e.get("code"), str)]
    return f" ({printable(', '.join(codes[:5]), 120)})" if codes else ""


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    m = re.search(r"\[Errno \d+\] ([^\]']+)", text)
    return printable(m.group(1) if m else text, 160)


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"

