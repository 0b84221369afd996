"""The checks every rewritten file passes before it is written, diffed or committed."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rewriter.languages import Language, ParseFailure

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


class VerificationFailed(Exception):
    pass


class OriginalDoesNotCompile(VerificationFailed):
    """The result fails the language's full check because the file itself already did (tree-sitter or LibCST read
    it, `node --check` or `compile()` does not): the file's own error, not the rewrite's."""


def line_endings(data: bytes) -> set[bytes]:
    endings = set()
    if b"\r\n" in data:
        endings.add(b"\r\n")
    if re.search(rb"\r(?!\n)", data):
        endings.add(b"\r")
    if re.search(rb"(?<!\r)\n", data):
        endings.add(b"\n")
    return endings


def _coding(data: bytes) -> bytes | None:
    head = b"\n".join(data.splitlines()[:2])
    match = _CODING.search(head)
    return match.group(1).lower() if match else None


def verify(
    path: str,
    original: bytes,
    result: bytes,
    language: Language,
    rerun: Callable[[bytes, Any], bytes],
) -> None:
    """Raise VerificationFailed unless ``result`` is a safe replacement for ``original``.

    ``rerun(result, tree)`` runs the codemods again on ``result``, parsed as ``tree`` (None: parse it).
    """
    try:
        tree = language.check(result, path)
    except ParseFailure as failure:
        try:
            language.check(original, path)
        except ParseFailure as own:
            raise OriginalDoesNotCompile(str(own)) from None
        raise VerificationFailed(f"the result does not parse: {failure}") from None
    if original.startswith(b"\xef\xbb\xbf") != result.startswith(b"\xef\xbb\xbf"):
        raise VerificationFailed("the byte order mark would change")
    if _coding(original) != _coding(result):
        raise VerificationFailed("the coding declaration would change")
    if original.endswith((b"\n", b"\r")) != result.endswith((b"\n", b"\r")):
        raise VerificationFailed("the final newline would change")
    before, after = line_endings(original), line_endings(result)
    # A result left with no line break at all (one line, no final newline) keeps the style by having none.
    if (len(before) == 1 and after and after != before) or (before and not after <= before):
        raise VerificationFailed("the line endings would change")
    if rerun(result, tree) != result:
        raise VerificationFailed("a second run would change the result again (not idempotent)")
