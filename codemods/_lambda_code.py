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


# Languages whose files are function code; manifests describe the whole function and are not decided here.
CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "java"})
_SCRIPT_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})

# Folders whose files run on a developer's machine or in CI, never as the function.
TEST_FOLDERS = frozenset({"tests", "test", "__tests__", "__mocks__", "spec", "e2e", "cypress"})
SCRIPT_FOLDERS = frozenset({"scripts", "bin", "tools"})
_TEST_FILE = re.compile(r"(?:.+\.(?:test|spec)\.[^.]+|test_.+\.py|.+_test\.py|conftest\.py)")
# Next.js: every file under pages/ is a page; under app/ these names are its routes and layouts.
_NEXT_APP_FILES = frozenset({"page", "layout", "template", "loading", "error", "not-found", "global-error", "default"})
_BROWSER_SIGNS = (
    (re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s|//[^\n]*\n|/\*.*?\*/)*['\"]use client['\"]", re.S), "'use client'"),
    (re.compile(rb"""(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*)['"](react|react-dom|next)(?:/[^'"]*)?['"]"""),
     "imports {0}"),
    (re.compile(rb"\bwindow\.|\bdocument\.(?:getElementById|querySelector|createElement|addEventListener|body)\b"
                rb"|\blocalStorage\."), "uses the DOM"),
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
_JS_EXPORTED_HANDLER = re.compile(
    rf"""(?:\bexports|\bmodule\.exports)\s*\.\s*(?:{_JS_NAMES})\s*=
       | \bexport\s+(?:default\s+)?(?:async\s+)?(?:function\s*\*?|const|let|var)\s*(?:{_JS_NAMES})\b
       | \b(?:export|module\.exports\s*=)\s*\{{[^}}]*\b(?:{_JS_NAMES})\b""".encode(),
    re.X,
)
_JS_EVENT_FUNCTION = re.compile(
    rf"""\bfunction\b\s*\*?\s*[\w$]*\s*\(\s*(?:{_JS_EVENTS})\b
       | \(\s*(?:{_JS_EVENTS})\s*[,):?]
       | \b(?:{_JS_EVENTS})\s*=>""".encode(),
    re.X,
)
_JS_EXPORTS = re.compile(rb"\bexports\b|\bexport\s")
# A command module of yargs or commander also exports a `handler`, called with the parsed arguments.
_JS_COMMAND_MODULE = re.compile(rb"\b(?:exports\.command|export\s+const\s+command)\s*=|\bhandler\s*[:=(]\s*(?:async\s*)?\(?\s*argv\b")

# Java: a class that implements one of the runtime's handler interfaces.
JAVA_HANDLER_INTERFACES = frozenset({"RequestHandler", "RequestStreamHandler"})
_JAVA_HANDLER = re.compile(rb"\bimplements\b[^{]*\b(?:" + "|".join(sorted(JAVA_HANDLER_INTERFACES)).encode() + rb")\b")

NOT_LAMBDA_PYTHON = (
    "not Lambda code: no template names a handler here and no top-level function takes (event, context); left alone"
)
NOT_LAMBDA_JS = "not Lambda code: no exported handler (no template names one here); left alone"
NOT_LAMBDA_JAVA = "not Lambda code: no class implements RequestHandler (no template names one here); left alone"
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
    if kind is None and language in _SCRIPT_LANGUAGES:
        kind = _browser(data)
    if kind is not None:
        return LambdaCode(False, None, f"not Lambda code: {kind}, and no template names it; left alone")
    if _has_handler(data, language):
        return LambdaCode(True, None, "a function shaped like a handler")
    return LambdaCode(False, None, _NO_HANDLER.get(language, NOT_LAMBDA_JS))


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
    for pattern, what in _BROWSER_SIGNS:
        found = pattern.search(data)
        if found is not None:
            return "browser code (" + what.format(*(g.decode() for g in found.groups())) + ")"
    return None


def _has_handler(data: bytes, language: str) -> bool:
    if language == "python":
        return _python_handler_def(data)
    if language == "java":
        return _JAVA_HANDLER.search(data) is not None
    if _JS_EXPORTED_HANDLER.search(data) is not None and _JS_COMMAND_MODULE.search(data) is None:
        return True
    return _JS_EXPORTS.search(data) is not None and _JS_EVENT_FUNCTION.search(data) is not None


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
