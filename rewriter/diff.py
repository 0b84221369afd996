"""Unified diffs that ``git apply`` and ``patch -p1`` take unchanged, byte for byte."""
from __future__ import annotations

import difflib
import re

import unidiff

_NO_NEWLINE = b"\\ No newline at end of file\n"


def _lines(data: bytes) -> list[bytes]:
    # Split on "\n" only: form feeds and lone "\r" are content to git, not line breaks.
    return re.findall(rb"[^\n]*\n|[^\n]+$", data)


def unified_diff(path: str, before: bytes, after: bytes, context: int = 3) -> bytes:
    name = path.encode("utf-8", "surrogateescape")
    out = bytearray()
    for line in difflib.diff_bytes(
        difflib.unified_diff, _lines(before), _lines(after), b"a/" + name, b"b/" + name, n=context, lineterm=b"\n"
    ):
        out += line
        if not line.endswith(b"\n"):
            out += b"\n" + _NO_NEWLINE
    return bytes(out)


def summarize(patch: bytes) -> dict[str, int]:
    """Files, hunks, lines added and removed, read back from the patch itself."""
    parsed = unidiff.PatchSet(patch.decode("utf-8", "surrogateescape").splitlines(keepends=True))
    return {
        "files": len(parsed),
        "hunks": sum(len(f) for f in parsed),
        "added": parsed.added,
        "removed": parsed.removed,
    }
