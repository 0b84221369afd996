"""sdk-v3: the v2 SDK (`aws-sdk`, end of support 2025-09-08) becomes the modular v3 clients (`@aws-sdk/client-*`).

The translation itself is aws-sdk-js-codemod's (pinned, see _aws_sdk_js_codemod.py): imports in every v2 form,
client construction and configuration, `.promise()`, DocumentClient, presigned URLs, uploads, waiters, credentials,
types. This module decides whether its result is whole (a result the tool marks as not supported, or that still
needs `aws-sdk`, is not used: the file stays v2, with a note at each line), then adds the Lambda layer: callback
handlers become async, and an S3 `Body` (a stream in v3) is read with `transformToString`.
"""
from __future__ import annotations

import posixpath
import re

from codemods._base import Codemod, FileContext
from codemods.javascript import _async_handlers, _aws_sdk_js_codemod, _input_types, _mocks
from codemods.javascript._services import BLOB_OUTPUTS
from codemods.javascript._tree import FUNCTIONS, Edit, apply, line, text, walk
from rewriter.languages import SourceTree

# An import or require of the v2 SDK or one of its deep paths (`aws-sdk/clients/s3`, `aws-sdk/global`).
V2_IMPORT = re.compile(rb"""(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*)['"]aws-sdk(?:/[^'"]*)?['"]""")
# What v2 has and v3 does not express client by client: the reason a file keeps `aws-sdk`.
_V2_ONLY = re.compile(
    r"\b(?:AWS|aws)\s*(?:\[|\.(?:HttpClient|Signers|EventListeners|SequentialExecutor|Request|Response|Service|"
    r"MetadataService|NodeHttpClient|XHRClient)\b|\.config\.update\b)"
)


class SdkV3(Codemod[SourceTree]):
    NAME = "sdk-v3"
    DESCRIPTION = "AWS SDK v2 (end of support) becomes the v3 @aws-sdk/client-* packages; callback handlers async"
    LANGUAGES = ("javascript", "typescript", "tsx")
    MARKERS = (b"aws-sdk",)
    READS_TESTS = True  # their aws-sdk-mock mocks move to aws-sdk-client-mock with the code they test

    def transform(self, tree: SourceTree, ctx: FileContext) -> SourceTree:
        if ctx.lambda_code is not None and ctx.lambda_code.test:
            return _mocks.migrate(tree, ctx)
        data, original, first_change = tree.data, tree, len(ctx.changes)
        v2 = V2_IMPORT.search(data) is not None
        if v2:
            bytes_read = _bytes_read(data, tree.tree.root_node)
            for at, message in bytes_read:
                ctx.note(at, f"v2 SDK left in place: {message}")
            if bytes_read:
                return tree
            translated = _translated(data, posixpath.splitext(ctx.path)[1] or ".js", ctx)
            if translated is None:
                return tree
            tree = tree.replaced(translated)
            if tree.dialect != "javascript":
                tree = apply(tree, _input_types.keep_member_types(tree.data, tree.tree.root_node, ctx))
        edits = _async_handlers.make_async(tree.data, tree.tree.root_node, ctx)
        tree = apply(tree, edits)
        tree, unread = _read_bodies(tree, ctx, report=not v2)
        errors: list[tuple[int, str]] = []
        if v2 and not unread:
            tree, errors = _error_fields(tree, ctx)
        if v2 and (unread or errors):
            # What the translation cannot read as v2 did would be half-translated code: the file stays v2.
            del ctx.changes[first_change:]
            for at in unread:
                ctx.note(at, "v2 SDK left in place: `Body` would be a stream in v3, read here with `toString()` in a "
                             "function that cannot await it: read it with `await ….transformToString()` by hand")
            for at, field in errors:
                ctx.note(at, f"v2 SDK left in place: `{field}` of a caught error has no v3 equivalent (v3 errors carry "
                             "`name`, `$metadata` and `$retryable`): rewrite the check by hand")
            return original
        return tree


def _translated(data: bytes, suffix: str, ctx: FileContext) -> bytes | None:
    v2 = V2_IMPORT.search(data)  # the codemod's markers found one
    first = data.count(b"\n", 0, v2.start() if v2 else 0) + 1
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        source = data[3 if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError:
        ctx.note(first, "v2 SDK left in place: the file is not UTF-8")
        return None
    crlf = "\r\n" in source
    try:
        result = _aws_sdk_js_codemod.translate(source.replace("\r\n", "\n") if crlf else source, suffix)
    except _aws_sdk_js_codemod.Unavailable as missing:
        ctx.note(first, f"v2 SDK left in place: {missing}")
        return None
    lines = result.splitlines()
    untranslated = [i + 1 for i, text_ in enumerate(lines) if any(mark in text_ for mark in _aws_sdk_js_codemod.UNTRANSLATED)]
    if untranslated:
        for at, comment in _marked(source.splitlines(), lines, untranslated):
            ctx.note(at, f"v2 SDK left in place: {comment}")
        return None
    encoded = result.encode()
    if V2_IMPORT.search(encoded):
        reasons = [(i + 1, m.group(0)) for i, text in enumerate(source.splitlines()) for m in [_V2_ONLY.search(text)] if m]
        for at, what in reasons or [(first, "")]:
            if what.endswith("update"):
                ctx.note(at, "v2 SDK left in place: `AWS.config.update(...)` sets keys the translation cannot carry "
                             "into each client (see aws-sdk-js-codemod's comments when run by hand)")
                continue
            ctx.note(at, "v2 SDK left in place: " + (f"`{what.rstrip('[. ')}` has no v3 equivalent to translate to"
                                                       if what else "parts of it have no v3 translation"))
        return None
    result = _blank_runs_as_in(source, result)
    if result.endswith("\n") != source.endswith("\n"):
        result = result + "\n" if source.endswith("\n") else result.rstrip("\n")
    # recast keeps a directive's semicolon and adds its own: `'use strict';;`
    result = re.sub(r"^(['\"])use strict\1;;$", r"\1use strict\1;", result, count=1, flags=re.MULTILINE)
    if crlf:
        result = result.replace("\n", "\r\n")
    ctx.change(first, "AWS SDK v2 translated to v3 (aws-sdk-js-codemod): modular clients, no `.promise()`")
    return (b"\xef\xbb\xbf" if bom else b"") + result.encode()


def _blank_runs_as_in(source: str, result: str) -> str:
    """The translator leaves blank lines where it took the v2 import out and put the v3 ones in (three in a row
    where the file never had two): runs of blank lines longer than the file's longest become that long."""
    blank_runs = [run.count("\n") - 1 for run in re.findall(r"\n(?:[ \t]*\n)+", source)]
    limit = max(blank_runs, default=1) or 1
    shortened = re.sub(rf"\n(?:[ \t]*\n){{{limit + 1},}}", "\n" * (limit + 1), result)
    return shortened.lstrip("\n") if not source.startswith("\n") else shortened


def _marked(original: list[str], lines: list[str], marked: list[int]) -> list[tuple[int, str]]:
    """(original line, the tool's comment) for each comment the tool wrote: the line is that of the code below the
    comment, found by its start (the tool may reprint the statement over several lines)."""
    found: dict[int, str] = {}
    for at in marked:
        code = next((text.strip() for text in lines[at:] if not text.strip().startswith("//")), "")
        where = next((i + 1 for i, text in enumerate(original) if code and text.strip().startswith(code)), 1)
        found.setdefault(where, lines[at - 1].strip().lstrip("/ ").rstrip(".") + " (aws-sdk-js-codemod)")
    return sorted(found.items())


def _bytes_read(data: bytes, root) -> list[tuple[int, str]]:
    """Where v2 code reads bytes from a response in a way that means something else in v3: v2 gave a Buffer (or a
    string), v3 gives a stream or a Uint8Array, whose `toString()`, `JSON.parse` and `length` differ. Only the
    operations the file calls count; `x.Body.toString()` (rewritten later) and a value wrapped in `Buffer.from(...)`
    or decoded (`….decode(x)`), which mean the same in both, do not."""
    called: dict[str, tuple[str, str]] = {}  # member -> (the first operation that returns it, what v3 gives)
    for node in walk(root):
        if node.type == "call_expression":
            callee = node.child_by_field_name("function")
            if callee is not None and callee.type == "member_expression":
                operation = text(data, callee.child_by_field_name("property"))
                for member, kind in BLOB_OUTPUTS.get(operation, {}).items():
                    called.setdefault(member, (operation, kind))
    if not called:
        return []

    def what(member: str) -> str:
        operation, kind = called[member]
        return f"`{member}` of `{operation}` is a {kind} in v3 (v2 gave a Buffer or a string)"

    found: list[tuple[int, str]] = []
    for node in walk(root):
        if node.type == "member_expression":
            name = text(data, node.child_by_field_name("property"))
            if name in called and not _same_in_v3(data, node, stream=called[name][1] == "stream"):
                found.append((line(node), what(name) + ": it is read here as v2 gave it; convert it by hand"
                              + ("" if called[name][1] == "stream" else " (or wrap it in `Buffer.from(…)`)")))
        elif node.type in ("shorthand_property_identifier_pattern", "pair_pattern"):
            key = node if node.type.startswith("shorthand") else node.child_by_field_name("key")
            if key is not None and text(data, key) in called:
                found.append((line(node), what(text(data, key)) + ": it is taken out here as v2 gave it; convert it "
                                                                  "by hand"))
    return sorted(set(found))


def _same_in_v3(data: bytes, node, stream: bool) -> bool:
    parent = node.parent
    if parent is None:
        return True
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == node:
        return True  # written, not read: a request's parameters
    if parent.type == "unary_expression" and text(data, parent.child_by_field_name("operator")) == "delete":
        return True
    if stream and parent.type == "member_expression" and text(data, parent.child_by_field_name("property")) == "toString":
        return True  # `x.Body.toString()`: _read_bodies awaits transformToString() there
    if not stream and parent.type == "arguments" and parent.named_children[:1] == [node]:
        callee = parent.parent.child_by_field_name("function") if parent.parent is not None else None
        if callee is not None and (text(data, callee) == "Buffer.from" or (
                callee.type == "member_expression" and text(data, callee.child_by_field_name("property")) == "decode")):
            return True  # a Buffer, or a string, in v2 and v3 alike
    return False


def _read_bodies(tree, ctx: FileContext, report: bool = True):
    """`x.Body.toString(...)`: in v3 `Body` is a stream, whose `toString()` is "[object Object]". Returns the tree
    and the lines of the reads it could not rewrite (noted here when ``report``)."""
    data, edits, asyncs, unread = tree.data, [], set(), []
    for node in walk(tree.tree.root_node):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        if callee is None or callee.type != "member_expression" or text(data, callee.child_by_field_name("property")) != "toString":
            continue
        body = callee.child_by_field_name("object")
        if body.type != "member_expression" or text(data, body.child_by_field_name("property")) != "Body":
            continue
        function = next((a for a in _ancestors(node) if a.type in FUNCTIONS), None)
        if function is None:
            unread.append(line(node))
            if report:
                ctx.note(line(node), "`Body` is a stream in v3: read it with `await ….transformToString()`")
            continue
        if not any(child.type == "async" for child in function.children):
            if function.parent is None or function.parent.type != "arguments":
                unread.append(line(node))
                if report:
                    ctx.note(line(node), "`Body` is a stream in v3: read it with `await ….transformToString()` (here "
                                         "in a function that is not async)")
                continue
            asyncs.add(function.start_byte)
        args = node.child_by_field_name("arguments")
        bare = node.parent is not None and node.parent.type in ("arguments", "variable_declarator", "return_statement")
        edits += [
            Edit(node.start_byte, node.start_byte, b"await " if bare else b"(await "),
            Edit(callee.child_by_field_name("property").start_byte, args.end_byte,
                 b"transformToString" + data[args.start_byte : args.end_byte] + (b"" if bare else b")")),
        ]
        ctx.change(line(node), "S3 `Body` (a stream in v3) read with `await transformToString()`")
    edits += [Edit(at, at, b"async ") for at in asyncs]
    return apply(tree, edits), unread


# What a v2 error's field is in v3, written so that an error that is not the SDK's reads as before: v3 errors
# have `name` and `$metadata` (httpStatusCode, requestId, extendedRequestId, cfId), no `code` or `statusCode`.
_ERROR_FIELDS = {
    "code": "({e}.code ?? ({e}.$metadata && {e}.name))",
    "statusCode": "({e}.statusCode ?? {e}.$metadata?.httpStatusCode)",
    "requestId": "({e}.requestId ?? {e}.$metadata?.requestId)",
    "extendedRequestId": "({e}.extendedRequestId ?? {e}.$metadata?.extendedRequestId)",
    "cfId": "({e}.cfId ?? {e}.$metadata?.cfId)",
}
_ERROR_ONLY_V2 = frozenset({"retryable", "retryDelay", "time", "region", "hostname", "originalError"})


def _caught(data: bytes, root) -> list[tuple[str, object]]:
    """(name, scope) of every caught error: a `catch (e)` clause's, and the first parameter of the function given
    to `.catch(...)` or as the second argument of `.then(...)`."""
    found = []
    for node in walk(root):
        if node.type == "catch_clause":
            param, body = node.child_by_field_name("parameter"), node.child_by_field_name("body")
            if param is not None and param.type == "identifier" and body is not None:
                found.append((text(data, param), body))
        elif node.type == "call_expression":
            callee, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
            if callee is None or callee.type != "member_expression" or args is None:
                continue
            method = text(data, callee.child_by_field_name("property"))
            position = {"catch": 0, "then": 1}.get(method)
            handlers = args.named_children
            if position is None or len(handlers) <= position or handlers[position].type not in FUNCTIONS:
                continue
            function = handlers[position]
            params = function.child_by_field_name("parameters")
            first = params.named_children[0] if params is not None and params.named_children else \
                function.child_by_field_name("parameter")
            if first is not None and first.type in ("required_parameter", "optional_parameter"):
                first = first.child_by_field_name("pattern")
            if first is not None and first.type == "identifier" and function.child_by_field_name("body") is not None:
                found.append((text(data, first), function.child_by_field_name("body")))
    return found


def _error_fields(tree, ctx: FileContext):
    """v2 error fields read in a translated file (`e.code`, `e.statusCode`...) become what v3 gives there; the
    lines of fields v3 has nothing for are returned (the file then stays v2)."""
    data, edits, left, seen = tree.data, [], [], set()
    for name, scope in _caught(data, tree.tree.root_node):
        for node in walk(scope):
            if node.type != "member_expression" or node.start_byte in seen:
                continue
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is None or obj.type != "identifier" or text(data, obj) != name:
                continue
            field = text(data, prop)
            written = node.parent is not None and node.parent.type in ("assignment_expression", "augmented_assignment_expression") \
                and node.parent.child_by_field_name("left") == node
            if field in _ERROR_ONLY_V2 or (field in _ERROR_FIELDS and written):
                left.append((line(node), f"{name}.{field}"))
            elif field in _ERROR_FIELDS:
                seen.add(node.start_byte)
                edits.append(Edit(node.start_byte, node.end_byte, _ERROR_FIELDS[field].format(e=name).encode()))
                ctx.change(line(node), f"v2 error field `{name}.{field}` read as v3 gives it "
                                       f"(`{name}.{'name' if field == 'code' else '$metadata'}`), and as before for "
                                       "other errors")
    if left:
        return tree, sorted(set(left))
    return apply(tree, edits), []


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent
