"""Benchmark: lint time of attribute-heavy templates grows linearly (issue #14; it was quadratic).

Usage: python bench/lint/attributes.py [--base 4000] [--repeat 3]

Lints one Email 2.0 template whose editable element carries N attributes, for N = base, 2*base, 4*base, 8*base,
and prints each time and the ratio t(8*base) / t(base) measured in the same run: about 8 when lint is linear,
about 64 when quadratic (libxml2 checks each attribute of an element against the ones before it, so an
uncapped parse is quadratic). A second series, many elements of 20 attributes each, shows the usual shape.
"""

from __future__ import annotations

import argparse
import time

from programkit.lint import lint_text


def one_element(n: int) -> str:
    attrs = " ".join(f'data-a{i}="v{i}"' for i in range(n))
    return f'<html><body><div class="mktoText" id="a" mktoName="A" {attrs}>x</div></body></html>'


def many_elements(n: int) -> str:
    els = "".join(f'<div class="mktoText" id="e{i}" mktoName="E{i}" '
                  + " ".join(f'data-{j}="{j}"' for j in range(17)) + ">x</div>" for i in range(n // 20))
    return f"<html><body>{els}</body></html>"


def best(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        lint_text(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=int, default=4000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    for label, make in (("one element, N attributes", one_element), ("N/20 elements, 20 attributes each", many_elements)):
        sizes = [args.base * k for k in (1, 2, 4, 8)]
        times = [best(make(n), args.repeat) for n in sizes]
        print(label)
        for n, t in zip(sizes, times):
            print(f"  N={n:>6}  {t * 1000:8.1f} ms")
        print(f"  ratio t(8N)/t(N) = {times[-1] / times[0]:.1f}  (linear: ~8, quadratic: ~64)")


if __name__ == "__main__":
    main()
