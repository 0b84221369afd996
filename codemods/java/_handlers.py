"""Which methods of a Java class Lambda calls: one answer per class, for every Java codemod.

Lambda calls a method the template's `Handler` names (`com.example.App::handle`), or `handleRequest` of a class
that implements `RequestHandler`/`RequestStreamHandler`. Many functions implement neither: the runtime finds the
method by name, so a class with `handleRequest(..., Context)`, or any method taking `(InputStream, OutputStream,
Context)`, is a handler as well.
"""
from __future__ import annotations

from codemods._lambda_code import JAVA_HANDLER_INTERFACES as HANDLER_INTERFACES
from codemods._lambda_code import JAVA_RUNTIME_PACKAGE as LAMBDA_RUNTIME

HANDLER_METHOD = "handleRequest"
STREAM_PARAMETERS = ("InputStream", "OutputStream", "Context")
# `Context` alone is a common name; it is Lambda's only where the file imports Lambda's runtime package.


def _text(data: bytes, node) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def base_name(data: bytes, type_node) -> str:
    if type_node.type == "generic_type":
        type_node = type_node.named_children[0]
    return _text(data, type_node).rsplit(".", 1)[-1]


def _parameter_types(data: bytes, method) -> list[str]:
    parameters = method.child_by_field_name("parameters")
    found = []
    for parameter in parameters.named_children if parameters is not None else ():
        kind = parameter.child_by_field_name("type")
        found.append(base_name(data, kind) if kind is not None else "")
    return found


def _name(data: bytes, node) -> str:
    found = node.child_by_field_name("name")
    return _text(data, found) if found is not None else ""


def handler_methods(data: bytes, class_node, entry_points: frozenset[str] | None) -> set[str]:
    """The names of the methods of ``class_node`` that Lambda calls; empty for a class that is no handler."""
    body = class_node.child_by_field_name("body")
    methods = [m for m in body.named_children if m.type == "method_declaration"] if body is not None else []
    names: set[str] = set()
    interfaces = class_node.child_by_field_name("interfaces")
    for type_list in interfaces.named_children if interfaces is not None else ():
        if any(base_name(data, item) in HANDLER_INTERFACES for item in type_list.named_children):
            names.add(HANDLER_METHOD)
    if entry_points:
        names |= {_name(data, m) for m in methods if _name(data, m) in entry_points}
    if LAMBDA_RUNTIME in data:
        for method in methods:
            types = _parameter_types(data, method)
            if tuple(types) == STREAM_PARAMETERS or (
                    _name(data, method) == HANDLER_METHOD and len(types) == 2 and types[-1] == "Context"):
                names.add(_name(data, method))
    return names
