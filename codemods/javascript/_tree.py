"""Reading tree-sitter trees of JavaScript and TypeScript, and editing their bytes by range."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# The byte-range editing every tree-sitter language shares; imported from here by the JavaScript codemods.
from codemods._text import Edit as Edit
from codemods._text import apply as apply_edits
from codemods._text import indent_at as indent_at
from codemods._text import line_end as line_end
from codemods._text import line_start as line_start
from codemods._text import newline as newline

Node = Any  # tree_sitter.Node

# Leaves that name a binding (as opposed to `property_identifier`, the `x` of `a.x` or `{x: 1}`).
NAME_LEAVES = frozenset(
    {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern", "type_identifier"}
)
DECLARATIONS = ("lexical_declaration", "variable_declaration")
FUNCTIONS = frozenset(
    {
        "function_declaration",
        "function_expression",
        "arrow_function",
        "generator_function",
        "generator_function_declaration",
        "method_definition",
    }
)


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, in source order (pre-order, left to right)."""
    order = _order_of(node)
    if order is not None:
        nodes, index = order
        at = index.get(node.id)
        if at is not None and nodes[at] == node:  # `==` compares the tree as well as the node
            return iter(nodes[at : at + node.descendant_count])
    return _walk(node)


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


# The codemods walk the same tree again and again (every construction, every name query: 15-20 whole-tree walks
# per file), and a generator's walk costs about 0.45 us a node. The pre-order list of the last few whole trees
# walked makes any later walk of them, or of a subtree (a contiguous slice of it: ``descendant_count`` long), a
# list slice. A tree past _LARGE nodes is walked as before, so that the cache never holds much memory.
_ORDERS: dict[int, tuple[Node, list[Node], dict[int, int]]] = {}  # id of the root -> (root, pre-order, node id -> place)
_KEEP, _LARGE = 4, 20_000


def _order_of(node: Node) -> tuple[list[Node], dict[int, int]] | None:
    for _root, nodes, index in _ORDERS.values():
        if node.id in index:
            return nodes, index
    if node.parent is not None or node.descendant_count > _LARGE:
        return None
    nodes = list(_walk(node))
    index = {n.id: at for at, n in enumerate(nodes)}
    if len(_ORDERS) >= _KEEP:
        del _ORDERS[next(iter(_ORDERS))]
    _ORDERS[node.id] = (node, nodes, index)
    return nodes, index


def text(data: bytes, node: Node) -> str:
    return data[node.start_byte : node.end_byte].decode("utf-8", "replace")


def line(node: Node) -> int:
    return node.start_point[0] + 1


def apply(tree, edits: Iterable[Edit]):
    """The tree with ``edits`` made (they must not overlap), re-parsed; the same tree when there are none."""
    unique = list(set(edits))  # two codemod passes may ask for the same edit
    return tree.replaced(apply_edits(tree.data, unique)) if unique else tree


def string_value(data: bytes, node: Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    return "".join(text(data, c) for c in node.named_children if c.type == "string_fragment")


def required_module(data: bytes, node: Node | None) -> str | None:
    """``'m'`` for ``require('m')``, else None."""
    if node is None or node.type != "call_expression":
        return None
    function, arguments = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if function is None or function.type != "identifier" or text(data, function) != "require" or arguments is None:
        return None
    args = arguments.named_children
    return string_value(data, args[0]) if len(args) == 1 else None


def names_in(data: bytes, root: Node, name: str) -> list[Node]:
    """Every leaf that names ``name`` as a variable or type (not as a property)."""
    return [n for n in walk(root) if n.type in NAME_LEAVES and text(data, n) == name]


def is_declaration_site(node: Node) -> bool:
    """Whether this name leaf declares (binds) rather than uses its name."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "variable_declarator":
        return parent.child_by_field_name("name") == node
    if parent.type in (
        "function_declaration",
        "class_declaration",
        "function_expression",
        "generator_function_declaration",
        "type_alias_declaration",
        "interface_declaration",
        "enum_declaration",
        # TypeScript: `namespace s3 {}` and `module s3 {}` take the name `s3` as a value too (TS2300 for a
        # `const s3` beside them), as do `abstract class` and `declare function`.
        "internal_module",
        "module",
        "abstract_class_declaration",
        "function_signature",
    ):
        return parent.child_by_field_name("name") == node
    if parent.type == "import_alias":  # `import s3 = AWS.S3`
        return parent.named_children[0] == node
    if parent.type in ("import_clause", "namespace_import", "import_require_clause"):
        return True
    if parent.type == "import_specifier":
        alias = parent.child_by_field_name("alias")
        return node == (alias or parent.child_by_field_name("name"))
    if node.type == "shorthand_property_identifier_pattern":
        return True
    if parent.type == "pair_pattern":
        return parent.child_by_field_name("value") == node
    if parent.type in (
        "formal_parameters",
        "required_parameter",
        "optional_parameter",
        "rest_pattern",
        "assignment_pattern",
        "array_pattern",
        "catch_clause",
    ):
        return parent.type != "assignment_pattern" or parent.child_by_field_name("left") == node
    if parent.type == "arrow_function":
        return parent.child_by_field_name("parameter") == node
    return False
