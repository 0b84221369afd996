"""What a Python function's tests patch, read from their bytes: a client built once per execution environment
outlives each test's `mock.patch("app.boto3")`, so the second test's mock never reaches the handler (its client
was built under the first test's mock). rewriter/jsproject.py reads the test files; codemods only ask here.

Only the text is read (nothing is imported): `patch("a.b")`, `patch.object(a, "b")`, `mocker.patch(...)`,
`monkeypatch.setattr("a.b", ...)` and `monkeypatch.setattr(a, "b", ...)`, with any prefix (`mock.`, `unittest.mock.`).
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods._base import FileContext

# `patch("a.b.c"...)`, `patch(target="a.b")`, `setattr("a.b", ...)`: a dotted target as a string.
_BY_STRING = re.compile(rb"""\b(?:patch|setattr)\s*\(\s*(?:target\s*=\s*)?(['"])([A-Za-z_][\w.]*)\1""")
# `patch.object(a.b, "c")`, `setattr(a, "c", ...)`: an object as written in the test, and an attribute.
_BY_OBJECT = re.compile(rb"""\b(?:patch\.object|setattr)\s*\(\s*([A-Za-z_][\w.]*)\s*,\s*(['"])(\w+)\2""")
# Patched per request, not at construction: a client built once still meets the patch.
_PER_CALL = ("_make_api_call", "_make_request", "_send")


@dataclasses.dataclass(frozen=True)
class PyTests:
    """The dotted targets the tests of a run patch, with where (``tests/test_app.py:6``)."""

    patched: tuple[tuple[str, str], ...] = ()

    def patching(self, module: str, bound: str | None, qualname: str | None) -> tuple[str, str] | None:
        """The first patch that replaces what builds a construction in the module at path ``module``
        (`src/app.py`): the name ``bound`` there that the call starts from (`boto3`, `client`), looked up
        through the module (`app.boto3`, `src.app.boto3.client`), or the library of ``qualname`` itself
        (`boto3.client`, or all of `boto3`, patched everywhere)."""
        parts = _module_parts(module)
        for target, where in self.patched:
            names = target.split(".")
            if any(per_call in names for per_call in _PER_CALL):
                continue
            if qualname is not None and (target == qualname.split(".")[0] or f"{qualname}.".startswith(f"{target}.")):
                return target, where
            if bound is None:
                continue
            for i in range(1, len(names)):
                if names[i] == bound and parts[-i:] == names[:i]:
                    return target, where
        return None


NO_TESTS = PyTests()


def patch_for(ctx: FileContext, bound: str | None, qualname: str | None) -> tuple[str, str] | None:
    """``PyTests.patching`` for the module a codemod rewrites, whose tests the engine put in ``ctx.project``."""
    tests = ctx.project
    return tests.patching(ctx.path, bound, qualname) if isinstance(tests, PyTests) else None


def scan(display: str, data: bytes) -> list[tuple[str, str]]:
    """The patch targets of one test file's bytes, with ``display:line``."""
    found = []
    for match in _BY_STRING.finditer(data):
        found.append((match.start(), match.group(2).decode("ascii")))
    for match in _BY_OBJECT.finditer(data):
        found.append((match.start(), f"{match.group(1).decode('ascii')}.{match.group(3).decode('ascii')}"))
    newline = b"\n"
    return [(target, f"{display}:{data.count(newline, 0, at) + 1}") for at, target in sorted(found)]


def _module_parts(path: str) -> list[str]:
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    return parts[:-1] if stem == "__init__" else [*parts[:-1], stem]
