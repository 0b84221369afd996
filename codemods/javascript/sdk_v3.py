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
from codemods.javascript import _async_handlers, _aws_sdk_js_codemod
from codemods.javascript._tree import FUNCTIONS, Edit, apply, line, text, walk

# An import or require of the v2 SDK or one of its deep paths (`aws-sdk/clients/s3`, `aws-sdk/global`).
V2_IMPORT = re.compile(rb"""(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*)['"]aws-sdk(?:/[^'"]*)?['"]""")
# What v2 has and v3 does not express client by client: the reason a file keeps `aws-sdk`.
_V2_ONLY = re.compile(
    r"\b(?:AWS|aws)\s*(?:\[|\.(?:HttpClient|Signers|EventListeners|SequentialExecutor|Request|Response|Service|"
    r"MetadataService|NodeHttpClient|XHRClient)\b|\.config\.update\b)"
)


class SdkV3(Codemod):
    NAME = "sdk-v3"
    DESCRIPTION = "AWS SDK v2 (end of support) becomes the v3 @aws-sdk/client-* packages; callback handlers async"
    LANGUAGE = "javascript"
    MARKERS = (b"aws-sdk",)

    def transform(self, tree, ctx: FileContext):
        data = tree.data
        if V2_IMPORT.search(data):
            translated = _translated(data, posixpath.splitext(ctx.path)[1] or ".js", ctx)
            if translated is None:
                return tree
            tree = tree.replaced(translated)
        edits = _async_handlers.make_async(tree.data, tree.tree.root_node, ctx)
        tree = apply(tree, edits)
        return _read_bodies(tree, ctx)


class SdkV3TypeScript(SdkV3):
    LANGUAGE = "typescript"


class SdkV3Tsx(SdkV3):
    LANGUAGE = "tsx"


def _translated(data: bytes, suffix: str, ctx: FileContext) -> bytes | None:
    first = data.count(b"\n", 0, V2_IMPORT.search(data).start()) + 1
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
        reasons = [(i + 1, m.group(0)) for i, l in enumerate(source.splitlines()) for m in [_V2_ONLY.search(l)] if m]
        for at, what in reasons or [(first, "")]:
            if what.endswith("update"):
                ctx.note(at, "v2 SDK left in place: `AWS.config.update(...)` sets keys the translation cannot carry "
                             "into each client (see aws-sdk-js-codemod's comments when run by hand)")
                continue
            ctx.note(at, "v2 SDK left in place: " + (f"`{what.rstrip('[. ')}` has no v3 equivalent to translate to"
                                                       if what else "parts of it have no v3 translation"))
        return None
    if result.endswith("\n") != source.endswith("\n"):
        result = result + "\n" if source.endswith("\n") else result.rstrip("\n")
    # recast keeps a directive's semicolon and adds its own: `'use strict';;`
    result = re.sub(r"^(['\"])use strict\1;;$", r"\1use strict\1;", result, count=1, flags=re.MULTILINE)
    if crlf:
        result = result.replace("\n", "\r\n")
    ctx.change(first, "AWS SDK v2 translated to v3 (aws-sdk-js-codemod): modular clients, no `.promise()`")
    return (b"\xef\xbb\xbf" if bom else b"") + result.encode()


def _marked(original: list[str], lines: list[str], marked: list[int]) -> list[tuple[int, str]]:
    """(original line, the tool's comment) for each comment the tool wrote: the line is that of the code below the
    comment, found by its start (the tool may reprint the statement over several lines)."""
    found = {}
    for at in marked:
        code = next((l.strip() for l in lines[at:] if not l.strip().startswith("//")), "")
        where = next((i + 1 for i, l in enumerate(original) if code and l.strip().startswith(code)), 1)
        found.setdefault(where, lines[at - 1].strip().lstrip("/ ").rstrip(".") + " (aws-sdk-js-codemod)")
    return sorted(found.items())


def _read_bodies(tree, ctx: FileContext):
    """`x.Body.toString(...)`: in v3 `Body` is a stream, whose `toString()` is "[object Object]"."""
    data, edits, asyncs = tree.data, [], set()
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
            ctx.note(line(node), "`Body` is a stream in v3: read it with `await ….transformToString()`")
            continue
        if not any(child.type == "async" for child in function.children):
            if function.parent is None or function.parent.type != "arguments":
                ctx.note(line(node), "`Body` is a stream in v3: read it with `await ….transformToString()` (here in "
                                     "a function that is not async)")
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
    return apply(tree, edits)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent
