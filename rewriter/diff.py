"""Unified diffs that ``git apply`` and ``patch -p1`` take unchanged, byte for byte."""
from __future__ import annotations

import difflib
import re

import unidiff

_NO_NEWLINE = b"\\ No newline at end of file\n"


def _lines(data: bytes) -> list[bytes]:
    # Split on "\n" only: form feeds and lone "\r" are content to git, not line breaks.
    return re.findall(rb"[^\n]*\n|[^\n]+$", data)


# As git writes names (quote_c_style with core.quotePath): control bytes, quote, backslash and
# non-ASCII bytes are escaped inside double quotes.
_NEEDS_QUOTES = re.compile(rb'[\x00-\x1f"\\\x7f-\xff]')
_ESCAPES = {7: b"\\a", 8: b"\\b", 9: b"\\t", 10: b"\\n", 11: b"\\v", 12: b"\\f", 13: b"\\r", 34: b'\\"', 92: b"\\\\"}


def _header_name(name: bytes) -> bytes:
    if _NEEDS_QUOTES.search(name):
        quoted = b"".join(
            _ESCAPES.get(byte) or (b"\\%03o" % byte if byte < 0x20 or byte >= 0x7F else bytes([byte])) for byte in name
        )
        return b'"' + quoted + b'"'
    # A name with a space ends with a tab, as git writes it, so that patch(1) does not stop at the space.
    return name + b"\t" if b" " in name else name


def unified_diff(path: str, before: bytes, after: bytes, context: int = 3) -> bytes:
    name = path.encode("utf-8", "surrogateescape")
    old, new = _header_name(b"a/" + name), _header_name(b"b/" + name)
    out = bytearray()
    for line in difflib.diff_bytes(
        difflib.unified_diff, _lines(before), _lines(after), old, new, n=context, lineterm=b"\n"
    ):
        out += line
        if not line.endswith(b"\n"):
            out += b"\n" + _NO_NEWLINE
    return bytes(out)


def summarize(patch: bytes) -> dict[str, int]:
    """Files, hunks, lines added and removed, read back from the patch itself."""
    # Lines end at "\n" only, as in _lines: str.splitlines would also break at form feeds and lone CRs.
    text = patch.decode("utf-8", "surrogateescape")
    parsed = unidiff.PatchSet(re.findall(r"[^\n]*\n|[^\n]+$", text))
    return {
        "files": len(parsed),
        "hunks": sum(len(f) for f in parsed),
        "added": parsed.added,
        "removed": parsed.removed,
    }


def line_map(original: bytes, changed: bytes) -> dict[int, int]:
    """Line numbers of ``changed`` -> the line of ``original`` each came from; an inserted line maps to the
    original line it was inserted before, so that a finding about new code points where it went."""
    old, new = _lines(original), _lines(changed)
    mapping: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        for offset in range(j2 - j1):
            if tag == "equal":
                mapping[j1 + offset + 1] = i1 + offset + 1
            else:  # replaced lines map one to one as far as they go, then to the last one
                mapping[j1 + offset + 1] = min(i1 + offset, max(i2 - 1, i1)) + 1
    return {new_line: min(old_line, max(len(old), 1)) for new_line, old_line in mapping.items()}
