"""Inline suppression: ``# lambda-rewriter: ignore[LR001]`` on a finding's line, ``ignore-file`` near the top.

A suppressed change is never made. Codemods know nothing of these comments, and one codemod's edits to a
file hang together (a factory two handlers share, the import a hoisted client needs), so the engine cannot
drop one edit and keep the rest: a codemod with a suppressed change leaves the whole file as it is, the
other codemods run again without it, and one note says which line stopped it. A suppressed note is only
hidden. The comment forms are Python's and flake8's (``#``), JavaScript, TypeScript and Java's (``//``) and
XML's (``<!--``); a form inside a string literal counts too, which can only keep a change from being made.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from codemods import Note
from rewriter import findings

# The file-level form counts in the first lines only, as coding declarations and shebangs do.
FILE_LINES = 10
SUPPRESSED_CODE = "LR991"
UNUSED_CODE = "LR992"
# The pseudo-codemod the suppression notes belong to: none of the codemods made them.
TOOL = "lambda-rewriter"

_CODES = r"\[\s*(?P<codes>[A-Za-z0-9_, ]*)\]"
_DIRECTIVE = re.compile(
    rb"(?:#|//|<!--)\s*lambda-rewriter:\s*(?P<kind>ignore-file|ignore)\b(?:" + _CODES.encode() + rb")?"
)
# flake8's form, with codes only: a bare `# noqa` is about a linter's findings, not this tool's.
_NOQA = re.compile(rb"#\s*noqa:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*)", re.I)
ALL = frozenset({"*"})


@dataclasses.dataclass(frozen=True)
class Directive:
    line: int
    codes: frozenset[str]  # ALL: every code
    whole_file: bool
    text: str  # as written, for the unused-suppression note

    def covers(self, code: str) -> bool:
        return self.codes is ALL or code in self.codes


@dataclasses.dataclass(frozen=True)
class Suppressions:
    directives: tuple[Directive, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.directives)

    def matching(self, code: str, line: int) -> Directive | None:
        return next((d for d in self.directives if (d.whole_file or d.line == line) and d.covers(code)), None)


NONE = Suppressions()


def parse(data: bytes) -> Suppressions:
    """The suppression comments of a file's bytes; cheap when it has none (one substring search)."""
    if b"lambda-rewriter:" not in data and b"noqa" not in data.lower():
        return NONE
    found = []
    for number, line in enumerate(data.splitlines(), 1):
        for match in _DIRECTIVE.finditer(line):
            whole = match["kind"] == b"ignore-file"
            if whole and number > FILE_LINES:
                continue
            found.append(Directive(number, _codes(match["codes"]), whole, match[0].decode("utf-8", "replace")))
        for match in _NOQA.finditer(line):
            codes = frozenset(c for c in _codes(match["codes"]) if c.startswith("LR"))
            if codes:
                found.append(Directive(number, codes, False, match[0].decode("utf-8", "replace")))
    return Suppressions(tuple(found))


def _codes(raw: bytes | None) -> frozenset[str]:
    if raw is None:
        return ALL
    codes = frozenset(c.upper() for c in re.split(r"[\s,]+", raw.decode("ascii", "replace")) if c)
    return codes or ALL


def code_of(kind: str, item) -> str:
    """A change's or a note's code: set where it was made when the codemod gives one, else from the table."""
    code = getattr(item, "code", None)
    return code if code else findings.classify(item.codemod, kind, item.message).code


@dataclasses.dataclass
class Verdict:
    """What the suppressions of a file decide about one pass of its codemods."""

    excluded: dict[str, tuple[int, str]]  # codemod -> (the line, the code) that stopped it
    used: set[Directive]


def judge(suppressions: Suppressions, changes, notes) -> Verdict:
    verdict = Verdict({}, set())
    for change in changes:
        directive = suppressions.matching(code_of(findings.CHANGE, change), change.line)
        if directive is not None:
            verdict.used.add(directive)
            verdict.excluded.setdefault(change.codemod, (change.line, code_of(findings.CHANGE, change)))
    return verdict


def visible_notes(suppressions: Suppressions, notes, used: set[Directive]) -> list:
    """The notes no comment suppresses; the directives that hid one join ``used``."""
    kept = []
    for note in notes:
        code = code_of(findings.NOTE, note)
        directive = None if code in (SUPPRESSED_CODE, UNUSED_CODE) else suppressions.matching(code, note.line)
        if directive is None:
            kept.append(note)
        else:
            used.add(directive)
    return kept


def stopped_message(codemod: str, line: int, code: str) -> str:
    return (f"not changed by {codemod}: line {line} suppresses {code} (a suppression comment), "
            f"so {codemod} leaves this file as it is")


def unused(directive: Directive) -> str:
    return f"unused suppression: `{directive.text}` matches no finding here; remove it"


def honour(data: bytes, tree, new_tree, codemods: list, ctx, run: Callable) -> tuple:
    """``(new tree, codemods, ctx)`` of the pass that keeps every suppression: ``ctx`` holds the pass of
    ``codemods`` over ``tree`` that gave ``new_tree`` (its notes from before the pass are the first ones); a
    codemod with a suppressed change is left out and the others run again, until no suppressed change is left.
    ``run(tree, codemods, ctx)`` is the engine's pass. The notes come back without the suppressed ones, with one
    per codemod stopped and one per suppression that matched nothing."""
    suppressions = parse(data)
    if not suppressions:
        return new_tree, codemods, ctx
    before = [note for note in ctx.notes if note.codemod not in {c.NAME for c in codemods}]
    result, stopped, used = new_tree, {}, set()
    while True:
        verdict = judge(suppressions, ctx.changes, ctx.notes)
        used |= verdict.used
        if not verdict.excluded:
            break
        stopped.update(verdict.excluded)
        codemods = [c for c in codemods if c.NAME not in stopped]
        ctx = dataclasses.replace(ctx, changes=[], notes=list(before), running=frozenset(c.NAME for c in codemods))
        result = run(tree, codemods, ctx)
    notes = visible_notes(suppressions, ctx.notes, used)
    notes += [Note(name, line, stopped_message(name, line, code)) for name, (line, code) in stopped.items()]
    notes += [Note(TOOL, d.line, unused(d)) for d in suppressions.directives if d not in used]
    ctx.notes[:] = notes
    return result, codemods, ctx
