"""Export a program of N emails and smart campaigns from the stand-in Marketo; measure calls and rate use.

    python bench/marketo/bench_export.py --assets 400 --window 1 --latency 0.015

Marketo allows 100 calls per 20 s; the window is scaled (default 100 calls per
1 s). The program is first written through the Marketo writer (not measured),
then exported twice on the same server with a fresh workspace each time:

- **prefetch** (what ``programkit export`` does): the program's emails and
  campaigns are read side by side within the limits (at most 9 in flight);
- **serial** (baseline): the same export with prefetching off, each asset
  read when the generic export first needs it.

Reported per run: API calls per exported asset, wall time, 606 answers and the
share of the allowed rate used (calls / what the limit allows in the elapsed time).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_marketo import ROOT, ServerProcess, assets  # noqa: E402

sys.path.insert(0, str(ROOT))
from programkit.export import export_program  # noqa: E402
from programkit.workspaces.marketo import MarketoWorkspace  # noqa: E402
from programkit.workspaces.marketo.client import Limits, MarketoClient  # noqa: E402

PROGRAM = "Bench Program"


def populate(url: str, n: int, limits: Limits, state: str) -> int:
    """One email template, then n/2 emails and n/2 smart campaigns in the program."""
    items = [(k, name, body) for k, name, body in assets(n * 5 // 2) if k in ("email", "smartCampaign")][:n]
    template = next((k, name, body) for k, name, body in assets(1))
    ws = MarketoWorkspace(url, client=MarketoClient(url, "bench-id", "bench-secret", limits), state_dir=state)
    with ws.transaction() as w:
        pid = w.create_program({"name": PROGRAM, "type": "default", "channel": "Operational",
                                "folders": [{"name": "Campaigns"}, {"name": "Emails"}]})
        w.put_asset(*template, hashlib.sha256(template[2]).hexdigest())
        for kind, name, body in items:
            w.put_asset(kind, name, body, hashlib.sha256(body).hexdigest(),
                        folder="Emails" if kind == "email" else "Campaigns", program_id=pid)
    return len(items)


def export(url: str, limits: Limits, state: str, prefetch: bool, fake: ServerProcess) -> dict[str, float]:
    before = fake.snapshot()
    client = MarketoClient(url, "bench-id", "bench-secret", limits)
    ws = MarketoWorkspace(url, client=client, state_dir=state)
    if not prefetch:
        ws.prefetch = None  # type: ignore[method-assign,assignment]  # export then reads each asset when needed
    start = time.monotonic()
    exported = export_program(ws, PROGRAM)
    elapsed = time.monotonic() - start
    after = fake.snapshot()
    local = sum(1 for a in exported.manifest["assets"] if a["kind"] in ("email", "smartCampaign"))
    allowed = elapsed / limits.window * limits.calls
    return {"assets": local, "calls": client.calls, "callsPerAsset": client.calls / local, "seconds": elapsed,
            "rejected606": after["codes"].get("606", 0) - before["codes"].get("606", 0),
            "rateShare": client.calls / allowed, "needs": len(exported.manifest.get("needsCompletion") or [])}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=400, help="emails + smart campaigns in the program")
    ap.add_argument("--calls", type=int, default=100, help="calls allowed per window (Marketo: 100)")
    ap.add_argument("--window", type=float, default=1.0, help="window in seconds (Marketo: 20; scaled down)")
    ap.add_argument("--latency", type=float, default=0.015, help="server time per call, seconds")
    args = ap.parse_args()
    fake = ServerProcess(args.calls, args.window, args.latency)
    limits = Limits(calls=args.calls, window=args.window, backoff=args.window / 20, max_backoff=args.window,
                    retries=20)
    results = {}
    try:
        with tempfile.TemporaryDirectory() as state:
            populate(fake.url, args.assets, limits, state)
            for label, prefetch in (("prefetch", True), ("serial", False)):
                time.sleep(args.window * 1.1)  # start each run with an empty rate window
                r = results[label] = export(fake.url, limits, state, prefetch, fake)
                print(f"{label:>8}: {r['assets']} emails+campaigns, {r['calls']} calls, {r['callsPerAsset']:.2f} "
                      f"calls/asset, 606 answers {r['rejected606']}, {r['seconds']:.2f} s, rate used "
                      f"{r['rateShare']:.1%} of {args.calls}/{args.window:g}s, {r['needs']} needs-completion items")
    finally:
        fake.stop()
    p, s = results["prefetch"], results["serial"]
    print(f"ratio prefetch/serial: time {p['seconds'] / s['seconds']:.2f}x, calls {p['calls'] / s['calls']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
