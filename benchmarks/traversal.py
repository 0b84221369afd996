"""Prototype: walking a LibCST tree without rebuilding it.

``node.visit(CSTVisitor)`` and ``node.children`` both go through ``_visit_and_replace_children``,
which builds a new copy of every node it passes, even for a read-only visitor. The codemods read
module and function facts with several such passes per file. Reading the dataclass fields instead
visits the same nodes without building anything (order: field order, not always source order, e.g.
a function's decorators come after its body; fine for collecting names and bindings).
"""
from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import libcst as cst

_FIELDS: dict[type, tuple[str, ...]] = {}


def fast_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item


def names_by_fields(node: cst.CSTNode, found: list[str]) -> list[str]:
    if isinstance(node, cst.Name):
        found.append(node.value)
    for child in fast_children(node):
        names_by_fields(child, found)
    return found


def names_by_children(node: cst.CSTNode, found: list[str]) -> list[str]:
    if isinstance(node, cst.Name):
        found.append(node.value)
    for child in node.children:
        names_by_children(child, found)
    return found


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node.value)


def names_by_visitor(node: cst.CSTNode) -> list[str]:
    visitor = _Names()
    node.visit(visitor)
    return visitor.found


def run(files: list[Path], rounds: int) -> dict[str, float]:
    """CPU seconds (median of ``rounds``) to parse the files, and to collect every name three ways."""
    datas = [p.read_bytes() for p in files]
    modules = [cst.parse_module(d) for d in datas]
    for module in modules:
        if sorted(names_by_fields(module, [])) != sorted(names_by_visitor(module)):
            raise AssertionError("the field walk missed names the visitor found")
    cases = {
        "LibCST parse (for scale)": lambda: [cst.parse_module(d) for d in datas],
        "every name, `CSTVisitor` (`node.visit`)": lambda: [names_by_visitor(m) for m in modules],
        "every name, recursion over `node.children`": lambda: [names_by_children(m, []) for m in modules],
        "every name, recursion over dataclass fields": lambda: [names_by_fields(m, []) for m in modules],
    }
    result = {}
    for name, fn in cases.items():
        samples = []
        for _ in range(rounds):
            start = time.process_time()
            fn()
            samples.append(time.process_time() - start)
        result[name] = statistics.median(samples)
    return result
