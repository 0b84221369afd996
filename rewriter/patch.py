"""Applying a reviewed patch: what is left of `diff --output` after a reviewer cut hunks or files.

All or nothing: every hunk is placed and every patched file re-checked in memory before the first
write; a patch that no longer applies is refused with the file and the hunk, and nothing changes.
The parser works on bytes and splits on "\\n" only, so CRLF, lone CR and form feeds stay content.
"""
from __future__ import annotations

import contextlib
import dataclasses
import re
from pathlib import Path

from rewriter.languages import ParseFailure, language_for
from rewriter.writeback import Changed, write_atomic

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_QUOTED = {b"a": 7, b"b": 8, b"t": 9, b"n": 10, b"v": 11, b"f": 12, b"r": 13, b'"': 34, b"\\": 92}


class PatchError(Exception):
    """The patch cannot be read or does not apply; the message names the file and the hunk."""


@dataclasses.dataclass
class Hunk:
    number: int  # 1-based, within its file
    header: str
    source_start: int
    old: list[bytes]  # context and removed lines, as in the file
    new: list[bytes]  # context and added lines
    context: int = 0

    @property
    def added(self) -> int:
        return len(self.new) - self.context

    @property
    def removed(self) -> int:
        return len(self.old) - self.context


@dataclasses.dataclass
class FilePatch:
    path: str  # relative to the root, "/" separated
    hunks: list[Hunk]


@dataclasses.dataclass
class Applied:
    files: list[str]
    hunks: int
    added: int
    removed: int


def _lines(data: bytes) -> list[bytes]:
    return re.findall(rb"[^\n]*\n|[^\n]+$", data)


def _unquote(name: bytes) -> bytes:
    """git's C-style quoting: "a/tab\\tname.py", octal escapes for other bytes."""
    body, out, i = name[1:-1], bytearray(), 0
    while i < len(body):
        if body[i : i + 1] == b"\\" and i + 1 < len(body):
            nxt = body[i + 1 : i + 2]
            if nxt in _QUOTED:
                out.append(_QUOTED[nxt])
                i += 2
                continue
            if re.fullmatch(rb"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
        out += body[i : i + 1]
        i += 1
    return bytes(out)


def _file_name(line: bytes) -> bytes | None:
    """The path of a ``--- a/x`` or ``+++ b/x`` line, without the a/ or b/ prefix (``patch -p1``)."""
    raw = line[4:].rstrip(b"\r\n")
    if raw.startswith(b'"'):
        end = re.match(rb'"(?:[^"\\]|\\.)*"', raw)
        if end is None:
            raise PatchError(f"unreadable file name in {line!r}")
        raw = _unquote(end.group(0))
    elif b"\t" in raw:
        raw = raw.split(b"\t", 1)[0]  # a timestamp, or git's marker after a name with spaces
    if raw == b"/dev/null":
        return None
    if b"/" not in raw:
        raise PatchError(f"file name without the a/ or b/ prefix: {raw.decode('utf-8', 'replace')}")
    return raw.split(b"/", 1)[1]


# What git writes between ``diff --git`` and the hunks for a change that is not an edit of a file's text.
# Applying the hunks and dropping these would report the patch applied while part of it was lost.
_NOT_TEXT_EDITS = (
    (b"old mode ", "changes a file's mode"),
    (b"new mode ", "changes a file's mode"),
    (b"deleted file mode ", "deletes a file"),
    (b"new file mode ", "creates a file"),
    (b"rename from ", "renames a file"),
    (b"rename to ", "renames a file"),
    (b"copy from ", "copies a file"),
    (b"copy to ", "copies a file"),
    (b"GIT binary patch", "changes a binary file"),
    (b"Binary files ", "changes a binary file"),
)


def _not_a_text_edit(line: bytes, in_git_header: bool) -> str | None:
    for start, what in _NOT_TEXT_EDITS:
        # "Binary files a/x and b/x differ" is also what diff -r writes, with no git header around it.
        if line.startswith(start) and (in_git_header or start == b"Binary files "):
            return what
    return None


def parse(data: bytes) -> list[FilePatch]:
    lines = _lines(data)
    files: list[FilePatch] = []
    i = 0
    in_git_header = False
    while i < len(lines):
        line = lines[i]
        if not (line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ ")):
            if line.startswith(b"@@"):
                raise PatchError(f"line {i + 1}: a hunk outside of any file")
            if line.startswith(b"diff --git "):
                in_git_header = True
            what = _not_a_text_edit(line, in_git_header)
            if what is not None:
                shown = line.rstrip(b"\r\n").decode("utf-8", "replace")
                raise PatchError(f"line {i + 1} ({shown}): the patch {what}; only edits of the text of existing "
                                 "files apply")
            i += 1  # "diff --git", "index ...", commentary: ignored, as patch and git apply do
            continue
        in_git_header = False
        source, target = _file_name(line), _file_name(lines[i + 1])
        if source is None or target is None:
            raise PatchError(f"line {i + 1}: the patch creates or deletes a file; only edits of existing files apply")
        if source != target:
            raise PatchError(f"line {i + 1}: the patch renames a file; only edits of existing files apply")
        path = source.decode("utf-8", "surrogateescape")
        patch = FilePatch(path, [])
        i += 2
        while i < len(lines) and lines[i].startswith(b"@@"):
            hunk, i = _parse_hunk(path, len(patch.hunks) + 1, lines, i)
            patch.hunks.append(hunk)
        if not patch.hunks:
            raise PatchError(f"{path}: no hunks under the file header (cut the file's --- and +++ lines too)")
        if any(f.path == path for f in files):
            raise PatchError(f"{path}: the file appears twice in the patch")
        files.append(patch)
    return files


def _parse_hunk(path: str, number: int, lines: list[bytes], i: int) -> tuple[Hunk, int]:
    header = lines[i].rstrip(b"\r\n").decode("utf-8", "replace")
    match = _HUNK.match(lines[i])
    if match is None:
        raise PatchError(f"{path}: hunk {number}: unreadable header {header!r}")
    old_len = int(match.group(2)) if match.group(2) is not None else 1
    new_len = int(match.group(4)) if match.group(4) is not None else 1
    hunk = Hunk(number, header, int(match.group(1)), [], [])
    last: tuple[list[bytes], ...] = ()
    i += 1
    while i < len(lines) and (len(hunk.old) < old_len or len(hunk.new) < new_len or lines[i].startswith(b"\\")):
        line = lines[i]
        if line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ "):
            break  # the next file's header: this hunk came up short
        kind, text = line[:1], line[1:]
        if line in (b"\n", b"\r\n"):  # an editor stripped the space of an empty context line
            kind, text = b" ", line
        if kind == b" ":
            hunk.old.append(text)
            hunk.new.append(text)
            hunk.context += 1
            last = (hunk.old, hunk.new)
        elif kind == b"-":
            hunk.old.append(text)
            last = (hunk.old,)
        elif kind == b"+":
            hunk.new.append(text)
            last = (hunk.new,)
        elif kind == b"\\":  # "\ No newline at end of file" belongs to the line before it
            for side in last:
                side[-1] = side[-1][:-1] if side[-1].endswith(b"\n") else side[-1]
        else:
            break
        i += 1
    if len(hunk.old) != old_len or len(hunk.new) != new_len:
        raise PatchError(
            f"{path}: hunk {number} ({header}) is damaged: its header counts {old_len} old and {new_len} new "
            f"lines, the body has {len(hunk.old)} and {len(hunk.new)} (cut whole hunks, not lines)"
        )
    return hunk, i


def _place(lines: list[bytes], hunk: Hunk, floor: int, offset: int) -> int | None:
    """Where the hunk's old lines are, nearest to where the header says (shifted like earlier hunks)."""
    size = len(hunk.old)
    expected = (hunk.source_start - 1 if size else hunk.source_start) + offset
    for start in sorted(range(floor, len(lines) - size + 1), key=lambda s: abs(s - expected)):
        if lines[start : start + size] == hunk.old:
            return start
    return None


def patch_bytes(path: str, data: bytes, hunks: list[Hunk]) -> bytes:
    lines = _lines(data)
    out: list[bytes] = []
    floor = offset = 0
    for hunk in hunks:
        start = _place(lines, hunk, floor, offset)
        if start is None:
            raise PatchError(
                f"{path}: hunk {hunk.number} ({hunk.header}) does not apply: the file no longer has the lines it changes"
            )
        offset = start - (hunk.source_start - 1 if hunk.old else hunk.source_start)
        out += lines[floor:start]
        out += hunk.new
        floor = start + len(hunk.old)
    out += lines[floor:]
    return b"".join(out)


def _target(root: Path, relative: str) -> Path:
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") or p.lower() == ".git" for p in parts):
        raise PatchError(f"{relative}: not a path inside the repository")
    path = root.joinpath(*parts)
    for parent in [path, *path.parents]:
        if parent == root:
            break
        if parent.is_symlink():
            raise PatchError(f"{relative}: goes through a symbolic link; not patched")
    if not path.is_file():
        raise PatchError(f"{relative}: no such file under {root}")
    return path


def apply(root: Path, data: bytes) -> Applied:
    """Apply the whole patch under ``root``, or raise PatchError having written nothing."""
    root = Path(root).absolute()
    files = parse(data)
    planned: list[tuple[Path, bytes, bytes]] = []
    for patch in files:
        path = _target(root, patch.path)
        before = path.read_bytes()
        after = patch_bytes(patch.path, before, patch.hunks)
        language = language_for(patch.path)
        if language is not None:
            try:
                language.check(after, patch.path)
            except ParseFailure as failure:
                raise PatchError(f"{patch.path}: the patched file would not parse ({failure}); nothing written") from None
        planned.append((path, before, after))
    written: list[tuple[Path, bytes]] = []
    after_of = {path: after for path, _, after in planned}
    try:
        for path, before, after in planned:
            try:
                write_atomic(path, after, expected=before)
            except Changed:
                raise PatchError(f"{path.relative_to(root).as_posix()}: changed while the patch was being applied") from None
            written.append((path, before))
    except BaseException:
        for path, before in reversed(written):  # put back what was written, so that nothing changed
            with contextlib.suppress(Changed):  # unless someone saved it since: theirs stays
                write_atomic(path, before, expected=after_of[path])
        raise
    hunks = [h for f in files for h in f.hunks]
    return Applied(
        [f.path for f in files], len(hunks), sum(h.added for h in hunks), sum(h.removed for h in hunks)
    )
