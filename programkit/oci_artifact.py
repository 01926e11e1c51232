"""A programkit bundle as an OCI artifact: its media types, how to reach a registry, tags, and resolving a reference.

What every registry operation shares (push, pull, ``oci://`` in every command, signing): the artifact type
and layer media type, the options (flags or environment), version tags in semver order, and :func:`resolve`,
which fetches the manifest at a reference and checks that it is a programkit bundle (PK925). The operations
themselves are :mod:`programkit.registry_source` (reading a bundle from a reference),
:mod:`programkit.signing` and :mod:`programkit.registry` (push and pull).
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

import semver

from .oci import (MANIFEST_TYPE, Credentials, Descriptor, Manifest, Reference, RegistryClient, printable,
                  parse_reference, registry_error, sha256_digest)

ARTIFACT_TYPE = "application/vnd.programkit.bundle.v1"
BUNDLE_MEDIA_TYPE = "application/vnd.programkit.bundle.v1+zip"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
EMPTY_DESCRIPTOR = Descriptor(EMPTY_TYPE, sha256_digest(EMPTY), len(EMPTY))
#: tags the referrers tag schema uses (``sha256-<hex>``): not versions, never listed by ``tags``
_FALLBACK_TAG = re.compile(r"^sha256-[a-f0-9]{64}(\..*)?$")


# --- options -------------------------------------------------------------------------------------------


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class RegistryOptions:
    """How to reach registries and what to demand of what they send."""

    plain_http: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    require_signature: bool = False
    trusted_keys: tuple[str, ...] = ()
    #: an httpx transport to use instead of the network (tests of protocol shapes the local registry lacks)
    transport: Any = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> "RegistryOptions":
        """PROGRAMKIT_REGISTRY_PLAIN_HTTP, PROGRAMKIT_REQUIRE_SIGNATURE, PROGRAMKIT_TRUSTED_KEYS (paths joined
        with the OS path separator); credentials are looked up per registry (see :mod:`programkit.oci_auth`)."""
        keys = tuple(k for k in os.environ.get("PROGRAMKIT_TRUSTED_KEYS", "").split(os.pathsep) if k)
        return cls(plain_http=_env_flag("PROGRAMKIT_REGISTRY_PLAIN_HTTP"),
                   require_signature=_env_flag("PROGRAMKIT_REQUIRE_SIGNATURE"), trusted_keys=keys)

    def credentials(self, registry: str) -> Credentials | None:
        from .oci_auth import resolve_credentials

        return resolve_credentials(registry, self.username, self.password)

    def client(self, ref: Reference) -> RegistryClient:
        return RegistryClient(ref, plain_http=self.plain_http, credentials=self.credentials(ref.registry),
                              transport=self.transport)


_OPTIONS: ContextVar[RegistryOptions | None] = ContextVar("programkit_registry_options", default=None)


def current_options() -> RegistryOptions:
    """The options set by :func:`using` (a command's flags), else the environment's."""
    return _OPTIONS.get() or RegistryOptions.from_env()


@contextmanager
def using(options: RegistryOptions) -> Iterator[RegistryOptions]:
    """Read bundles from registries with ``options`` inside the block (what ``oci://`` in every command uses)."""
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


# --- tags ----------------------------------------------------------------------------------------------


def version_tag(version: str) -> str:
    """The tag for a bundle version: semver's '+' is not allowed in tags, so it becomes '_' (as Helm does)."""
    return version.replace("+", "_")


def tag_version(tag: str) -> semver.Version | None:
    try:
        return semver.Version.parse(tag.replace("_", "+"))
    except ValueError:
        return None


@dataclass
class TagList:
    repository: str
    versions: list[str]  # tags that are versions, newest first
    others: list[str]  # other tags, by name

    def to_dict(self) -> dict[str, Any]:
        return {"repository": self.repository, "versions": self.versions, "otherTags": self.others}


def list_tags(ref_text: str, options: RegistryOptions | None = None) -> TagList:
    """The tags of a repository: versions newest first (semver order), then any other tags."""
    options = options or current_options()
    ref = parse_reference(ref_text)
    with options.client(ref) as client:
        tags = client.list_tags()
    return _sorted_tags(ref, tags)


def _sorted_tags(ref: Reference, tags: list[str]) -> TagList:
    versions = sorted(((v, t) for t in tags if (v := tag_version(t)) is not None), reverse=True)
    others = sorted(t for t in tags if tag_version(t) is None and not _FALLBACK_TAG.match(t))
    return TagList(ref.repo, [t for _, t in versions], others)


def _newest_tag(client: RegistryClient, ref: Reference) -> str:
    tags = _sorted_tags(ref, client.list_tags())
    if not tags.versions:
        raise registry_error("PK923", f"{ref}: no version tags in the repository; name one (oci://…:TAG)")
    return tags.versions[0]


# --- resolve -------------------------------------------------------------------------------------------


@dataclass
class Artifact:
    """A bundle manifest found at a reference: the reference pinned to its digest, and the archive layer."""

    ref: Reference  # as asked, with the digest filled in
    manifest: Manifest
    layer: Descriptor

    @property
    def digest(self) -> str:
        return self.manifest.digest

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.manifest.media_type or MANIFEST_TYPE, self.manifest.digest, len(self.manifest.data),
                          ARTIFACT_TYPE)

    @property
    def annotations(self) -> dict[str, str]:
        a = self.manifest.doc.get("annotations")
        return {k: v for k, v in a.items() if isinstance(v, str)} if isinstance(a, dict) else {}


def resolve(client: RegistryClient, ref: Reference) -> Artifact:
    """Fetch and check the manifest at ``ref`` (newest version tag if it names none): a programkit bundle, or
    PK925."""
    if ref.tag is None and ref.digest is None:
        ref = ref.with_tag(_newest_tag(client, ref))
    m = client.get_manifest(ref.target)
    assert m is not None
    shown = str(ref)
    if "manifests" in m.doc:
        raise registry_error("PK925", f"{shown}: an image index (a list of manifests), not a programkit bundle", usage=False)
    config = c if isinstance(c := m.doc.get("config"), dict) else {}
    kind = m.doc.get("artifactType") or config.get("mediaType") or m.media_type
    if kind != ARTIFACT_TYPE:
        raise registry_error("PK925", f"{shown}: artifact type {printable(str(kind))} is not a programkit bundle",
                     usage=False)
    layers = ls if isinstance(ls := m.doc.get("layers"), list) else []
    found = [Descriptor.from_dict(d, shown) for d in layers]
    bundles = [d for d in found if d.media_type == BUNDLE_MEDIA_TYPE]
    if len(bundles) != 1 or len(found) != 1:
        raise registry_error("PK925", f"{shown}: has {len(found)} layer(s); a programkit bundle has one, of media type "
                              f"{BUNDLE_MEDIA_TYPE}", usage=False)
    return Artifact(ref.with_digest(m.digest), m, bundles[0])
