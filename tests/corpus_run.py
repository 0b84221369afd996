"""Run the engine over real Python code that is not Lambda code, and check it leaves it alone.

    python tests/corpus_run.py [PATH]... [--jobs N] [--json FILE] [--limit N]

PATH defaults to this Python's standard library (without its site-packages) and the site-packages of
the running environment. Every file goes through ``engine.run`` exactly as the command line sends it
(process pool, prefilter, parse, codemods, verify), in check mode: nothing is written. A worker that
dies on a file (a parser stack overflow) is reported for that file and the run goes on.

Exit status 1 when a file crashed its worker, hit an internal error, or was changed without having a
Lambda handler; the counts and every skip reason are printed either way.

``--all-functions`` names every top-level function of a file as a handler (as a template would), so
the codemods rewrite real code: then changes are expected, and each changed file must compile and
pass the fuzz test's checks (module-level code reads bound names, no name left undefined or half
local); a verification failure counts as a failure too.
"""
from __future__ import annotations

import argparse
import ast
import collections
import json
import re
import sys
import sysconfig
import time
from pathlib import Path

from codemods import select
from rewriter import engine
from rewriter.engine import FileJob, FileResult, Status

_CRASHED = "the worker processing this file crashed"


def default_roots() -> list[Path]:
    paths = sysconfig.get_paths()
    roots = [Path(paths["stdlib"]), Path(paths["purelib"]), Path(paths["platlib"])]
    unique: list[Path] = []
    for root in roots:
        if root.resolve() not in [r.resolve() for r in unique]:
            unique.append(root)
    return unique


def _top_level_functions(path: Path) -> frozenset[str] | None:
    """Every top-level function of a file the codemods would read, as template-named entry points."""
    data = path.read_bytes()
    if not any(codemod().wants(data) for codemod in select(())):
        return None
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return frozenset(s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))) or None


def python_files(roots: list[Path], all_functions: bool = False) -> list[FileJob]:
    """Every .py file below the roots, once; a root's own site-packages belongs to the environment, not to it."""
    seen: set[Path] = set()
    nested = {root.resolve() for root in roots}
    jobs = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            real = path.resolve()
            if real in seen or path.is_symlink() or not path.is_file():
                continue
            if any(parent in nested and parent != root.resolve() for parent in real.parents) or (
                "site-packages" in path.relative_to(root).parts
            ):
                continue
            seen.add(real)
            entry_points = _top_level_functions(path) if all_functions else None
            jobs.append(FileJob(str(path), path.relative_to(root).as_posix(), str(root), entry_points))
    return jobs


def _looks_like_handler(fn: ast.AST) -> bool:
    """A top-level function taking (event, context) or a close variant: what a Lambda runtime calls."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    params = [a.arg.lower() for a in fn.args.args]
    if not 2 <= len(params) <= 3:
        return False
    first, second = params[:2]
    return ("event" in first or first in {"e", "evt", "_e"}) and ("context" in second or "ctx" in second or second == "_")


def has_handler(source: bytes) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(_looks_like_handler(stmt) for stmt in tree.body)


def _reason_group(reason: str) -> str:
    """Skip reasons without their per-file numbers, so that they group."""
    return re.sub(r"\d+", "N", reason.split(":")[0] if reason.startswith("does not parse") else reason)


def check_changed(result: FileResult, all_functions: bool = False) -> list[str]:
    """What is wrong with a changed file: it has no handler, or the new text is broken."""
    problems = []
    if not all_functions and not has_handler(result.before or b""):
        problems.append("changed, but it has no Lambda handler")
    try:
        compile(result.after or b"", result.abspath, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        problems.append(f"the new text does not compile: {error}")
        return problems
    if all_functions:
        from test_fuzz import assert_added_code_reads_bound_names, assert_no_new_undefined_names, assert_scopes_sound

        for check in (assert_added_code_reads_bound_names, assert_no_new_undefined_names, assert_scopes_sound):
            try:
                check(result.before or b"", result.after or b"")
            except AssertionError as error:
                problems.append(str(error))
            except Exception as error:  # noqa: BLE001 - a checker's bug must not lose the run's results
                problems.append(f"{check.__name__} could not check it: {type(error).__name__}: {error}")
    return problems


def summarize(results: list[FileResult], seconds: float, all_functions: bool = False) -> dict:
    statuses = collections.Counter(result.status.value for result in results)
    skipped = collections.Counter(_reason_group(r.reason) for r in results if r.status is Status.SKIPPED)
    crashed = [r.abspath for r in results if r.status is Status.ERROR and r.reason == _CRASHED]
    internal = [f"{r.abspath}: {r.reason}" for r in results if "internal error" in r.reason]
    other_errors = [
        f"{r.abspath}: {r.reason}"
        for r in results
        if r.status is Status.ERROR and r.reason != _CRASHED and "internal error" not in r.reason
    ]
    wrong = [
        f"{r.abspath}: {problem}"
        for r in results
        if r.status is Status.CHANGED
        for problem in check_changed(r, all_functions)
    ]
    if all_functions:  # the codemods rewrote this code: an output verification refused is theirs
        wrong += [error for error in other_errors if "verification failed" in error]
    return {
        "files": len(results),
        "seconds": round(seconds, 1),
        "files_per_second": round(len(results) / seconds, 1) if seconds else None,
        "statuses": dict(statuses),
        "parsed_or_changed": sum(1 for r in results if r.changes or r.notes or r.status is not Status.UNCHANGED),
        "changed": sorted(r.abspath for r in results if r.status is Status.CHANGED),
        "skipped_reasons": dict(skipped.most_common()),
        "skipped": sorted(f"{r.abspath}: {r.reason}" for r in results if r.status is Status.SKIPPED),
        "crashed": crashed,
        "internal_errors": internal,
        "other_errors": other_errors,
        "wrongly_changed": wrong,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", "-j", type=int, default=engine.default_workers())
    parser.add_argument("--json", type=Path, help="write the full summary here")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (for a quick look)")
    parser.add_argument("--all-functions", action="store_true", help="name every top-level function a handler")
    args = parser.parse_args(argv)
    roots = args.paths or default_roots()
    jobs = python_files(roots, args.all_functions)
    if args.limit:
        jobs = jobs[: args.limit]
    print(f"{len(jobs)} files under {', '.join(map(str, roots))}; {args.jobs} workers", file=sys.stderr)
    done = 0

    def progress(result: FileResult) -> None:
        nonlocal done
        done += 1
        if result.status is Status.ERROR or (result.status is Status.CHANGED and check_changed(result, args.all_functions)):
            print(f"  {result.status.value}: {result.abspath}: {result.reason}", file=sys.stderr)
        if done % 1000 == 0:
            print(f"  {done}/{len(jobs)}", file=sys.stderr)

    start = time.monotonic()
    results = engine.run(jobs, (), args.jobs, progress)
    summary = summarize(results, time.monotonic() - start, args.all_functions)
    summary["roots"] = [str(root) for root in roots]
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"files: {summary['files']} in {summary['seconds']} s ({summary['files_per_second']} files/s)")
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["statuses"].items())))
    print("skipped, by reason:")
    for reason, count in summary["skipped_reasons"].items():
        print(f"  {count:6}  {reason}")
    titles = ("other_errors", "crashed", "internal_errors", "wrongly_changed")
    for title in titles if args.all_functions else ("changed", *titles):
        if summary[title]:
            print(f"{title.replace('_', ' ')} ({len(summary[title])}):")
            for line in summary[title][:50]:
                print(f"  {line}")
    failed = summary["crashed"] or summary["internal_errors"] or summary["wrongly_changed"]
    if args.all_functions:
        print("FAILED" if failed else "OK: no crash, no internal error, every change compiles and passes the checks")
    else:
        print("FAILED" if failed else "OK: no crash, no internal error, no file without a handler changed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
