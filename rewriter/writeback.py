"""Putting results on disk: atomically, keeping the file's mode, never through a symlink."""
from __future__ import annotations

import enum
import os
import stat
import tempfile
from pathlib import Path


class WriteBack(enum.Enum):
    DIFF = "diff"
    APPLY = "apply"
    CHECK = "check"


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder, then ``os.replace``: readers never see half a file."""
    if path.is_symlink():
        raise OSError(f"{path} is a symbolic link; not written")
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".lambda-rewriter")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
