"""Editing text by byte range, so that every byte no edit touches stays as it was: manifests, and the JavaScript,
TypeScript and Java sources that tree-sitter reads (codemods/javascript/_tree.py re-parses after the edits)."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: bytes


def apply(data: bytes, edits: list[Edit]) -> bytes:
    out, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < at:
            raise ValueError(f"overlapping edits at byte {edit.start}")
        out += [data[at:edit.start], edit.text]
        at = edit.end
    out.append(data[at:])
    return b"".join(out)


def newline(data: bytes) -> bytes:
    return b"\r\n" if b"\r\n" in data else b"\n"


def line_start(data: bytes, pos: int) -> int:
    # A bare CR ends a line too (tree-sitter counts it as one): the start is after the nearer of the two.
    return max(data.rfind(b"\n", 0, pos), data.rfind(b"\r", 0, pos)) + 1


def line_end(data: bytes, pos: int) -> int:
    """Just past the line break ending the line that holds ``pos``."""
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end + 1


def indent_at(data: bytes, pos: int) -> bytes:
    start = line_start(data, pos)
    line = data[start:pos]
    return line[: len(line) - len(line.lstrip(b" \t"))]


def line_number(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def whole_lines(data: bytes, start: int, end: int) -> tuple[int, int]:
    """The span widened to whole lines when only blanks share its first and last lines."""
    first, last = line_start(data, start), line_end(data, end)
    if data[first:start].strip() or data[end:last].strip():
        return start, end
    return first, last
