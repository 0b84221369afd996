"""``walk`` and ``children`` (codemods/python/_facts.py) meet the nodes exactly as LibCST's visitors do."""
from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from codemods.python import _facts
from codemods.python._facts import children, walk

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "samples").rglob("*.py"), ROOT / "rewriter" / "cli.py"]
)
NODE_CLASSES = sorted(
    {value for value in vars(cst).values() if isinstance(value, type) and issubclass(value, cst.CSTNode)},
    key=lambda c: c.__name__,
)


def _recorder(skip: type | None = None) -> type:
    """A visitor with visit_<Node>/leave_<Node> for every node class, writing down each call."""

    def make(kind: str, name: str):
        def hook(self, node):
            self.log.append((kind, name, id(node)))
            return False if kind == "visit" and skip is not None and name == skip.__name__ else None

        return hook

    methods = {}
    for node_class in NODE_CLASSES:
        methods[f"visit_{node_class.__name__}"] = make("visit", node_class.__name__)
        methods[f"leave_{node_class.__name__}"] = make("leave", node_class.__name__)
    cls = type("Recorder", (cst.CSTVisitor,), methods)
    cls.__module__ = __name__
    return cls


def _log(tree: cst.Module, recorder: type, through_walk: bool) -> list[tuple[str, str, int]]:
    visitor = recorder()
    visitor.log = []
    if through_walk:
        walk(tree, visitor)
    else:
        tree.visit(visitor)
    return visitor.log


@pytest.mark.parametrize("skip", [None, cst.FunctionDef, cst.Call], ids=["all", "skip-functions", "skip-calls"])
def test_walk_calls_the_visitor_as_libcst_does(skip) -> None:
    recorder = _recorder(skip)
    for source in SOURCES:
        tree = cst.parse_module(source.read_bytes())
        assert _log(tree, recorder, True) == _log(tree, recorder, False), source


def test_children_are_libcsts_in_the_same_order() -> None:
    for source in SOURCES[:40]:
        stack = [cst.parse_module(source.read_bytes())]
        while stack:
            node = stack.pop()
            ours = children(node)
            assert [type(c) for c in ours] == [type(c) for c in node.children], (source, type(node))
            assert [c.deep_equals(d) for c, d in zip(ours, node.children)] == [True] * len(ours)
            stack.extend(ours)


def test_a_visitor_with_its_own_hooks_goes_through_libcst() -> None:
    class Counting(cst.CSTVisitor):
        def __init__(self) -> None:
            self.attributes: list[str] = []

        def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
            self.attributes.append(node.name.value)

    visitor = Counting()
    walk(cst.parse_module("def f():\n    def g():\n        pass\n"), visitor)
    assert visitor.attributes == ["f", "g"]


def test_a_field_libcst_skips_when_empty_is_walked_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first f-string seen has no format spec; the second one's spec must still be walked, in order."""
    monkeypatch.setattr(_facts, "_FIELD_ORDER", {})
    recorder = _recorder()
    for source in ('f"{a}"\n', 'f"{a:>{width}}"\n'):
        tree = cst.parse_module(source)
        assert _log(tree, recorder, True) == _log(tree, recorder, False)


def test_node_lines_are_the_start_lines_of_libcsts_positions() -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider

    from codemods.python._facts import NodeLines

    for source in SOURCES:
        tree = cst.parse_module(source.read_bytes())
        positions = MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider)
        lines = NodeLines(tree)
        assert {node: lines[node] for node in positions} == {node: r.start.line for node, r in positions.items()}, source
