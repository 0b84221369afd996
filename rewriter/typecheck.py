"""TypeScript verification by the TypeScript compiler: a rewritten .ts/.tsx file under a tsconfig.json must
not gain a compiler error (tree-sitter takes code that tsc refuses: a default import without
`esModuleInterop`, a `const` beside a `namespace` of the same name).

The compiler is the user's own: ``$LAMBDA_REWRITER_TSC`` (a `tsc` or the `typescript` package folder), else
`tsc` on PATH; never one inside the repository being rewritten (its node_modules are the repository's
code). One Node process per tsconfig checks all the changed files under it, before and after, through the
compiler's API with the rewritten text held in memory (rewriter/typecheck.js). Only errors that the rewrite
added fail a file: a project that already has type errors is not blocked. Without a compiler the run
says so once (a note) and the files are kept; a check that runs out of time says so on each file.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from codemods._base import Note

TYPESCRIPT_LANGUAGES = frozenset({"typescript", "tsx"})
ENV_TSC = "LAMBDA_REWRITER_TSC"
ENV_TIMEOUT = "LAMBDA_REWRITER_TSC_TIMEOUT"
DEFAULT_TIMEOUT = 120.0
SCRIPT = Path(__file__).with_name("typecheck.js")
NO_COMPILER = (
    "not type-checked: no TypeScript compiler here (put `tsc` on PATH or name it in "
    f"${ENV_TSC}); the TypeScript files were only re-parsed"
)


@dataclasses.dataclass(frozen=True)
class Compiler:
    node: str
    library: str  # typescript/lib/typescript.js


def find_compiler(roots: Sequence[str]) -> tuple[Compiler | None, str | None]:
    """The user's compiler, or None and why not. ``roots``: the repositories being rewritten."""
    node = shutil.which("node")
    named = os.environ.get(ENV_TSC)
    candidate = named or shutil.which("tsc")
    if node is None or not candidate:
        return None, None
    library = _library_of(Path(candidate))
    if library is None:
        return None, f"{ENV_TSC if named else 'tsc'} ({candidate}) is not a TypeScript compiler this tool can use"
    real = os.path.realpath(library)
    for root in roots:
        top = os.path.realpath(root)
        if real.startswith(top.rstrip(os.sep) + os.sep):
            return None, f"the only TypeScript compiler found ({candidate}) is the repository's own: not run"
    return Compiler(node, str(library)), None


def _library_of(candidate: Path) -> Path | None:
    """typescript/lib/typescript.js of a `tsc` (bin/tsc, node_modules/.bin/tsc) or of the package folder."""
    try:
        real = Path(os.path.realpath(candidate))
    except OSError:
        return None
    for package in (real, real.parent.parent, real.parent):
        library = package / "lib" / "typescript.js"
        if library.is_file():
            return library
    return None


def nearest_tsconfig(path: Path, root: Path) -> Path | None:
    for folder in path.parents:
        candidate = folder / "tsconfig.json"
        if candidate.is_file():
            return candidate
        if folder == root or root not in folder.parents:
            return None
    return None


def verify(jobs: Sequence, results: list, timeout: float | None = None) -> None:
    """Fail (in place) each changed TypeScript file of ``results`` whose rewrite adds a compiler error."""
    from rewriter.engine import Status

    groups: dict[Path, list[int]] = collections.defaultdict(list)
    for index, (job, result) in enumerate(zip(jobs, results, strict=True)):
        if result.status is not Status.CHANGED or result.language not in TYPESCRIPT_LANGUAGES:
            continue
        config = nearest_tsconfig(Path(job.path), Path(job.root))
        if config is not None:
            groups[config].append(index)
    if not groups:
        return
    compiler, why = find_compiler(sorted({jobs[i].root for indices in groups.values() for i in indices}))
    if compiler is None:
        first = results[min(i for indices in groups.values() for i in indices)]
        _note(first, NO_COMPILER if why is None else f"not type-checked: {why}; the TypeScript files were only re-parsed")
        return
    limit = timeout if timeout is not None else _timeout()
    for config, indices in groups.items():
        _check_project(compiler, config, [(jobs[i], results[i]) for i in indices], limit)


def _timeout() -> float:
    try:
        return max(1.0, float(os.environ[ENV_TIMEOUT]))
    except (KeyError, ValueError):
        return DEFAULT_TIMEOUT


def _note(result, message: str) -> None:
    codemod = result.changes[0].codemod if result.changes else "*"
    result.notes.append(Note(codemod, 1, message))


def _check_project(compiler: Compiler, config: Path, files: list, timeout: float) -> None:
    from rewriter.engine import Status

    request = {
        "typescript": compiler.library,
        "config": str(config),
        "files": {job.path: result.after.decode("utf-8", "surrogateescape") for job, result in files},
    }
    where = config.name if not files else os.path.relpath(config, files[0][0].root)
    try:
        ran = subprocess.run(
            [compiler.node, str(SCRIPT)],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=timeout,
            cwd=str(config.parent),
            env=_environment(),
            check=False,  # the answer says what failed
        )
        answer = json.loads(ran.stdout or b"{}")
    except subprocess.TimeoutExpired:
        for _, result in files:
            _note(result, f"not type-checked: tsc took longer than {timeout:g} s on {where}")
        return
    except (OSError, ValueError) as error:
        answer = {"error": str(error)}
    if "error" in answer or "after" not in answer:
        for _, result in files:
            _note(result, f"not type-checked: tsc could not check {where}: {str(answer.get('error', '?'))[:200]}")
        return
    for job, result in files:
        added = _added_errors(answer["before"].get(job.path), answer["after"].get(job.path))
        if added:
            code, _, message, line = added[0]
            more = f" (and {len(added) - 1} more)" if len(added) > 1 else ""
            result.status, result.after = Status.ERROR, None
            result.reason = (
                f"verification failed, file left alone: tsc ({where}) reports line {line}: "
                f"error TS{code}: {message[:300]}{more}"
            )


def _added_errors(before: list | None, after: list | None) -> list:
    """The errors of ``after`` that ``before`` does not have (lines move in a rewrite: compared without them)."""
    if after is None:
        return []
    seen = collections.Counter((code, message) for code, category, message, _ in before or () if category == "error")
    added = []
    for diagnostic in after:
        code, category, message, _ = diagnostic
        if category != "error":
            continue
        if seen[(code, message)]:
            seen[(code, message)] -= 1
        else:
            added.append(diagnostic)
    return added


def _environment() -> dict[str, str]:
    """What the compiler's Node needs, and none of the caller's secrets."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    return {name: os.environ[name] for name in keep if name in os.environ}
