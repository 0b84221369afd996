"""What the sdk-v3 tests share: where the pinned aws-sdk-js-codemod is, and a comparison that ignores layout."""
from __future__ import annotations

from pathlib import Path

import pytest

from rewriter.languages import language_for

NODE_MODULES = Path(__file__).resolve().parent / "js" / "node_modules"
HAVE_TOOL = (NODE_MODULES / "aws-sdk-js-codemod" / "package.json").is_file()
needs_tool = pytest.mark.skipif(
    not HAVE_TOOL, reason="needs tests/js/node_modules (`make test` runs `npm ci --prefix tests/js`)"
)


@pytest.fixture
def with_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    """sdk-v3 finds the pinned aws-sdk-js-codemod of tests/js (every other test runs without it)."""
    monkeypatch.setenv("LAMBDA_REWRITER_NODE_MODULES", str(NODE_MODULES))


def tokens(path: str, data: bytes) -> list[tuple[str, str]]:
    """The leaves of the file's tree-sitter tree (comments included), as (type, text): equal for two texts that
    differ only in whitespace and line breaks."""
    tree = language_for(path).parse(data).tree
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        if node.child_count == 0 or node.type in ("string", "comment", "template_string"):
            piece = data[node.start_byte : node.end_byte].decode()
            if node.type == "comment":
                piece = " ".join(piece.split())
            out.append((node.type, piece))
            continue
        stack.extend(reversed(node.children))
    return out
