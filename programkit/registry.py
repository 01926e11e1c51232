"""Bundles as OCI artifacts: push, pull, tags, and reading a bundle straight from ``oci://…``.

A bundle is stored as an OCI image manifest (image spec 1.1 artifact form):

- ``artifactType`` ``application/vnd.programkit.bundle.v1``;
- the empty config (``application/vnd.oci.empty.v1+json``, ``{}``);
- one layer, the reproducible archive ``programkit pack`` writes, media type
  ``application/vnd.programkit.bundle.v1+zip``;
- annotations from bundle.json (name, version, description, authors, license,
  program name and type, bundle digest); ``org.opencontainers.image.created``
  only from ``SOURCE_DATE_EPOCH``, never from the clock, because the bundle has
  no date of its own and the same bundle must give the same manifest digest.

The manifest is canonical JSON, so pushing the same bundle twice gives the
same digest. A tag already pointing at other content is refused unless
``force``. Everything read back is checked against its digest before use.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import semver

from .bundle import MANIFEST, ArchiveLimits, ZipSource
from .canonical import bundle_digest
from .errors import BadInput, require_folder_of, require_path
from .oci import (MANIFEST_TYPE, Credentials, Descriptor, Manifest, Reference, RegistryClient, RegistryError,
                  RegistryInputError, registry_error, printable, canonical_json, is_reference, parse_reference, sha256_digest)
from .output import refused_write, write_output

ARTIFACT_TYPE = "application/vnd.programkit.bundle.v1"
BUNDLE_MEDIA_TYPE = "application/vnd.programkit.bundle.v1+zip"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
EMPTY_DESCRIPTOR = Descriptor(EMPTY_TYPE, sha256_digest(EMPTY), len(EMPTY))
#: tags the referrers tag schema uses (``sha256-<hex>``): not versions, never listed by ``tags``
_FALLBACK_TAG = re.compile(r"^sha256-[a-f0-9]{64}(\..*)?$")

PUSH_HINT = "`programkit push` takes a bundle directory (the folder holding bundle.json) or a bundle archive (.zip)."


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


# --- push ----------------------------------------------------------------------------------------------


@dataclass
class PushResult:
    reference: str  # oci://registry/repo:tag
    digest: str  # manifest digest
    tag: str
    archive_sha256: str
    size: int
    already: bool  # the tag already pointed to exactly this
    moved_from: str | None = None  # --force moved the tag from this digest

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "tag": self.tag,
                "archiveSha256": self.archive_sha256, "size": self.size, "alreadyThere": self.already,
                "movedFrom": self.moved_from}


def bundle_annotations(manifest: dict[str, Any], bundle_sha: str) -> dict[str, str]:
    """The manifest annotations for a bundle: what `tags`, registry UIs and `inspect` show without pulling."""
    program = p if isinstance(p := manifest.get("program"), dict) else {}
    out: dict[str, str] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, str) and value:
            out[key] = value

    put("org.opencontainers.image.title", manifest.get("name"))
    put("org.opencontainers.image.version", manifest.get("version"))
    put("org.opencontainers.image.description", manifest.get("description"))
    put("org.opencontainers.image.licenses", manifest.get("license"))
    authors = manifest.get("authors")
    if isinstance(authors, list):
        names = [a if isinstance(a, str) else a.get("name") for a in authors if isinstance(a, (str, dict))]
        put("org.opencontainers.image.authors", ", ".join(n for n in names if isinstance(n, str)))
    put("dev.programkit.format", manifest.get("format"))
    put("dev.programkit.bundle.name", manifest.get("name"))
    put("dev.programkit.bundle.version", manifest.get("version"))
    put("dev.programkit.bundle.digest", bundle_sha)
    put("dev.programkit.program.name", program.get("name"))
    put("dev.programkit.program.type", program.get("type"))
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():  # the reproducible-builds convention; the clock would give every push a new digest
        put("org.opencontainers.image.created",
            datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return out


def build_manifest(layer: Descriptor, manifest: dict[str, Any]) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": EMPTY_DESCRIPTOR.to_dict() | {"data": "e30="},
        "layers": [layer.to_dict()],
        "annotations": bundle_annotations(manifest, bundle_digest(manifest)),
    }
    return canonical_json(doc)


def _packed(bundle: str | os.PathLike[str], tmp: Path) -> Path:
    """The bundle as the reproducible archive `pack` writes: a directory is packed (validated first), an archive
    is unpacked (checked) and packed again, so the same bundle gives the same bytes whatever zip it came in."""
    from .archive import pack, unpack_archive

    p = Path(bundle)
    require_path(p, PUSH_HINT)
    if p.is_dir() or p.name == MANIFEST:
        src = p if p.is_dir() else p.parent
    elif zipfile.is_zipfile(p) or p.suffix.lower() == ".zip":
        src = tmp / "unpacked"
        unpack_archive(p, src)
    else:
        raise BadInput(f"{p}: not a bundle (expected a directory, a bundle.json or a .zip)", hint=PUSH_HINT)
    return pack(src, tmp / "bundle.zip").path


def push(bundle: str | os.PathLike[str], ref_text: str, options: RegistryOptions | None = None, *,
         force: bool = False) -> PushResult:
    """Pack ``bundle`` and push it to ``ref_text`` (the tag defaults to the bundle's version).

    Refuses (PK926, nothing pushed) a tag that points to other content unless ``force``. Raises ProgramkitError
    for a bundle with errors (as `pack` does) and RegistryError for what the registry refuses.
    """
    options = options or current_options()
    ref = parse_reference(ref_text)
    if ref.digest:
        raise registry_error("PK920", f"{ref}: push names a tag, not a digest (the digest is computed from the bundle)")
    with tempfile.TemporaryDirectory(prefix="programkit-push-") as tmp_name:
        tmp = Path(tmp_name)
        archive = _packed(bundle, tmp)
        with zipfile.ZipFile(archive) as zf:
            import json

            manifest = json.loads(zf.read(MANIFEST).decode("utf-8-sig"))
        tag = ref.tag or version_tag(str(manifest.get("version")))
        ref = ref.with_tag(tag)
        from .canonical import sha256_file

        size = archive.stat().st_size
        archive_digest = "sha256:" + sha256_file(archive)
        name = f"{manifest.get('name')}-{manifest.get('version')}.zip"
        layer = Descriptor(BUNDLE_MEDIA_TYPE, archive_digest, size,
                           annotations={"org.opencontainers.image.title": name})
        body = build_manifest(layer, manifest)
        digest = sha256_digest(body)
        with options.client(ref) as client:
            existing = client.manifest_digest(tag)
            if existing == digest:
                return PushResult(str(ref), digest, tag, archive_digest[7:], size, True)
            if existing is not None and not force:
                raise registry_error("PK926", f"{ref} points to {existing}, not to this bundle ({digest}); nothing was pushed")
            client.upload_blob(EMPTY, EMPTY_DESCRIPTOR.digest)
            with open(archive, "rb") as fh:
                client.upload_blob(fh, archive_digest)
            response = client.put_manifest(tag, body, MANIFEST_TYPE)
            stored = response.headers.get("docker-content-digest")
            if stored and stored != digest:
                raise registry_error("PK924", f"{ref}: the registry stored the manifest as {printable(stored)}, not {digest}",
                             usage=False)
        return PushResult(str(ref), digest, tag, archive_digest[7:], size, False, existing)


# --- resolve and fetch ---------------------------------------------------------------------------------


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


def _download(client: RegistryClient, artifact: Artifact, dest: Path, limits: ArchiveLimits) -> None:
    """The archive into ``dest`` (a new file), digest checked; removed again on any failure."""
    try:
        with open(dest, "xb") as out:
            client.download_blob(artifact.layer, out, limits.max_total_size)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def _check_signature(client: RegistryClient, artifact: Artifact, options: RegistryOptions) -> None:
    if options.require_signature:
        from .signing import require_signature

        require_signature(client, artifact, options.trusted_keys)


# --- pull ----------------------------------------------------------------------------------------------


@dataclass
class PullResult:
    reference: str  # with @digest
    digest: str
    path: str
    kind: str  # "archive" or "directory"
    files: int
    signed_by: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "path": self.path, "output": self.kind,
                "files": self.files, "signedBy": self.signed_by}


def pull(ref_text: str, out: str | os.PathLike[str], options: RegistryOptions | None = None, *,
         force: bool = False, limits: ArchiveLimits | None = None) -> PullResult:
    """Pull the bundle at ``ref_text`` into ``out``: an archive if it ends in .zip, else a bundle directory.

    Everything is checked before anything is written where the user looks: the signature (if required), the
    archive's digest, the archive itself, every file's sha256. An existing output is replaced only with
    ``force``.
    """
    options = options or current_options()
    limits = limits or ArchiveLimits.from_env()
    ref = parse_reference(ref_text)
    out_path = Path(out)
    as_archive = out_path.suffix.lower() == ".zip"
    if as_archive:
        require_folder_of(out_path, "-o")
        if out_path.is_dir():
            raise BadInput(f"{out_path}: is a directory; -o NAME.zip names the archive file to write")
        if out_path.exists() and not force:
            raise BadInput(f"{out_path}: already exists, nothing was written",
                           hint="Choose another -o, or pass --force to replace it.")
    elif out_path.exists() and (not out_path.is_dir() or any(out_path.iterdir())) and not force:
        raise BadInput(f"{out_path}: exists and is not an empty directory, nothing was written",
                       hint="Choose another -o DIR, or pass --force to replace the bundle in it.")
    signed_by: list[str] = []
    with options.client(ref) as client:
        artifact = resolve(client, ref)
        if options.require_signature:
            from .signing import require_signature

            signed_by = require_signature(client, artifact, options.trusted_keys)
        with tempfile.TemporaryDirectory(prefix="programkit-pull-") as tmp_name:
            tmp = Path(tmp_name) / "bundle.zip"
            try:
                _download(client, artifact, tmp, limits)
            except OSError as e:  # the temporary folder is full (or read-only): nothing reached -o yet
                raise refused_write(out_path, e) from None
            if as_archive:
                src = ZipSource(tmp, limits, str(artifact.ref))  # a hostile archive is refused, not saved
                try:
                    if not src.is_file(MANIFEST):
                        raise registry_error("PK925", f"{artifact.ref}: the archive has no {MANIFEST}", usage=False)
                    files = len(src.names())
                finally:
                    src.close()
                _place_file(tmp, out_path)
            else:
                from .archive import unpack_archive

                files = len(unpack_archive(tmp, out_path, limits, force=force).files)
    return PullResult(str(artifact.ref), artifact.digest, str(out_path), "archive" if as_archive else "directory",
                      files, signed_by)


def _place_file(tmp: Path, out: Path) -> None:
    """Copy the download into place with the project's atomic writer (the download's temp dir may be another
    file system; pull checked --force before)."""
    with open(tmp, "rb") as src:
        write_output(out.absolute(), lambda dst: shutil.copyfileobj(src, dst), option="-o", force=True)


# --- reading a bundle straight from a reference (every command's `oci://`) ------------------------------


class RegistrySource(ZipSource):
    """A bundle archive fetched from a registry; ``origin`` is what the import history records."""

    origin: dict[str, str]


_SESSION_DIR: Path | None = None


def _session_dir() -> Path:
    """A private temp folder for archives read from registries in this process, removed at exit."""
    global _SESSION_DIR
    if _SESSION_DIR is None or not _SESSION_DIR.is_dir():
        _SESSION_DIR = Path(tempfile.mkdtemp(prefix="programkit-oci-"))
        atexit.register(shutil.rmtree, _SESSION_DIR, True)
    return _SESSION_DIR


def open_reference(ref_text: str, limits: ArchiveLimits | None = None) -> tuple[RegistrySource, str]:
    """Fetch the bundle at ``ref_text`` (digest and, if required, signature checked) and open it like a local
    archive. What :func:`programkit.load.load_bundle` calls for ``oci://`` paths."""
    options = current_options()
    limits = limits or ArchiveLimits.from_env()
    ref = parse_reference(ref_text)
    with options.client(ref) as client:
        artifact = resolve(client, ref)
        _check_signature(client, artifact, options)
        try:
            fd, name = tempfile.mkstemp(prefix=f"{artifact.layer.digest[7:19]}-", suffix=".zip", dir=_session_dir())
            os.close(fd)
            dest = Path(name)
            dest.unlink()  # _download creates it exclusively, and removes it again on any failure
            _download(client, artifact, dest, limits)
        except OSError as e:  # the temporary folder the archive is read from is full or read-only
            raise refused_write(e.filename or tempfile.gettempdir(), e, option="") from None
    source = RegistrySource(dest, limits, str(artifact.ref))
    if not source.is_file(MANIFEST):
        source.close()
        raise registry_error("PK925", f"{artifact.ref}: the archive has no {MANIFEST} at its root", usage=False)
    source.origin = {"reference": str(ref if (ref.tag or ref.digest) else artifact.ref.with_digest(None)),
                     "digest": artifact.digest}
    return source, MANIFEST


def refuse_unsigned_path(path: str) -> None:
    """With a signature required, a local path is refused: only a registry artifact carries one."""
    if not is_reference(path) and current_options().require_signature:
        raise RegistryInputError(f"{path}: a signature is required, and only a bundle read from a registry "
                                 "(oci://…) carries one; nothing was read",
                                 hint="Import from the reference the bundle was pushed to, or drop "
                                      "--require-signature (and PROGRAMKIT_REQUIRE_SIGNATURE).")


__all__ = ["ARTIFACT_TYPE", "BUNDLE_MEDIA_TYPE", "RegistryOptions", "RegistryError", "push", "pull", "list_tags",
           "open_reference", "using", "current_options"]
