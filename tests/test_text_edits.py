"""The byte-range editing that manifests and the tree-sitter languages share (codemods/_text.py)."""
from __future__ import annotations

import pytest

from codemods._text import Edit, apply, indent_at, line_end, line_start


@pytest.mark.parametrize(
    "data, pos, start, end",
    [
        pytest.param(b"one\ntwo\n", 5, 4, 8, id="lf"),
        pytest.param(b"one\r\ntwo\r\n", 6, 5, 10, id="crlf"),
        pytest.param(b"one\rtwo\r", 5, 4, 8, id="bare-cr"),  # a bare CR ends a line: the line has no LF, so to the end
        pytest.param(b"only", 2, 0, 4, id="one-line"),
    ],
)
def test_line_bounds(data: bytes, pos: int, start: int, end: int) -> None:
    assert (line_start(data, pos), line_end(data, pos)) == (start, end)


def test_indent_and_edits_keep_the_other_bytes() -> None:
    data = b"a:\r\n\t  b: 1\r\n"
    assert indent_at(data, data.index(b"b")) == b"\t  "
    assert apply(data, [Edit(data.index(b"1"), data.index(b"1") + 1, b"2")]) == b"a:\r\n\t  b: 2\r\n"
    with pytest.raises(ValueError, match="overlapping"):
        apply(data, [Edit(0, 3, b""), Edit(2, 4, b"")])
