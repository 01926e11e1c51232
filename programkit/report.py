"""Report stage: render findings as text, JSON, GitHub annotations or JUnit XML.

Renderers are pure: they take results and return a string. Colour is
decided by the caller (a tty, and NO_COLOR unset) and passed in.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Callable, Iterable, Protocol, Sequence

from lxml import etree

from .findings import Finding, Severity

FORMATS = ("text", "json", "github", "junit")


class Result(Protocol):
    """What a renderer needs: a path, its findings and the files that were checked."""

    path: str
    findings: list[Finding]

    @property
    def counts(self) -> dict[str, int]: ...


def _plain(text: str, **_: Any) -> str:
    return text


# Control characters, unpaired surrogates and non-characters: a hostile bundle could put them in a
# name or path to forge terminal output (ANSI escapes), fake lines, or make XML/UTF-8 output fail.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` with control characters and unpaired surrogates shown as escapes (``\\x1b``, ``\\ud800``)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii")
                       if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def file_path(result_path: str, file: str | None) -> str:
    """Path of a finding's file as a user opens it: joined onto a bundle dir, inside an archive after ':'."""
    if not file:
        return result_path
    base = result_path
    if base.endswith(".json") and not os.path.isdir(base):
        base = os.path.dirname(base) or "."
    if os.path.isdir(base):
        if file == result_path:
            return file
        return os.path.normpath(os.path.join(base, file))
    if file == result_path:
        return file
    return f"{result_path}:{file}"


SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}


def render_text(results: Sequence[Result], style: Callable[..., str] = _plain, summary: bool = True,
                strict: bool = False) -> str:
    """One line per finding (``file:line:col: severity CODE [rule] message``) and its hint, then a summary.

    With ``strict`` a bundle with warnings is summarised as failed, as ``validate --strict`` exits 1.
    """
    lines: list[str] = []
    for r in results:
        c = r.counts
        shown: set[tuple[str, str]] = set()  # a hint once per bundle, under the first finding it applies to
        for f in r.findings:
            where = clean(file_path(r.path, f.file))
            if f.location and f.line is not None:
                where += f":{f.location}"
            sev = style(f"{f.severity.value}", fg=SEVERITY_COLOURS[f.severity], bold=True)
            lines.append(f"{where}: {sev} {style(f.code, bold=True)} [{f.rule}] {clean(f.message)}")
            if f.hint and (f.code, f.hint) not in shown:
                shown.add((f.code, f.hint))
                lines.append(f"    hint: {clean(f.hint)}")
        bad = c["error"] > 0 or (strict and c["warning"] > 0)
        status = style("failed", fg="red", bold=True) if bad else style("ok", fg="green", bold=True)
        if summary:
            lines.append(f"{clean(r.path)}: {status} ({_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')})")
    return "\n".join(lines) + ("\n" if lines else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def render_json(results: Sequence[Result]) -> str:
    out = []
    for r in results:
        for f in r.findings:
            d = f.to_dict()
            d["bundle"] = r.path
            d["file"] = file_path(r.path, f.file)
            out.append(d)
    # An unpaired surrogate cannot be written as UTF-8; as a \\uXXXX escape it is still valid JSON.
    return json.dumps(out, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8") + "\n"


def _gh_escape_data(s: str) -> str:
    s = _UNSAFE.sub(lambda m: m.group() if m.group() in "\r\n" else clean(m.group()), s)
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def render_github(results: Sequence[Result]) -> str:
    """GitHub Actions workflow commands: ``::error file=…,line=…,col=…,title=…::message``."""
    lines = []
    for r in results:
        for f in r.findings:
            level = {"error": "error", "warning": "warning", "info": "notice"}[f.severity.value]
            path = file_path(r.path, f.file)
            msg = f.message + (f" (hint: {f.hint})" if f.hint else "")
            line, column = f.line, f.column
            if f.file and path == f"{r.path}:{f.file}":
                # Inside an archive: GitHub can only attach the annotation to the .zip in the repository,
                # so the member and its line go into the message.
                where = f"{f.file}:{f.location}" if f.line is not None else f.file
                path, line, column, msg = r.path, None, None, f"{where}: {msg}"
            props = [f"file={_gh_escape_prop(path)}"]
            if line is not None:
                props.append(f"line={line}")
                if column is not None:
                    props.append(f"col={column}")
            props.append(f"title={_gh_escape_prop(f'{f.code} {f.rule}')}")
            lines.append(f"::{level} {','.join(props)}::{_gh_escape_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


def github_error(path: str, message: str, title: str = "programkit") -> str:
    """One ``::error`` annotation on ``path``: for input that could not be read as a bundle at all."""
    return f"::error file={_gh_escape_prop(path)},title={_gh_escape_prop(title)}::{_gh_escape_data(message)}\n"


def render_junit(results: Sequence[Result], files: Callable[[Result], Iterable[str]] | None = None,
                 suite_name: str = "programkit", unreadable: Sequence[tuple[str, str]] = (),
                 strict: bool = False) -> str:
    """JUnit XML: one testsuite per bundle, one testcase per file, a failure per failing file.

    With ``strict`` (``--strict``, which exits 1 on warnings) a file with warnings is a failure too,
    so the report agrees with the exit status.

    ``unreadable`` (path, message) pairs are inputs that could not be read as a bundle at all: each is a
    testsuite with one ``<error>``, so a CI report does not look green when a path was never validated.
    """
    root = etree.Element("testsuites", name=suite_name)
    total_tests = total_failures = total_errors = 0
    for path, message in unreadable:
        suite = etree.SubElement(root, "testsuite", name=clean(path), tests="1", failures="0", errors="1")
        case = etree.SubElement(suite, "testcase", classname=clean(path), name=clean(path))
        etree.SubElement(case, "error", message=clean(message), type="unreadable").text = clean(message)
        total_tests += 1
        total_errors += 1
    for r in results:
        by_file: dict[str, list[Finding]] = {}
        for name in (files(r) if files else []):
            by_file.setdefault(file_path(r.path, name), [])
        for f in r.findings:
            by_file.setdefault(file_path(r.path, f.file), []).append(f)
        suite = etree.SubElement(root, "testsuite", name=clean(r.path))
        failures = 0
        for name in sorted(by_file):
            case = etree.SubElement(suite, "testcase", classname=clean(r.path), name=clean(name))
            errors = [f for f in by_file[name] if f.severity is Severity.ERROR
                      or (strict and f.severity is Severity.WARNING)]
            warnings = [f for f in by_file[name] if f not in errors]
            if errors:
                failures += 1
                fail = etree.SubElement(case, "failure", message=f"{errors[0].code} {clean(errors[0].message)}",
                                        type=errors[0].code)
                fail.text = "\n".join(_junit_line(f) for f in by_file[name])
            elif warnings:
                out = etree.SubElement(case, "system-out")
                out.text = "\n".join(_junit_line(f) for f in warnings)
        suite.set("tests", str(len(by_file)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += len(by_file)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    if total_errors:
        root.set("errors", str(total_errors))
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _junit_line(f: Finding) -> str:
    loc = f"{f.location}: " if f.location else ""  # line:column first, as in the text format
    return f"{loc}{f.severity.value} {f.code} [{f.rule}] {clean(f.message)}" + (f"\n  hint: {clean(f.hint)}" if f.hint else "")
