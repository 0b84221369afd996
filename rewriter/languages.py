"""How each language is parsed, printed and checked. The engine knows nothing else about syntax."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst


class ParseFailure(Exception):
    """The file does not parse; the message names the line."""


@dataclasses.dataclass(frozen=True)
class Language:
    name: str
    suffixes: tuple[str, ...]
    parse: Callable[[bytes], Any]
    render: Callable[[Any], bytes]
    # Raises ParseFailure when the bytes are not a valid program of the language.
    check: Callable[[bytes, str], None]


def _parse_python(data: bytes) -> cst.Module:
    try:
        return cst.parse_module(data)
    except cst.ParserSyntaxError as error:
        raise ParseFailure(f"line {error.raw_line}: {error.message}") from None
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        raise ParseFailure(str(error)) from None


def _check_python(data: bytes, path: str) -> None:
    _parse_python(data)
    try:
        compile(data, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None)
        raise ParseFailure(f"line {line}: {error}" if line else str(error)) from None


PYTHON = Language("python", (".py",), _parse_python, lambda tree: tree.bytes, _check_python)

LANGUAGES = {language.name: language for language in (PYTHON,)}


def language_for(path: str) -> Language | None:
    for language in LANGUAGES.values():
        if path.endswith(language.suffixes):
            return language
    return None
