"""A real OCI registry for tests: Debian's docker-registry (the CNCF distribution registry) on 127.0.0.1.

Each :class:`LocalRegistry` runs its own process on a free port with its own storage folder, optionally with
HTTP basic auth (htpasswd, bcrypt). Missing binary: the test fails when CI is set, else it is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

BINARY = "docker-registry"
START_TIMEOUT = 20.0  # seconds a registry may take to answer /v2/
USER, PASSWORD = "alice", "pk-registry-secret-3d1f"


def registry_binary() -> str:
    found = shutil.which(BINARY) or ("/usr/bin/docker-registry" if os.path.exists("/usr/bin/docker-registry") else None)
    if found is None:
        message = ("docker-registry is not installed (Debian package docker-registry; `sh .ci/system-packages` "
                   "installs it)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    def __init__(self, root: Path, *, auth: bool = False):
        self.root = root
        self.storage = root / "storage"
        self.auth = auth
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def ref(self, rest: str) -> str:
        return f"oci://{self.host}/{rest}"

    def _config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(exist_ok=True)
        auth = ""
        if self.auth:
            import bcrypt

            htpasswd = self.root / "htpasswd"
            hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd.write_text(f"{USER}:{hashed}\n")
            auth = f"auth:\n  htpasswd:\n    realm: programkit-test\n    path: {htpasswd}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n  secret: programkit-test-secret\n" + auth)
        return config

    def start(self) -> "LocalRegistry":
        binary = registry_binary()
        self.port = self.port or free_port()
        config = self._config()
        log = open(self.root / "registry.log", "ab")
        self.process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited ({self.process.returncode}): "
                                   f"{(self.root / 'registry.log').read_text(errors='replace')[-2000:]}")
            try:
                r = httpx.get(f"http://{self.host}/v2/", timeout=1.0)
                if r.status_code in (200, 401):
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not answer on {self.host} within {START_TIMEOUT} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def blob_file(self, digest: str) -> Path:
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def http(self) -> httpx.Client:
        auth = (USER, PASSWORD) if self.auth else None
        return httpx.Client(base_url=f"http://{self.host}/v2/", auth=auth, timeout=10.0,
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                                               "application/vnd.oci.image.index.v1+json"})


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    reg = LocalRegistry(tmp_path / "registry").start()
    yield reg
    reg.stop()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    reg = LocalRegistry(tmp_path / "auth-registry", auth=True).start()
    yield reg
    reg.stop()


@pytest.fixture(autouse=True)
def clean_registry_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials or settings from the machine running the tests: an empty Docker config, no env."""
    for name in ("PROGRAMKIT_REGISTRY_USERNAME", "PROGRAMKIT_REGISTRY_PASSWORD", "PROGRAMKIT_REGISTRY_PLAIN_HTTP",
                 "PROGRAMKIT_REQUIRE_SIGNATURE", "PROGRAMKIT_TRUSTED_KEYS", "PROGRAMKIT_INSECURE_REGISTRIES",
                 "SOURCE_DATE_EPOCH"):
        monkeypatch.delenv(name, raising=False)
    docker = tmp_path / "docker-config"
    docker.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(docker))
