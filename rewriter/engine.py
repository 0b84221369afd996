"""The pipeline for a set of files: prefilter, parse once, codemods in order, verify.

``process_file`` never raises: every file ends as changed, unchanged, skipped or error, with the
reason. Files are spread over a process pool; a worker that dies takes only its own file down.
"""
from __future__ import annotations

import dataclasses
import enum
import functools
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from codemods import Change, Codemod, FileContext, Note, SkipFile, select
from codemods._base import NO_OPTIONS, Options
from rewriter.cache import UNCACHED_LANGUAGES, Entry, ResultCache, job_key, tool_fingerprint
from rewriter.languages import Language, ParseFailure, language_for
from rewriter.verify import VerificationFailed, verify

DEFAULT_MAX_BYTES = 1_000_000
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


@dataclasses.dataclass
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
    return tuple(impl for impl in select(names) if impl.LANGUAGE == language)


def _run_codemods(tree, codemods: list[Codemod], ctx: FileContext):
    for codemod in codemods:
        ctx.codemod = codemod.NAME
        tree = codemod.transform(tree, ctx)
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
    if path.is_symlink():
        target = Path(os.path.realpath(path))  # unlike resolve(), never raises, not even on a loop
        inside = Path(job.root).resolve() in target.parents
        return _fail(result, Status.SKIPPED, "symbolic link" + ("" if inside else " to outside the repository"))
    if not path.is_file():
        return _fail(result, Status.SKIPPED, "not a regular file")
    if _through_link_to_outside(path, Path(job.root)):
        return _fail(result, Status.SKIPPED, "reached through a symbolic link to outside the repository")
    size = path.stat().st_size
    if size > job.max_bytes:
        return _fail(result, Status.SKIPPED, f"larger than the size limit ({size} > {job.max_bytes} bytes)")
    data = path.read_bytes()
    if b"\0" in data[:_BINARY_SNIFF]:
        return _fail(result, Status.SKIPPED, "binary file (NUL byte)")
    if _GENERATED in data[:_GENERATED_SNIFF]:
        return _fail(result, Status.SKIPPED, "generated file (@generated in its header): change its generator instead")
    ctx = FileContext(job.display, job.entry_points, location=job.path, options=job.options)
    codemods = []
    for codemod in _codemods_for(names, language.name):
        if not codemod.wants(data) and not (language.name == "python" and job.options.mentioned_in(data)):
            continue
        ctx.codemod = codemod.NAME
        reason = codemod.declines(data, ctx)
        if reason is None:
            codemods.append(codemod)
        elif not any(note.message == reason for note in ctx.notes):
            ctx.note(1, reason)
    if not codemods:
        result.notes = ctx.notes
        return result
    if cache is None or language.name in UNCACHED_LANGUAGES:
        return _analyse(job, language, codemods, ctx, data, result)
    key = job_key(job, language.name, names, data)
    entry = cache.get(key)
    if entry is not None:
        return _from_entry(result, entry, data)
    result = _analyse(job, language, codemods, ctx, data, result)
    if result.status is not Status.ERROR:
        cache.put(key, _to_entry(result))
    return result


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
    try:
        new_tree = _run_codemods(tree, codemods, ctx)
    except SkipFile as skip:
        return _fail(result, Status.SKIPPED, str(skip) or "skipped by a codemod")
    result.changes, result.notes = ctx.changes, ctx.notes
    if new_tree is tree or not ctx.changes:
        return result
    if language.render(tree) != data:
        return _fail(result, Status.SKIPPED, "the parser does not reproduce this file byte for byte; left alone")
    after = language.render(new_tree)
    if after == data:
        return result

    def rerun(text: bytes, tree) -> bytes:
        fresh = FileContext(job.display, job.entry_points, location=job.path, options=job.options)
        again = _run_codemods(language.parse(text) if tree is None else tree, codemods, fresh)
        return language.render(again)

    try:
        verify(job.display, data, after, language, rerun)
    except VerificationFailed as failed:
        return _fail(result, Status.ERROR, f"verification failed, file left alone: {failed}")
    result.status, result.before, result.after = Status.CHANGED, data, after
    return result


def _through_link_to_outside(path: Path, root: Path) -> bool:
    """A file below the root by name whose real location is not: a folder on the way is a link."""
    try:
        path.relative_to(root)
    except ValueError:
        return False  # named outside this root (another repository on the command line)
    return _real_root(str(root)) not in path.resolve().parents


@functools.lru_cache(maxsize=16)
def _real_root(root: str) -> Path:
    return Path(root).resolve()  # every file of a run has the same root: resolve it once


def run(
    jobs: list[FileJob],
    codemod_names: tuple[str, ...],
    workers: int,
    progress: Callable[[FileResult], None] | None = None,
    cache: ResultCache | None = None,
) -> list[FileResult]:
    """Process every job; results come back in the order of ``jobs``.

    With a ``cache``, a file whose bytes, codemods and options were seen before gets its stored result.
    """
    results: dict[int, FileResult] = {}

    def done(index: int, result: FileResult) -> None:
        results[index] = result
        if progress is not None:
            progress(result)

    if cache is not None:
        tool_fingerprint()  # once, before the pool forks, not once per worker
    if workers <= 1 or len(jobs) < 4:
        for index, job in enumerate(jobs):
            done(index, process_file(job, codemod_names, cache))
    else:
        pending = list(range(len(jobs)))
        size = min(_CHUNK, len(jobs) // (workers * 8))
        if size > 1:
            pending = _run_chunks(jobs, pending, codemod_names, workers, done, cache, size)
        while pending:
            pending = _run_pool(jobs, pending, codemod_names, workers, done, cache)
    if cache is not None:
        cache.trim()
    return [results[i] for i in range(len(jobs))]


# Files go to the pool in chunks of up to this many: one file per task costs about as much CPU in
# passing jobs and results between processes as reading and prefiltering a file that is not Lambda code.
_CHUNK = 32


def _process_chunk(jobs: list[FileJob], names: tuple[str, ...], cache: ResultCache | None) -> list[FileResult]:
    return [process_file(job, names, cache) for job in jobs]


def _run_chunks(
    jobs: list[FileJob],
    indices: list[int],
    names: tuple[str, ...],
    workers: int,
    done: Callable[[int, FileResult], None],
    cache: ResultCache | None,
    size: int,
) -> list[int]:
    """Run the files in chunks; when a worker dies, return every file not finished (run then one by one)."""
    finished: set[int] = set()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = [indices[start : start + size] for start in range(0, len(indices), size)]
        futures = {pool.submit(_process_chunk, [jobs[i] for i in part], names, cache): part for part in parts}
        for future in as_completed(futures):
            try:
                results = future.result()
            except BrokenProcessPool:
                continue
            for index, result in zip(futures[future], results):
                done(index, result)
                finished.add(index)
    return [index for index in indices if index not in finished]


def _run_pool(
    jobs: list[FileJob],
    indices: Iterable[int],
    names: tuple[str, ...],
    workers: int,
    done: Callable[[int, FileResult], None],
    cache: ResultCache | None = None,
) -> list[int]:
    """Run a pool; when a worker dies, return the files still pending (the dead one is reported)."""
    indices = list(indices)
    finished: set[int] = set()
    with ProcessPoolExecutor(max_workers=min(workers, len(indices))) as pool:
        futures = {pool.submit(process_file, jobs[i], names, cache): i for i in indices}
        broken: list[int] = []
        for future in as_completed(futures):
            index = futures[future]
            try:
                done(index, future.result())
                finished.add(index)
            except BrokenProcessPool:
                broken.append(index)
    if not broken:
        return []
    broken.sort(key=indices.index)
    if len(indices) == 1:
        for index in broken:
            job = jobs[index]
            language = language_for(job.path)
            done(
                index,
                FileResult(job.display, language.name if language else "unknown", Status.ERROR,
                           reason="the worker processing this file crashed", abspath=job.path),
            )
        return []
    # Files go to the workers in order, at most ``workers + 1`` ahead of the last one finished, so the
    # file that killed the pool is among the first unfinished ones: retry those alone, one pool each,
    # and hand the rest back for a new full pool.
    suspects, rest = broken[: workers + 1], broken[workers + 1 :]
    for index in suspects:
        _run_pool(jobs, [index], names, 1, done, cache)
    return rest


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
