"""The pipeline for a set of files: prefilter, parse once, codemods in order, verify.

``process_file`` never raises: every file ends as changed, unchanged, skipped or error, with the
reason. Files are spread over worker processes (``rewriter.pool``); a worker that dies or runs past the
time limit takes only its own file down.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import os
import signal
import stat as stat_module
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from codemods import Change, Codemod, FileContext, Note, SkipFile, select
from codemods._base import NO_OPTIONS, NO_TRAITS, FunctionTraits, Options
from codemods._lambda_code import decide
from codemods.javascript._project import JsProject
from codemods.python._test_patches import PyTests
from rewriter import pool, suppress, typecheck
from rewriter.cache import (
    UNCACHED_LANGUAGES,
    Entry,
    ResultCache,
    job_key,
    tool_fingerprint,
)
from rewriter.diff import line_map
from rewriter.languages import Language, ParseFailure, language_for
from rewriter.verify import OriginalDoesNotCompile, VerificationFailed, verify

DEFAULT_MAX_BYTES = 1_000_000
# Seconds one file may take: a pathological input (4.9 MB took 5.5 minutes and 3.3 GB) must not stall a run.
DEFAULT_TIME_LIMIT = 60.0
_BINARY_SNIFF = 8192
# The marker code generators put in the header of what they write (protoc, Thrift, Buck, Relay...).
_GENERATED, _GENERATED_SNIFF = b"@generated", 2048


class Status(str, enum.Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclasses.dataclass(frozen=True)
class FileJob:
    path: str  # absolute
    display: str  # relative to the repository root, with "/"
    root: str
    entry_points: frozenset[str] | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    options: Options = NO_OPTIONS  # the configuration's in-house clients and reconnect recipes
    project: JsProject | PyTests | None = None  # the file's project: tsconfig settings and test mocks, tests' patches
    traits: FunctionTraits = NO_TRAITS  # what the template says about the functions of this file


@dataclasses.dataclass(slots=True)  # one per file, all kept to the end of the run: no __dict__ each
class FileResult:
    path: str  # display path
    language: str
    status: Status
    changes: list[Change] = dataclasses.field(default_factory=list)
    notes: list[Note] = dataclasses.field(default_factory=list)
    reason: str = ""
    before: bytes | None = None
    after: bytes | None = None
    abspath: str = ""


def _codemods_for(names: tuple[str, ...], language: str) -> list[Codemod]:
    return [impl() for impl in _implementations(names, language)]


@functools.lru_cache(maxsize=64)
def _implementations(names: tuple[str, ...], language: str) -> tuple[type[Codemod], ...]:
    return tuple(impl for impl in select(names) if language in impl.LANGUAGES)


class _Printed:
    """Each tree of one file printed once: the line mapping, the round-trip check and the result all read it."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._trees: list[tuple[object, bytes]] = []  # (tree, its bytes); the trees kept alive, so ids stay theirs

    def __call__(self, tree) -> bytes:
        for known, text in self._trees:
            if known is tree:
                return text
        text = self.language.render(tree)
        self._trees.append((tree, text))
        return text


class _Markers:
    """Which of a language's codemods a file's bytes hold a marker of (``Codemod.wants``), in one scan per literal.

    The codemods' markers overlap (`boto3` is hoist-clients' and targeted-imports', `botocore`, `aioboto3` and
    `aiobotocore` all hold `boto`): a few short literals, each found in some of the markers, are looked for first,
    and a marker only where one of its literals is in the file. Most files hold none, and cost one `bytes in`
    per literal: 25 literals instead of 42 scans for the Python codemods. CPython's `re` and the `regex` module,
    given every marker as one alternation, were slower than the separate scans (they try every position).
    """

    _SHORTEST = 4  # literals of at least this length (or the whole marker): shorter ones are in most files

    def __init__(self, markers: list[tuple[bytes, ...]]) -> None:
        owners: dict[bytes, set[int]] = {}
        for index, group in enumerate(markers):
            for marker in group:
                owners.setdefault(marker, set()).add(index)
        self.owners = {marker: frozenset(found) for marker, found in owners.items()}
        self.literals: list[tuple[bytes, tuple[bytes, ...]]] = []
        left = set(self.owners)
        while left:  # greedy: the literal in most of the markers left, the longer on a tie (it scans faster)
            counts: dict[bytes, int] = {}
            for marker in left:
                size = min(self._SHORTEST, len(marker))
                for start in range(len(marker) - size + 1):
                    for end in range(start + size, len(marker) + 1):
                        counts.setdefault(marker[start:end], 0)
            for literal in counts:
                counts[literal] = sum(literal in marker for marker in left)
            best = max(sorted(counts), key=lambda literal: (counts[literal], len(literal)))
            covered = tuple(sorted(marker for marker in left if best in marker))
            self.literals.append((best, covered))
            left.difference_update(covered)

    def found(self, data: bytes) -> frozenset[int]:
        """The places (in the list given) of the codemods with a marker in ``data``."""
        found: set[int] = set()
        for literal, markers in self.literals:
            if literal in data:
                for marker in markers:
                    if marker in data:
                        found |= self.owners[marker]
        return frozenset(found)


@functools.lru_cache(maxsize=64)
def _markers(names: tuple[str, ...], language: str) -> _Markers:
    return _Markers([impl.MARKERS if impl.wants is Codemod.wants else () for impl in _implementations(names, language)])


def _run_codemods(
    tree, codemods: list[Codemod], ctx: FileContext, language: Language | None = None, printed: _Printed | None = None
):
    """The codemods in order on one tree. With ``language``, the lines a codemod reports about a tree an
    earlier one changed are mapped back to the original file's lines (what a reviewer and SARIF read)."""
    original = tree
    if language is not None and printed is None:
        printed = _Printed(language)
    for codemod in codemods:
        ctx.codemod = codemod.NAME
        changes, notes = len(ctx.changes), len(ctx.notes)
        result = codemod.transform(tree, ctx)
        if printed is not None and tree is not original and (len(ctx.changes) > changes or len(ctx.notes) > notes):
            lines = line_map(printed(original), printed(tree))
            ctx.changes[changes:] = [dataclasses.replace(c, line=lines.get(c.line, c.line)) for c in ctx.changes[changes:]]
            ctx.notes[notes:] = [dataclasses.replace(n, line=lines.get(n.line, n.line)) for n in ctx.notes[notes:]]
        tree = result
    return tree


def process_file(job: FileJob, codemod_names: tuple[str, ...], cache: ResultCache | None = None) -> FileResult:
    language = language_for(job.path)
    name = language.name if language else "unknown"
    result = FileResult(job.display, name, Status.UNCHANGED, abspath=job.path)
    try:
        return _process(job, language, codemod_names, result, cache)
    except RecursionError:
        return _fail(result, Status.SKIPPED, "too deeply nested for the parser (RecursionError)")
    except OSError as error:  # unreadable, or gone since discovery
        return _fail(result, Status.ERROR, f"cannot read: {error.strerror or error}")
    except Exception as error:  # a bug in a codemod must not stop the run, nor lose the file
        return _fail(result, Status.ERROR, f"internal error: {type(error).__name__}: {error}")


def _fail(result: FileResult, status: Status, reason: str) -> FileResult:
    result.status, result.reason = status, reason
    result.after = None
    return result


def _process(
    job: FileJob, language: Language | None, names: tuple[str, ...], result: FileResult, cache: ResultCache | None
) -> FileResult:
    path = Path(job.path)
    if language is None:
        return _fail(result, Status.SKIPPED, "not a language this tool reads")
    # One lstat says link, regular file and size; the folders on the way are resolved once per folder, not
    # once per file (Path.resolve() per file was 15% of a run over files that are not Lambda code).
    try:
        info = os.lstat(job.path)
    except OSError:
        return _fail(result, Status.SKIPPED, "not a regular file")  # gone, as pathlib's is_file() said
    if stat_module.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))  # unlike resolve(), never raises, not even on a loop
        inside = Path(job.root).resolve() in target.parents
        return _fail(result, Status.SKIPPED, "symbolic link" + ("" if inside else " to outside the repository"))
    if not stat_module.S_ISREG(info.st_mode):
        return _fail(result, Status.SKIPPED, "not a regular file")
    if outside(os.path.dirname(job.path), job.root):
        return _fail(result, Status.SKIPPED, OUTSIDE)
    size = info.st_size
    if size > job.max_bytes:
        return _fail(result, Status.SKIPPED, f"larger than the size limit ({size} > {job.max_bytes} bytes)")
    data = path.read_bytes()
    if b"\0" in data[:_BINARY_SNIFF]:
        return _fail(result, Status.SKIPPED, "binary file (NUL byte)")
    if _GENERATED in data[:_GENERATED_SNIFF]:
        return _fail(result, Status.SKIPPED, "generated file (@generated in its header): change its generator instead")
    ctx, codemods = _selected(job, language, names, data)
    if not codemods:
        result.notes = ctx.notes
        return result
    if cache is None or language.name in UNCACHED_LANGUAGES:
        return _analyse(job, language, codemods, ctx, data, result)
    key = job_key(job, language.name, names, data)
    entry = cache.get(key)
    if entry is not None and _trusted(entry, cache, job, language, codemods, ctx, data):
        return _from_entry(result, entry, data)
    result = _analyse(job, language, codemods, ctx, data, result)
    if result.status is not Status.ERROR:
        cache.put(key, _to_entry(result))
    return result


def _selected(job: FileJob, language: Language, names: tuple[str, ...], data: bytes) -> tuple[FileContext, list[Codemod]]:
    """The codemods that run on the file, in order, and its context: whether it is Lambda code is decided
    here, once, before any codemod runs; a file that is not gets one note (LR901) and no codemod."""
    codemods_here = _codemods_for(names, language.name)
    marked = _markers(names, language.name).found(data)
    wanting = [
        codemod for index, codemod in enumerate(codemods_here)
        if (index in marked if type(codemod).wants is Codemod.wants else codemod.wants(data))
        or (language.name == "python" and job.options.mentioned_in(data))
    ]
    lambda_code = decide(job.display, data, job.entry_points, language.name) if wanting else None
    ctx = FileContext(job.display, job.entry_points, location=job.path, options=job.options, project=job.project,
                      traits=job.traits, lambda_code=lambda_code)
    codemods = []
    for codemod in wanting:
        ctx.codemod = codemod.NAME
        assert lambda_code is not None  # decided above for a file any codemod wants
        reads = lambda_code.is_lambda or (lambda_code.test and getattr(codemod, "READS_TESTS", False))
        reason = codemod.declines(data, ctx) if reads else lambda_code.why
        if reason is None:
            codemods.append(codemod)
        elif not any(note.message == reason for note in ctx.notes):
            ctx.note(1, reason)
    ctx.running = frozenset(codemod.NAME for codemod in codemods)
    return ctx, codemods


def _trusted(
    entry: Entry, cache: ResultCache, job: FileJob, language: Language, codemods: list[Codemod], ctx: FileContext,
    data: bytes,
) -> bool:
    """Whether a stored result may stand for a fresh one. The cache only saves work: a "changed" whose code is
    shown passes the checks a fresh result passes, against the file as it is now, and ``apply`` never takes
    one at all."""
    if entry.status != Status.CHANGED.value:
        return True  # its key binds it to these bytes, this tool and these settings
    if not cache.serves_changes or entry.after is None or entry.after == data:
        return False
    if not cache.shows_code:
        return True
    try:
        verify(job.display, data, entry.after, language, _rerun(job, language, codemods, ctx))
    except Exception:  # failed verification, or a result the codemods cannot even read: worked out afresh
        return False
    return True


def _rerun(job: FileJob, language: Language, codemods: list[Codemod], ctx: FileContext) -> Callable[[bytes, object], bytes]:
    """The second pass verification makes: the same codemods on the result, in a fresh context."""

    def rerun(text: bytes, tree) -> bytes:
        fresh = dataclasses.replace(ctx, changes=[], notes=[], lines_read=False)
        again = _run_codemods(language.parse(text) if tree is None else tree, codemods, fresh)
        return language.render(again)

    return rerun


def _to_entry(result: FileResult) -> Entry:
    return Entry(
        result.status.value,
        [(c.codemod, c.line, c.message) for c in result.changes],
        [(n.codemod, n.line, n.message) for n in result.notes],
        result.reason,
        result.after if result.status is Status.CHANGED else None,
    )


def _from_entry(result: FileResult, entry: Entry, data: bytes) -> FileResult:
    result.status, result.reason = Status(entry.status), entry.reason
    result.changes = [Change(*change) for change in entry.changes]
    result.notes = [Note(*note) for note in entry.notes]
    if result.status is Status.CHANGED:
        result.before, result.after = data, entry.after
    return result


def _analyse(
    job: FileJob, language: Language, codemods: list[Codemod], ctx: FileContext, data: bytes, result: FileResult
) -> FileResult:
    """Parse once, run the codemods, verify: what the cache saves on an unchanged file."""
    refused = language.refuses(data)
    if refused is not None:
        return _fail(result, Status.SKIPPED, refused)
    try:
        tree = language.parse(data)
    except ParseFailure as failure:
        return _fail(result, Status.ERROR, f"does not parse: {failure}")
    printed = _Printed(language)
    try:
        new_tree = _run_codemods(tree, codemods, ctx, language, printed)
        # A codemod whose change a comment suppresses leaves the file alone; the others run again without it.
        new_tree, codemods, ctx = suppress.honour(data, tree, new_tree, codemods, ctx,
                                                  functools.partial(_run_codemods, language=language, printed=printed))
    except SkipFile as skip:
        return _fail(result, Status.SKIPPED, str(skip) or "skipped by a codemod")
    result.changes, result.notes = ctx.changes, ctx.notes
    if new_tree is tree or not ctx.changes:
        return result
    if printed(tree) != data:
        return _fail(result, Status.SKIPPED, "the parser does not reproduce this file byte for byte; left alone")
    after = printed(new_tree)
    if after == data:
        return result
    try:
        verify(job.display, data, after, language, _rerun(job, language, codemods, ctx))
    except OriginalDoesNotCompile as own:
        return _fail(result, Status.ERROR, f"does not parse: {own}")
    except VerificationFailed as failed:
        return _fail(result, Status.ERROR, f"verification failed, file left alone: {failed}")
    result.status, result.before, result.after = Status.CHANGED, data, after
    return result


def steps(job: FileJob, names: tuple[str, ...], result: FileResult) -> list[tuple[str, bytes]]:
    """A changed file's one-pass result cut after each codemod that changed it: (that codemod, the bytes
    then), ending at ``result.after``; for a branch with one commit per codemod whose tip is what ``diff``
    shows. Each step passes verification with the codemods up to it; one that does not folds into the
    next. A pass that does not give ``result.after`` again is one step, at the last codemod."""
    assert result.status is Status.CHANGED and result.before is not None and result.after is not None
    try:
        return _steps(job, names, result)
    except Exception:  # as process_file: a codemod's bug costs the split, not the run
        return [(_last_changer(names, result), result.after)]


def _last_changer(names: tuple[str, ...], result: FileResult) -> str:
    made = {change.codemod for change in result.changes}
    return next(impl.NAME for impl in reversed(select(names)) if impl.NAME in made)


def _steps(job: FileJob, names: tuple[str, ...], result: FileResult) -> list[tuple[str, bytes]]:
    language, before, after = language_for(job.path), result.before, result.after
    assert language is not None and before is not None and after is not None  # a changed file's
    ctx, codemods = _selected(job, language, names, before)
    tree, previous, found = language.parse(before), before, []
    if suppress.parse(before):  # the codemods a suppression stopped made no step
        run = functools.partial(_run_codemods, language=language)
        first = dataclasses.replace(ctx, changes=[], notes=list(ctx.notes))
        _, codemods, _ = suppress.honour(before, tree, run(tree, codemods, first), codemods, first, run)
    for index, codemod in enumerate(codemods):
        ctx.codemod = codemod.NAME
        tree = codemod.transform(tree, ctx)
        text = language.render(tree)
        if text == previous:
            continue
        if text != result.after:

            def rerun(again: bytes, parsed, upto=codemods[: index + 1]) -> bytes:
                fresh = dataclasses.replace(ctx, changes=[], notes=[], lines_read=False)
                return language.render(_run_codemods(language.parse(again) if parsed is None else parsed, upto, fresh))

            try:
                verify(job.display, before, text, language, rerun)
            except VerificationFailed:
                continue
        found.append((codemod.NAME, text))
        previous = text
    return found if found and found[-1][1] == after else [(_last_changer(names, result), after)]


@functools.lru_cache(maxsize=16)
def real_root(root: str) -> Path:
    return Path(root).resolve()  # every file of a run has the same root: resolve it once


def run(
    jobs: list[FileJob],
    codemod_names: tuple[str, ...],
    workers: int,
    progress: Callable[[FileResult], None] | None = None,
    cache: ResultCache | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> list[FileResult]:
    """Process every job; results come back in the order of ``jobs``.

    A file that takes longer than ``time_limit`` seconds (None: no limit) is stopped and reported as an
    error; in a worker, the worker is killed, and the others go on.

    With a ``cache``, a file whose bytes, codemods and options were seen before gets its stored result,
    and a file whose stat the stat index recorded is answered without being read or sent to a worker.
    """
    results: dict[int, FileResult] = {}
    messages: dict[str, str] = {}

    def done(index: int, result: FileResult) -> None:
        # Every result is kept to the end of the run: one that came from a worker holds its own copy of each
        # string, where the job's, and one message for all the files with the same note, will do.
        job = jobs[index]
        if result.path == job.display:
            result.path = job.display
        if result.abspath == job.path:
            result.abspath = job.path
        result.language = sys.intern(result.language)
        result.notes = [note if note.message is messages.setdefault(note.message, note.message)
                        else dataclasses.replace(note, message=messages[note.message]) for note in result.notes]
        results[index] = result
        if progress is not None:
            progress(result)

    pending = list(range(len(jobs)))
    lookup = None
    real_folder.cache_clear()  # a folder may have become a link since the last run of this process
    if cache is not None:
        tool_fingerprint()  # once, before the pool forks, not once per worker
        from rewriter.stat_lookup import StatLookup  # it builds this module's results: imported once this one is

        lookup = StatLookup(cache, codemod_names)
        pending = []
        for index, job in enumerate(jobs):
            answer = lookup.answer(job)
            if answer is None:
                pending.append(index)
            else:
                done(index, answer)
    if workers <= 1 or len(pending) < 4 or _cheaper_here(jobs, pending):
        for index in pending:
            done(index, _here(jobs[index], codemod_names, cache, time_limit))
    else:
        pool.run(
            [jobs[index] for index in pending],
            functools.partial(_work, names=codemod_names, cache=cache),
            workers,
            max(1, min(_CHUNK, len(pending) // (workers * 8))),
            time_limit,
            lambda position, result: done(pending[position], result),
            lambda position, reason: done(pending[position], _lost(jobs[pending[position]], reason)),
        )
    # One compiler run per tsconfig, not per file: after every file, and before the stat index records them.
    typecheck.verify(jobs, [results[i] for i in range(len(jobs))])
    if cache is not None and lookup is not None:
        lookup.record(jobs, results)
        cache.trim()
    return [results[i] for i in range(len(jobs))]


def _cheaper_here(jobs: list[FileJob], pending: list[int]) -> bool:
    """Only a few manifests left (the files the stat index cannot answer, as they read their neighbours):
    no parse, a few milliseconds each, less than starting a pool."""
    if len(pending) > _FEW_MANIFESTS:
        return False
    for index in pending:
        language = language_for(jobs[index].path)
        if language is None or language.name not in UNCACHED_LANGUAGES:
            return False
    return True


_FEW_MANIFESTS = 200


OUTSIDE = "reached through a symbolic link to outside the repository"


def outside(folder: str, root: str) -> bool:
    """Whether the files of ``folder``, below ``root`` by name, are really outside it: a folder on the way is a
    link. False for a folder named outside the root (another repository on the command line)."""
    if folder != root and not folder.startswith(root.rstrip(os.sep) + os.sep):
        return False  # named outside this root (another repository on the command line)
    real, top = real_folder(folder), str(real_root(root))
    return real != top and not real.startswith(top.rstrip(os.sep) + os.sep)


@functools.lru_cache(maxsize=16384)
def real_folder(folder: str) -> str:
    """``os.path.realpath`` of a folder, one ``lstat`` per folder: its parent's is known already."""
    parent = os.path.dirname(folder)
    if parent == folder or os.path.islink(folder):
        return os.path.realpath(folder)
    return os.path.join(real_folder(parent), os.path.basename(folder))


# Files go to the workers in chunks of up to this many: one file per message costs about as much CPU in
# passing jobs between processes as reading and prefiltering a file that is not Lambda code.
_CHUNK = 32


def _work(job: FileJob, names: tuple[str, ...], cache: ResultCache | None) -> FileResult:
    return process_file(job, names, cache)  # looked up at each call: tests plant crashes in it


class _TimeLimit(BaseException):
    """Raised by SIGALRM in a file processed in this process; never caught by a codemod's ``except Exception``."""


def _here(job: FileJob, names: tuple[str, ...], cache: ResultCache | None, time_limit: float | None) -> FileResult:
    """One file in this process. Without a worker to kill, the limit stops the file at its next Python
    instruction (SIGALRM), where the main thread is free to take the signal."""
    if (
        not time_limit
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, None)
        or signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0)
    ):
        return process_file(job, names, cache)  # the alarm is someone else's (a test timeout, the embedding program)

    def stop(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, time_limit)
        try:
            return process_file(job, names, cache)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TimeLimit:
        return _lost(job, pool.timed_out(time_limit))
    finally:
        signal.signal(signal.SIGALRM, previous)


def _lost(job: FileJob, reason: str) -> FileResult:
    language = language_for(job.path)
    return FileResult(job.display, language.name if language else "unknown", Status.ERROR, reason=reason,
                      abspath=job.path)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
