"""A small REST client for Marketo Engage: OAuth, limits, retries, paging.

Marketo answers most errors with HTTP 200 and ``success: false`` plus a code;
this client turns that envelope into data or a :class:`MarketoError` carrying
Marketo's code and message (finding PK803), and absorbs the transient ones:

- 601/602 (token invalid/expired): fetch a new token and try again;
- 606 (rate), 615 (concurrency), 604 (timeout), 611 (system error) and HTTP
  5xx: back off exponentially (with jitter) and try again, a bounded number
  of times;
- calls are paced so at most ``Limits.calls`` start in any ``Limits.window``
  seconds, evenly spread (not bursts that trip 606), with at most
  ``Limits.concurrent`` in flight.

Credentials come only from ``MARKETO_CLIENT_ID`` / ``MARKETO_CLIENT_SECRET``.
The secret is sent only to the identity endpoint and never appears in a
message, a repr, a log line or a file this client writes.
"""

from __future__ import annotations

import collections
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlencode, urlsplit

from ...errors import BadInput, ProgramkitError
from ...findings import Severity, make, register_code
from .pacing import TRANSIENT_CODES, Limits, RateLimiter

ENV_CLIENT_ID = "MARKETO_CLIENT_ID"
ENV_CLIENT_SECRET = "MARKETO_CLIENT_SECRET"
#: Marketo's daily API quota (per subscription), shown in cost estimates.
DAILY_QUOTA = 50_000
#: Codes that mean "get a new token": missing (600), invalid (601), expired (602).
TOKEN_CODES = frozenset({"600", "601", "602"})

_GROUP = "marketo"
register_code("PK801", "marketo-credentials-missing", Severity.ERROR,
              "The Marketo target needs API credentials from the environment.",
              hint="Set MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (Admin > Integration > LaunchPoint > "
                   "View Details); credentials are never read from a flag.",
              example="MARKETO_CLIENT_SECRET is not set", group=_GROUP)
register_code("PK802", "marketo-auth-failed", Severity.ERROR,
              "Marketo's identity service refused the client credentials.",
              hint="Check the client id and secret of the LaunchPoint custom service and that its API user is "
                   "active.",
              example="Marketo refused the client credentials (HTTP 401: Bad client credentials)", group=_GROUP)
register_code("PK803", "marketo-request-failed", Severity.ERROR,
              "A Marketo API call answered success:false; the message carries Marketo's code and message.",
              hint="See Marketo's error code list; 709 is a business rule (e.g. a name already in use), "
                   "610/702 not found, 603 access denied (check the API role's permissions).",
              example="Marketo 709 on POST /rest/asset/v1/emailTemplates.json: Asset name is already in use",
              group=_GROUP)
register_code("PK804", "marketo-retries-exhausted", Severity.ERROR,
              "A Marketo call kept failing with a transient error after every retry.",
              hint="Marketo is rate-limiting or unavailable; wait and run the command again (a failed import "
                   "can be resumed with --resume).",
              example="Marketo 606 on GET /rest/asset/v1/programs.json: still failing after 8 retries",
              group=_GROUP)
register_code("PK805", "marketo-unreachable", Severity.ERROR,
              "The Marketo instance could not be reached.",
              hint="Check the target URL (https://<munchkin id>.mktorest.com) and the network.",
              example="cannot reach https://123-ABC-456.mktorest.com: connection refused", group=_GROUP)


class MarketoError(ProgramkitError):
    """A failed Marketo call; ``marketo_code`` is Marketo's own code (e.g. "709") when it gave one."""

    def __init__(self, message: str, *, code: str = "PK803", marketo_code: str | None = None,
                 path: str | None = None):
        super().__init__(message, [make(code, message)])
        self.marketo_code = marketo_code
        self.path = path


def _encode_form(data: Mapping[str, Any]) -> dict[str, str]:
    """Marketo's form bodies: nested objects (folder, tags, costs) as JSON text, booleans lower-case."""
    out = {}
    for k, v in data.items():
        if v is None:
            continue
        if isinstance(v, bool):
            out[k] = "true" if v else "false"
        elif isinstance(v, (dict, list)):
            out[k] = json.dumps(v, separators=(",", ":"))
        else:
            out[k] = str(v)
    return out


def _multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = f"programkit-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode("utf-8") + b"\r\n")
    for name, (filename, content, ctype) in files.items():
        safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
                     f"Content-Type: {ctype}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class MarketoClient:
    """Calls one Marketo instance. Thread-safe; counts every API call (identity calls are free)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, limits: Limits | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BadInput(f"not a Marketo REST URL: {base_url!r}",
                           hint="use the instance's REST base URL, e.g. https://123-ABC-456.mktorest.com")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            # the client secret and the access token must not cross a network in clear text
            raise BadInput(f"{base_url}: a Marketo instance is reached over https",
                           hint="use https://… (plain http is only for a stand-in server on this machine)")
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self.limits = limits or Limits()
        self._client_id = client_id
        self.__secret = client_secret
        self._clock, self._sleep = clock, sleep
        self._rate = RateLimiter(self.limits.calls, self.limits.window, clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(self.limits.concurrent)
        self._token: str | None = None
        self._token_expiry = 0.0
        self._token_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        #: API calls sent (what counts against the daily quota); retries included.
        self.calls = 0
        #: why calls were retried: Marketo codes, "http5xx", "network", "token"
        self.retried: collections.Counter[str] = collections.Counter()

    @classmethod
    def from_env(cls, base_url: str, limits: Limits | None = None, env: Mapping[str, str] | None = None,
                 **kw: Any) -> "MarketoClient":
        env = os.environ if env is None else env
        missing = [k for k in (ENV_CLIENT_ID, ENV_CLIENT_SECRET) if not env.get(k)]
        if missing:
            msg = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
            raise BadInput(msg, [make("PK801", msg)])
        return cls(base_url, env[ENV_CLIENT_ID], env[ENV_CLIENT_SECRET], limits or Limits.from_env(env), **kw)

    def __repr__(self) -> str:
        return f"MarketoClient({self.base_url!r}, calls={self.calls})"

    # -- messages never carry the secret ----------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return text.replace(self.__secret, "***") if self.__secret else text

    def _fail(self, message: str, **kw: Any) -> MarketoError:
        return MarketoError(self._scrub(message), **kw)

    # -- auth -------------------------------------------------------------------------------------
    def _access_token(self, stale: str | None = None) -> str:
        with self._token_lock:
            margin = min(60.0, self.limits.window)
            if self._token and self._token != stale and self._clock() < self._token_expiry - margin:
                return self._token
            query = urlencode({"grant_type": "client_credentials", "client_id": self._client_id,
                               "client_secret": self.__secret})
            req = urllib.request.Request(f"{self.base_url}/identity/oauth/token?{query}", method="GET")
            try:
                with urllib.request.urlopen(req, timeout=self.limits.timeout) as resp:
                    data = json.loads(resp.read() or b"{}")
            except urllib.error.HTTPError as e:
                detail = _error_description(e)
                raise self._fail(f"Marketo refused the client credentials (HTTP {e.code}: {detail})",
                                 code="PK802") from None
            except (urllib.error.URLError, OSError) as e:
                raise self._fail(f"cannot reach {self.base_url}: {_reason(e)}", code="PK805") from None
            if not data.get("access_token"):
                raise self._fail("Marketo's identity service answered without an access token", code="PK802")
            self._token = data["access_token"]
            self._token_expiry = self._clock() + float(data.get("expires_in", 3600))
            return self._token

    # -- calls ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                form: Mapping[str, Any] | None = None,
                files: Mapping[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        """One API call with retries; returns the success envelope or raises :class:`MarketoError`."""
        url = f"{self.base_url}{path}"
        if query:
            url += "?" + urlencode(_encode_form(query))
        body, ctype = None, None
        if files:
            body, ctype = _multipart(_encode_form(form or {}), files)
        elif form is not None:
            body, ctype = urlencode(_encode_form(form)).encode("utf-8"), "application/x-www-form-urlencoded"
        where = f"{method} {path}"
        token = self._access_token()
        refreshed = 0
        attempt = 0
        last_network = ""
        while True:
            self._rate.acquire()
            with self._slots:
                with self._stats_lock:
                    self.calls += 1
                headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                if ctype:
                    headers["Content-Type"] = ctype
                req = urllib.request.Request(url, data=body, headers=headers, method=method)
                reason, envelope = None, None
                try:
                    with urllib.request.urlopen(req, timeout=self.limits.timeout) as resp:
                        envelope = json.loads(resp.read() or b"{}")
                except urllib.error.HTTPError as e:
                    if e.code < 500:
                        raise self._fail(f"Marketo answered HTTP {e.code} on {where}: {_error_description(e)}",
                                         path=path) from None
                    reason = "http5xx"
                except (urllib.error.URLError, OSError, ValueError) as e:
                    reason, last_network = "network", _reason(e)
            if envelope is not None:
                if envelope.get("success"):
                    return envelope
                err = (envelope.get("errors") or [{}])[0]
                mcode, mmsg = str(err.get("code", "?")), str(err.get("message", "no message"))
                if mcode in TOKEN_CODES and refreshed < 2:
                    refreshed += 1
                    with self._stats_lock:
                        self.retried["token"] += 1
                    token = self._access_token(stale=token)
                    continue
                if mcode not in TRANSIENT_CODES:
                    raise self._fail(f"Marketo {mcode} on {where}: {mmsg}", marketo_code=mcode, path=path)
                reason = mcode
            assert reason is not None
            if attempt >= self.limits.retries:
                if reason == "network":
                    raise self._fail(f"cannot reach {self.base_url}: {last_network}", code="PK805", path=path)
                raise self._fail(f"Marketo {reason} on {where}: still failing after {attempt} retries",
                                 code="PK804", marketo_code=reason if reason.isdigit() else None, path=path)
            with self._stats_lock:
                self.retried[reason] += 1
            delay = min(self.limits.max_backoff, self.limits.backoff * 2 ** attempt)
            delay *= 0.5 + random.random() / 2
            if reason == "606":
                # our pacing and Marketo's window disagree: leave a quarter window before the next start
                self._rate.penalise(max(delay, self.limits.window / 4))
            else:
                self._sleep(delay)
            attempt += 1

    def get(self, path: str, **query: Any) -> list[dict[str, Any]]:
        return self.request("GET", path, query=query or None).get("result") or []

    def post(self, path: str, form: Mapping[str, Any] | None = None, *,
             files: Mapping[str, tuple[str, bytes, str]] | None = None,
             query: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.request("POST", path, form=form if form is not None else {}, files=files,
                            query=query).get("result") or []

    def browse(self, path: str, page_size: int = 200, **query: Any) -> Iterator[dict[str, Any]]:
        """Page through an asset browse endpoint with ``maxReturn``/``offset`` until a short page."""
        offset = 0
        while True:
            page = self.get(path, maxReturn=page_size, offset=offset, **query)
            yield from page
            if len(page) < page_size:
                return
            offset += page_size

    def browse_tokens(self, path: str, **query: Any) -> Iterator[dict[str, Any]]:
        """Page through a lead-database endpoint with ``nextPageToken``/``moreResult``."""
        token = None
        while True:
            q = dict(query, **({"nextPageToken": token} if token else {}))
            env = self.request("GET", path, query=q or None)
            yield from env.get("result") or []
            token = env.get("nextPageToken")
            if not env.get("moreResult") or not token:
                return


def cost_estimate(calls: int) -> dict[str, Any]:
    """How much of the daily quota ``calls`` API calls use (for a plan's cost line)."""
    return {"calls": calls, "dailyQuota": DAILY_QUOTA, "shareOfDailyQuota": round(calls / DAILY_QUOTA, 6)}


def _error_description(e: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(e.read() or b"{}")
        return str(data.get("error_description") or data.get("error") or e.reason)
    except (ValueError, OSError):
        return str(e.reason)


def _reason(e: BaseException) -> str:
    return str(getattr(e, "reason", None) or e)
