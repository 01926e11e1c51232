"""Import N assets into the stand-in Marketo with a scaled rate window; measure calls and rate use.

    python bench/marketo/bench_marketo.py --assets 500 --window 1 --latency 0

Marketo allows 100 calls per 20 s; here the window is scaled (default 100 calls
per 1 s) so a run takes seconds. Two runs on fresh servers:

- **paced** (programkit's client): calls spread evenly over the window;
- **burst** (baseline): the same client with pacing off (a limit it never
  reaches), relying on retries when Marketo answers 606.

Reported per run: look-up (GET) calls per created asset, write calls, 606
answers, retries, wall time, and the share of the allowed rate used
(accepted calls / what the limit allows in the elapsed time). The assets are
what apply writes: Design Studio assets through the inventory look-ups a
plan makes (one browse per kind, 200 a page), then local assets in the
program, in one journalled transaction, the way apply hands them over: the new Design Studio assets in
one batch, then the program's emails and campaigns in another, each through the writer's ``put_assets``
(created side by side, at most ``concurrent - 1`` creates in flight; follow-up calls on worker threads;
every call within the client's pacing and concurrency limits).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import urllib.request
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from programkit.workspaces.marketo import MarketoWorkspace  # noqa: E402
from programkit.workspaces.marketo.client import Limits, MarketoClient  # noqa: E402

KINDS = ("emailTemplate", "image", "snippet", "email", "smartCampaign")
LOCAL = ("email", "smartCampaign")


def assets(n: int) -> list[tuple[str, str, bytes]]:
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        name = f"{kind} {i:04d}"
        if kind == "emailTemplate":
            body = f"<html><body><div class='mktEditable' id='body'>{i}</div></body></html>".encode()
        elif kind == "image":
            body = hashlib.sha256(str(i).encode()).digest() * 8
        elif kind == "snippet":
            body = f"<p>snippet {i}</p>".encode()
        elif kind == "email":
            body = json.dumps({"template": "emailTemplate 0000", "subject": f"S{i}", "fromName": "Ops",
                               "fromEmail": "ops@example.com", "replyTo": "ops@example.com",
                               "operational": True, "sections": {"body": f"<p>{i}</p>"}}).encode()
        else:
            body = json.dumps({"type": "trigger", "smartList": {"triggers": [{"trigger": "Person is Created"}],
                                                                 "filters": [], "ruleLogic": "all"},
                               "flow": [{"step": "Change Data Value", "attribute": "Person Status",
                                         "newValue": "Open"}], "qualificationRule": "once"}).encode()
        out.append((kind, name, body))
    return out


class ServerProcess:
    """The stand-in in its own process, so client and server do not share one interpreter lock."""

    def __init__(self, calls: int, window: float, latency: float):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fake_marketo.py"), "--port", "0", "--client-id", "bench-id",
             "--client-secret", "bench-secret", "--rate-limit", str(calls), "--rate-window", str(window),
             "--latency", str(latency)], stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().split()[-1]

    def snapshot(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_fake/stats", timeout=10) as resp:
            return json.load(resp)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def run(n: int, calls: int, window: float, latency: float, paced: bool) -> dict[str, float]:
    fake = ServerProcess(calls, window, latency)
    limits = Limits(calls=calls if paced else 10**6, window=window, backoff=window / 20, max_backoff=window,
                    retries=20)
    client = MarketoClient(fake.url, "bench-id", "bench-secret", limits)
    items = assets(n)
    with tempfile.TemporaryDirectory() as state:
        ws = MarketoWorkspace(fake.url, client=client, state_dir=state)
        start = time.monotonic()
        # the look-ups a plan makes: inventory lists, then bulk name look-ups per Design Studio kind
        ws.fields(), ws.channels(), ws.tag_types(), ws.program("Bench Program")
        for kind in ("emailTemplate", "image", "snippet"):
            ws.design_assets(kind, [name for k, name, _ in items if k == kind])
        reads = client.calls
        with ws.transaction() as w:
            pid = w.create_program({"name": "Bench Program", "type": "default", "channel": "Operational",
                                    "folders": [{"name": "Campaigns"}, {"name": "Emails"}]})
            # as apply does: a batch of the new Design Studio assets, then one of the program's own
            w.put_assets([(kind, name, body, hashlib.sha256(body).hexdigest(), None, {})
                          for kind, name, body in items if kind not in LOCAL])
            w.put_assets([(kind, name, body, hashlib.sha256(body).hexdigest(),
                           "Emails" if kind == "email" else "Campaigns", {})
                          for kind, name, body in items if kind in LOCAL], program_id=pid)
        elapsed = time.monotonic() - start
    stats = fake.snapshot()
    fake.stop()
    allowed = elapsed / window * calls
    gets = sum(v for k, v in stats["paths"].items() if k.startswith("GET"))
    return {"assets": n, "reads": reads, "getsPerAsset": gets / n, "writes": client.calls - reads,
            "callsPerAsset": client.calls / n, "accepted": stats["accepted"], "rejected606": stats["codes"].get("606", 0),
            "retries": sum(client.retried.values()), "seconds": elapsed,
            "rateShare": stats["accepted"] / allowed, "maxInWindow": stats["maxInWindow"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=500)
    ap.add_argument("--calls", type=int, default=100, help="calls allowed per window (Marketo: 100)")
    ap.add_argument("--window", type=float, default=1.0, help="window in seconds (Marketo: 20; scaled down)")
    ap.add_argument("--latency", type=float, default=0.0, help="server time per call, seconds")
    args = ap.parse_args()
    results = {}
    for label, paced in (("paced", True), ("burst", False)):
        r = run(args.assets, args.calls, args.window, args.latency, paced)
        results[label] = r
        print(f"{label:>5}: {r['assets']} assets, look-ups {r['getsPerAsset']:.3f} GET/asset ({r['reads']} plan "
              f"reads), {r['callsPerAsset']:.2f} calls/asset, 606 answers {r['rejected606']}, retries "
              f"{r['retries']}, {r['seconds']:.2f} s, rate used {r['rateShare']:.1%} of {args.calls}/"
              f"{args.window:g}s (max {r['maxInWindow']} in a window)")
    p, b = results["paced"], results["burst"]
    print(f"ratio paced/burst: time {p['seconds'] / b['seconds']:.2f}x, 606 answers {p['rejected606']} vs "
          f"{b['rejected606']}, calls sent {p['callsPerAsset'] / b['callsPerAsset']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
