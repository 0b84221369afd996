"""How each language is parsed, printed and checked. The engine knows nothing else about syntax."""
from __future__ import annotations

import ast
import dataclasses
import functools
import json
import os
import re
import shutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import libcst as cst

if TYPE_CHECKING:
    import tree_sitter


class ParseFailure(Exception):
    """The file does not parse; the message names the line."""


@dataclasses.dataclass(frozen=True)
class Language:
    name: str
    suffixes: tuple[str, ...]
    parse: Callable[[bytes], Any]
    render: Callable[[Any], bytes]
    # Raises ParseFailure when the bytes are not a valid program of the language; else gives the
    # parsed tree (as ``parse`` would) when it made one, so that the second pass need not parse again.
    check: Callable[[bytes, str], Any]
    # Whole file names (`pom.xml`), for formats known by name rather than by suffix.
    names: tuple[str, ...] = ()
    # Why a file this language's tools cannot rewrite safely is left alone before parsing, or None.
    refuses: Callable[[bytes], str | None] = lambda data: None


def _python_syntax(data: bytes, path: str = "<file>", flags: int = ast.PyCF_ONLY_AST) -> None:
    """Python's own parser first: it names errors well, costs a tenth of a LibCST parse, and refuses what
    would crash LibCST's native parser and the process with it (thousands of nested brackets, `not`s...)."""
    try:
        compile(data, path, "exec", flags, dont_inherit=True)
    except SyntaxError as error:
        message = f"line {error.lineno}: {error.msg}" if error.lineno else error.msg
        if error.msg.startswith("f-string") and sys.version_info < (3, 12):
            # PEP 701: Python 3.12 reads quotes and backslashes inside f-string braces, and functions run on 3.12+.
            message += (f" (Python {sys.version_info[0]}.{sys.version_info[1]} runs lambda-rewriter here; Python 3.12 "
                        f"and later accept this f-string: run lambda-rewriter on Python 3.12 or later)")
        raise ParseFailure(message) from None
    except (MemoryError, RecursionError):
        raise ParseFailure("nested too deeply for Python's parser") from None
    except ValueError as error:  # a NUL byte
        raise ParseFailure(str(error)) from None


def _libcst(data: bytes) -> cst.Module:
    try:
        return cst.parse_module(data)
    except cst.ParserSyntaxError as error:
        raise ParseFailure(f"line {error.raw_line}: {error.message}") from None
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        raise ParseFailure(str(error)) from None


def _parse_python(data: bytes) -> cst.Module:
    _python_syntax(data)
    return _libcst(data)


def _check_python(data: bytes, path: str) -> cst.Module:
    _python_syntax(data, path, 0)  # compiles, which parsing alone does not prove
    return _libcst(data)


def _refuses_python(data: bytes) -> str | None:
    # LibCST reads a lone CR as a line break but prints new lines with the module's default
    # newline: in a file with bare CR endings the result would mix endings the file never had.
    if re.search(rb"\r(?!\n)", data):
        return "bare CR line endings: the parser does not keep them byte for byte; left alone"
    return None


def _render_python(tree: cst.Module) -> bytes:
    # A codemod that reported a line in this tree printed it already (to number its lines): that is its text.
    from codemods.python._facts import printed_code

    code = printed_code(tree)
    return tree.bytes if code is None else code.encode(tree.encoding)


PYTHON = Language("python", (".py",), _parse_python, _render_python, _check_python, refuses=_refuses_python)


@dataclasses.dataclass(frozen=True)
class SourceTree:
    """A tree-sitter tree with the bytes it was parsed from: codemods edit byte ranges, then re-parse."""

    data: bytes
    tree: Any
    dialect: str  # "javascript", "typescript" or "tsx": which grammar parsed it

    def replaced(self, data: bytes) -> SourceTree:
        return _parse_tree_sitter(self.dialect, data)


@functools.cache
def _parser(dialect: str) -> tree_sitter.Parser:
    import tree_sitter

    if dialect == "java":
        import tree_sitter_java

        return tree_sitter.Parser(tree_sitter.Language(tree_sitter_java.language()))
    if dialect == "javascript":
        import tree_sitter_javascript

        grammar = tree_sitter_javascript.language()
    else:
        import tree_sitter_typescript

        tsx = dialect == "tsx"
        grammar = tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    return tree_sitter.Parser(tree_sitter.Language(grammar))


# Import attributes after a module specifier (`from './a.json' with { type: 'json' }`, the older `assert`).
# The newest grammars on the registry take some forms only (javascript 0.25.0 no `assert`; neither
# javascript 0.25.0 nor typescript 0.23.2 an `export ... from` with attributes).
_IMPORT_ATTRIBUTES = re.compile(rb"""(?:from|import)\s*(?:'[^'\r\n]*'|"[^"\r\n]*")\s*((?:with|assert)\s*\{[^{}]*\})""")


def _without_import_attributes(data: bytes) -> bytes:
    """``data`` with each import attributes clause blanked, byte for byte (line breaks kept): the same offsets,
    so the tree it gives describes ``data`` itself. The clause holds only literals nothing reads."""
    def blank(match: re.Match[bytes]) -> bytes:
        start, end = match.span(1)
        clause = data[start:end]
        whole: bytes = match.group(0)
        return whole[: start - match.start()] + re.sub(rb"[^\r\n]", b" ", clause)

    return _IMPORT_ATTRIBUTES.sub(blank, data)


# The same bytes are parsed several times per file: a codemod's result is parsed again by the verification's
# check, and a pass that changes nothing gives back what it was given. Trees are never edited in place (a codemod
# edits bytes and parses those), so the last few parses can stand for a new one.
_PARSED: dict[tuple[str, bytes], SourceTree] = {}
_PARSED_KEEP = 4


def _parse_tree_sitter(dialect: str, data: bytes) -> SourceTree:
    parsed = _PARSED.get((dialect, data))
    if parsed is None:
        parsed = _PARSED[dialect, data] = _parse_fresh(dialect, data)
        while len(_PARSED) > _PARSED_KEEP:
            del _PARSED[next(iter(_PARSED))]
    return parsed


def _parse_fresh(dialect: str, data: bytes) -> SourceTree:
    tree = _parser(dialect).parse(data)
    if tree.root_node.has_error and dialect != "java" and (b"with" in data or b"assert" in data):
        masked = _without_import_attributes(data)
        if masked != data:
            # Its first error, if it has one, is a real one: not the attributes the grammar does not take.
            tree = _parser(dialect).parse(masked)
    if tree.root_node.has_error:
        stack = [tree.root_node]
        while stack:
            node = stack.pop()
            if node.is_error or node.is_missing:
                what = f"missing `{node.type}`" if node.is_missing else "syntax error"
                raise ParseFailure(f"line {node.start_point[0] + 1}: {what}")
            stack.extend(reversed([child for child in node.children if child.has_error]))
        raise ParseFailure("syntax error")
    return SourceTree(data, tree, dialect)


def _check_javascript(data: bytes, path: str) -> SourceTree:
    tree = _parse_tree_sitter("javascript", data)
    node = shutil.which("node")
    if node is None or not path.endswith((".js", ".mjs", ".cjs")):
        return tree  # node cannot read JSX
    from rewriter import node_syntax

    # The file's own folder may hold a package.json that says which module system a .js file uses: the
    # syntax the tree shows decides instead.
    esm = any(child.type in ("import_statement", "export_statement") for child in tree.tree.root_node.children)
    refused = node_syntax.check(node, data, esm)
    if refused is not None:
        where, message = refused
        raise ParseFailure(f"line {where}: {message}")
    return tree


def _check_tree_sitter(dialect: str, data: bytes, path: str) -> SourceTree:
    return _parse_tree_sitter(dialect, data)


def _tree_sitter_language(
    name: str, suffixes: tuple[str, ...], check: Callable[[bytes, str], SourceTree] | None = None
) -> Language:
    parse = functools.partial(_parse_tree_sitter, name)
    return Language(name, suffixes, parse, lambda tree: tree.data, check or functools.partial(_check_tree_sitter, name))


JAVASCRIPT = _tree_sitter_language("javascript", (".js", ".mjs", ".cjs", ".jsx"), _check_javascript)
TYPESCRIPT = _tree_sitter_language("typescript", (".ts", ".mts", ".cts"))
TSX = _tree_sitter_language("tsx", (".tsx",))

JAVA = _tree_sitter_language("java", (".java",))


@dataclasses.dataclass(frozen=True)
class ManifestTree:
    """A dependency manifest's bytes: its codemods edit text by range, so the file keeps its layout."""

    data: bytes

    def replaced(self, data: bytes) -> ManifestTree:
        return ManifestTree(data)


def _check_manifest(data: bytes, path: str) -> None:
    from xml.etree import ElementTree

    name = os.path.basename(path)
    try:
        if name == "pom.xml":
            ElementTree.fromstring(data)
        elif name == "package.json" or name.endswith(".json"):
            json.loads(data)
        elif name in TEMPLATE_NAMES:
            _check_yaml(data)
        else:
            data.decode("utf-8")
    except (ElementTree.ParseError, ValueError) as error:
        raise ParseFailure(str(error)) from None


def _check_yaml(data: bytes) -> None:
    import yaml

    class Composer(yaml.SafeLoader):  # composes CloudFormation's tags (`!Ref`) without constructing them
        pass

    try:
        yaml.compose(data.decode("utf-8-sig"), Loader=Composer)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ParseFailure(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


# Templates are read by discovery for their handlers, and edited by sdk-v3 (environment, Runtime) as text.
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json", "serverless.yml", "serverless.yaml")
MANIFEST_NAMES = ("pom.xml", "build.gradle", "build.gradle.kts", "requirements.txt", "package.json", *TEMPLATE_NAMES)
MANIFEST = Language("manifest", (), ManifestTree, lambda tree: tree.data, _check_manifest, MANIFEST_NAMES)

LANGUAGES = {language.name: language for language in (PYTHON, JAVASCRIPT, TYPESCRIPT, TSX, JAVA, MANIFEST)}


# TypeScript declaration files hold types only: nothing in them runs, so nothing to rewrite (and the
# grammar does not take every form they use, such as `export import X = require(...)`).
_DECLARATIONS = (".d.ts", ".d.mts", ".d.cts")


def language_for(path: str) -> Language | None:
    name = os.path.basename(path)
    if name.endswith(_DECLARATIONS):
        return None
    for language in LANGUAGES.values():
        if name in language.names:
            return language
    for language in LANGUAGES.values():
        if path.endswith(language.suffixes):
            return language
    return None
