"""Results -> words, JSON and the exit status, each decided in one place."""
from __future__ import annotations

import dataclasses
import json
from collections import Counter

from rewriter import __version__
from rewriter.engine import FileResult, Status
from rewriter.writeback import WriteBack

EXIT_OK = 0
EXIT_CHANGES = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


@dataclasses.dataclass
class Report:
    mode: WriteBack
    results: list[FileResult]
    # Problems that are not about one source file (a template that does not load, a write that failed).
    problems: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def counts(self) -> Counter:
        return Counter(r.status for r in self.results)

    @property
    def failures(self) -> list[tuple[str, str]]:
        return [(r.path, r.reason) for r in self.results if r.status is Status.ERROR] + self.problems

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
        noun = "file" if changed == 1 else "files"
        parts = [f"{verb} {changed} {noun}", f"{counts[Status.UNCHANGED]} unchanged"]
        if counts[Status.SKIPPED]:
            parts.append(f"{counts[Status.SKIPPED]} skipped")
        failed = len(self.failures)
        if failed:
            parts.append(f"{failed} failed")
        return ", ".join(parts)

    def as_json(self, diffs: dict[str, str] | None = None) -> str:
        files = []
        for r in self.results:
            entry = {
                "path": r.path,
                "language": r.language,
                "status": r.status.value,
                "changes": [dataclasses.asdict(c) for c in r.changes] if r.status is Status.CHANGED else [],
                "notes": [dataclasses.asdict(n) for n in r.notes],
            }
            if r.reason:
                entry["reason"] = r.reason
            if diffs is not None and r.path in diffs:
                entry["diff"] = diffs[r.path]
            files.append(entry)
        counts = self.counts
        summary = {status.value: counts[status] for status in Status}
        summary["problems"] = [{"path": p, "reason": why} for p, why in self.problems]
        summary["exit_status"] = self.return_code
        return json.dumps(
            {"tool": "lambda-rewriter", "version": __version__, "mode": self.mode.value, "files": files, "summary": summary},
            indent=2,
        )

    def text_lines(self, verbose: bool = False) -> list[str]:
        """One line per change and note, ``path:line: codemod: message``, as compilers print them."""
        lines = []
        for r in self.results:
            if r.status is Status.CHANGED:
                lines += [f"{r.path}:{c.line}: {c.codemod}: {c.message}" for c in r.changes]
            if r.status is Status.CHANGED or verbose:
                lines += [f"{r.path}:{n.line}: {n.codemod}: note: {n.message}" for n in r.notes]
            if r.status is Status.SKIPPED:
                # A file the tool would not read is rare and worth a line: nobody should wonder why.
                lines.append(f"{r.path}: skipped: {r.reason}")
        return lines
