"""Byte ranges of a YAML (or JSON: YAML reads it) template's nodes, and the edits that remove an entry or replace a
scalar without touching any other byte: comments, quotes, indentation, key order and line endings stay.

PyYAML's composer gives every node its start and end in characters of the decoded text; here they become bytes of
the file. Nothing is constructed: CloudFormation's `!Ref`-style tags stay tags.
"""
from __future__ import annotations

import dataclasses

import yaml

from codemods._text import Edit, line_end, line_start

STR = "tag:yaml.org,2002:str"


class _Composer(yaml.SafeLoader):
    """Composes any tag (`!Ref`, `!GetAtt`): the graph is never constructed."""


@dataclasses.dataclass
class Document:
    data: bytes
    root: yaml.Node
    offsets: list[int] | None  # byte offset of each character; None when they are the same (ASCII, no BOM)

    def start(self, node: yaml.Node) -> int:
        return self._byte(node.start_mark.index)

    def end(self, node: yaml.Node) -> int:
        return self._byte(node.end_mark.index)

    def _byte(self, index: int) -> int:
        return index if self.offsets is None else self.offsets[index]

    def line(self, node: yaml.Node) -> int:
        return node.start_mark.line + 1


def compose(data: bytes) -> Document | None:
    try:
        text = data.decode("utf-8-sig")
        root = yaml.compose(text, Loader=_Composer)
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    offsets = None
    if bom or not text.isascii():
        offsets, at = [], bom
        for char in text:
            offsets.append(at)
            at += len(char.encode("utf-8", "surrogatepass"))
        offsets.append(at)
    return Document(data, root, offsets)


def entry(mapping: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    """(key node, value node) of ``key`` in a mapping node, else None (also when it is not a mapping)."""
    if not isinstance(mapping, yaml.MappingNode):
        return None
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def value(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    found = entry(mapping, key)
    return found[1] if found else None


def string(node: yaml.Node | None) -> str | None:
    """A plain string scalar's value (not `!Ref X`, not a number)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == STR:
        return node.value
    return None


def aliased(key: yaml.Node, node: yaml.Node) -> bool:
    """A value that is an alias (`*vars`) or a merge: its text is elsewhere, shared with other places."""
    return node.start_mark.index < key.end_mark.index


def _last_end(doc: Document, node: yaml.Node) -> int:
    """Where the node's own text ends: a block collection's end mark is the next token's start, lines later."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return doc.end(node)
    if not node.value:
        return doc.end(node)
    last = node.value[-1]
    return _last_end(doc, last[1] if isinstance(node, yaml.MappingNode) else last)


def remove(doc: Document, chain: list[tuple[yaml.Node, yaml.Node, yaml.Node]]) -> Edit | None:
    """The edit that removes the innermost entry of ``chain`` ((mapping, key, value) from the outermost level in),
    or the entry of the innermost level above it that would be left empty. None where the text's shape is not one
    this handles (an entry sharing its line with another)."""
    level = len(chain) - 1
    while level > 0 and len(chain[level][0].value) == 1:
        level -= 1
    mapping, key, node = chain[level]
    data = doc.data
    start, end = doc.start(key), _last_end(doc, node)
    if not getattr(mapping, "flow_style", False):
        first, last = line_start(data, start), line_end(data, end)
        if data[first:start].strip() or (data[end:last].strip() and not data[end:last].strip().startswith(b"#")):
            return None
        return Edit(first, last, b"")
    entries = mapping.value
    index = next(i for i, (k, _) in enumerate(entries) if k is key)
    if len(entries) == 1:
        return None  # `{}` would be left: the level above decides, and there is none
    if index + 1 < len(entries):
        return Edit(start, doc.start(entries[index + 1][0]), b"")
    return Edit(_last_end(doc, entries[index - 1][1]), end, b"")
