"""TypeScript: a request built in a local keeps its own member types across the move to v3.

v3 input types make every member optional (`PutObjectCommandInput.Key: string | undefined`), so code that reads a
member back (`return { key: put.Key }` where a `string` is due) type-checks under v2's `PutObjectRequest` and not
under v3's. `const put: PutObjectCommandInput = {...}` becomes `const put = {...} satisfies PutObjectCommandInput`:
the literal is still checked against the input type, the call takes it as before, and `put.Key` is the `string`
it was built from. Nothing changes at run time (`satisfies` is erased). Only where it is sound: a `const`, an object
literal, its members read and never written.
"""
from __future__ import annotations

from codemods._base import FileContext
from codemods.javascript._tree import Edit, line, text, walk

_WRITES = frozenset({"assignment_expression", "augmented_assignment_expression", "update_expression"})


def keep_member_types(data: bytes, root, ctx: FileContext) -> list[Edit]:
    v3_types = _v3_type_imports(data, root)
    if not v3_types:
        return []
    declared: dict[str, int] = {}
    for node in walk(root):
        if node.type == "variable_declarator":
            name = text(data, node.child_by_field_name("name"))
            declared[name] = declared.get(name, 0) + 1
    edits = []
    for node in walk(root):
        if node.type != "variable_declarator" or node.parent is None or node.parent.type != "lexical_declaration":
            continue
        if text(data, node.parent.children[0]) != "const":
            continue
        name_node, annotation, value = (node.child_by_field_name(f) for f in ("name", "type", "value"))
        if annotation is None or value is None or value.type != "object" or name_node.type != "identifier":
            continue
        kind = text(data, annotation).lstrip(":").strip()
        name = text(data, name_node)
        if kind not in v3_types or declared.get(name) != 1:
            continue
        reads = _member_uses(data, root, name)
        if reads is None:
            continue  # written after: its own member types would refuse the writes; tsc says what is left
        if not reads:
            continue  # only passed whole: the input type is all it needs
        edits += [Edit(name_node.end_byte, annotation.end_byte, b""),
                  Edit(value.end_byte, value.end_byte, f" satisfies {kind}".encode())]
        ctx.change(line(node), f"`{name}` keeps the types of its own members (`satisfies {kind}`): v3 input types "
                               f"make every member optional, so `{name}.{reads[0]}` would no longer be what it was "
                               "built from")
    return edits


def _v3_type_imports(data: bytes, root) -> set[str]:
    """Names imported from an @aws-sdk package that are command input types."""
    found = set()
    for statement in root.named_children:
        source = statement.child_by_field_name("source") if statement.type == "import_statement" else None
        if source is None or not text(data, source)[1:-1].startswith("@aws-sdk/"):
            continue
        for spec in walk(statement):
            if spec.type == "import_specifier" and spec.child_by_field_name("alias") is None:
                imported = text(data, spec.child_by_field_name("name"))
                if imported.endswith("CommandInput"):
                    found.add(imported)
    return found


def _member_uses(data: bytes, root, name: str) -> list[str] | None:
    """The members of ``name`` read (`put.Key`), or None when one is written or deleted."""
    reads = []
    for node in walk(root):
        if node.type != "member_expression" or text(data, node.child_by_field_name("object")) != name:
            continue
        parent = node.parent
        if parent is not None and (
            (parent.type in _WRITES and parent.children and parent.children[0] == node)
            or (parent.type == "unary_expression" and text(data, parent).startswith("delete"))
        ):
            return None
        reads.append(text(data, node.child_by_field_name("property")))
    return reads
