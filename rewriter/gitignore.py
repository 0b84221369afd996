"""Gitignore patterns matched as git matches them, in time polynomial in the pattern and the path.

pathspec compiles a pattern to one Python regex, and `*a*a*a*a*a*a*a*a*a*a*a*a` against a long
file name backtracks exponentially (minutes). Here a pattern is cut into path segments. Within a
segment, the text between two stars has a fixed length, so its leftmost occurrence is always the
right one to take: it is matched in an atomic lookahead (the trick of CPython's fnmatch) and never
revisited; only the text after the last star backtracks, against the end of the segment. A ``**``
segment matches any number of whole segments, by the same two-pointer idea over segments.

The semantics are git's (dir.c, wildmatch.c with WM_PATHNAME), on bytes as git sees them (``?``
is one byte of a UTF-8 name); tests compare this module with ``git check-ignore`` and ``git
status``.
"""
from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Sequence

_POSIX = {
    name: chars.encode("latin-1")
    for name, chars in {
        "alnum": string.ascii_letters + string.digits,
        "alpha": string.ascii_letters,
        "blank": " \t",
        "cntrl": "".join(map(chr, range(32))) + "\x7f",
        "digit": string.digits,
        "graph": "".join(map(chr, range(33, 127))),
        "lower": string.ascii_lowercase,
        "print": "".join(map(chr, range(32, 127))),
        "punct": string.punctuation,
        "space": " \t\n\r\f\v",
        "upper": string.ascii_uppercase,
        "xdigit": string.hexdigits,
    }.items()
}
_STAR = object()  # one unescaped "*"
_STARS = object()  # two or more: a whole segment of them is `**`, anywhere else they are "*"
_DOUBLE = object()  # a `**` segment: any number of whole segments
_SLASH = b"/"


class _Malformed(ValueError):
    """A pattern git matches nothing with (an unclosed ``[``, an unknown ``[:class:]``, a trailing ``\\``)."""


def _escape(byte: int) -> bytes:
    return re.escape(bytes([byte]))


def _tokens(pattern: bytes) -> list:
    """Regex pieces for one byte each, ``_STAR``/``_STARS``, or ``_SLASH`` between segments."""
    out: list = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash
            if i + 1 >= n:
                raise _Malformed(pattern)
            out.append(_SLASH if pattern[i + 1] == 0x2F else _escape(pattern[i + 1]))
            i += 2
        elif c == 0x2A:  # *
            end = i
            while end < n and pattern[end] == 0x2A:
                end += 1
            out.append(_STARS if end - i > 1 else _STAR)
            i = end
        elif c == 0x3F:  # ?
            out.append(b"[^/]")
            i += 1
        elif c == 0x5B:  # [
            piece, i = _bracket(pattern, i + 1)
            out.append(piece)
        else:
            out.append(_SLASH if c == 0x2F else _escape(c))
            i += 1
    return out


def _bracket(pattern: bytes, i: int) -> tuple[bytes, int]:
    """``[...]`` from after its ``[``, as wildmatch reads it: ``!`` or ``^`` negates, a first ``]`` is literal."""
    n = len(pattern)
    negated = i < n and pattern[i] in b"!^"
    i += negated
    chars: set[int] = set()
    ranges: list[tuple[int, int]] = []
    first = True
    while True:
        if i >= n:
            raise _Malformed(pattern)
        c = pattern[i]
        if c == 0x5D and not first:  # ]
            return _class(chars, ranges, negated), i + 1
        first = False
        if c == 0x5C:
            if i + 1 >= n:
                raise _Malformed(pattern)
            c = pattern[i + 1]
            i += 2
        elif pattern.startswith(b"[:", i):
            end = pattern.find(b"]", i + 2)
            if end < 0:
                raise _Malformed(pattern)
            if pattern[end - 1] == 0x3A and end - 1 >= i + 2:
                name = pattern[i + 2:end - 1].decode("latin-1")
                if name not in _POSIX:
                    raise _Malformed(pattern)
                chars.update(_POSIX[name])
                i = end + 1
                continue
            i += 1  # no ":]": a literal "["
        else:
            i += 1
        if i + 1 < n and pattern[i] == 0x2D and pattern[i + 1] != 0x5D:  # a range, not a final "-"
            high = pattern[i + 1]
            i += 2
            if high == 0x5C:
                if i >= n:
                    raise _Malformed(pattern)
                high = pattern[i]
                i += 1
            if c <= high:
                ranges.append((c, high))
            continue
        chars.add(c)


def _class(chars: set[int], ranges: list[tuple[int, int]], negated: bool) -> bytes:
    chars.discard(0x2F)  # with WM_PATHNAME no bracket matches "/"
    body = b"".join(_escape(c) for c in sorted(chars)) + b"".join(_escape(lo) + b"-" + _escape(hi) for lo, hi in ranges)
    if negated:
        return b"[^/" + body + b"]"
    return b"[" + body + b"]" if body else b"(?!)"


class _Groups:
    """Names the lookahead groups of one pattern, apart from those of the other patterns of its list."""

    def __init__(self, tag: int) -> None:
        self.tag, self.count = tag, 0

    def atomic(self, chunk: bytes) -> bytes:
        # Python's re has atomic groups only from 3.11; a lookahead is atomic, and the group replays what it saw.
        self.count += 1
        name = b"g%d_%d" % (self.tag, self.count)
        return b"(?=(?P<" + name + b">[^/]*?" + chunk + b"))(?P=" + name + b")"


def _segment(pieces: Sequence, groups: _Groups) -> bytes:
    """A regex for one segment that never backtracks into the text before its last star."""
    chunks: list[list[bytes]] = [[]]
    for piece in pieces:
        if piece is _STAR or piece is _STARS:
            chunks.append([])
        else:
            chunks[-1].append(piece)
    if len(chunks) == 1:
        return b"".join(chunks[0])
    head, *middle, tail = (b"".join(c) for c in chunks)
    return head + b"".join(groups.atomic(m) for m in middle if m) + b"[^/]*" + tail


def _trimmed(line: bytes) -> bytes:
    """Trailing spaces go unless a backslash escapes them (git's trim_trailing_spaces)."""
    last_space = None
    i = 0
    while i < len(line):
        if line[i] == 0x20:
            last_space = i if last_space is None else last_space
        elif line[i] == 0x5C:
            if i + 1 >= len(line):
                return line
            i += 1
            last_space = None
        else:
            last_space = None
        i += 1
    return line if last_space is None else line[:last_space]


def encoded(text: str) -> bytes:
    """A path or pattern as git sees it: the bytes of the name (undecodable ones kept by surrogateescape)."""
    return text.encode("utf-8", "surrogateescape")


class Pattern:
    """One line of a .gitignore: ``negated`` by a leading ``!``, ``dir_only`` by a trailing ``/``."""

    def __init__(self, negated: bool, dir_only: bool, name: bytes | None, whole: bytes | None,
                 segments: tuple | None) -> None:
        self.negated, self.dir_only = negated, dir_only
        #: a regex for the last segment of the path, for the whole path, or the segments with `**` among them
        self.name, self.whole, self.segments = name, whole, segments

    @classmethod
    def parse(cls, line: str, tag: int = 0) -> Pattern | None:
        """None for a blank line, a comment, or a pattern that can match nothing; ``tag`` names its groups."""
        text = encoded(line)
        if not text or text.startswith(b"#"):
            return None
        text = _trimmed(text)
        negated = text.startswith(b"!")
        text = text[negated:]
        dir_only = text.endswith(b"/")
        text = text[:-1] if dir_only else text
        anchored = b"/" in text  # a "/" at the start or in the middle: relative to the .gitignore's folder
        text = text[1:] if text.startswith(b"/") else text
        if not text:
            return None
        try:
            pieces = _tokens(text)
        except _Malformed:
            return None
        groups = _Groups(tag)
        if not anchored:  # matched against the last segment of the path, at any depth
            return cls(negated, dir_only, _segment(pieces, groups), None, None)
        parts: list[list] = [[]]
        for piece in pieces:
            if piece is _SLASH:
                parts.append([])
            else:
                parts[-1].append(piece)
        items: list = []
        for part in parts:
            item = _DOUBLE if len(part) == 1 and part[0] is _STARS else _segment(part, groups)
            if not (item is _DOUBLE and items and items[-1] is _DOUBLE):  # `**/**` is `**`
                items.append(item)
        if _DOUBLE not in items:
            return cls(negated, dir_only, None, b"/".join(items), None)
        if items[-1] is _DOUBLE:  # `foo/**` is what is inside foo, not foo itself
            items.insert(-1, b"[^/]+")
        return cls(negated, dir_only, None, None, tuple(i if i is _DOUBLE else re.compile(i, re.S) for i in items))

    def matches(self, path: bytes, is_dir: bool) -> bool:
        """Whether this pattern matches ``path`` itself ("/"-separated, relative to the .gitignore's folder)."""
        if self.dir_only and not is_dir:
            return False
        if self.segments is not None:
            return _segments_match(self.segments, path.split(b"/"))
        regex = _compiled(self.name if self.name is not None else self.whole)
        return regex.fullmatch(path.rpartition(b"/")[2] if self.name is not None else path) is not None


def _segments_match(items: Sequence, parts: Sequence[bytes]) -> bool:
    """Wildcard matching with ``**`` as the star and any other segment as one character: O(items x parts)."""
    p = t = 0
    star, mark = -1, 0
    while t < len(parts):
        if p < len(items) and items[p] is _DOUBLE:
            star, mark = p, t
            p += 1
        elif p < len(items) and items[p].fullmatch(parts[t]) is not None:
            p += 1
            t += 1
        elif star >= 0:
            mark += 1
            p, t = star + 1, mark
        else:
            return False
    while p < len(items) and items[p] is _DOUBLE:
        p += 1
    return p == len(items)


class GitIgnore:
    """The patterns of one .gitignore, or of any gitignore-style list; paths are relative and "/"-separated."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.patterns = [p for p in (Pattern.parse(line, tag) for tag, line in enumerate(lines)) if p is not None]
        # Thousands of paths against dozens of patterns: one regex call per path and kind, the last pattern
        # first among the alternatives, so that the alternative that matches is the pattern that decides.
        self._name = {is_dir: self._alternatives("name", is_dir) for is_dir in (False, True)}
        self._whole = {is_dir: self._alternatives("whole", is_dir) for is_dir in (False, True)}
        self._segments = [(i, p) for i, p in enumerate(self.patterns) if p.segments is not None]

    def _alternatives(self, kind: str, is_dir: bool) -> list[re.Pattern]:
        # In chunks: re compiles one regex of thousands of alternatives in time worse than linear.
        sources = [b"(?P<p%d>%s)" % (i, getattr(p, kind)) for i, p in reversed(list(enumerate(self.patterns)))
                   if getattr(p, kind) is not None and (is_dir or not p.dir_only)]
        return [re.compile(b"|".join(sources[i:i + _CHUNK]), re.S) for i in range(0, len(sources), _CHUNK)]

    def decide(self, path: str, is_dir: bool) -> bool | None:
        """For ``path`` itself: True ignored, False taken back by a ``!`` pattern, None when no pattern matches."""
        data = encoded(path)
        last = -1  # the last pattern that matches decides
        for chunks, subject in ((self._name[is_dir], data.rpartition(b"/")[2]), (self._whole[is_dir], data)):
            for regex in chunks:  # the later patterns first
                found = regex.fullmatch(subject)
                if found is not None:
                    last = max(last, int((found.lastgroup or "_0")[1:]))  # each alternative is a named group
                    break
        for index, pattern in reversed(self._segments):
            if index <= last:
                break
            if pattern.matches(data, is_dir):
                last = index
                break
        return None if last < 0 else not self.patterns[last].negated

    def match_file(self, path: str, is_dir: bool = False) -> bool:
        """Whether ``path`` is matched as git decides: a path inside a matched folder is, whatever follows."""
        parts = path.split("/")
        for end in range(1, len(parts)):
            if self.decide("/".join(parts[:end]), True):
                return True
        return bool(self.decide(path, is_dir))


_CHUNK = 100


@functools.lru_cache(maxsize=1024)
def _compiled(source: bytes) -> re.Pattern:
    return re.compile(source, re.S)


@functools.lru_cache(maxsize=256)
def compiled(patterns: tuple[str, ...]) -> GitIgnore:
    """The globs of one configuration, matched against thousands of paths: compiled once."""
    return GitIgnore(patterns)
