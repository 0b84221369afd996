"""Putting results on disk: atomically, keeping mode, owner and extended attributes; never through a symlink,
into a read-only file, over a file that changed since it was read, or apart from the file's other hard links.

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
import errno
import fcntl
import os
import re
import stat
import tempfile
import time
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


class Changed(OSError):
    """The file is no longer what the run read: someone (an editor, another run) wrote it meanwhile."""


# How long a write waits for another lambda-rewriter process that holds the same file (it holds it for
# the few milliseconds of one write, unless it is stopped in a debugger).
LOCK_WAIT = 10.0


def write_atomic(path: Path, data: bytes, expected: bytes | None = None) -> None:
    """Write via a temporary file in the same folder, then ``os.replace``: readers never see half a file.

    With ``expected``, the file must still hold exactly those bytes: they are compared under an advisory
    lock on the file (``flock``, which other lambda-rewriter processes take too, so that two runs write
    one after the other and the second sees the first's change), and the file's stat is compared again
    right before the rename, so that a save by an editor meanwhile is not overwritten. Either way the
    file is left alone and ``Changed`` raised.
    """
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link; not written")
    with _locked(path) as (fd, st):
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path} is not a regular file; not written")
        # A rename would replace a file its mode or owner protects (a Perforce checkout, someone else's file in a
        # shared folder): a file this process may not write in place is not written at all.
        if not st.st_mode & 0o222 or not os.access(path, os.W_OK):
            raise OSError(f"{path} is read-only; not written")
        # A rename gives the path a new inode: the file's other names would keep the old bytes.
        if st.st_nlink > 1:
            raise OSError(f"{path} has {st.st_nlink} hard links, which a rewrite would split; not written "
                          "(copy it to break the link, or edit it by hand)")
        if expected is not None and _read_all(fd) != expected:
            raise Changed(f"{path} changed while it was being rewritten; run again")
        if str(path.parent) not in _swept:  # once per folder and process: a folder may hold many files
            remove_stale_temps(path.parent)
            _swept.add(str(path.parent))
        temp_fd, temp = tempfile.mkstemp(
            dir=path.parent, prefix=f"{temp_prefix(path)}{os.getpid()}-", suffix=TEMP_SUFFIX
        )
        try:
            with os.fdopen(temp_fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
                _keep_xattrs(fd, handle.fileno(), path)
            _keep_owner(temp, st)
            os.chmod(temp, stat.S_IMODE(st.st_mode))  # after chown, which clears set-user-ID
            if expected is not None and _identity(os.lstat(path)) != _identity(st):
                raise Changed(f"{path} changed while it was being rewritten; run again")
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
    _sync_folder(path.parent)


@contextlib.contextmanager
def _locked(path: Path):
    """The file open, under an exclusive ``flock``, with its stat; the lock is on the inode the path names."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        # O_NONBLOCK: a FIFO put where the file was must not hang the run (it is refused below, not read).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OSError(f"{path} is being written by another process; not written") from None
                    time.sleep(0.01)
            st = os.fstat(fd)
            try:
                now = os.lstat(path)
            except FileNotFoundError:
                raise Changed(f"{path} was removed while it was being rewritten") from None
            if (now.st_ino, now.st_dev) == (st.st_ino, st.st_dev):
                yield fd, st
                return
        finally:
            os.close(fd)  # releases the lock
        # Renamed over while this process waited (another run wrote it): lock the file the path names now.
        if time.monotonic() > deadline:
            raise OSError(f"{path} is being written by another process; not written")


def _read_all(fd: int) -> bytes:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _identity(st: os.stat_result) -> tuple[int, ...]:
    return st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _keep_xattrs(source: int, target: int, path: Path) -> None:
    """The new file gets the old one's extended attributes (ACLs, labels, user.* tags)."""
    try:
        names = os.listxattr(source)
    except OSError as error:
        if error.errno in _NO_XATTRS:
            return
        raise
    for name in names:
        value = os.getxattr(source, name)
        try:
            os.setxattr(target, name, value)
        except OSError as error:
            with contextlib.suppress(OSError):
                if os.getxattr(target, name) == value:
                    continue  # set already (an SELinux label the new file got from its folder)
            raise OSError(f"{path}: cannot keep its extended attribute {name} "
                          f"({error.strerror or error}); not written") from None


_NO_XATTRS = {errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP), errno.ENOSYS}


def stale_temps(folder: Path) -> list[Path]:
    """Temporary files in ``folder`` left by a write whose process is gone."""
    found: list[Path] = []
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
