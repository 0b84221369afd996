"""The JavaScript codemods' tree walk, answered from a cached pre-order list, gives the generator's nodes."""
from __future__ import annotations

from pathlib import Path

from codemods.javascript import _tree
from rewriter.languages import _parse_fresh

FIXTURES = Path(__file__).parent / "fixtures"
DIALECTS = {".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".ts": "typescript", ".tsx": "tsx"}


def _sources() -> list[tuple[str, bytes]]:
    return [(DIALECTS[p.suffix], p.read_bytes()) for p in sorted(FIXTURES.rglob("*.in.*")) if p.suffix in DIALECTS]


def test_every_walk_is_the_generators() -> None:
    sources = _sources()
    assert len(sources) > 10
    for dialect, data in sources:
        root = _parse_fresh(dialect, data).tree.root_node
        for node in list(_tree._walk(root)):
            assert list(_tree.walk(node)) == list(_tree._walk(node))
        assert root.id in _tree._ORDERS  # answered from the list, not by the generator again


def test_a_node_of_another_tree_of_the_same_bytes_is_its_own() -> None:
    dialect, data = _sources()[0]
    first, second = (_parse_fresh(dialect, data).tree.root_node for _ in range(2))
    list(_tree.walk(first))
    inner = second.named_children[-1]
    walked = list(_tree.walk(inner))
    assert walked == list(_tree._walk(inner))
    assert all(node != other for node, other in zip(walked, _tree._walk(first.named_children[-1])))  # other tree


def test_only_a_few_trees_are_kept() -> None:
    for dialect, data in _sources()[: _tree._KEEP + 3]:
        list(_tree.walk(_parse_fresh(dialect, data).tree.root_node))
    assert len(_tree._ORDERS) <= _tree._KEEP
