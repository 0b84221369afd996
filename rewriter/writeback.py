"""Putting results on disk: atomically, keeping mode and owner, never through a symlink nor into a read-only file.

A write goes to a hidden temporary file next to the target, ``.<name>.lambda-rewriter-<pid>-<random>.tmp``,
flushed to disk, then renamed over the target with ``os.replace``: at every moment the file holds all of
its old bytes or all of its new ones. A process killed before the rename leaves its temporary file
behind. Discovery never reads it (no code suffix), and the next write into the same folder removes the
ones whose process is gone. Removing one a live process still writes is harmless: that writer's rename
fails and the original stays.
"""
from __future__ import annotations

import contextlib
import enum
import os
import re
import stat
import tempfile
from pathlib import Path

TEMP_MARK = ".lambda-rewriter-"
TEMP_SUFFIX = ".tmp"
# The target's name is cut in the temporary one, so that a long name still fits in NAME_MAX.
_NAME_KEPT = 40
_swept: set[str] = set()
_TEMP_NAME = re.compile(r"\..*" + re.escape(TEMP_MARK) + r"(\d+)-[A-Za-z0-9_]+" + re.escape(TEMP_SUFFIX), re.DOTALL)


class WriteBack(enum.Enum):
    DIFF = "diff"
    APPLY = "apply"
    CHECK = "check"


def temp_prefix(path: Path) -> str:
    """How every temporary file for ``path`` starts, whichever process made it."""
    return f".{path.name[:_NAME_KEPT]}{TEMP_MARK}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then ``os.replace``: readers never see half a file."""
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link; not written")
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path} is not a regular file; not written")
    # A rename would replace a file its mode or owner protects (a Perforce checkout, someone else's file in a
    # shared folder): a file this process may not write in place is not written at all.
    if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise OSError(f"{path} is read-only; not written")
    if str(path.parent) not in _swept:  # once per folder and process: a folder may hold many files
        remove_stale_temps(path.parent)
        _swept.add(str(path.parent))
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f"{temp_prefix(path)}{os.getpid()}-", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(temp, st)
        os.chmod(temp, stat.S_IMODE(st.st_mode))  # after chown, which clears set-user-ID
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _sync_folder(path.parent)


def stale_temps(folder: Path) -> list[Path]:
    """Temporary files in ``folder`` left by a write whose process is gone."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match and not _alive(int(match.group(1))) and entry.is_file(follow_symlinks=False):
            found.append(Path(entry.path))
    return found


def remove_stale_temps(folder: Path) -> list[Path]:
    removed = []
    for temp in stale_temps(folder):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed.append(temp)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid() or pid <= 0:
        return True  # ours (an earlier process with the same id made it: left for a later run), or nonsense
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _keep_owner(temp: str, st: os.stat_result) -> None:
    """The new file belongs to whoever owned the old one, when this process may say so (root, or the group)."""
    mine = os.stat(temp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid):
        return
    for uid, gid in ((st.st_uid, st.st_gid), (-1, st.st_gid)):
        try:
            os.chown(temp, uid, gid)
            return
        except PermissionError:
            continue


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot sync a folder, which is not an error."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
