"""push, pull, tags and oci:// everywhere, against a real distribution registry on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import SAMPLE, edit_json  # noqa: E402
from registry_support import PASSWORD, USER, auth_registry, clean_registry_env, registry  # noqa: E402,F401

from programkit import registry as reg  # noqa: E402
from programkit.archive import pack  # noqa: E402
from programkit.oci import RegistryClient  # noqa: E402


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def push_ok(invoke, bundle, ref, *extra):
    result = invoke("push", str(bundle), ref, "--plain-http", *extra)
    assert result.exit_code == 0, result.output
    return result


def digest_of(invoke, bundle, ref):
    out = invoke("push", str(bundle), ref, "--plain-http", "--format", "json")
    assert out.exit_code == 0, out.output
    return json.loads(out.output)["digest"]


def test_push_then_pull_by_tag_gives_the_same_files_and_by_digest_the_same_archive_bytes(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm")
    result = push_ok(invoke, SAMPLE, ref)
    assert f"pushed {ref}:1.0.0" in result.output  # the tag is the bundle's version
    digest = result.output.split("digest ")[1].split()[0]

    pulled = invoke("pull", f"{ref}:1.0.0", "-o", str(tmp_path / "got"), "--plain-http")
    assert pulled.exit_code == 0, pulled.output
    assert files_of(tmp_path / "got") == files_of(SAMPLE)

    by_digest = invoke("pull", f"{ref}@{digest}", "-o", str(tmp_path / "got.zip"), "--plain-http")
    assert by_digest.exit_code == 0, by_digest.output
    local = pack(SAMPLE, tmp_path / "local.zip")
    assert (tmp_path / "got.zip").read_bytes() == (tmp_path / "local.zip").read_bytes()
    assert f"sha256:{local.sha256}" in registry.http().get(f"acme/olm/manifests/{digest}").text


def test_the_same_bundle_pushed_twice_or_from_another_zip_has_the_same_digest(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm")
    first = digest_of(invoke, SAMPLE, ref)
    again = invoke("push", str(SAMPLE), ref, "--plain-http")
    assert again.exit_code == 0 and "already holds this bundle; nothing was pushed" in again.output
    # the same bundle zipped by hand (another order, other dates, under a top folder) is packed the same way
    handmade = tmp_path / "hand.zip"
    with zipfile.ZipFile(handmade, "w") as zf:
        for path in sorted(SAMPLE.rglob("*"), reverse=True):
            if path.is_file():
                zf.write(path, "op-lead-management/" + path.relative_to(SAMPLE).as_posix())
    assert digest_of(invoke, handmade, registry.ref("acme/other")) == first


def test_the_manifest_is_a_programkit_artifact_annotated_from_bundle_json_and_never_from_the_clock(
        registry, invoke, monkeypatch):
    push_ok(invoke, SAMPLE, registry.ref("acme/olm"))
    m = registry.http().get("acme/olm/manifests/1.0.0",
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()
    assert m["artifactType"] == "application/vnd.programkit.bundle.v1"
    assert m["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    assert [layer["mediaType"] for layer in m["layers"]] == ["application/vnd.programkit.bundle.v1+zip"]
    assert m["layers"][0]["annotations"] == {"org.opencontainers.image.title": "op-lead-management-1.0.0.zip"}
    a = m["annotations"]
    assert a["org.opencontainers.image.title"] == "op-lead-management"
    assert a["org.opencontainers.image.version"] == "1.0.0"
    assert a["org.opencontainers.image.description"].startswith("Marketo's best-practice operational")
    assert a["dev.programkit.program.name"] == "OP-Lead Management"
    assert a["dev.programkit.program.type"] == "default"
    assert "org.opencontainers.image.created" not in a
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    push_ok(invoke, SAMPLE, registry.ref("acme/dated"))
    dated = registry.http().get("acme/dated/manifests/1.0.0",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).json()
    assert dated["annotations"]["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"


def test_a_tag_holding_other_content_is_refused_and_force_moves_it(registry, invoke, sample_copy):
    ref = registry.ref("acme/olm")
    original = digest_of(invoke, SAMPLE, ref)
    edit_json(sample_copy / "bundle.json", lambda m: m.update(description="edited, same version"))
    refused = invoke("push", str(sample_copy), ref, "--plain-http")
    assert refused.exit_code == 2
    assert "PK926" in refused.output and f"points to {original}" in refused.output
    with RegistryClient(reg.parse_reference(ref), plain_http=True) as client:
        assert client.manifest_digest("1.0.0") == original
    moved = invoke("push", str(sample_copy), ref, "--plain-http", "--force")
    assert moved.exit_code == 0 and f"moved the tag from {original}" in moved.output
    with RegistryClient(reg.parse_reference(ref), plain_http=True) as client:
        assert client.manifest_digest("1.0.0") not in (None, original)


def test_a_bundle_with_errors_is_not_pushed(registry, invoke, sample_copy):
    (sample_copy / "emails" / "01-email-alert-mql.json").write_text("{ broken")
    result = invoke("push", str(sample_copy), registry.ref("acme/olm"), "--plain-http")
    assert result.exit_code == 1 and "PK101" in result.output
    assert registry.http().get("acme/olm/tags/list").status_code == 404


def test_tags_lists_versions_newest_first_in_semver_order(registry, invoke, sample_copy):
    ref = registry.ref("acme/olm")
    for version in ("1.0.0", "1.10.0", "1.2.0", "2.0.0-rc.1", "1.2.0+build.7"):
        edit_json(sample_copy / "bundle.json", lambda m: m.update(version=version))
        push_ok(invoke, sample_copy, ref)
    push_ok(invoke, sample_copy, ref + ":latest")
    result = invoke("tags", ref, "--plain-http")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["2.0.0-rc.1", "1.10.0", "1.2.0_build.7", "1.2.0", "1.0.0",
                                          "other tags: latest"]


def test_import_from_a_reference_records_the_reference_and_its_digest(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm")
    digest = digest_of(invoke, SAMPLE, ref)
    db = str(tmp_path / "ws.db")
    assert invoke("workspace", "init", "--crm", "salesforce", "-t", db).exit_code == 0
    imported = invoke("import", f"{ref}:1.0.0", "-t", db, "--yes", "--plain-http")
    assert imported.exit_code == 0, imported.output
    assert "Imported op-lead-management 1.0.0" in imported.output
    history = invoke("history", "-t", db, "--format", "json")
    rows = json.loads(history.output)
    assert rows[0]["source"] == {"reference": f"{ref}:1.0.0", "digest": digest}
    text = invoke("history", "-t", db).output
    assert f"from {ref}:1.0.0 ({digest})" in text
    again = invoke("import", f"{ref}@{digest}", "-t", db, "--yes", "--plain-http")
    assert again.exit_code == 0 and "nothing else was written" in again.output


def test_a_plan_saved_from_a_reference_is_applied_from_it(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    digest = digest_of(invoke, SAMPLE, ref)
    db, plan = str(tmp_path / "ws.db"), str(tmp_path / "plan.json")
    invoke("workspace", "init", "--crm", "salesforce", "-t", db)
    assert invoke("plan", ref, "-t", db, "--out", plan, "--plain-http").exit_code == 0
    applied = invoke("import", ref, "-t", db, "--plan", plan, "--yes", "--plain-http")
    assert applied.exit_code == 0, applied.output
    assert json.loads(invoke("history", "-t", db, "-f", "json").output)[0]["source"]["digest"] == digest


def test_username_without_password_stdin_is_refused_as_usage(registry, invoke):
    result = invoke("tags", registry.ref("acme/olm"), "--plain-http", "--username", "bob")
    assert result.exit_code == 2 and "--username needs --password-stdin" in result.output


def test_validate_inspect_plan_and_simulate_read_a_reference(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm") + ":1.0.0"
    digest = digest_of(invoke, SAMPLE, ref)
    validated = invoke("validate", ref, "--plain-http")
    assert validated.exit_code == 0 and "ok (0 errors, 0 warnings)" in validated.output
    by_env = invoke("validate", ref, env={"PROGRAMKIT_REGISTRY_PLAIN_HTTP": "1"})
    assert by_env.exit_code == 0, by_env.output
    inspected = json.loads(invoke("inspect", ref, "--plain-http", "--format", "json").output)
    assert inspected["source"] == "registry" and inspected["archive"]["registryDigest"] == digest
    db = str(tmp_path / "ws.db")
    invoke("workspace", "init", "--crm", "salesforce", "-t", db)
    planned = invoke("plan", ref, "-t", db, "--plain-http")
    assert planned.exit_code == 0 and "Plan: 12 create." in planned.output
    simulated = invoke("simulate", ref, "--plain-http", "--format", "json")
    local = invoke("simulate", str(SAMPLE), "--format", "json")
    assert simulated.exit_code == local.exit_code == 0
    assert simulated.output == local.output


def test_inspect_html_of_a_reference_fetches_it_once(registry, invoke, tmp_path, monkeypatch):
    import programkit.registry_source

    ref = registry.ref("acme/olm") + ":1.0.0"
    digest = digest_of(invoke, SAMPLE, ref)
    fetched: list[str] = []
    real = programkit.registry_source.open_reference

    def counting(reference, *args, **kwargs):
        fetched.append(reference)
        return real(reference, *args, **kwargs)

    monkeypatch.setattr(programkit.registry_source, "open_reference", counting)  # what load calls for oci://
    report = tmp_path / "inspect.html"
    inspected = invoke("inspect", ref, "--plain-http", "--html", str(report))
    assert inspected.exit_code == 0, inspected.output
    assert fetched == [ref]  # the text and the report from one pull (was three)
    assert digest in inspected.stdout  # the registry digest it resolved to, in the text
    assert "op-lead-management" in report.read_text(encoding="utf-8")


def test_a_missing_tag_or_repository_is_a_clear_error(registry, invoke, tmp_path):
    push_ok(invoke, SAMPLE, registry.ref("acme/olm"))
    missing = invoke("pull", registry.ref("acme/olm:9.9.9"), "-o", str(tmp_path / "x"), "--plain-http")
    assert missing.exit_code == 2 and "PK923" in missing.output and "not found (MANIFEST_UNKNOWN)" in missing.output
    nothing = invoke("validate", registry.ref("acme/nothing:1.0.0"), "--plain-http")
    assert nothing.exit_code == 2 and "PK923" in nothing.output
    assert not (tmp_path / "x").exists()


def test_https_is_the_default_and_plain_http_is_refused_beyond_this_machine(registry, invoke, tmp_path):
    over_tls = invoke("pull", registry.ref("acme/olm:1.0.0"), "-o", str(tmp_path / "x"))
    assert over_tls.exit_code == 2 and "PK921" in over_tls.output  # the test registry speaks HTTP only
    far = invoke("pull", "oci://registry.example.com/acme/olm:1.0.0", "-o", str(tmp_path / "x"), "--plain-http")
    assert far.exit_code == 2 and "PK928" in far.output
    assert not (tmp_path / "x").exists()


# --- auth -------------------------------------------------------------------------------------------------


def test_a_registry_with_basic_auth_wants_credentials_and_refuses_wrong_ones(auth_registry, invoke, runner, tmp_path):
    from programkit.cli import cli

    ref = auth_registry.ref("acme/olm")
    none = invoke("push", str(SAMPLE), ref, "--plain-http")
    assert none.exit_code == 2 and "needs credentials and none were found" in none.output
    wrong = runner.invoke(cli, ["push", str(SAMPLE), ref, "--plain-http", "--username", USER, "--password-stdin"],
                          input="not-the-password\n")
    assert wrong.exit_code == 2 and "refused the credentials (from --username)" in wrong.output
    assert "not-the-password" not in wrong.output
    right = runner.invoke(cli, ["push", str(SAMPLE), ref, "--plain-http", "--username", USER, "--password-stdin"],
                          input=PASSWORD + "\n")
    assert right.exit_code == 0, right.output
    assert PASSWORD not in right.output


def test_credentials_come_from_the_environment(auth_registry, invoke, monkeypatch, tmp_path):
    monkeypatch.setenv("PROGRAMKIT_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("PROGRAMKIT_REGISTRY_PASSWORD", PASSWORD)
    push_ok(invoke, SAMPLE, auth_registry.ref("acme/olm"))
    result = invoke("validate", auth_registry.ref("acme/olm:1.0.0"), "--plain-http")
    assert result.exit_code == 0 and PASSWORD not in result.output
    db = tmp_path / "ws.db"
    invoke("workspace", "init", "--crm", "salesforce", "-t", str(db))
    imported = invoke("import", auth_registry.ref("acme/olm:1.0.0"), "-t", str(db), "--yes", "--plain-http")
    assert imported.exit_code == 0, imported.output
    history = invoke("history", "-t", str(db), "-f", "json").output
    # never stored: not in the workspace (history, plan, provenance), not in what history prints
    assert all(PASSWORD.encode() not in f.read_bytes() for f in tmp_path.glob("ws.db*"))
    assert PASSWORD not in history and USER not in history


def test_credentials_come_from_the_docker_config_file(auth_registry, invoke, tmp_path):
    import base64

    config = Path(os.environ["DOCKER_CONFIG"]) / "config.json"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    config.write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    push_ok(invoke, SAMPLE, auth_registry.ref("acme/olm"))
    config.write_text(json.dumps({"auths": {f"http://{auth_registry.host}": {"username": USER, "password": "nope"}}}))
    refused = invoke("tags", auth_registry.ref("acme/olm"), "--plain-http")
    assert refused.exit_code == 2 and f"refused the credentials (from {config}" in refused.output


def test_credentials_come_from_a_docker_credential_helper(auth_registry, invoke, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-pktest"
    asked = tmp_path / "asked"
    helper.write_text("#!/bin/sh\n"
                      f'[ "$1" = get ] || exit 1\ncat > {asked}\n'
                      f"printf '%s' '{{\"ServerURL\":\"x\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}'\n")
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    (Path(os.environ["DOCKER_CONFIG"]) / "config.json").write_text(
        json.dumps({"credHelpers": {auth_registry.host: "pktest"}}))
    result = invoke("push", str(SAMPLE), auth_registry.ref("acme/olm"), "--plain-http")
    assert result.exit_code == 0, result.output
    assert asked.read_text() == auth_registry.host
    assert PASSWORD not in result.output


# --- failures: a registry that goes away, tampered storage -----------------------------------------------


def test_a_registry_that_goes_away_mid_push_is_a_clear_error_and_leaves_nothing(registry, invoke, monkeypatch,
                                                                                 tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    original = RegistryClient.put_manifest

    def stop_first(self, *args, **kw):
        registry.stop()  # the blobs are up; the manifest never arrives
        return original(self, *args, **kw)

    monkeypatch.setattr(RegistryClient, "put_manifest", stop_first)
    cwd_before = sorted(os.listdir("."))
    result = invoke("push", str(SAMPLE), registry.ref("acme/olm"), "--plain-http")
    assert result.exit_code == 2
    assert "PK921" in result.output and f"cannot reach {registry.host}" in result.output
    assert "Traceback" not in result.output
    assert list(scratch.iterdir()) == [] and sorted(os.listdir(".")) == cwd_before
    monkeypatch.undo()
    registry.start()  # same port, same storage: no tag was made
    tags = invoke("tags", registry.ref("acme/olm"), "--plain-http")
    assert tags.output.strip() in ("no tags in " + registry.ref("acme/olm"), "") or "PK923" in tags.output


def test_a_registry_that_goes_away_mid_pull_or_import_writes_nothing(registry, invoke, monkeypatch, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    push_ok(invoke, SAMPLE, ref)
    original = RegistryClient.download_blob

    def stop_first(self, *args, **kw):
        registry.stop()
        return original(self, *args, **kw)

    monkeypatch.setattr(RegistryClient, "download_blob", stop_first)
    pulled = invoke("pull", ref, "-o", str(tmp_path / "out"), "--plain-http")
    assert pulled.exit_code == 2 and "PK921" in pulled.output
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    imported = invoke("import", ref, "-t", str(tmp_path / "ws.db"), "--yes", "--plain-http")
    assert imported.exit_code == 2 and "PK921" in imported.output
    assert not (tmp_path / "ws.db").exists()


def test_a_tampered_blob_in_the_registry_is_refused_and_nothing_is_written(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    push_ok(invoke, SAMPLE, ref)
    layer = json.loads(registry.http().get("acme/olm/manifests/1.0.0", headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json"}).text)["layers"][0]
    blob = registry.blob_file(layer["digest"])
    data = bytearray(blob.read_bytes())
    data[-30] ^= 0xFF  # same size, one byte changed
    blob.write_bytes(bytes(data))
    pulled = invoke("pull", ref, "-o", str(tmp_path / "out"), "--plain-http")
    assert pulled.exit_code == 1 and "PK924" in pulled.output and layer["digest"] in pulled.output
    assert not (tmp_path / "out").exists()
    archive = invoke("pull", ref, "-o", str(tmp_path / "out.zip"), "--plain-http")
    assert archive.exit_code == 1 and not (tmp_path / "out.zip").exists()
    db = tmp_path / "ws.db"
    invoke("workspace", "init", "--crm", "salesforce", "-t", str(db))
    before = db.read_bytes()
    imported = invoke("import", ref, "-t", str(db), "--yes", "--plain-http")
    assert imported.exit_code == 1 and "PK924" in imported.output
    assert db.read_bytes() == before


def test_pull_refuses_an_existing_output_without_force(registry, invoke, tmp_path):
    ref = registry.ref("acme/olm:1.0.0")
    push_ok(invoke, SAMPLE, ref)
    (tmp_path / "out.zip").write_bytes(b"mine")
    refused = invoke("pull", ref, "-o", str(tmp_path / "out.zip"), "--plain-http")
    assert refused.exit_code == 2 and (tmp_path / "out.zip").read_bytes() == b"mine"
    forced = invoke("pull", ref, "-o", str(tmp_path / "out.zip"), "--plain-http", "--force")
    assert forced.exit_code == 0 and zipfile.is_zipfile(tmp_path / "out.zip")


def test_an_artifact_that_is_not_a_bundle_is_refused(registry, invoke, tmp_path):
    http = registry.http()
    empty = b"{}"
    import hashlib

    digest = "sha256:" + hashlib.sha256(empty).hexdigest()
    up = http.post("other/thing/blobs/uploads/")
    http.put(up.headers["location"] + f"&digest={digest}", content=empty)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.example.config.v1+json", "digest": digest, "size": 2},
                "layers": []}
    put = http.put("other/thing/manifests/1.0.0", content=json.dumps(manifest),
                   headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert put.status_code == 201
    result = invoke("pull", registry.ref("other/thing:1.0.0"), "-o", str(tmp_path / "out"), "--plain-http")
    assert result.exit_code == 1 and "PK925" in result.output
    assert "application/vnd.example.config.v1+json is not a programkit bundle" in result.output
    assert not (tmp_path / "out").exists()
    validated = invoke("validate", registry.ref("other/thing:1.0.0"), "--plain-http")
    assert validated.exit_code == 2 and "PK925" in validated.output  # validate: a PATH that is not a bundle


def test_the_console_script_pushes_and_pulls_in_a_real_process(registry, tmp_path):
    exe = shutil.which("programkit", path=str(Path(sys.executable).parent)) or shutil.which("programkit")
    assert exe, "the programkit console script is installed with the package"
    env = dict(os.environ, NO_COLOR="1")
    ref = registry.ref("acme/olm")
    pushed = subprocess.run([exe, "push", str(SAMPLE), ref, "--plain-http"], capture_output=True, text=True,
                            timeout=120, env=env)
    assert pushed.returncode == 0, pushed.stderr
    pulled = subprocess.run([exe, "pull", ref, "-o", str(tmp_path / "got"), "--plain-http"], capture_output=True,
                            text=True, timeout=120, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert f"pulled {ref}:1.0.0@sha256:" in pulled.stdout  # no tag given: the newest version
    assert files_of(tmp_path / "got") == files_of(SAMPLE)
    bad = subprocess.run([exe, "pull", "oci://127.0.0.1/Acme", "-o", str(tmp_path / "x")], capture_output=True,
                         text=True, timeout=60, env=env)
    assert bad.returncode == 2 and "PK920" in bad.stderr and "must be lower case" in bad.stderr


def test_library_round_trip_without_the_cli(registry, tmp_path):
    options = reg.RegistryOptions(plain_http=True)
    pushed = reg.push(SAMPLE, registry.ref("acme/olm"), options)
    pulled = reg.pull(registry.ref("acme/olm:1.0.0"), tmp_path / "b.zip", options)
    assert pulled.digest == pushed.digest and pulled.kind == "archive"
    assert reg.list_tags(registry.ref("acme/olm"), options).versions == ["1.0.0"]
    from programkit import load_bundle

    with reg.using(options):
        loaded = load_bundle(registry.ref("acme/olm:1.0.0"))
    assert loaded.bundle.manifest["name"] == "op-lead-management"
    assert loaded.bundle.source.origin == {"reference": registry.ref("acme/olm:1.0.0"), "digest": pushed.digest}



def _readme_round_trip() -> tuple[list[str], str]:
    """The commands of the README's registry round trip (continuation lines joined), and the digest it shows."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## Sharing bundles through a registry", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands, pending = [], ""
    for line in section.splitlines():
        line = line.split("  #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not line and not pending:
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            commands.append(pending.strip())
            pending = ""
    digest = section.split("digest ", 1)[1].split()[0]
    return [c for c in commands if c], digest


def test_the_readme_round_trip_runs_as_written(registry, tmp_path):
    """Push the sample, sign it, pull it elsewhere, import from the reference, history shows the digest."""
    import shlex

    exe = shutil.which("programkit", path=str(Path(sys.executable).parent)) or shutil.which("programkit")
    commands, readme_digest = _readme_round_trip()
    assert [shlex.split(c)[1] for c in commands] == ["push", "signature", "signature", "tags", "pull", "import",
                                                     "history"]
    shutil.copytree(SAMPLE, tmp_path / "samples" / "op-lead-management")
    env = dict(os.environ, NO_COLOR="1")
    outputs = []
    for command in commands:
        argv = [exe] + [a.replace("localhost:5000", f"localhost:{registry.port}") for a in shlex.split(command)[1:]]
        cwd = tmp_path / "client" if argv[1] in ("tags", "pull", "import", "history") else tmp_path
        cwd.mkdir(exist_ok=True)
        if argv[1] == "import":  # the client's workspace, as a first import would need its CRM
            argv = [a.replace("acme-signing.pub", str(tmp_path / "acme-signing.pub")) for a in argv]
            subprocess.run([exe, "workspace", "init", "--crm", "salesforce"], cwd=cwd, check=True,
                           capture_output=True, timeout=60, env=env)
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert f"digest {readme_digest}" in outputs[0]  # the README's digest is the sample's real one
    assert outputs[3].strip() == "1.0.0"
    assert files_of(tmp_path / "client" / "olm") == files_of(SAMPLE)
    assert (f"from oci://localhost:{registry.port}/acme/op-lead-management:1.0.0 ({readme_digest})"
            in outputs[-1])


def test_a_missing_registry_binary_fails_in_ci_and_skips_elsewhere(monkeypatch):
    import registry_support

    import _pytest.outcomes

    monkeypatch.setattr(registry_support.shutil, "which", lambda name: None)
    monkeypatch.setattr(registry_support.os.path, "exists", lambda path: False)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(_pytest.outcomes.Failed):
        registry_support.registry_binary()
    monkeypatch.delenv("CI")
    with pytest.raises(_pytest.outcomes.Skipped):
        registry_support.registry_binary()
