"""Bundles as OCI artifacts: push and pull (and, for callers, every registry name of the library).

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

The parts below push and pull live apart, so that loading a bundle (which reads ``oci://``) does not import
packing and validating (which push needs): the artifact's types, options, tags and :func:`resolve` are
:mod:`programkit.oci_artifact`; reading a bundle from a reference is :mod:`programkit.registry_source`. This
module imports both and offers their names as before.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .archive import pack, unpack_archive
from .bundle import MANIFEST, ArchiveLimits, ZipSource
from .canonical import bundle_digest, sha256_file
from .errors import BadInput, require_folder_of, require_path
from .oci import (MANIFEST_TYPE, Descriptor, RegistryError, canonical_json, parse_reference, printable,
                  registry_error, sha256_digest)
from .oci_artifact import (ARTIFACT_TYPE, BUNDLE_MEDIA_TYPE, EMPTY, EMPTY_DESCRIPTOR, EMPTY_TYPE, Artifact,
                           RegistryOptions, TagList, current_options, list_tags, resolve, tag_version, using,
                           version_tag)
from .output import refused_write, write_output
from .registry_source import RegistrySource, _download, open_reference, refuse_unsigned_path

PUSH_HINT = "`programkit push` takes a bundle directory (the folder holding bundle.json) or a bundle archive (.zip)."


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
            from .signing import require_signature  # cryptography is loaded only when a signature is required

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
                files = len(unpack_archive(tmp, out_path, limits, force=force).files)
    return PullResult(str(artifact.ref), artifact.digest, str(out_path), "archive" if as_archive else "directory",
                      files, signed_by)


def _place_file(tmp: Path, out: Path) -> None:
    """Copy the download into place with the project's atomic writer (the download's temp dir may be another
    file system; pull checked --force before)."""
    with open(tmp, "rb") as src:
        write_output(out.absolute(), lambda dst: shutil.copyfileobj(src, dst), option="-o", force=True)


__all__ = ["ARTIFACT_TYPE", "BUNDLE_MEDIA_TYPE", "EMPTY", "EMPTY_DESCRIPTOR", "EMPTY_TYPE", "Artifact", "RegistryError",
           "RegistryOptions", "RegistrySource", "TagList", "current_options", "list_tags", "open_reference", "pull",
           "push", "refuse_unsigned_path", "resolve", "tag_version", "using", "version_tag"]
