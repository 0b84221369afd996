"""The stat index of a run: files whose stat a previous run recorded are answered without being read.

Before the run, ``StatLookup.answer`` serves a file whose size, times, inode and settings are as recorded (a
rewrite is never served this way: it is verified again); after it, ``record`` stores what the run found.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import stat as stat_module
import time

from codemods import Change, Note
from rewriter.cache import UNCACHED_LANGUAGES, ResultCache, StatIndex, job_key, project_key, settings_key, stat_key
from rewriter.engine import OUTSIDE, FileJob, FileResult, Status, outside
from rewriter.languages import language_for

# A file whose mtime or ctime is this close to the start of the run (or later) is never recorded in the
# stat index: it may change again within the same clock tick, and the stat would not show it (git's
# "racily clean" entries).
RACY_NS = 2_000_000_000


class StatLookup:
    """The stat indexes of one run: answers before the run, records after it."""

    def __init__(self, cache: ResultCache, names: tuple[str, ...]) -> None:
        self.cache, self.names = cache, names
        self.start_ns = time.time_ns()
        self.indexes: dict[tuple[str, str], StatIndex] = {}
        self.settings: dict[object, str] = {}
        self.stats: dict[str, os.stat_result] = {}  # before the run, of every regular file of a cached language
        self.kept: dict[str, dict] = {}  # records that answered
        self.alive: list[FileJob] = []

    @staticmethod
    @functools.cache
    def _fields(kind: type) -> tuple[str, ...]:
        return tuple(
            f.name for f in dataclasses.fields(kind) if f.name not in ("path", "display", "root", "entry_points", "project")
        )

    def _index(self, job: FileJob) -> StatIndex:
        # The jobs of a run share their settings' objects: known by identity, the key is worked out once.
        kind: type = type(job)  # mypy takes a class whose instances are unhashable for an unhashable key
        same = (kind, *(id(getattr(job, name)) for name in self._fields(kind)))
        settings = self.settings.get(same)
        if settings is None:
            settings = self.settings[same] = settings_key(job, self.names)
            self.alive.append(job)  # the ids stay those of these objects
        index = self.indexes.get((job.root, settings))
        if index is None:
            index = self.indexes[(job.root, settings)] = StatIndex.load(self.cache, job.root, settings)
        return index

    def answer(self, job: FileJob) -> FileResult | None:
        language = language_for(job.path)
        if language is None or language.name in UNCACHED_LANGUAGES:
            return None
        try:
            stat = os.lstat(job.path)
        except OSError:
            return None
        if not stat_module.S_ISREG(stat.st_mode):
            return None
        self.stats[job.path] = stat
        if outside(os.path.dirname(job.path), job.root):
            return None
        record = self._index(job).files.get(job.path)
        if (
            record is None
            or record.get("stat") != stat_key(stat)
            or record.get("entry_points") != _entry_points(job)
            or record.get("project") != project_key(job)
        ):
            return None
        try:
            result = FileResult(job.display, language.name, Status(record["status"]), abspath=job.path)
            if result.status is Status.CHANGED:
                # A stored rewrite is verified before it is served, as a fresh one is: work for the workers,
                # which find it by its content key.
                return None
            result.reason = str(record["reason"])
            result.changes = [Change(str(c), int(line), str(m)) for c, line, m in record["changes"]]
            result.notes = [Note(str(c), int(line), str(m)) for c, line, m in record["notes"]]
        except (ValueError, KeyError, TypeError):
            return None
        self.kept[job.path] = record
        return result

    def record(self, jobs: list[FileJob], results: dict[int, FileResult]) -> None:
        fresh: dict[int, dict[str, dict | None]] = {}  # by id() of the index
        for index, job in enumerate(jobs):
            stat = self.stats.get(job.path)
            if stat is None:
                continue
            store = self._index(job)
            changes = fresh.setdefault(id(store), {})
            kept = self.kept.get(job.path)
            if kept is not None:
                changes[job.path] = kept
                continue
            result = results.get(index)
            made = None if result is None else self._record(job, stat, result)
            changes[job.path] = made
        for store in self.indexes.values():
            changes = fresh.get(id(store), {})
            before = dict(store.files)
            for path, made in changes.items():
                if made is None:
                    store.files.pop(path, None)
                else:
                    store.files[path] = made
            if store.files != before:
                store.save(self.cache)

    def _record(self, job: FileJob, stat: os.stat_result, result: FileResult) -> dict | None:
        if result.status is Status.ERROR or result.reason == OUTSIDE:
            return None
        if max(stat.st_mtime_ns, stat.st_ctime_ns) >= self.start_ns - RACY_NS:
            return None
        try:
            if stat_key(os.lstat(job.path)) != stat_key(stat):
                return None  # changed while the run read it
        except OSError:
            return None
        made: dict = {
            "stat": stat_key(stat),
            "entry_points": _entry_points(job),
            "project": project_key(job),
            "status": result.status.value,
        }
        if result.status is Status.CHANGED:
            if result.before is None:
                return None
            made["key"] = job_key(job, result.language, self.names, result.before)
        else:
            made["reason"] = result.reason
            made["changes"] = [[c.codemod, c.line, c.message] for c in result.changes]
            made["notes"] = [[n.codemod, n.line, n.message] for n in result.notes]
        return made


def _entry_points(job: FileJob) -> list[str] | None:
    return None if job.entry_points is None else sorted(job.entry_points)
