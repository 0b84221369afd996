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
than ``max_bytes`` (100 MB unless ``$LAMBDA_REWRITER_CACHE_MAX_MB`` says otherwise), never following a
link. Removing the folder is always safe.

The seal is a plain digest: it finds damage, not forgery. What keeps a planted result out is that the
cache only saves work: a stored "changed" is verified against the file as it is now, as a fresh one is,
before it is shown (``check`` shows none: ``shows_code``), and ``apply`` works out again whatever it writes
(``serves_changes``). A stored
"unchanged" is trusted as far as its key binds it to the bytes, the tool and the settings, so the folder
must be this user's alone: one another user owns or may write to is refused (``refusal``), as is an
entry that is a link or someone else's file, and the run goes on without the cache.

The stat index (``StatIndex``, used by ``engine.run`` in the parent process) goes one step further: per
repository root and settings (tool, codemods, every job field but the place and the entry points), the
(size, mtime_ns, ctime_ns, inode, device) each file had when a run read it, with its entry points and
its result. A file whose stat and entry points match is answered without being read or sent to a worker,
unless its result is a rewrite: that file goes to a worker, which finds its content-keyed entry and
verifies it before it is served where its code is shown. A file whose mtime or ctime is within two seconds
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
import re
import sys
import tempfile
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
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
    from codemods._registry import external_tools

    digest.update(external_tools().encode())  # a codemod that wraps another program: its presence and version
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
    #: False for ``apply``: a cached "changed" is then worked out again, so that what is written never comes
    #: from the cache (a verified result can still be code nobody asked for).
    serves_changes: bool = True
    #: False for ``check``: it reports a file's status and findings, never its rewritten code. A cached
    #: "changed" then stands as a cached "unchanged" does, on its key alone: verifying code that is not shown
    #: proves nothing about what is (the findings are the entry's either way).
    shows_code: bool = True

    @classmethod
    def default(cls) -> ResultCache:
        return cls(default_dir(), _max_bytes_from_env())

    @property
    def folder(self) -> Path:
        return self.root / FORMAT

    def refusal(self) -> str | None:
        """Why this folder must not be used (someone else could plant results in it), or None.

        Creates the folder, and the parents it needs, for this user alone (0700).
        """
        return unsafe_folder(self.root, (FORMAT, INDEX_FORMAT, "templates-v1"))

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> Entry | None:
        path = self._path(key)
        raw = _read_own(path)
        if raw is None:
            return None
        entry = _decode(raw, key)
        if entry is not None:
            try:
                os.utime(path, follow_symlinks=False)  # recently used: kept longest when the folder is trimmed
            except OSError:
                pass
        return entry

    def put(self, key: str, entry: Entry) -> None:
        if not self.writable:
            return
        if not _replace(self._path(key), _encode(key, entry)):
            self.writable = False  # read-only or full: stop trying for the rest of this process

    def trim(self) -> int:
        """Remove the least recently used entries beyond ``max_bytes``; returns how many went.

        Never through a symbolic link: every folder is opened relative to its parent with ``O_NOFOLLOW``,
        and only regular files this user owns, named as entries are, are counted and removed.
        """
        found = []
        shards: list[int] = []
        try:
            top = _open_folder(str(self.folder))
        except OSError:
            return 0
        try:
            for shard in _listing(top):
                if not _SHARD.fullmatch(shard):
                    continue
                try:
                    fd = _open_folder(shard, top)
                except OSError:
                    continue  # a link, a file, gone
                shards.append(fd)
                for name in _listing(fd):
                    if not (_ENTRY.fullmatch(name) or name.startswith(".tmp-")):
                        continue
                    try:
                        stat = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError:
                        continue
                    if S_ISREG(stat.st_mode) and stat.st_uid == os.geteuid():
                        found.append((stat.st_mtime_ns, stat.st_size, name, fd))
            total = sum(size for _, size, _, _ in found)
            removed = 0
            for _, size, name, fd in sorted(found, key=lambda item: item[:3]):
                if total <= self.max_bytes:
                    break
                try:
                    os.unlink(name, dir_fd=fd)
                except OSError:
                    continue
                total -= size
                removed += 1
            return removed
        finally:
            for fd in shards:
                os.close(fd)
            os.close(top)


_SHARD = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"[0-9a-f]{64}")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_folder(path: str, parent: int | None = None) -> int:
    return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW, dir_fd=parent)


def _listing(fd: int) -> list[str]:
    try:
        return os.listdir(fd)
    except OSError:
        return []


def _read_own(path: Path) -> bytes | None:
    """The bytes of a regular file this user owns, not reached through a final link; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    try:
        stat = os.fstat(fd)
        if not S_ISREG(stat.st_mode) or stat.st_uid != os.geteuid():
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def unsafe_folder(root: Path, below: tuple[str, ...] = ()) -> str | None:
    """Why ``root`` cannot be trusted with this user's results, or None; creates it (mode 0700) when missing.

    A folder another user owns or may write to (as may its subfolders ``below``) could hold results
    planted to make ``apply`` write their code, or ``check`` miss findings. A folder that cannot be made
    is no refusal: there is nothing in it to trust, and writes will fail quietly.
    """
    _make_private(root)
    checks = [(root, True)] + [(root / name, False) for name in below]
    for path, follow in checks:
        try:
            stat = os.stat(path, follow_symlinks=follow)  # the cache folder itself may be a link to elsewhere
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"cannot check {path}: {error.strerror or error}"
        if S_ISLNK(stat.st_mode):
            return f"{path} is a symbolic link"
        if not S_ISDIR(stat.st_mode):
            return None if follow else f"{path} is not a folder"
        if stat.st_uid != os.geteuid():
            return f"{path} belongs to another user (uid {stat.st_uid})"
        if stat.st_mode & 0o022:
            return f"others can write to {path} (mode {stat.st_mode & 0o7777:o})"
    return None


def _make_private(root: Path) -> None:
    missing = []
    for path in (root, *root.parents):
        if os.path.lexists(path):
            break
        missing.append(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue
        except OSError:
            return


def seal(body: bytes) -> bytes:
    """``body`` behind its own digest, so that a truncated or damaged file reads as missing."""
    return hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def unseal(raw: bytes) -> bytes | None:
    digest, _, body = raw.partition(b"\n")
    return body if hashlib.sha256(body).hexdigest().encode() == digest else None


def read_sealed_json(path: Path):
    """What ``write_sealed_json`` wrote, or None: missing, unreadable, damaged, not JSON, a link or not ours."""
    raw = _read_own(path)
    try:
        body = None if raw is None else unseal(raw)
        return None if body is None else json.loads(body)
    except ValueError:
        return None


def write_sealed_json(path: Path, value) -> None:
    """A folder that cannot be written is no error: it is a cache."""
    _replace(path, seal(json.dumps(value).encode()))


def _replace(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically (temporary file + rename); False when the folder cannot take it."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
    """Everything that decides a file's result except its bytes, its place, its entry points and its
    project's facts (those two vary by file: each record holds its own)."""
    where = {"path": "", "display": "", "root": "", "entry_points": None, "project": None}
    blank = dataclasses.replace(job, **{name: value for name, value in where.items() if hasattr(job, name)})
    settings = json.dumps(
        [FORMAT, INDEX_FORMAT, tool_fingerprint(), list(codemod_names), _canonical(blank)], sort_keys=True
    )
    return hashlib.sha256(settings.encode()).hexdigest()


def project_key(job: Any) -> Any:
    """A job's project facts (a JavaScript file's tsconfig settings and test mocks) as a stat index record
    holds them."""
    return _canonical(getattr(job, "project", None))


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
