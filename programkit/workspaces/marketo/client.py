"""A REST client for Marketo Engage: OAuth, limits, retries, paging (httpx for HTTP, tenacity for retries).

Marketo answers most errors with HTTP 200 and ``success: false`` plus a code;
this client turns that envelope into data or a :class:`MarketoError` carrying
Marketo's code and message (finding PK803), and absorbs the transient ones:

- 601/602 (token invalid/expired): fetch a new token and try again;
- 606 (rate), 615 (concurrency), 604 (timeout), 608 (temporarily unavailable), 713 (transient) and HTTP
  5xx: back off exponentially (with jitter) and try again, a bounded number
  of times;
- 607 (daily quota) stops with the time the quota resets (PK829); 611 (system error) and 612 (invalid
  content type) are findings of their own (PK827, PK828);
- an answer that is not Marketo's envelope (not JSON, a list, null, a string, a body cut short) is PK833,
  naming the endpoint; a redirect is never followed (PK834): the access token goes to the target only;
- calls are paced so at most ``Limits.calls`` start in any ``Limits.window``
  seconds, evenly spread (not bursts that trip 606), with at most
  ``Limits.concurrent`` in flight.

Credentials come only from ``MARKETO_CLIENT_ID`` / ``MARKETO_CLIENT_SECRET``.
The secret is sent only to the identity endpoint and never appears in a
message, a repr, a log line or a file this client writes.
"""

from __future__ import annotations

import collections
import datetime
import json
import os
import random
import threading
import time
import uuid
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlencode, urlsplit

import httpx
import tenacity

from ...errors import BadInput, ProgramkitError
from ...findings import Severity, make, register_code
from .pacing import TRANSIENT_CODES, Limits, RateLimiter, backoff_delay, quota_reset

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
register_code("PK827", "marketo-system-error", Severity.ERROR,
              "Marketo answered 611 (system error): an unhandled error on Marketo's side for this request.",
              hint="Run the command again later (an import goes on with --resume); if it persists, send Marketo "
                   "support the request id and the endpoint named in the message.",
              example="Marketo 611 on POST /rest/asset/v1/emails.json: System error", group=_GROUP)
register_code("PK828", "marketo-invalid-content-type", Severity.ERROR,
              "Marketo answered 612 (invalid content type): it did not accept how the request body was sent.",
              hint="This is a programkit bug or a proxy rewriting requests; report it with the endpoint named.",
              example="Marketo 612 on POST /rest/asset/v1/snippet/1001/content.json: Invalid Content Type",
              group=_GROUP)
register_code("PK829", "marketo-daily-quota", Severity.ERROR,
              "Marketo answered 607: the subscription's daily API quota is used up until midnight US Central.",
              hint="Wait until the quota resets (the message says when), then run the same import with --resume.",
              example="Marketo 607 on POST /rest/asset/v1/emails.json: the daily API quota is used up; it resets at "
                      "midnight US Central (2026-11-24 06:00 UTC)", group=_GROUP)
register_code("PK833", "marketo-malformed-response", Severity.ERROR,
              "An answer from the Marketo target is not Marketo's JSON envelope (not JSON, not an object, or cut "
              "short).",
              hint="A proxy or gateway between here and Marketo may have answered; check the target URL, then run "
                   "the command again (an import goes on with --resume).",
              example="GET /rest/asset/v1/channels.json: the answer is not JSON (text/html, 52 bytes)", group=_GROUP)
register_code("PK834", "marketo-redirected", Severity.ERROR,
              "The Marketo target answered with a redirect; programkit does not follow it, so the access token "
              "never goes to another address.",
              hint="Use the REST endpoint shown in Admin > Integration > Web Services (https://<munchkin "
                   "id>.mktorest.com) as the target.",
              example="GET /rest/asset/v1/channels.json: redirected to another address (https://login.example.com); "
                      "not followed", group=_GROUP)


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


class _Retry(Exception):
    """A transient failure of one attempt (``reason``: a Marketo code, "http5xx" or "network")."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _rest_base(base_url: str) -> str:
    """The REST base URL, checked: no credentials in it (refused, never echoed), http(s), a trailing ``/rest``
    or ``/rest/`` dropped (Admin > Integration > Web Services shows the endpoint with ``/rest``)."""
    parts = urlsplit(base_url)
    if parts.username is not None or parts.password is not None:
        shown = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
        raise BadInput(f"the target URL has credentials in it ({shown} with a user name or password before the "
                       "host); they are never read from a URL",
                       hint="give the REST base URL alone and the client id and secret in MARKETO_CLIENT_ID and "
                            "MARKETO_CLIENT_SECRET")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadInput(f"not a Marketo REST URL: {base_url!r}",
                       hint="use the instance's REST base URL, e.g. https://123-ABC-456.mktorest.com")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        # the client secret and the access token must not cross a network in clear text
        raise BadInput(f"{base_url}: a Marketo instance is reached over https",
                       hint="use https://… (plain http is only for a stand-in server on this machine)")
    path = parts.path.rstrip("/")
    path = path[:-len("/rest")] if path.endswith("/rest") else path
    return f"{parts.scheme}://{parts.netloc}{path}"


#: Marketo refuses URLs over 8 KB with HTTP 414 (experienceleague.adobe.com/en/docs/marketo-developer/marketo/
#: rest/error-codes); a request that would need one is refused here, before anything is sent
MAX_URL = 8000


class MarketoClient:
    """Calls one Marketo instance. Thread-safe; counts every API call (identity calls are free)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, limits: Limits | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.base_url = _rest_base(base_url)
        self.limits = limits or Limits()
        self._client_id = client_id
        self.__secret = client_secret
        self._clock, self._sleep = clock, sleep
        self._rate = RateLimiter(self.limits.calls, self.limits.window, clock=clock, sleep=sleep)
        self._slots = threading.BoundedSemaphore(self.limits.concurrent)
        # one connection pool for every call; redirects are never followed (the token goes to the target only)
        self._http = httpx.Client(timeout=self.limits.timeout, follow_redirects=False,
                                  limits=httpx.Limits(max_connections=self.limits.concurrent + 1,
                                                      max_keepalive_connections=self.limits.concurrent + 1))
        self._token: str | None = None
        self._token_expiry = 0.0
        self._token_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        #: API calls sent (what counts against the daily quota); retries included.
        self.calls = 0
        #: why calls were retried: Marketo codes, "http5xx", "network", "token"
        self.retried: collections.Counter[str] = collections.Counter()
        #: seconds spent backing off after transient errors (the progress line shows it with the pacing wait)
        self.backed_off = 0.0

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

    def close(self) -> None:
        self._http.close()

    @property
    def waited(self) -> float:
        """Seconds spent waiting for Marketo's limits: pacing plus back-off."""
        return self._rate.waited + self.backed_off

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
            where = "GET /identity/oauth/token"
            try:
                resp = self._http.get(f"{self.base_url}/identity/oauth/token", params={
                    "grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self.__secret})
                body = resp.content
            except httpx.HTTPError as e:
                raise self._fail(f"cannot reach {self.base_url}: {_reason(e)}", code="PK805") from None
            if resp.is_redirect:
                raise self._redirected(where, resp)
            if resp.status_code >= 400:
                raise self._fail(f"Marketo refused the client credentials (HTTP {resp.status_code}: "
                                 f"{_error_description(body, resp.reason_phrase)})", code="PK802")
            data = self._envelope(where, resp, body)
            if not isinstance(data.get("access_token"), str) or not data["access_token"]:
                raise self._fail("Marketo's identity service answered without an access token", code="PK802")
            self._token = data["access_token"]
            try:
                ttl = float(data.get("expires_in", 3600))
            except (TypeError, ValueError):
                ttl = 3600.0
            self._token_expiry = self._clock() + ttl
            return self._token

    # -- answers ------------------------------------------------------------------------------------
    def _redirected(self, where: str, resp: httpx.Response) -> MarketoError:
        loc = urlsplit(resp.headers.get("location", ""))
        to = f"{loc.scheme}://{loc.hostname}{f':{loc.port}' if loc.port else ''}" if loc.hostname else "a relative URL"
        return self._fail(f"{where}: Marketo's target answered HTTP {resp.status_code}, a redirect to {to}; not "
                          "followed (the access token is only ever sent to the target)", code="PK834")

    def _envelope(self, where: str, resp: httpx.Response, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            ctype = resp.headers.get("content-type", "no content type").split(";")[0]
            raise self._fail(f"{where}: the answer is not JSON ({ctype}, {len(body)} bytes)", code="PK833",
                             path=where.split(" ", 1)[-1]) from None
        if not isinstance(data, dict):
            what = "null" if data is None else type(data).__name__.replace("str", "a string").replace(
                "list", "a list")
            raise self._fail(f"{where}: the answer is {what}, not Marketo's JSON object", code="PK833",
                             path=where.split(" ", 1)[-1])
        return data

    # -- calls ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
                form: Mapping[str, Any] | None = None,
                files: Mapping[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        """One API call with retries; returns the success envelope or raises :class:`MarketoError`."""
        url = f"{self.base_url}{path}"
        if query:
            url += "?" + urlencode(_encode_form(query))
        where = f"{method} {path}"
        if len(url) > MAX_URL:
            raise self._fail(f"{where}: the request URL would be {len(url):,} bytes, over Marketo's 8 KB limit "
                             "(HTTP 414)", code="PK803", path=path)
        body, ctype = None, None
        if files:
            body, ctype = _multipart(_encode_form(form or {}), files)
        elif form is not None:
            # Marketo reads a form body in the charset it declares: without it, non-ASCII text is garbled
            body = urlencode(_encode_form(form)).encode("utf-8")
            ctype = "application/x-www-form-urlencoded; charset=utf-8"
        state = {"token": self._access_token(), "refreshed": 0}

        def attempt() -> dict[str, Any]:
            return self._attempt(method, url, path, where, body, ctype, state)

        def wait(rs: tenacity.RetryCallState) -> float:
            reason = rs.outcome.exception().reason if rs.outcome and rs.outcome.failed else ""  # type: ignore
            delay = backoff_delay(self.limits, rs.attempt_number - 1, random.random())
            if reason == "606":
                # our pacing and Marketo's window disagree: leave a quarter window before the next start
                self._rate.penalise(max(delay, self.limits.window / 4))
                return 0.0
            with self._stats_lock:
                self.backed_off += delay
            return delay

        def count(rs: tenacity.RetryCallState) -> None:
            with self._stats_lock:
                self.retried[rs.outcome.exception().reason] += 1  # type: ignore[union-attr]

        retrying = tenacity.Retrying(stop=tenacity.stop_after_attempt(self.limits.retries + 1), wait=wait,
                                     retry=tenacity.retry_if_exception_type(_Retry), before_sleep=count,
                                     sleep=self._sleep, reraise=True)
        try:
            return retrying(attempt)
        except _Retry as last:
            tries = self.limits.retries
            if last.reason == "network":
                raise self._fail(f"cannot reach {self.base_url}: {last.detail}", code="PK805", path=path) from None
            raise self._fail(f"Marketo {last.reason} on {where}: still failing after {tries} retries", code="PK804",
                             marketo_code=last.reason if last.reason.isdigit() else None, path=path) from None

    def _attempt(self, method: str, url: str, path: str, where: str, body: bytes | None, ctype: str | None,
                 state: dict[str, Any]) -> dict[str, Any]:
        """One try (a token refresh or two included); raises :class:`_Retry` for what is worth another."""
        while True:
            with self._slots:
                # paced once a slot is free, so the start counted is when the call goes out: counted earlier, a
                # call that waited for a slot would arrive bunched with later ones (Marketo counts arrivals)
                self._rate.acquire()
                with self._stats_lock:
                    self.calls += 1
                headers = {"Authorization": f"Bearer {state['token']}", "Accept": "application/json"}
                if ctype:
                    headers["Content-Type"] = ctype
                try:
                    resp = self._http.request(method, url, content=body, headers=headers)
                    raw = resp.content
                except httpx.RemoteProtocolError as e:
                    # the connection closed before the promised body: a cut answer, not a network outage; not
                    # retried, since a write may have been done
                    raise self._fail(f"{where}: the answer was cut short ({_reason(e)})", code="PK833",
                                     path=path) from None
                except httpx.HTTPError as e:
                    raise _Retry("network", _reason(e)) from None
            if resp.is_redirect:
                raise self._redirected(where, resp)
            if resp.status_code >= 500:
                raise _Retry("http5xx")
            if resp.status_code >= 400:
                raise self._fail(f"Marketo answered HTTP {resp.status_code} on {where}: "
                                 f"{_error_description(raw, resp.reason_phrase)}", path=path)
            envelope = self._envelope(where, resp, raw)
            if envelope.get("success") is True:
                return envelope
            errors = envelope.get("errors")
            err = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            if "success" not in envelope or not err:
                raise self._fail(f"{where}: the answer has neither success nor Marketo's errors", code="PK833",
                                 path=path)
            mcode, mmsg = str(err.get("code", "?")), str(err.get("message", "no message"))
            if mcode in TOKEN_CODES and state["refreshed"] < 2:
                state["refreshed"] += 1
                with self._stats_lock:
                    self.retried["token"] += 1
                state["token"] = self._access_token(stale=state["token"])
                continue
            if mcode in TRANSIENT_CODES:
                raise _Retry(mcode)
            if mcode == "607":
                reset = quota_reset()
                utc = reset.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
                raise self._fail(f"Marketo 607 on {where}: the daily API quota is used up; it resets at midnight "
                                 f"US Central ({utc})", code="PK829", marketo_code=mcode, path=path)
            code = {"611": "PK827", "612": "PK828"}.get(mcode, "PK803")
            raise self._fail(f"Marketo {mcode} on {where}: {mmsg}", code=code, marketo_code=mcode, path=path)

    def get(self, path: str, **query: Any) -> list[dict[str, Any]]:
        return _result(self.request("GET", path, query=query or None), f"GET {path}", self)

    def post(self, path: str, form: Mapping[str, Any] | None = None, *,
             files: Mapping[str, tuple[str, bytes, str]] | None = None,
             query: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return _result(self.request("POST", path, form=form if form is not None else {}, files=files, query=query),
                       f"POST {path}", self)

    def browse(self, path: str, page_size: int = 200, **query: Any) -> Iterator[dict[str, Any]]:
        """Page through an asset browse endpoint with ``maxReturn``/``offset`` until a short page (Marketo's
        browse endpoints return at most 200 a page, 20 unless asked)."""
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
            yield from _result(env, f"GET {path}", self)
            token = env.get("nextPageToken")
            if not env.get("moreResult") or not token:
                return


def _result(envelope: dict[str, Any], where: str, client: MarketoClient) -> list[dict[str, Any]]:
    """The ``result`` list of a success envelope; anything else there is a malformed answer (PK833)."""
    result = envelope.get("result")
    if result is None:
        return []
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise client._fail(f"{where}: the answer's result is not a list of objects", code="PK833",
                           path=where.split(" ", 1)[1])
    return result


def cost_estimate(calls: int) -> dict[str, Any]:
    """How much of the daily quota ``calls`` API calls use (for a plan's cost line)."""
    return {"calls": calls, "dailyQuota": DAILY_QUOTA, "shareOfDailyQuota": round(calls / DAILY_QUOTA, 6)}


def _error_description(body: bytes, reason: str) -> str:
    try:
        data = json.loads(body or b"{}")
        return str(data.get("error_description") or data.get("error") or reason)
    except (ValueError, AttributeError):
        return str(reason)


def _reason(e: BaseException) -> str:
    return str(getattr(e, "reason", None) or e) or type(e).__name__
