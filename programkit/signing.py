"""Detached Ed25519 signatures of bundles in a registry, stored beside them as OCI referrers.

A signature is its own small artifact (artifact type
``application/vnd.programkit.signature.v1``) whose ``subject`` is the
bundle's manifest. Its one layer is JSON: the signed payload (which names the
bundle manifest's media type, digest and size), the Ed25519 signature of those
exact bytes, and the signing key's id (``sha256:`` of the raw public key).

Stored through the referrers API when the registry has it (it answers the push
with ``OCI-Subject``), else through the distribution spec's tag schema: an
image index tagged ``sha256-<hex of the bundle digest>`` lists the signatures.
Verification reads both. Ed25519 from ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import BadInput, require_path
from . import registry_findings  # noqa: F401  (registers the PK92x/PK93x codes)
from .findings import make
from .oci import (INDEX_TYPE, MANIFEST_TYPE, Descriptor, RegistryClient, RegistryError, RegistryInputError, printable,
                  canonical_json, parse_reference, sha256_digest)
from .oci_artifact import EMPTY, EMPTY_DESCRIPTOR, Artifact, RegistryOptions, current_options, resolve
from .output import write_output

SIGNATURE_ARTIFACT_TYPE = "application/vnd.programkit.signature.v1"
SIGNATURE_MEDIA_TYPE = "application/vnd.programkit.signature.v1+json"
PAYLOAD_TYPE = "programkit-signature/1"
MAX_SIGNATURE = 64 << 10
MAX_SIGNATURES = 100


def _key_error(message: str) -> RegistryInputError:
    return RegistryInputError(message, [make("PK933", message)])


# --- keys ----------------------------------------------------------------------------------------------


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass
class KeyPair:
    private: str
    public: str
    key_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"privateKey": self.private, "publicKey": self.public, "keyId": self.key_id}


def keygen(path: str | os.PathLike[str], *, force: bool = False) -> KeyPair:
    """Write a new Ed25519 key: ``path`` (private, PKCS#8 PEM, mode 0600) and ``path.pub`` (public, to share).
    Existing files are replaced only with ``force``; each is written to a temp file and renamed."""
    private_path = Path(path)
    public_path = Path(os.fspath(path) + ".pub")
    for p in (private_path, public_path):
        folder = p.absolute().parent
        if not folder.is_dir():
            raise BadInput(f"{folder}: no such directory for the key")
        if p.exists() and not force:
            raise BadInput(f"{p}: already exists, no key was written",
                           hint="Choose another name, or pass --force to replace it (signatures made with the old "
                                "key then verify only with its old public key).")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(public_path, public_pem, 0o644)
    _write_new(private_path, private_pem, 0o600)
    return KeyPair(str(private_path), str(public_path), key_id(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Through the project's atomic writer (keygen checked --force before)."""
    write_output(path, data, option="keygen", force=True, mode=mode)


def _read_pem(path: str | os.PathLike[str], what: str) -> bytes:
    require_path(path, f"{what} is a PEM file `programkit signature keygen` wrote.")
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise _key_error(f"{path}: cannot read ({e.strerror or e})") from None


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    data = _read_pem(path, "--key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise _key_error(f"{path}: not an unencrypted Ed25519 private key in PEM") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _key_error(f"{path}: a private key, but not Ed25519")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    data = _read_pem(path, "--trusted-key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        hint = " (this is a private key: trust its .pub)" if b"PRIVATE KEY" in data else ""
        raise _key_error(f"{path}: not an Ed25519 public key in PEM{hint}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise _key_error(f"{path}: a public key, but not Ed25519")
    return key


def load_trusted(paths: Iterable[str | os.PathLike[str]]) -> dict[str, Ed25519PublicKey]:
    return {key_id(k): k for k in (load_public_key(p) for p in paths)}


# --- what is signed --------------------------------------------------------------------------------------


def payload(subject: Descriptor) -> bytes:
    """The exact bytes signed: the bundle manifest's descriptor, under a type that says what they are."""
    return canonical_json({"type": PAYLOAD_TYPE, "subject": {"mediaType": subject.media_type,
                                                              "digest": subject.digest, "size": subject.size}})


@dataclass
class SignResult:
    reference: str
    digest: str
    key_id: str
    signature: str  # the signature manifest's digest
    stored_as: str  # "referrers API" or "tag sha256-…"
    already: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "keyId": self.key_id,
                "signature": self.signature, "storedAs": self.stored_as, "alreadySigned": self.already}


def fallback_tag(digest: str) -> str:
    return digest.replace(":", "-")


def sign(ref_text: str, key_path: str | os.PathLike[str], options: RegistryOptions | None = None) -> SignResult:
    """Sign the bundle at ``ref_text`` with the private key at ``key_path`` and store the signature beside it."""
    key = load_private_key(key_path)
    options = options or current_options()
    ref = parse_reference(ref_text)
    kid = key_id(key.public_key())
    with options.client(ref) as client:
        artifact = resolve(client, ref)
        subject = artifact.descriptor
        body = payload(subject)
        blob = canonical_json({"payload": base64.b64encode(body).decode("ascii"), "algorithm": "ed25519",
                               "keyId": kid, "signature": base64.b64encode(key.sign(body)).decode("ascii")})
        layer = Descriptor(SIGNATURE_MEDIA_TYPE, sha256_digest(blob), len(blob))
        manifest = canonical_json({
            "schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": SIGNATURE_ARTIFACT_TYPE,
            "config": EMPTY_DESCRIPTOR.to_dict() | {"data": "e30="}, "layers": [layer.to_dict()],
            "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size},
            "annotations": {"dev.programkit.signature.keyid": kid}})
        sig_digest = sha256_digest(manifest)
        client.upload_blob(EMPTY, EMPTY_DESCRIPTOR.digest)
        client.upload_blob(blob, layer.digest)
        response = client.put_manifest(sig_digest, manifest, MANIFEST_TYPE)
        if response.headers.get("oci-subject"):  # the registry indexes referrers itself
            return SignResult(str(artifact.ref), artifact.digest, kid, sig_digest, "referrers API")
        tag = fallback_tag(artifact.digest)
        index = client.get_manifest(tag, accept=INDEX_TYPE, missing_ok=True)
        if index is not None and not isinstance(index.doc.get("manifests"), list):
            raise RegistryError(f"{ref.repo}:{tag} is not an image index; the signature was stored but cannot be "
                                "listed", [make("PK927", f"{tag}: not an image index")])
        entries = list(index.doc["manifests"]) if index is not None else []
        already = any(isinstance(e, dict) and e.get("digest") == sig_digest for e in entries)
        if not already:
            entries.append(Descriptor(MANIFEST_TYPE, sig_digest, len(manifest), SIGNATURE_ARTIFACT_TYPE,
                                      {"dev.programkit.signature.keyid": kid}).to_dict())
            client.put_manifest(tag, canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                                                     "manifests": entries}), INDEX_TYPE)
        return SignResult(str(artifact.ref), artifact.digest, kid, sig_digest, f"tag {tag}", already)


# --- verification --------------------------------------------------------------------------------------


@dataclass
class SignatureCheck:
    signature: str  # digest of the signature manifest
    key_id: str
    status: str  # valid | untrusted | invalid | other-content | unreadable
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"signature": self.signature, "keyId": self.key_id, "status": self.status, "message": self.message}


@dataclass
class VerifyResult:
    reference: str
    digest: str
    checks: list[SignatureCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return any(c.status == "valid" for c in self.checks)

    @property
    def signed_by(self) -> list[str]:
        return sorted({c.key_id for c in self.checks if c.status == "valid"})

    def error(self) -> RegistryError:
        """Why this bundle is not accepted: PK930 unsigned, PK932 a bad signature, else PK931 untrusted."""
        if not self.checks:
            message = f"{self.reference}: no signature; nothing was written"
            return RegistryError(message, [make("PK930", message)])
        bad = [c for c in self.checks if c.status in ("invalid", "other-content", "unreadable")]
        findings = [make("PK932" if c.status in ("invalid", "other-content", "unreadable") else "PK931",
                         f"signature {c.signature[:19]}…: {c.message}") for c in self.checks]
        what = "a signature does not verify" if bad else "signed only by keys you do not trust"
        return RegistryError(f"{self.reference}: {what}; nothing was written", findings)

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "digest": self.digest, "verified": self.ok,
                "signedBy": self.signed_by, "signatures": [c.to_dict() for c in self.checks]}


def signatures(client: RegistryClient, digest: str) -> list[Descriptor]:
    """Descriptors of the signature manifests whose subject is ``digest``: referrers API, else tag schema."""
    found = client.referrers(digest, SIGNATURE_ARTIFACT_TYPE)
    if found is None:
        index = client.get_manifest(fallback_tag(digest), accept=INDEX_TYPE, missing_ok=True)
        entries = index.doc.get("manifests") if index is not None else None
        if not isinstance(entries, list):
            entries = []  # no index, or not one: no signatures found that way
        found = [Descriptor.from_dict(d, fallback_tag(digest)) for d in entries
                 if isinstance(d, dict) and d.get("artifactType") == SIGNATURE_ARTIFACT_TYPE]
    return found[:MAX_SIGNATURES]


def check_artifact(client: RegistryClient, artifact: Artifact, trusted: dict[str, Ed25519PublicKey]) -> VerifyResult:
    result = VerifyResult(str(artifact.ref), artifact.digest)
    for desc in signatures(client, artifact.digest):
        result.checks.append(_check_one(client, desc, artifact.descriptor, trusted))
    return result


def _check_one(client: RegistryClient, desc: Descriptor, subject: Descriptor,
               trusted: dict[str, Ed25519PublicKey]) -> SignatureCheck:
    def check(status: str, message: str, kid: str = "") -> SignatureCheck:
        return SignatureCheck(desc.digest, kid, status, message)

    try:
        manifest = client.get_manifest(desc.digest)
        assert manifest is not None
        doc = manifest.doc
        refers = r if isinstance(r := doc.get("subject"), dict) else {}
        if refers.get("digest") != subject.digest:
            return check("other-content", f"its subject is {printable(str(refers.get('digest')))}, not this bundle")
        layers = [Descriptor.from_dict(d, desc.digest) for d in doc.get("layers") or []]
        sig_layers = [d for d in layers if d.media_type == SIGNATURE_MEDIA_TYPE]
        if len(sig_layers) != 1:
            return check("unreadable", "not a programkit signature (no signature layer)")
        blob = json.loads(client.read_blob(sig_layers[0], MAX_SIGNATURE))
        body = base64.b64decode(blob["payload"], validate=True)
        signature = base64.b64decode(blob["signature"], validate=True)
        kid = blob.get("keyId") if isinstance(blob.get("keyId"), str) else ""
        signed = json.loads(body)
    except RegistryError as e:
        return check("unreadable", e.message)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return check("unreadable", "its content is not a programkit signature")
    signed_subject = signed.get("subject") if isinstance(signed, dict) else None
    if not isinstance(signed, dict) or signed.get("type") != PAYLOAD_TYPE or not isinstance(signed_subject, dict):
        return check("unreadable", "its payload is not a programkit signature payload", kid)
    if signed_subject.get("digest") != subject.digest:
        return check("other-content", f"it is over {printable(str(signed_subject.get('digest')))}, not over this "
                                      f"bundle ({subject.digest})", kid)
    for tid, key in trusted.items():
        try:
            key.verify(signature, body)
        except InvalidSignature:
            continue
        return check("valid", f"valid signature by trusted key {tid}", tid)
    if kid in trusted:
        return check("invalid", f"does not verify with key {kid}, which it names", kid)
    return check("untrusted", f"signed by key {printable(kid) or '(unnamed)'}, which is not among the trusted keys",
                 kid)


def verify(ref_text: str, trusted_keys: Iterable[str | os.PathLike[str]],
           options: RegistryOptions | None = None) -> VerifyResult:
    """Every signature of the bundle at ``ref_text``, checked against the trusted public keys."""
    trusted = load_trusted(trusted_keys)
    options = options or current_options()
    ref = parse_reference(ref_text)
    with options.client(ref) as client:
        return check_artifact(client, resolve(client, ref), trusted)


def require_signature(client: RegistryClient, artifact: Artifact, trusted_keys: Iterable[str]) -> list[str]:
    """Raise (nothing written) unless a trusted key signed ``artifact``; returns the keys that did."""
    keys = list(trusted_keys)
    if not keys:
        raise BadInput("a signature is required but no key is trusted: pass --trusted-key PUB (or set "
                       "PROGRAMKIT_TRUSTED_KEYS); nothing was written")
    result = check_artifact(client, artifact, load_trusted(keys))
    if not result.ok:
        raise result.error()
    return result.signed_by
