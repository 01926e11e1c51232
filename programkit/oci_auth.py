"""Registry credentials, found where a user already keeps them. Never written anywhere, never printed.

Looked for in this order, first found wins:

1. ``--username`` with ``--password-stdin`` (the command line);
2. ``PROGRAMKIT_REGISTRY_USERNAME`` and ``PROGRAMKIT_REGISTRY_PASSWORD`` (the environment);
3. the Docker credentials file (``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``):
   ``credHelpers`` for this registry, else ``credsStore``, else the ``auths`` entry
   (what ``docker login`` writes).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from . import registry_findings  # noqa: F401  (registers the PK92x/PK93x codes)
from .findings import make
from .oci import Credentials, RegistryInputError

USER_ENV, PASSWORD_ENV = "PROGRAMKIT_REGISTRY_USERNAME", "PROGRAMKIT_REGISTRY_PASSWORD"
HELPER_TIMEOUT = 30


def _error(message: str) -> RegistryInputError:
    return RegistryInputError(message, [make("PK934", message)])


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _normalise(server: str) -> str:
    """A config key as a registry host[:port]: 'https://host:5000/v1/' → 'host:5000'."""
    s = server.strip()
    for prefix in ("https://", "http://"):
        if s.lower().startswith(prefix):
            s = s[len(prefix):]
    return s.split("/", 1)[0].lower()


def resolve_credentials(registry: str, username: str | None = None, password: str | None = None) -> Credentials | None:
    """The credentials for ``registry`` (host[:port]), or None to try without any."""
    if username is not None:
        if password is None:
            raise RegistryInputError("--username needs --password-stdin (the password read from standard input)")
        return Credentials(username, password, "--username")
    env_user, env_password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if env_user and env_password is not None:
        return Credentials(env_user, env_password, f"${USER_ENV}")
    return from_docker_config(registry)


def from_docker_config(registry: str) -> Credentials | None:
    path = docker_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise _error(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    try:
        config = json.loads(text)
    except ValueError as e:
        raise _error(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict):
        raise _error(f"{path}: not a JSON object")
    want = registry.lower()
    helpers = h if isinstance(h := config.get("credHelpers"), dict) else {}
    for server, helper in helpers.items():
        if _normalise(server) == want and isinstance(helper, str) and helper:
            return run_helper(helper, server, path)
    auths = a if isinstance(a := config.get("auths"), dict) else {}
    if isinstance(config.get("credsStore"), str) and config["credsStore"]:
        found = run_helper(config["credsStore"], _server_key(auths, want) or registry, path)
        if found is not None:
            return found
    key = _server_key(auths, want)
    return _from_auths_entry(auths[key], key, path) if key is not None else None


def _server_key(auths: dict[str, Any], want: str) -> str | None:
    return next((k for k in auths if _normalise(k) == want), None)


def _from_auths_entry(entry: Any, key: str, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    source = f"{path} (auths {key})"
    if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
        return Credentials("<token>", entry["identitytoken"], source)
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, sep, password = base64.b64decode(entry["auth"], validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _error(f"{path}: the auth entry for {key} is not base64 of user:password") from None
        if not sep:
            raise _error(f"{path}: the auth entry for {key} is not base64 of user:password")
        return Credentials(user, password, source)
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"], source)
    return None


def run_helper(helper: str, server: str, config: Path) -> Credentials | None:
    """``docker-credential-HELPER get`` with the server on standard input (the Docker credential helper
    protocol); None when the helper has nothing for this server."""
    name = f"docker-credential-{helper}"
    exe = shutil.which(name)
    if exe is None:
        raise _error(f"{config} names the credential helper {helper!r}, but {name} is not on PATH")
    try:
        done = subprocess.run([exe, "get"], input=server.encode("utf-8"), capture_output=True,
                              timeout=HELPER_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise _error(f"{name}: gave no answer in {HELPER_TIMEOUT} s") from None
    except OSError as e:
        raise _error(f"{name}: cannot run ({e.strerror or e})") from None
    out = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0:
        if "credentials not found" in (out + done.stderr.decode("utf-8", "replace")).lower():
            return None
        # the helper's own output may hold a secret: say only that it failed
        raise _error(f"{name}: exited with status {done.returncode}")
    try:
        answer = json.loads(out)
    except ValueError:
        raise _error(f"{name}: did not answer with JSON") from None
    if not (isinstance(answer, dict) and isinstance(answer.get("Username"), str)
            and isinstance(answer.get("Secret"), str)):
        raise _error(f"{name}: its answer has no Username and Secret")
    return Credentials(answer["Username"], answer["Secret"], f"credential helper {name}")
