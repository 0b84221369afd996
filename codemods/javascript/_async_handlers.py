"""Callback handlers `(event, context, callback)` become `async` handlers (nodejs24.x runs no other kind).

The body is kept byte for byte; `callback` becomes a function that settles a promise which the handler returns:
the code returns or throws through it, whatever path (nested callbacks included) calls it.
"""
from __future__ import annotations

from codemods._base import FileContext
from codemods.javascript._tree import FUNCTIONS, Edit, Node, indent_at, line, line_end, line_start, newline, text, walk

CALLBACK_NAMES = frozenset({"callback", "cb", "done"})
_WAITS = "callbackWaitsForEmptyEventLoop"
SETTLED = "settled"


def _top_functions(data: bytes, root: Node):
    """(exported name, function) for the handler forms Lambda code uses: `exports.x =`, `module.exports.x =`,
    `export const x =`, `export function x`."""
    for statement in root.named_children:
        target = statement.named_children[0] if statement.type == "export_statement" and statement.named_children \
            else statement
        if statement.type == "expression_statement" and target.named_children:
            assignment = target.named_children[0]
            if assignment.type == "assignment_expression":
                left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
                dotted = text(data, left)
                if right is not None and right.type in FUNCTIONS and dotted.startswith(("exports.", "module.exports.")):
                    yield dotted.rsplit(".", 1)[-1], right
        elif statement.type == "export_statement" and target.type == "function_declaration":
            yield text(data, target.child_by_field_name("name")), target
        elif statement.type == "export_statement" and target.type in ("lexical_declaration", "variable_declaration"):
            for declarator in target.named_children:
                value = declarator.child_by_field_name("value")
                if declarator.type == "variable_declarator" and value is not None and value.type in FUNCTIONS:
                    yield text(data, declarator.child_by_field_name("name")), value


def make_async(data: bytes, root: Node, ctx: FileContext) -> list[Edit]:
    edits: list[Edit] = []
    for name, function in _top_functions(data, root):
        params = function.child_by_field_name("parameters")
        body = function.child_by_field_name("body")
        names = [p for p in params.named_children if p.type not in ("comment",)] if params is not None else []
        if len(names) != 3 or any(p.type not in ("identifier", "required_parameter") for p in names):
            continue
        callback = text(data, names[2]).split(":")[0].strip()
        if (name not in ctx.entry_points) if ctx.entry_points is not None else callback not in CALLBACK_NAMES:
            continue
        if any(child.type == "async" for child in function.children):
            ctx.note(line(function), f"`{name}` is async and takes `{callback}`: Node.js 24 passes no callback; "
                                     "return or throw instead")
            continue
        if body is None or body.type != "statement_block":
            continue
        if any(node.type == "identifier" and text(data, node) == "arguments" for node in walk(body)):
            ctx.note(line(function), f"`{name}` reads `arguments`: left a callback handler")
            continue
        try:
            edits.extend(_wrap(data, function, names, body, callback))
        except _Refused as refused:
            ctx.note(line(function), f"callback handler `{name}` left as it is: {refused}")
            continue
        ctx.change(line(function), f"callback handler `{name}` made async (it returns a promise that `{callback}` "
                                   "settles): it can run on nodejs24.x")
        for node in walk(body):
            if node.type == "property_identifier" and text(data, node) == _WAITS:
                statement = node.parent.parent.parent if node.parent.parent else None
                if statement is not None and statement.type == "expression_statement" and \
                        node.parent.parent.type == "assignment_expression":
                    start, end = line_start(data, statement.start_byte), line_end(data, statement.end_byte)
                    if not data[start:statement.start_byte].strip() and not data[statement.end_byte:end].strip():
                        edits.append(Edit(start, end, b""))
                ctx.note(line(node), f"`context.{_WAITS}` removed: an async handler answers when its promise "
                                     "settles, and work still pending then resumes in the next invocation")
    return edits


class _Refused(Exception):
    pass


def _own_returns(body: Node):
    """The return statements of this function, not of the functions inside it."""
    stack = list(reversed(body.named_children))
    while stack:
        node = stack.pop()
        if node.type == "return_statement":
            yield node
        elif node.type not in FUNCTIONS and node.type != "class_declaration":
            stack.extend(reversed(node.named_children))


def _wrap(data: bytes, function: Node, params: list[Node], body: Node, callback: str) -> list[Edit]:
    """The body stays where it is (so hoist-clients still sees its statements): `callback` settles a promise
    that every way out of the handler returns."""
    if any(node.type == "identifier" and text(data, node) == SETTLED for node in walk(body)):
        raise _Refused(f"`{SETTLED}` is already a name here")
    nl = newline(data)
    inner = indent_at(data, body.named_children[0].start_byte) if body.named_children else b"  "
    edits = [
        Edit(function.start_byte, function.start_byte, b"async "),
        Edit(params[1].end_byte, params[2].end_byte, b""),
        Edit(body.start_byte + 1, body.start_byte + 1, (
            nl + inner + f"let {callback};".encode() + nl + inner
            + f"const {SETTLED} = new Promise((resolve, reject) => {{ {callback} = (error, value) => "
              f"(error ? reject(error) : resolve(value), {SETTLED}); }});".encode()
        )),
    ]
    for node in _own_returns(body):
        value = node.named_children[0] if node.named_children else None
        if value is None:
            edits.append(Edit(node.start_byte + len(b"return"), node.start_byte + len(b"return"), b" " + SETTLED.encode()))
        elif not (value.type == "call_expression" and text(data, value.child_by_field_name("function")) == callback):
            raise _Refused(f"it returns `{text(data, value)[:40]}`, which Lambda ignores from a callback handler")
    last = body.named_children[-1] if body.named_children else None
    if last is None or last.type != "return_statement":
        closing = body.end_byte - 1
        at = line_start(data, closing) if not data[line_start(data, closing):closing].strip() else closing
        edits.append(Edit(at, at, inner + f"return {SETTLED};".encode() + nl))
    return edits
