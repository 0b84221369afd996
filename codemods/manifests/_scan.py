"""What the code next to a manifest uses: with _shipped.py, the one place codemods read files other than their own.

A manifest says what a function ships; only its sources say what the function uses, and the engine hands a
codemod one file. So slim-dependencies (and framework-advice, which counts routes) read, read-only, the sources in
the manifest's own folder: `src/**/*.java` for pom.xml and build.gradle(.kts) (the shipped sources apart from the
tests'), `**/*.{js,mjs,cjs,ts}` for package.json; for requirements.txt, _shipped.py also follows imports out of the
folder and reads templates and build scripts. The walk is bounded (vendored, build and test folders skipped,
symbolic links not followed, at most MAX_FILES files of at most MAX_BYTES each) and never executes anything.
Everything else in those codemods is a pure function of the manifest's bytes and what is found here.
"""
from __future__ import annotations

import ast
import dataclasses
import os
import re
from pathlib import Path, PurePosixPath

from rewriter.discovery import SKIPPED_DIRS

MAX_FILES = 5000
MAX_BYTES = 1_000_000
# Test code is not shipped: what only tests import is not a deployment requirement.
TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__"})
_JAVA_NAME = re.compile(rb"\b(?:com\.amazonaws|software\.amazon\.awssdk)(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
JS_MODULE = re.compile(rb"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)['"]([^'"]+)['"]""")


@dataclasses.dataclass(frozen=True)
class Sources:
    files: int  # how many source files were read; 0 means nothing is known about what the code uses
    names: frozenset[str]  # dotted names (Java) or module specifiers (JS)
    text_markers: frozenset[str] = frozenset()  # e.g. "SpringApplication" seen in Java sources
    # Names written only in test sources (src/test): not shipped, but the build compiles them (Maven, Gradle).
    test_names: frozenset[str] = frozenset()


def locate(display_path: str, location: str | None = None) -> Path | None:
    """The manifest on disk: where the engine says it is, else (a codemod run outside the engine, which
    knows its file by the path relative to the repository root only) the working folder or the first
    folder above it that holds that path."""
    if location is not None:
        return Path(location) if Path(location).is_file() else None
    relative = Path(display_path)
    if relative.is_absolute():
        return relative if relative.is_file() else None
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def repository_root(manifest: Path, display: str) -> Path:
    """The root the engine shows paths relative to (the repository's): ``display`` is the manifest's path below it."""
    parts = PurePosixPath(display).parts
    if parts and not PurePosixPath(display).is_absolute() and ".." not in parts and len(parts) <= len(manifest.parents):
        return manifest.parents[len(parts) - 1]
    return manifest.parent


def source_files(top: Path, suffixes: tuple[str, ...], under: str | None = None, *, tests: bool = False) -> list[Path]:
    """The sources below ``top`` (or ``top/under``); test folders and files are skipped unless ``tests``."""
    start = top / under if under else top
    found: list[Path] = []
    if not start.is_dir():
        return found
    for folder, dirs, names in os.walk(start):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and (tests or d not in TEST_DIRS)
                         and not d.endswith(".egg-info") and not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            if not name.endswith(suffixes):
                continue
            if not tests and (name.startswith("test_") or name.endswith(("_test.py", ".test.js"))):
                continue
            if name == "conftest.py":
                continue
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            found.append(path)
            if len(found) >= MAX_FILES:
                return found
    return found


def java_sources(manifest: Path, root: Path | None = None) -> Sources:
    """Every `com.amazonaws.…`/`software.amazon.awssdk.…` name written in src/**/*.java (imports and inline),
    those of the shipped sources (src/main...) apart from those of the test sources (src/test, src/integrationTest):
    the build compiles both, the package ships only the first."""
    src = manifest.parent / "src"
    roots = sorted(d.name for d in src.iterdir() if d.is_dir() and not d.is_symlink()) if src.is_dir() else []
    main = [r for r in roots if "test" not in r.lower()]
    names: set[str] = set()
    markers: set[str] = set()
    files = sorted(p for p in src.glob("*.java") if p.is_file() and not p.is_symlink()) if src.is_dir() else []
    files += [path for under in main for path in source_files(src, (".java",), under, tests=True)]
    for path in files:
        data = path.read_bytes()
        names.update(match.decode("ascii") for match in _JAVA_NAME.findall(data))
        for marker in (b"org.springframework", b"SpringApplication", b"com.google.inject", b"dagger."):
            if marker in data:
                markers.add(marker.decode())
    test_names: set[str] = set()
    for under in (r for r in roots if r not in main):
        for path in source_files(src, (".java",), under, tests=True):
            test_names.update(match.decode("ascii") for match in _JAVA_NAME.findall(path.read_bytes()))
    return Sources(len(files), frozenset(names), frozenset(markers), frozenset(test_names - names))


def js_modules(manifest: Path, root: Path | None = None) -> Sources:
    names: set[str] = set()
    files = source_files(manifest.parent, (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts"))
    for path in files:
        names.update(match.decode("utf-8", "replace") for match in JS_MODULE.findall(path.read_bytes()))
    return Sources(len(files), frozenset(names))


ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "delete", "patch", "api_route"})


def python_routes(manifest: Path) -> int:
    """How many route decorators (`@app.get(...)`, `@app.route(...)`) the function's modules declare."""
    count = 0
    for path in source_files(manifest.parent, (".py",)):
        try:
            tree = ast.parse(path.read_bytes())
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            for decorator in getattr(node, "decorator_list", ()):
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(call, ast.Attribute) and call.attr in ROUTE_DECORATORS:
                    count += 1
    return count
