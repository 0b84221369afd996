"""Results of files already analysed, so that an unchanged file is not parsed again on the next run.

An entry is keyed by a digest of the file's bytes, the tool (its version and the digest of its own source,
so that an edited codemod never serves an old result), the Python and parser versions, the codemods asked
for, the language, and every field of the job except where the file is. Only what the engine computed
from those inputs alone is stored: never an error (a parse failure or a failed verification is worked
out again and reported each time), never a language whose codemods read other files (manifests).

Where: ``$LAMBDA_REWRITER_CACHE_DIR``, else ``$XDG_CACHE_HOME/lambda-rewriter``, else
``~/.cache/lambda-rewriter``; entries live in a subfolder named after the entry format (``v1/``), one file
each, written to a temporary file then moved into place. An entry that is corrupt, truncated, from
another format or unreadable is a miss, never an error; a cache folder that cannot be written is used
read-only or not at all. After each run the least recently used entries go once the folder holds more
than ``max_bytes`` (100 MB unless ``$LAMBDA_REWRITER_CACHE_MAX_MB`` says otherwise). Removing the folder
is always safe.

The stat index (``StatIndex``, used by ``engine.run`` in the parent process) goes one step further: per
repository root and settings (tool, codemods, every job field but the place and the entry points), the
(size, mtime_ns, ctime_ns, inode, device) each file had when a run read it, with its entry points and
its result. A file whose stat and entry points match is answered without being read or sent to a worker;
a changed file's record holds only the key of its content-keyed entry, which the engine checks against
the file's bytes (read again: the rewrite needs them). A file whose mtime or ctime is within two seconds
of the run's start is never recorded (git's racily clean entries), nor an error. ``--no-cache``: neither.
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import functools
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = "v1"
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# Languages whose results depend on more than the file's own bytes: a manifest's codemods read the sources
# next to it.
UNCACHED_LANGUAGES = frozenset({"manifest"})
_PACKAGES = ("rewriter", "codemods")


def default_dir() -> Path:
    explicit = os.environ.get("LAMBDA_REWRITER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "lambda-rewriter"


def _max_bytes_from_env() -> int:
    try:
        return int(float(os.environ["LAMBDA_REWRITER_CACHE_MAX_MB"]) * 1024 * 1024)
    except (KeyError, ValueError):
        return DEFAULT_MAX_BYTES


@functools.cache
def tool_fingerprint() -> str:
    """The tool's version, the digest of its own source files, and the versions of what parses for it."""
    from importlib import metadata

    from rewriter import __version__

    digest = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    for name in ("libcst", "tree-sitter", "tree-sitter-javascript", "tree-sitter-typescript", "tree-sitter-java"):
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    top = Path(__file__).resolve().parent.parent
    for package in _PACKAGES:
        for path in sorted((top / package).rglob("*.py")):
            digest.update(path.relative_to(top).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _canonical(value: Any) -> Any:
    """A form of ``value`` whose JSON is the same in every process (sets have no stable order)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, enum.Enum):
        return [type(value).__name__, _canonical(value.value)]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))]
    if isinstance(value, dict):
        return ["dict", sorted(([_canonical(k), _canonical(v)] for k, v in value.items()),
                               key=lambda kv: json.dumps(kv, sort_keys=True))]
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return ["repr", repr(value)]


def job_key(job: Any, language: str, codemod_names: tuple[str, ...], data: bytes) -> str:
    """The key of one file's result: its bytes and everything else that decides it, but not its place."""
    where = {"path": "", "display": "", "root": ""}
    blank = dataclasses.replace(job, **{name: value for name, value in where.items() if hasattr(job, name)})
    settings = json.dumps(
        [FORMAT, tool_fingerprint(), language, list(codemod_names), _canonical(blank)], sort_keys=True
    ).encode()
    digest = hashlib.sha256(settings)
    digest.update(b"\0")
    digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class Entry:
    status: str
    changes: list[tuple[str, int, str]]
    notes: list[tuple[str, int, str]]
    reason: str
    after: bytes | None


@dataclasses.dataclass
class ResultCache:
    """One cache folder. Picklable, so that pool workers read and write it themselves."""

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    writable: bool = True

    @classmethod
    def default(cls) -> ResultCache:
        return cls(default_dir(), _max_bytes_from_env())

    @property
    def folder(self) -> Path:
        return self.root / FORMAT

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> Entry | None:
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        entry = _decode(raw, key)
        if entry is not None:
            try:
                os.utime(path)  # recently used: kept longest when the folder is trimmed
            except OSError:
                pass
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if not self.writable:
            return
        if not _replace(self._path(key), _encode(key, entry)):
            self.writable = False  # read-only or full: stop trying for the rest of this process

    def trim(self) -> int:
        """Remove the least recently used entries beyond ``max_bytes``; returns how many went."""
        found = []
        try:
            shards = list(os.scandir(self.folder))
        except OSError:
            return 0
        for shard in shards:
            try:
                for item in os.scandir(shard.path):
                    stat = item.stat(follow_symlinks=False)
                    found.append((stat.st_mtime_ns, stat.st_size, item.path))
            except OSError:
                continue
        total = sum(size for _, size, _ in found)
        removed = 0
        for _, size, path in sorted(found):
            if total <= self.max_bytes:
                break
            try:
                os.unlink(path)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


def seal(body: bytes) -> bytes:
    """``body`` behind its own digest, so that a truncated or damaged file reads as missing."""
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def unseal(raw: bytes) -> bytes | None:
    digest, _, body = raw.partition(b"\n")
    return body if hashlib.sha256(body).hexdigest().encode() == digest else None


def read_sealed_json(path: Path):
    """What ``write_sealed_json`` wrote, or None: missing, unreadable, damaged or not JSON."""
    try:
        body = unseal(path.read_bytes())
        return None if body is None else json.loads(body)
    except (OSError, ValueError):
        return None


def write_sealed_json(path: Path, value) -> None:
    """A folder that cannot be written is no error: it is a cache."""
    _replace(path, seal(json.dumps(value).encode()))


def _replace(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically (temporary file + rename); False when the folder cannot take it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False


def _encode(key: str, entry: Entry) -> bytes:
    body = json.dumps({
        "key": key,
        "status": entry.status,
        "changes": entry.changes,
        "notes": entry.notes,
        "reason": entry.reason,
        "after": None if entry.after is None else base64.b64encode(entry.after).decode("ascii"),
    }).encode()
    return seal(body)


def _decode(raw: bytes, key: str) -> Entry | None:
    body = unseal(raw)
    if body is None:
        return None  # truncated or damaged
    try:
        fields = json.loads(body)
        if fields["key"] != key:
            return None
        after = fields["after"]
        return Entry(
            str(fields["status"]),
            [(str(c), int(line), str(m)) for c, line, m in fields["changes"]],
            [(str(c), int(line), str(m)) for c, line, m in fields["notes"]],
            str(fields["reason"]),
            None if after is None else base64.b64decode(after, validate=True),
        )
    except (ValueError, KeyError, TypeError):
        return None


# The stat index: which files of a repository were seen, unchanged, by an earlier run with the same settings.
INDEX_FORMAT = "index-v1"


def settings_key(job: Any, codemod_names: tuple[str, ...]) -> str:
    """Everything that decides a file's result except its bytes, its place and its entry points."""
    where = {"path": "", "display": "", "root": "", "entry_points": None}
    blank = dataclasses.replace(job, **{name: value for name, value in where.items() if hasattr(job, name)})
    settings = json.dumps(
        [FORMAT, INDEX_FORMAT, tool_fingerprint(), list(codemod_names), _canonical(blank)], sort_keys=True
    )
    return hashlib.sha256(settings.encode()).hexdigest()


def stat_key(stat: os.stat_result) -> list[int]:
    """What says a file is the one seen before, as git's index does: size, times to the nanosecond, inode."""
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]


@dataclasses.dataclass
class StatIndex:
    """The results of one repository's files under one set of settings, by path, valid while the stat matches.

    A record holds the file's ``stat_key``, its entry points, and either the whole result (``status``,
    ``changes``, ``notes``, ``reason``) or, for a changed file, the key of its content-keyed cache entry,
    which holds the rewritten bytes. One JSON file per (root, settings) under ``<cache>/index-v1/``,
    written to a temporary file then moved into place; damaged, unreadable or from another root: empty.
    """

    path: Path
    root: str
    settings: str
    files: dict[str, dict]

    @classmethod
    def load(cls, cache: ResultCache, root: str, settings: str) -> StatIndex:
        name = hashlib.sha256(f"{root}\0{settings}".encode()).hexdigest()
        path = cache.root / INDEX_FORMAT / name
        index = cls(path, root, settings, {})
        fields = read_sealed_json(path)
        if (isinstance(fields, dict) and fields.get("root") == root and fields.get("settings") == settings
                and isinstance(fields.get("files"), dict)):
            index.files = fields["files"]
        return index

    def save(self, cache: ResultCache) -> None:
        if not cache.writable:
            return
        write_sealed_json(self.path, {"root": self.root, "settings": self.settings, "files": self.files})
