"""Benchmark: lint 1,000 templates; compare with parsing alone with lxml in the same run.

Usage: python bench/lint/run.py [--count 1000] [--repeat 3]

The templates are the lint corpus (tests/fixtures/lint/corpus, Email 2.0
templates with modules and variables, guided landing pages with forms) and
the sample bundle's email template, cycled to --count with a distinct comment
each so no two inputs are the same string. Prints templates/s for lint and
for a bare lxml parse, and the ratio lint time / parse time (best of --repeat).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lxml import etree

from programkit.lint import guess_kind, lint_text

ROOT = Path(__file__).resolve().parents[2]


def inputs(count: int) -> list[tuple[str, str]]:
    files = sorted((ROOT / "tests/fixtures/lint/corpus").glob("*.html"))
    files.append(ROOT / "samples/op-lead-management/design-studio/quick-start-email-template.html")
    texts = [(f.read_text(encoding="utf-8"), guess_kind(f.read_text(encoding="utf-8"))) for f in files]
    return [(texts[i % len(texts)][0] + f"\n<!-- copy {i} -->\n", texts[i % len(texts)][1]) for i in range(count)]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    docs = inputs(args.count)
    size = sum(len(t.encode("utf-8")) for t, _ in docs)

    def parse_only() -> None:
        for text, _ in docs:
            etree.fromstring(text, etree.HTMLParser(no_network=True))

    findings = 0

    def lint_all() -> None:
        nonlocal findings
        findings = sum(len(lint_text(text, kind)) for text, kind in docs)

    t_parse = best(parse_only, args.repeat)
    t_lint = best(lint_all, args.repeat)
    print(f"templates: {args.count} ({size / 1e6:.1f} MB), best of {args.repeat}")
    print(f"lxml parse only: {t_parse:.3f} s  {args.count / t_parse:,.0f} templates/s")
    print(f"programkit lint: {t_lint:.3f} s  {args.count / t_lint:,.0f} templates/s  ({findings} findings)")
    print(f"ratio lint / parse: {t_lint / t_parse:.2f}x")


if __name__ == "__main__":
    main()
