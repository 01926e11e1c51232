"""signature keygen / sign / verify and --require-signature, against a real distribution registry (which has no
referrers API, so signatures are found through the sha256-<hex> tag schema)."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SAMPLE, edit_json  # noqa: E402
from registry_support import clean_registry_env, registry  # noqa: E402,F401

from programkit.oci import MANIFEST_TYPE, RegistryClient, canonical_json, parse_reference, sha256_digest  # noqa: E402
from programkit.signing import SIGNATURE_ARTIFACT_TYPE, fallback_tag  # noqa: E402


def keygen(invoke, path: Path) -> Path:
    result = invoke("signature", "keygen", str(path))
    assert result.exit_code == 0, result.output
    return Path(str(path) + ".pub")


def pushed(invoke, bundle, ref) -> str:
    out = invoke("push", str(bundle), ref, "--plain-http", "--format", "json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)["digest"]


def test_keygen_writes_a_private_key_only_its_owner_reads_and_refuses_to_overwrite(invoke, tmp_path):
    pub = keygen(invoke, tmp_path / "acme")
    assert stat.S_IMODE(os.stat(tmp_path / "acme").st_mode) == 0o600
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = (tmp_path / "acme").read_bytes()
    again = invoke("signature", "keygen", str(tmp_path / "acme"))
    assert again.exit_code == 2 and "already exists" in again.output
    assert (tmp_path / "acme").read_bytes() == before
    assert invoke("signature", "keygen", str(tmp_path / "acme"), "--force").exit_code == 0
    assert (tmp_path / "acme").read_bytes() != before


def test_a_signed_bundle_verifies_with_the_trusted_key_and_not_with_another(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    digest = pushed(invoke, SAMPLE, ref)
    pub = keygen(invoke, tmp_path / "acme")
    other = keygen(invoke, tmp_path / "other")
    signed = invoke("signature", "sign", ref, "--key", str(tmp_path / "acme"), "--plain-http")
    assert signed.exit_code == 0, signed.output
    assert f"tag {fallback_tag(digest)}" in signed.output  # distribution 2.8 has no referrers API
    ok = invoke("signature", "verify", ref, "--trusted-key", str(pub), "--plain-http")
    assert ok.exit_code == 0 and "valid signature by trusted key sha256:" in ok.output
    untrusted = invoke("signature", "verify", ref, "--trusted-key", str(other), "--plain-http")
    assert untrusted.exit_code == 1 and "PK931" in untrusted.output
    both = invoke("signature", "verify", ref, "--trusted-key", str(other), "--trusted-key", str(pub), "--plain-http",
                  "--format", "json")
    assert both.exit_code == 0 and json.loads(both.output)["verified"] is True
    # signing again with the same key adds nothing; the version tag list stays clean
    assert "already signed" in invoke("signature", "sign", ref, "--key", str(tmp_path / "acme"), "--plain-http").output
    assert invoke("tags", registry.ref("acme/olm"), "--plain-http").output.splitlines() == ["1.0.0"]


def test_key_rotation_a_second_signature_by_the_new_key_verifies_with_either(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    pushed(invoke, SAMPLE, ref)
    old, new = keygen(invoke, tmp_path / "old"), keygen(invoke, tmp_path / "new")
    for key in ("old", "new"):
        assert invoke("signature", "sign", ref, "--key", str(tmp_path / key), "--plain-http").exit_code == 0
    for pub in (old, new):
        result = invoke("signature", "verify", ref, "--trusted-key", str(pub), "--plain-http", "--format", "json")
        assert result.exit_code == 0
        statuses = sorted(s["status"] for s in json.loads(result.output)["signatures"])
        assert statuses == ["untrusted", "valid"]


def test_pull_and_import_with_require_signature_refuse_unsigned_bundles_before_writing(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    pushed(invoke, SAMPLE, ref)
    pub = keygen(invoke, tmp_path / "acme")
    pulled = invoke("pull", ref, "-o", str(tmp_path / "out"), "--plain-http", "--require-signature",
                    "--trusted-key", str(pub))
    assert pulled.exit_code == 1 and "PK930" in pulled.output and "no signature" in pulled.output
    assert not (tmp_path / "out").exists()
    db = tmp_path / "ws.db"
    imported = invoke("import", ref, "-t", str(db), "--yes", "--plain-http", "--require-signature",
                      "--trusted-key", str(pub))
    assert imported.exit_code == 1 and "PK930" in imported.output
    assert not db.exists()
    local = invoke("import", str(SAMPLE), "-t", str(db), "--yes", "--require-signature", "--trusted-key", str(pub))
    assert local.exit_code == 2 and "only a bundle read from a registry" in local.output
    assert not db.exists()


def test_import_with_require_signature_accepts_a_bundle_the_trusted_key_signed(registry, invoke, tmp_path,
                                                                                 monkeypatch):
    ref = registry.ref("acme/olm:1.0.0")
    pushed(invoke, SAMPLE, ref)
    pub = keygen(invoke, tmp_path / "acme")
    assert invoke("signature", "sign", ref, "--key", str(tmp_path / "acme"), "--plain-http").exit_code == 0
    db = str(tmp_path / "ws.db")
    invoke("workspace", "init", "--crm", "salesforce", "-t", db)
    # the workspace-wide form: environment variables instead of flags
    monkeypatch.setenv("PROGRAMKIT_REQUIRE_SIGNATURE", "1")
    monkeypatch.setenv("PROGRAMKIT_TRUSTED_KEYS", str(pub))
    imported = invoke("import", ref, "-t", db, "--yes", "--plain-http")
    assert imported.exit_code == 0, imported.output
    pulled = invoke("pull", ref, "-o", str(tmp_path / "out"), "--plain-http")
    assert pulled.exit_code == 0 and "signed by trusted key sha256:" in pulled.output


def test_a_signature_over_other_content_is_refused(registry, invoke, tmp_path, sample_copy):
    """A's signature manifest re-pointed at B (its payload still names A): never accepted for B."""
    ref_a = registry.ref("acme/olm:1.0.0")
    digest_a = pushed(invoke, SAMPLE, ref_a)
    edit_json(sample_copy / "bundle.json", lambda m: m.update(version="1.1.0"))
    ref_b = registry.ref("acme/olm:1.1.0")
    digest_b = pushed(invoke, sample_copy, ref_b)
    pub = keygen(invoke, tmp_path / "acme")
    assert invoke("signature", "sign", ref_a, "--key", str(tmp_path / "acme"), "--plain-http").exit_code == 0
    with RegistryClient(parse_reference(ref_a), plain_http=True) as client:
        index = client.get_manifest(fallback_tag(digest_a))
        sig = client.get_manifest(index.doc["manifests"][0]["digest"])
        forged = dict(sig.doc, subject={"mediaType": MANIFEST_TYPE, "digest": digest_b,
                                        "size": len(client.get_manifest(digest_b).data)})
        body = canonical_json(forged)
        client.put_manifest(sha256_digest(body), body, MANIFEST_TYPE)
        entry = {"mediaType": MANIFEST_TYPE, "digest": sha256_digest(body), "size": len(body),
                 "artifactType": SIGNATURE_ARTIFACT_TYPE}
        client.put_manifest(fallback_tag(digest_b), canonical_json({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]}),
            "application/vnd.oci.image.index.v1+json")
    result = invoke("signature", "verify", ref_b, "--trusted-key", str(pub), "--plain-http")
    assert result.exit_code == 1 and "PK932" in result.output
    assert f"it is over {digest_a}, not over this bundle ({digest_b})" in result.output
    pulled = invoke("pull", ref_b, "-o", str(tmp_path / "b"), "--plain-http", "--require-signature",
                    "--trusted-key", str(pub))
    assert pulled.exit_code == 1 and not (tmp_path / "b").exists()


def test_a_signature_whose_bytes_were_changed_does_not_verify(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    digest = pushed(invoke, SAMPLE, ref)
    pub = keygen(invoke, tmp_path / "acme")
    assert invoke("signature", "sign", ref, "--key", str(tmp_path / "acme"), "--plain-http").exit_code == 0
    with RegistryClient(parse_reference(ref), plain_http=True) as client:
        index = client.get_manifest(fallback_tag(digest))
        sig = client.get_manifest(index.doc["manifests"][0]["digest"])
        layer = sig.doc["layers"][0]
        blob_file = registry.blob_file(layer["digest"])
    doc = json.loads(blob_file.read_bytes())
    raw = bytearray(base64.b64decode(doc["signature"]))
    raw[0] ^= 1
    forged = dict(doc, signature=base64.b64encode(bytes(raw)).decode())
    # a valid blob in its own right (its digest matches), attached in a new signature manifest
    with RegistryClient(parse_reference(ref), plain_http=True) as client:
        blob = canonical_json(forged)
        client.upload_blob(blob, sha256_digest(blob))
        manifest = dict(sig.doc, layers=[dict(layer, digest=sha256_digest(blob), size=len(blob))])
        body = canonical_json(manifest)
        client.put_manifest(sha256_digest(body), body, MANIFEST_TYPE)
        client.put_manifest(fallback_tag(digest), canonical_json({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": MANIFEST_TYPE, "digest": sha256_digest(body), "size": len(body),
                           "artifactType": SIGNATURE_ARTIFACT_TYPE}]}), "application/vnd.oci.image.index.v1+json")
    result = invoke("signature", "verify", ref, "--trusted-key", str(pub), "--plain-http")
    assert result.exit_code == 1 and "PK932" in result.output and "does not verify with key" in result.output


def test_key_files_that_are_not_ed25519_pem_are_refused_clearly(invoke, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    keygen(invoke, tmp_path / "acme")
    rsa_like = tmp_path / "ec.pem"
    rsa_like.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "junk.pub").write_text("not a key")
    ref = "oci://127.0.0.1:1/acme/olm:1.0.0"  # never reached: keys are read first
    wrong_kind = invoke("signature", "sign", ref, "--key", str(rsa_like), "--plain-http")
    assert wrong_kind.exit_code == 2 and "PK933" in wrong_kind.output and "not Ed25519" in wrong_kind.output
    junk = invoke("signature", "verify", ref, "--trusted-key", str(tmp_path / "junk.pub"), "--plain-http")
    assert junk.exit_code == 2 and "not an Ed25519 public key in PEM" in junk.output
    private = invoke("signature", "verify", ref, "--trusted-key", str(tmp_path / "acme"), "--plain-http")
    assert private.exit_code == 2 and "this is a private key: trust its .pub" in private.output
    missing = invoke("signature", "verify", ref, "--trusted-key", str(tmp_path / "nope.pub"), "--plain-http")
    assert missing.exit_code == 2 and "PK413" in missing.output
