"""sdk-v3 for templates (SAM/CloudFormation YAML and JSON, serverless.yml): what the v3 code no longer needs.

Per function, once its code is on v3 (the handler's file and the local modules it imports, transitively, carry
no `aws-sdk` import after sdk-v3 rewrites them):
- `AWS_NODEJS_CONNECTION_REUSE_ENABLED` leaves its environment: only v2 read it, v3 keeps connections alive by
  default. A value in `Globals` (SAM) or `provider` (Serverless) goes only when every Node.js function under it is
  on v3.
- with `--runtime nodejs22.x|nodejs24.x` (setting `runtime`), its Runtime moves up to it; never down; nodejs24.x
  only when no callback handler is left (it runs none).
Edits are byte ranges of the template's text (_yaml_text.py): everything else stays as it was written.
"""
from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import Any
from pathlib import Path

from codemods._base import Codemod, FileContext
from codemods.javascript import _aws_sdk_js_codemod, _local_code
from codemods.javascript.sdk_v3 import V2_IMPORT, SdkV3
from codemods.manifests import _scan, _yaml_text
from codemods._text import apply
from rewriter.languages import TEMPLATE_NAMES

REUSE = "AWS_NODEJS_CONNECTION_REUSE_ENABLED"
RUNTIMES = ("nodejs22.x", "nodejs24.x")
_NODE_RUNTIME = re.compile(r"nodejs(\d+)\.x\Z")
# Lambda's runtime table (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, checked 2026-12-02): the
# date each Node.js runtime was deprecated. nodejs22.x is supported until 2027-04-30, nodejs24.x after it.
DEPRECATED = {
    "nodejs20.x": "2026-04-30",
    "nodejs18.x": "2025-09-01",
    "nodejs16.x": "2024-06-12",
    "nodejs14.x": "2023-12-04",
    "nodejs12.x": "2023-03-31",
    "nodejs10.x": "2021-07-30",
}


@dataclasses.dataclass
class _Function:
    name: str
    line: int
    runtime: str | None  # its own, else the one it inherits
    own_runtime: object | None  # the scalar node of its own Runtime
    environment: list  # the chain (mapping, key, value) down to its own REUSE entry, or []
    inherits: bool  # takes Globals / provider settings
    v2: list[str] = dataclasses.field(default_factory=list)  # its files that keep the v2 SDK
    callbacks: list[str] = dataclasses.field(default_factory=list)  # callback handlers left
    missing: str = ""  # why its code was not found


class SdkV3Templates(Codemod):
    NAME = "sdk-v3"
    DESCRIPTION = SdkV3.DESCRIPTION
    LANGUAGES = ("manifest",)
    MARKERS = (REUSE.encode(), b"nodejs")

    def transform(self, tree, ctx: FileContext):
        if posixpath.basename(ctx.path) not in TEMPLATE_NAMES:
            return tree
        doc = _yaml_text.compose(tree.data)
        located = _scan.locate(ctx.path, ctx.location)
        if doc is None or located is None:
            return tree  # a template that does not read is named by discovery already
        serverless = located.name.startswith("serverless.")
        functions, shared_env, shared_runtime = (_serverless if serverless else _sam)(doc.root)
        functions = [f for f in functions if f.runtime and f.runtime.startswith("nodejs")]
        if not functions:
            return tree
        if not any(f.environment for f in functions) and not shared_env and ctx.options.runtime is None:
            _deprecated_notes(doc, functions, shared_runtime, ctx)
            return tree
        root = _scan.repository_root(located, ctx.path)
        try:
            _read_code(located, root, doc.root, functions, serverless)
        except _aws_sdk_js_codemod.Unavailable as missing:
            for function in functions:
                function.missing = str(missing)
        edits = []
        for function in functions:
            if function.environment:
                edits += _drop_reuse(doc, function.environment, [function], doc.line(function.environment[-1][1]), ctx)
        if shared_env:
            under = [f for f in functions if f.inherits]
            edits += _drop_reuse(doc, shared_env, under, doc.line(shared_env[-1][1]), ctx)
        if ctx.options.runtime is not None:
            edits += _bump(doc, functions, shared_runtime, ctx.options.runtime, ctx)
        else:
            _deprecated_notes(doc, functions, shared_runtime, ctx)
        edits = [e for e in edits if e is not None]
        return tree.replaced(apply(tree.data, edits)) if edits else tree


def _blockers(function: _Function, runtime: bool = False) -> str:
    """Why the function's code is not (wholly) on v3, or "" when it is."""
    if function.missing:
        return function.missing
    if function.v2:
        more = f" (and {len(function.v2) - 1} more)" if len(function.v2) > 1 else ""
        return f"{function.v2[0]}{more} keeps the v2 SDK (see its notes)"
    return ""


def _drop_reuse(doc, chain, functions: list[_Function], line: int, ctx: FileContext):
    if any(_yaml_text.aliased(k, v) for _, k, v in chain):
        ctx.note(line, f"{REUSE} stays: it is set through a YAML alias or merge, shared with other places")
        return []
    held = [(f, why) for f in functions for why in [_blockers(f)] if why]
    if held:
        function, why = held[0]
        others = f" ({len(held) - 1} other function{'s' if len(held) > 2 else ''} too)" if len(held) > 1 else ""
        ctx.note(line, f"{REUSE} stays: function {function.name} is not on v3 yet: {why}{others}")
        return []
    edit = _yaml_text.remove(doc, chain)
    if edit is None:
        ctx.note(line, f"{REUSE} stays: its entry shares a line with another, which this tool does not split")
        return []
    where = "every function" if len(functions) != 1 else f"function {functions[0].name}"
    ctx.change(line, f"{REUSE} removed: {where} is on the v3 SDK, which keeps connections alive by default "
                     "(only v2 read the variable)")
    return [edit]


def _major(runtime: str | None) -> int | None:
    found = _NODE_RUNTIME.match(runtime or "")
    return int(found.group(1)) if found else None


def _runtime_blockers(function: _Function, target: str) -> str:
    why = _blockers(function)
    if why:
        return why
    if (_major(target) or 0) >= 24 and function.callbacks:
        return f"`{function.callbacks[0]}` is still a callback handler, which {target} does not run"
    return ""


def _bump(doc, functions: list[_Function], shared: object | None, target: str, ctx: FileContext):
    edits = []
    for function in functions:
        if function.own_runtime is not None:
            edits.append(_bump_one(doc, function.own_runtime, [function], target, ctx))
    inheriting = [f for f in functions if f.own_runtime is None and f.inherits]
    if shared is not None and inheriting:
        edits.append(_bump_one(doc, shared, inheriting, target, ctx))
    return edits


def _bump_one(doc, node, functions: list[_Function], target: str, ctx: FileContext):
    current = _yaml_text.string(node)
    line = doc.line(node)
    now, wanted = _major(current), _major(target)
    if current is None or now is None or wanted is None:
        return None  # `!Ref NodeRuntime`, a parameter: what it resolves to is not in this file
    if now >= wanted:
        return None  # never down, and nothing to do at the same version
    held = [(f, why) for f in functions for why in [_runtime_blockers(f, target)] if why]
    if held:
        function, why = held[0]
        deprecated = f" ({current} is deprecated since {DEPRECATED[current]})" if current in DEPRECATED else ""
        ctx.note(line, f"Runtime {current} stays{deprecated}: function {function.name}: {why}")
        return None
    start, end = doc.start(node), doc.end(node)
    at = doc.data.find(current.encode(), start, end)
    if at < 0:
        return None
    ctx.change(line, f"Runtime {current} -> {target}: the code of "
                     f"{'every function' if len(functions) != 1 else 'function ' + functions[0].name} is on the v3 SDK"
                     + ("" if wanted < 24 else " and has no callback handler"))
    return _yaml_text.Edit(at, at + len(current), target.encode())


def _deprecated_notes(doc, functions: list[_Function], shared: object | None, ctx: FileContext) -> None:
    nodes: list[Any] = [f.own_runtime for f in functions if f.own_runtime is not None]
    if shared is not None and any(f.own_runtime is None for f in functions):
        nodes.append(shared)
    for node in nodes:
        current = _yaml_text.string(node)
        if current in DEPRECATED:
            ctx.note(doc.line(node), f"Runtime {current} is deprecated since {DEPRECATED[current]}: "
                                     f"`--runtime {RUNTIMES[0]}` moves the functions whose code is on v3")


# -- what the template declares -------------------------------------------------------------------------------


def _reuse_chain(owner, *keys: str) -> list:
    """(mapping, key, value) from ``owner`` down through ``keys`` to the REUSE entry, or [] when it is not set."""
    chain, mapping = [], owner
    for key in (*keys, REUSE):
        found = _yaml_text.entry(mapping, key)
        if found is None:
            return []
        chain.append((mapping, *found))
        mapping = found[1]
    return chain


def _sam(root):
    globals_ = _yaml_text.value(_yaml_text.value(root, "Globals"), "Function")
    shared_runtime = _yaml_text.value(globals_, "Runtime")
    shared_env = _reuse_chain(globals_, "Environment", "Variables") if globals_ is not None else []
    functions = []
    resources = _yaml_text.value(root, "Resources")
    for key, resource in _pairs(resources):
        kind = _yaml_text.string(_yaml_text.value(resource, "Type"))
        if kind not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        properties = _yaml_text.value(resource, "Properties")
        inherits = kind == "AWS::Serverless::Function"  # Globals apply to SAM's resources only
        own = _yaml_text.value(properties, "Runtime")
        runtime = _yaml_text.string(own) or (_yaml_text.string(shared_runtime) if inherits else None)
        functions.append(_Function(key.value, key.start_mark.line + 1, runtime, own,
                                   _reuse_chain(properties, "Environment", "Variables"), inherits))
    return functions, shared_env, shared_runtime


def _pairs(mapping) -> list:
    """(key, value) of a mapping node with plain keys; nothing for any other shape (templates are written by hand)."""
    if not isinstance(mapping, _yaml_text.yaml.MappingNode):
        return []
    return [(k, v) for k, v in mapping.value if isinstance(k, _yaml_text.yaml.ScalarNode)]


def _serverless(root):
    provider = _yaml_text.value(root, "provider")
    shared_runtime = _yaml_text.value(provider, "runtime")
    shared_env = _reuse_chain(provider, "environment") if provider is not None else []
    functions = []
    declared = _yaml_text.value(root, "functions")
    for key, function in _pairs(declared):
        if not isinstance(function, _yaml_text.yaml.MappingNode):
            continue
        own = _yaml_text.value(function, "runtime")
        runtime = _yaml_text.string(own) or _yaml_text.string(shared_runtime) or "nodejs"
        functions.append(_Function(key.value, key.start_mark.line + 1, runtime, own,
                                   _reuse_chain(function, "environment"), True))
    return functions, shared_env, shared_runtime


# -- what the functions' code is after sdk-v3 -------------------------------------------------------------------


def _read_code(template: Path, root: Path, doc_root, functions: list[_Function], serverless: bool) -> None:
    from rewriter.discovery import module_of  # discovery's reading of `Handler`

    declared = _declared_handlers(template, doc_root, serverless)
    files: dict[str, tuple[list[tuple[Path, str]], list[Path]]] = {}
    for function in functions:
        folder, handler = declared.get(function.name, (None, None))
        if handler is None or folder is None:
            function.missing = "its code is not in this repository (no `Handler`/`CodeUri` to read here)"
            continue
        modules = list(module_of(folder, handler, function.runtime or "nodejs"))
        if not modules:
            function.missing = f"its handler {handler} names no source file here"
            continue
        files[function.name] = (modules, _local_code.imported(modules[0][0], root))
    every = {path for _, found in files.values() for path in found}
    texts: dict[Path, bytes | None] = {}
    for path in every:
        try:
            texts[path] = path.read_bytes()
        except OSError:
            texts[path] = None  # unreadable: nothing says it moved
    v2 = [(data.decode("utf-8", "replace").replace("\r\n", "\n"), path.suffix)
          for path, data in texts.items() if data is not None and V2_IMPORT.search(data)]
    if v2:
        _aws_sdk_js_codemod.translate_many(v2)  # one Node process for all of them
    for function in functions:
        if function.name not in files:
            continue
        modules, found = files[function.name]
        for path in found:
            handlers = frozenset(name for module, name in modules if module == path) or None
            data = texts[path]
            after = None if data is None else _local_code.after_sdk_v3(path, root, data, handlers)
            if after is None or V2_IMPORT.search(after):
                function.v2.append(path.relative_to(root).as_posix())
            elif handlers:
                function.callbacks += _callback_handlers(path, after, handlers)


def _declared_handlers(template: Path, doc_root, serverless: bool) -> dict[str, tuple[Path, str | None]]:
    base = template.parent
    found = {}
    if serverless:
        for key, function in _pairs(_yaml_text.value(doc_root, "functions")):
            found[key.value] = (base, _yaml_text.string(_yaml_text.value(function, "handler")))
        return found
    globals_ = _yaml_text.value(_yaml_text.value(doc_root, "Globals"), "Function")
    for key, resource in _pairs(_yaml_text.value(doc_root, "Resources")):
        properties = _yaml_text.value(resource, "Properties")
        inherits = _yaml_text.string(_yaml_text.value(resource, "Type")) == "AWS::Serverless::Function"

        def setting(name: str, properties=properties, inherits=inherits):
            own = _yaml_text.value(properties, name)
            return own if own is not None or not inherits else _yaml_text.value(globals_, name)

        handler = _yaml_text.string(setting("Handler"))
        code = setting("CodeUri") if inherits else _yaml_text.value(properties, "Code")
        if _yaml_text.value(properties, "InlineCode") is not None or _yaml_text.value(code, "ZipFile") is not None:
            handler = None  # the code is in the template itself
        code_text = _yaml_text.string(code)
        if code is not None and code_text is None:
            handler = None  # an S3 location or a parameter: the code is not here
        folder = base / code_text if code_text and "://" not in code_text else base
        found[key.value] = (folder, handler)
    return found


def _callback_handlers(path: Path, data: bytes, handlers: frozenset[str]) -> list[str]:
    from codemods.javascript._async_handlers import _top_functions
    from rewriter.languages import ParseFailure, language_for

    language = language_for(path.name)
    if language is None:
        return []
    try:
        tree = language.parse(data)
    except ParseFailure:
        return []
    left = []
    for name, function in _top_functions(data, tree.tree.root_node):
        params = function.child_by_field_name("parameters")
        if name in handlers and params is not None and len([p for p in params.named_children if p.type != "comment"]) >= 3:
            left.append(name)
    return left
