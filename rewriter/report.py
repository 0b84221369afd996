"""Results -> words, JSON and the exit status, each decided in one place."""
from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from pathlib import Path

from codemods import Change, Note
from rewriter import __version__, findings, suppress
from rewriter.engine import FileResult, Status
from rewriter.exits import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE  # noqa: F401  (imported from here too)
from rewriter.writeback import WriteBack


@dataclasses.dataclass
class Report:
    mode: WriteBack
    results: list[FileResult]
    # Problems that are not about one source file (a template that does not load, a write that failed).
    problems: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    # Text output names files relative to this folder (where the user stands) when they are below it;
    # JSON, SARIF and diffs keep paths relative to the repository root.
    relative_to: Path | None = None

    @property
    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)

    @property
    def failures(self) -> list[tuple[str, str]]:
        failed = [(self.shown(r), _with_hint(r.reason)) for r in self.results if r.status is Status.ERROR]
        return failed + [(printable(path), printable(why)) for path, why in self.problems]

    @property
    def return_code(self) -> int:
        if self.failures:
            return EXIT_FAILED
        if self.mode is WriteBack.CHECK and self.counts[Status.CHANGED]:
            return EXIT_CHANGES
        return EXIT_OK

    def summary(self) -> str:
        counts = self.counts
        changed = counts[Status.CHANGED]
        verb = "changed" if self.mode is WriteBack.APPLY else "would change"
        parts = [f"{verb} {plural(changed, 'file')}", f"{counts[Status.UNCHANGED]} unchanged"]
        if counts[Status.SKIPPED]:
            parts.append(f"{counts[Status.SKIPPED]} skipped")
        failed = len(self.failures)
        if failed:
            parts.append(f"{failed} failed")
        return ", ".join(parts)

    def as_json(self, diffs: dict[str, str] | None = None) -> str:
        counts = self.counts
        summary: dict[str, object] = {status.value: counts[status] for status in Status}
        summary["problems"] = [{"path": p, "reason": why} for p, why in self.problems]
        summary["exit_status"] = self.return_code
        document: dict[str, object] = {"tool": "lambda-rewriter", "version": __version__, "mode": self.mode.value, "files": [],
                    "summary": summary}
        # What json.dumps(document, indent=2) gives with every file in "files", one entry encoded at a time: the
        # whole report as dicts cost 28 MB at 20,000 files, its text 3 MB.
        head, tail = json.dumps(document, indent=2).split('\n  "files": []', 1)
        parts = [head, '\n  "files": [']
        for r in self.results:
            parts += [",\n    " if len(parts) > 2 else "\n    ",
                      json.dumps(self._json_entry(r, diffs), indent=2).replace("\n", "\n    ")]
        parts += ["\n  ]" if len(parts) > 2 else "]", tail]
        return "".join(parts)

    def _json_entry(self, r: FileResult, diffs: dict[str, str] | None) -> dict:
        located = self.findings(r)
        entry = {
            "path": r.path,
            "language": r.language,
            "status": r.status.value,
            "changes": [_entry(f) for f in located if f.kind == findings.CHANGE],
            "notes": [_entry(f) for f in located if f.kind == findings.NOTE],
        }
        if r.reason:
            entry["reason"] = r.reason
        if diffs is not None and r.path in diffs:
            entry["diff"] = diffs[r.path]
        return entry

    def shown(self, result: FileResult) -> str:
        """The file's name for a person: from where they stand, with no character that could forge a line."""
        if self.relative_to is None or not result.abspath:
            return printable(result.path)
        relative = os.path.relpath(result.abspath, self.relative_to)
        outside = relative == os.pardir or relative.startswith(os.pardir + os.sep)
        return printable(result.path if outside else Path(relative).as_posix())

    def findings(self, result: FileResult) -> list[Located]:
        """The changes (of a file that changes) and the notes of one file, each with its code and column."""
        items: list[tuple[str, Change | Note]] = []
        if result.status is Status.CHANGED:
            items += [(findings.CHANGE, c) for c in result.changes]
        items += [(findings.NOTE, n) for n in result.notes]
        if not items:
            return []
        source = result.before if result.before is not None else _read(result.abspath)
        lines = source.splitlines() if source else []
        located = [
            Located(
                kind,
                item,
                findings.classify(item.codemod, kind, item.message),
                findings.column(lines, item.line),
                lines[item.line - 1].strip().decode("utf-8", "replace") if 0 < item.line <= len(lines) else "",
            )
            for kind, item in items
        ]
        return sorted(located, key=lambda f: (f.item.line, f.column))  # in file order, as a reader goes

    def text_lines(self, verbose: bool = False) -> list[str]:
        """One line per change and note, ``path:line:col: CODE message``, as compilers and linters print them."""
        lines = []
        for shown, r in sorted(((self.shown(r), r) for r in self.results), key=lambda pair: pair[0]):
            if r.status is Status.CHANGED or verbose:
                for f in self.findings(r):
                    if f.finding.code == suppress.UNUSED_CODE and not verbose:
                        continue  # a stale comment is the author's to tidy, not news in every run
                    label = "note: " if f.kind == findings.NOTE else ""
                    lines.append(f"{shown}:{f.item.line}:{f.column}: {f.finding.code} {label}{printable(f.item.message)}")
            if r.status is Status.SKIPPED:
                # A file the tool would not read is rare and worth a line: nobody should wonder why.
                lines.append(f"{shown}:1:1: {findings.SKIPPED_CODE} skipped: {printable(r.reason)}")
        return lines


@dataclasses.dataclass(frozen=True)
class Located:
    kind: str  # findings.CHANGE or findings.NOTE
    item: Change | Note
    finding: findings.Finding
    column: int
    text: str  # what the line says, without its indentation


# What to do about a file that failed, by the start of its reason: the error line says it.
_HINTS = (
    ("does not parse", "fix the syntax error, or exclude the file in [tool.lambda-rewriter]"),
    ("verification failed", "a bug in lambda-rewriter: please report it with the file"),
    ("internal error", "a bug in lambda-rewriter, the file was left alone: please report it with the file"),
    ("not written", "run again once nothing else edits it, and check that it is writable"),
    ("cannot read", "check that the file exists and is readable"),
)


def _with_hint(reason: str) -> str:
    if "run lambda-rewriter on Python" in reason:  # the reason says what to do
        return printable(reason)
    hint = next((hint for start, hint in _HINTS if reason.startswith(start)), None)
    return printable(f"{reason} ({hint})" if hint else reason)


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``: the nouns of these summaries take an s."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def printable(text: str) -> str:
    """One line whatever a file name or a message holds: control characters are shown escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _entry(located: Located) -> dict:
    return {**dataclasses.asdict(located.item), "code": located.finding.code, "column": located.column}


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes() if path else None
    except OSError:
        return None
