"""Fixtures for tests against the stand-in Marketo server (tests/fake_marketo.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_marketo import FakeMarketo  # noqa: E402

from programkit.workspaces.marketo_client import Limits, MarketoClient  # noqa: E402

CLIENT_ID = "pk-test-client"
#: distinctive so a grep of every output and file can prove it never leaks
SECRET = "s3cr3t-7f2c9e-never-print-me"
#: Marketo's ratio (100 calls / 20 s) scaled down so tests run fast
FAST = Limits(calls=50, window=1.0, concurrent=10, retries=8, backoff=0.01, max_backoff=0.2, timeout=10)


@pytest.fixture
def fake() -> Iterator[FakeMarketo]:
    server = FakeMarketo(CLIENT_ID, SECRET, rate_limit=50, rate_window=1.0, max_concurrent=10)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(fake: FakeMarketo) -> MarketoClient:
    return MarketoClient(fake.url, CLIENT_ID, SECRET, FAST)


@pytest.fixture
def marketo_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETO_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("MARKETO_CLIENT_SECRET", SECRET)
