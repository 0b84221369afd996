"""The local code a file runs (the modules it imports by relative path, transitively) and what each is once sdk-v3
has rewritten it: whether a template's function, or the code a unit test tests, is on v3 after the run.

Read-only reading of neighbours, as codemods/manifests/_scan.py does for manifests: bounded (MAX_FILES), inside the
repository, symbolic links not followed, nothing executed.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from codemods._base import FileContext

SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
MAX_FILES = 500

LOCAL = re.compile(rb"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)['"](\.{1,2}/[^'"]*)['"]""")


def imported(handler: Path, root: Path) -> list[Path]:
    """The handler's file and the local modules it imports, transitively, inside the repository."""
    found: list[Path] = []
    todo = [handler]
    seen = {handler}
    while todo and len(found) < MAX_FILES:
        path = todo.pop()
        found.append(path)
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for specifier in LOCAL.findall(data):
            target = resolve(path.parent, specifier.decode("utf-8", "replace"))
            if target is not None and target not in seen and (root == target.parent or root in target.parents):
                seen.add(target)
                todo.append(target)
    return found


def resolve(folder: Path, specifier: str) -> Path | None:
    base = Path(posixpath.normpath((folder / specifier).as_posix()))
    stem, suffix = posixpath.splitext(base.name)
    candidates = [base] if suffix in SOURCE_SUFFIXES else []
    if suffix in (".js", ".mjs", ".cjs"):  # TypeScript's ESM imports name the output: `./lib/summary.js`
        candidates += [base.with_name(stem + {".js": ".ts", ".mjs": ".mts", ".cjs": ".cts"}[suffix])]
    candidates += [base.with_name(base.name + s) for s in SOURCE_SUFFIXES]
    candidates += [base / ("index" + s) for s in SOURCE_SUFFIXES]
    for candidate in candidates:
        if candidate.is_file() and not candidate.is_symlink():
            return candidate
    return None


def after_sdk_v3(path: Path, root: Path, data: bytes, handlers: frozenset[str] | None) -> bytes:
    """The file as sdk-v3 leaves it in a run over the repository: a file that is not Lambda code is not rewritten."""
    from codemods._lambda_code import decide
    from rewriter.languages import language_for

    language = language_for(path.name)
    if language is None:
        return data
    try:
        display = path.relative_to(root).as_posix()
    except ValueError:
        display = path.name
    decided = decide(display, data, handlers, language.name)
    if not decided.is_lambda:
        return data
    from codemods.javascript.sdk_v3 import SdkV3

    probe = FileContext(display, handlers, codemod="sdk-v3", lambda_code=decided)
    try:
        return language.render(SdkV3().transform(language.parse(data), probe))
    except Exception:  # a source that does not parse, or a codemod's bug: the file stays as it is
        return data
