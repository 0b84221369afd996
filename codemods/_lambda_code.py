"""Which files are Lambda code: one decision per file, taken before any codemod runs, for every language.

A file is Lambda code when a template (SAM, CloudFormation, Serverless, the configuration's ``handlers``)
names it, or, when none does, when it is not a test, a script or browser code and the language's
heuristic finds a handler in its text. Every codemod reads the decision instead of taking its own; within a
Lambda file the codemod then finds the handler functions in its tree by the same rule (``handlers`` below).

A module without a handler is not Lambda code even when a handler imports it (a shared library): scripts,
tests and other functions import it too, the tool sees none of them, and its functions take their
arguments from those callers.
"""
from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class LambdaCode:
    #: Whether codemods that rewrite Lambda code may touch the file.
    is_lambda: bool
    #: The handler names a template gives; None: the language's rule finds them in the tree.
    handlers: frozenset[str] | None
    #: Why: for a file that is not Lambda code, the note (LR901) that says so.
    why: str
    #: A unit test (by its folder or name): codemods that migrate tests along with the code (READS_TESTS) read it.
    test: bool = False


# Languages whose files are function code; manifests describe the whole function and are not decided here.
CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "java"})
_SCRIPT_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})

# Folders whose files run on a developer's machine or in CI, never as the function.
TEST_FOLDERS = frozenset({"tests", "test", "__tests__", "__mocks__", "spec", "e2e", "cypress"})
SCRIPT_FOLDERS = frozenset({"scripts", "bin", "tools"})
_TEST_FILE = re.compile(r"(?:.+\.(?:test|spec)\.[^.]+|test_.+\.py|.+_test\.py|conftest\.py)")
# Next.js: every file under pages/ is a page; under app/ these names are its routes and layouts.
_NEXT_APP_FILES = frozenset({"page", "layout", "template", "loading", "error", "not-found", "global-error", "default"})
# Each pattern runs only on a file that holds one of its literals (``bytes.find`` is ten times faster than
# a regular expression's scan), and starts with a literal itself: a leading `\b` or alternation makes the
# engine try every position (1-2 ms on a 50 KB file, more than a tree-sitter parse).
_USE_CLIENT = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s|//[^\n]*+\n|/\*(?:[^*]|\*(?!/))*+\*/)*+['\"]use client['\"]")
_BROWSER_SIGNS = (
    *(((b"react", b"next"), re.compile(rb"%s\s*['\"](react|react-dom|next)(?:/[^'\"]*)?['\"]" % start), "imports {0}")
      for start in (rb"from", rb"require\s*\(", rb"import")),
    ((b"window.",), re.compile(rb"window\.(?:location|addEventListener|alert|open|innerWidth|scroll)"), "uses the DOM"),
    ((b"document.",), re.compile(rb"document\.(?:getElementById|querySelector|createElement|addEventListener|body)\b"),
     "uses the DOM"),
    ((b"localStorage.",), re.compile(rb"localStorage\."), "uses the DOM"),
)

# Python: a top-level ``def`` whose first parameter looks like an event (``python_handler`` below decides on
# the tree). Regular expressions cost microseconds where a LibCST parse costs milliseconds. ``def`` is found
# first (a literal, fast to search for), then the rest is checked where it is.
_DEF = re.compile(rb"def[ \t]+\w+[ \t]*\(")
_ASYNC = re.compile(rb"async[ \t]+")
_EVENT_PARAM = re.compile(rb"(?:\s|\\|#[^\r\n]*(?![^\r\n]))*(?i:\w*event\w*|e|evt|_e)\s*[,:=)]")

# JavaScript/TypeScript: an exported function with one of these names, or whose first parameter is one of
# these. `main` is not a handler name: it is every CLI script's entry point (a template may still name it).
JS_HANDLER_NAMES = frozenset({"handler", "lambdaHandler"})
JS_EVENT_PARAMETERS = frozenset({"event", "_event", "evt"})
_JS_NAMES = "|".join(sorted(JS_HANDLER_NAMES))
_JS_EVENTS = "|".join(sorted(JS_EVENT_PARAMETERS))
_JS_EXPORTED_HANDLER = re.compile(  # exports.handler =, export const handler, export { handler }, exports = { handler }
    rf"""export(?:s\s*\.\s*(?:{_JS_NAMES})\s*=
                | \s+(?:default\s+)?(?:async\s+)?(?:function\s*\*?|const|let|var)\s*(?:{_JS_NAMES})\b
                | s?\s*=?\s*\{{[^}}]*\b(?:{_JS_NAMES})\b)""".encode(),
    re.X,
)
_JS_EVENT_FUNCTION = (  # function (event, function name(event, (event) =>, (evt, ctx) =>, event =>
    ((b"function",), re.compile(rf"function\b\s*\*?\s*[\w$]*\s*\(\s*(?:{_JS_EVENTS})\b".encode())),
    ((b"event", b"evt"), re.compile(rf"\(\s*(?:{_JS_EVENTS})\s*[,):?]".encode())),
    ((b"=>",), re.compile(rb"event\s*=>")),
    ((b"=>",), re.compile(rb"evt\s*=>")),
)
_JS_EXPORTS = re.compile(rb"export(?:s\b|\s)")
# A command module of yargs or commander also exports a `handler`, called with the parsed arguments.
_JS_COMMAND_MODULE = (
    re.compile(rb"export(?:s\.command|\s+const\s+command)\s*="),
    re.compile(rb"handler\s*[:=(]\s*(?:async\s*)?\(?\s*argv\b"),
)

# Java: a class that implements one of the runtime's handler interfaces; or, in a file that imports the runtime's
# package (the runtime finds the method by name), `handleRequest(..., Context)` or a method taking
# `(InputStream, OutputStream, Context)`. codemods/java/_handlers.py makes the same decision per class on the tree.
JAVA_HANDLER_INTERFACES = frozenset({"RequestHandler", "RequestStreamHandler"})
JAVA_RUNTIME_PACKAGE = b"com.amazonaws.services.lambda.runtime"
_JAVA_HANDLER = re.compile(rb"\bimplements\b[^{]*\b(?:" + "|".join(sorted(JAVA_HANDLER_INTERFACES)).encode() + rb")\b")
_JAVA_BY_SIGNATURE = re.compile(
    rb"\bhandleRequest\s*\([^()]*\bContext\s+\w+\s*\)"
    rb"|\(\s*(?:final\s+)?InputStream\s+\w+\s*,\s*(?:final\s+)?OutputStream\s+\w+\s*,\s*(?:final\s+)?Context\s+\w+\s*\)"
)

NOT_LAMBDA_PYTHON = (
    "not Lambda code: no template names a handler here and no top-level function takes (event, context); left alone"
)
NOT_LAMBDA_JS = "not Lambda code: no exported handler (no template names one here); left alone"
NOT_LAMBDA_JAVA = (
    "not Lambda code: no class implements RequestHandler or has a handleRequest(..., Context) method "
    "(no template names one here); left alone"
)
_NO_HANDLER = {"python": NOT_LAMBDA_PYTHON, "java": NOT_LAMBDA_JAVA}


def decide(path: str, data: bytes, named: frozenset[str] | None, language: str) -> LambdaCode:
    """``path`` relative to the repository root, with "/"; ``named``: what templates name in the file."""
    if named is not None:
        return LambdaCode(True, named, "a template names its handler")
    if language not in CODE_LANGUAGES:
        return LambdaCode(True, None, "not function code: a manifest")
    kind = _kind_by_path(path, language)
    if kind is None and language in _SCRIPT_LANGUAGES and data.startswith(b"#!"):
        kind = "a script (a #! line)"
    if kind is None and not _has_handler(data, language):
        return LambdaCode(False, None, _NO_HANDLER.get(language, NOT_LAMBDA_JS))
    if kind is None and language in _SCRIPT_LANGUAGES:
        kind = _browser(data)  # after the handler check: the text scans that cost most, on few files
    if kind is not None:
        return LambdaCode(False, None, f"not Lambda code: {kind}, and no template names it; left alone",
                          kind.startswith("a test"))
    return LambdaCode(True, None, "a function shaped like a handler")


def _kind_by_path(path: str, language: str) -> str | None:
    *folders, name = path.split("/")
    for folder in folders:
        if folder in TEST_FOLDERS:
            return f"a test (under {folder}/)"
        if folder in SCRIPT_FOLDERS:
            return f"a script (under {folder}/)"
    if _TEST_FILE.fullmatch(name):
        return "a test file"
    if language in _SCRIPT_LANGUAGES:
        if "pages" in folders:
            return "browser code (a page under pages/)"
        if "app" in folders and name.split(".")[0] in _NEXT_APP_FILES:
            return "browser code (a Next.js route file under app/)"
    return None


def _browser(data: bytes) -> str | None:
    if _USE_CLIENT.match(data) is not None:
        return "browser code ('use client')"
    for gates, pattern, what in _BROWSER_SIGNS:
        found = pattern.search(data) if _holds(data, gates) else None
        if found is not None:
            return "browser code (" + what.format(*(g.decode() for g in found.groups())) + ")"
    return None


def _has_handler(data: bytes, language: str) -> bool:
    if language == "python":
        return _python_handler_def(data)
    if language == "java":
        return _JAVA_HANDLER.search(data) is not None or (
            JAVA_RUNTIME_PACKAGE in data and _JAVA_BY_SIGNATURE.search(data) is not None)
    if b"andler" in data and _JS_EXPORTED_HANDLER.search(data) is not None and not any(p.search(data) for p in _JS_COMMAND_MODULE):
        return True
    return _JS_EXPORTS.search(data) is not None and any(
        _holds(data, gates) and pattern.search(data) is not None for gates, pattern in _JS_EVENT_FUNCTION
    )


def _holds(data: bytes, literals: tuple[bytes, ...]) -> bool:
    return any(literal in data for literal in literals)


def _python_handler_def(data: bytes) -> bool:
    for match in _DEF.finditer(data):
        start = match.start()
        line_start = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
        prefix = data[line_start:start]
        if line_start == 0 and prefix.startswith(b"\xef\xbb\xbf"):
            prefix = prefix[3:]
        if (not prefix or _ASYNC.fullmatch(prefix)) and _EVENT_PARAM.match(data, match.end()):
            return True
    return False


def python_handler(params: list[tuple[str, bool]]) -> bool:
    """Whether a Python function with these positional parameters (name, has a default) can be a handler:
    ``(event, context)`` or a close variant; Lambda passes two arguments, so any further one has a default."""
    if len(params) < 2 or any(not has_default for _, has_default in params[2:]):
        return False
    first, second = params[0][0].lower(), params[1][0].lower()
    return ("event" in first or first in {"e", "evt", "_e"}) and ("context" in second or "ctx" in second or second == "_")
