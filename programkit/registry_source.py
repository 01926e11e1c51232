"""Reading a bundle straight from a registry reference: what ``oci://…`` means in every command.

:func:`open_reference` resolves the reference, checks the signature when one is required, downloads the archive
(its digest checked) into a private temp folder and opens it as a bundle source, like a local archive. With a
signature required, a local path is refused (:func:`refuse_unsigned_path`): only a registry artifact carries one.
:mod:`programkit.load` calls both; ``pull`` (:mod:`programkit.registry`) shares the download.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from .bundle import MANIFEST, ArchiveLimits, ZipSource
from .oci import RegistryClient, RegistryInputError, is_reference, parse_reference, registry_error
from .oci_artifact import Artifact, RegistryOptions, current_options, resolve
from .output import refused_write


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
        from .signing import require_signature  # cryptography is loaded only when a signature is required

        require_signature(client, artifact, options.trusted_keys)


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
