"""Never break code, never lose a byte (issue 8): writes killed or starved midway, file names, links, git.

The kill and full-disk tests run the write in a child process, which is killed for real (SIGKILL) or
runs out of room for real (RLIMIT_FSIZE with SIGXFSZ ignored, or a full tmpfs). The child patches
its own ``os``/``tempfile`` functions only to say "now" through a pipe and wait there: the test's
instrument, not a stand-in for the code under test.
"""
from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import (
    BROKEN,
    HANDLER,
    git_init,
    invoke,
    invoke_json,
    real_engine,  # noqa: F401  (autouse: the engine as shipped)
    run,
    snapshot,
    write,
)
from supply_chain import main as audit_main
from supply_chain import verdict

from rewriter import git as git_branch
from rewriter.diff import summarize
from rewriter.discovery import discover
from rewriter.engine import FileJob, Status, process_file
from rewriter.writeback import TEMP_SUFFIX, remove_stale_temps, stale_temps, temp_prefix, write_atomic


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # read now: fixtures set the cache folder


def _rewritten(tmp_path: Path, source: bytes, name: str = "app.py") -> bytes:
    folder = tmp_path / "expected"
    write(folder, {name: source})
    result = process_file(FileJob(str(folder / name), name, str(folder)), ())
    assert result.status is Status.CHANGED, result.reason
    shutil.rmtree(folder)
    return result.after


def _leftovers(folder: Path, keep: set[str]) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name not in keep)


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".lambda-rewriter-" in p.name]


def _killed_at_ready(args: list[str]) -> None:
    """Run a child until it prints "ready", then SIGKILL it there."""
    child = subprocess.Popen(
        [sys.executable, "-c", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_child_env(),
    )
    try:
        said = b""
        # Not a timing assertion: only a guard so that a child that never gets there fails the test, not hangs it.
        while b"\n" not in said and select.select([child.stdout], [], [], 300)[0]:
            chunk = os.read(child.stdout.fileno(), 1024)
            if not chunk:
                break
            said += chunk
        if said != b"ready\n":
            child.kill()
            child.wait()
            raise AssertionError(f"the child never got there: {said!r} {child.stderr.read().decode(errors='replace')}")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()


# --- a write killed midway -------------------------------------------------------------------------------

_WRITE_CHILD = r"""
import os, sys, tempfile
from pathlib import Path
from rewriter import writeback

target, new, point = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), sys.argv[3]


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()  # killed here
    raise SystemExit("not killed")


def stop(module, name, after=False):
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        if not after:
            ready()
        value = real(*args, **kwargs)
        ready()
        return value

    setattr(module, name, wrapper)


class Half:
    # The first half of the data goes to the temporary file, unflushed, then the process dies.
    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.handle.__exit__(*exc)

    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        ready()


if point == "created":
    stop(tempfile, "mkstemp", after=True)
elif point == "half-written":
    fdopen = os.fdopen
    os.fdopen = lambda *args, **kwargs: Half(fdopen(*args, **kwargs))
elif point == "flushed":
    stop(os, "fsync")
elif point == "synced":
    stop(os, "chmod")
elif point == "renaming":
    stop(os, "replace")
elif point == "renamed":
    stop(os, "replace", after=True)
writeback.write_atomic(target, new)
"""

# Before the rename the file holds every old byte; after it, every new one; never a mix.
_BEFORE_RENAME = ["created", "half-written", "flushed", "synced", "renaming"]


@pytest.mark.parametrize("point", [*_BEFORE_RENAME, "renamed"])
def test_a_write_killed_midway_leaves_the_old_or_the_new_file_whole(tmp_path: Path, point: str) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    target = folder / "app.py"
    old = b"".join(b"old line %d\n" % i for i in range(100_000))  # about 1.3 MB
    new = b"".join(b"new line %d\n" % i for i in range(300_000))
    target.write_bytes(old)
    target.chmod(0o755)
    (tmp_path / "new").write_bytes(new)
    rounds = 3 if point in _BEFORE_RENAME else 1
    earlier: list[Path] = []
    for _ in range(rounds):
        _killed_at_ready([_WRITE_CHILD, str(target), str(tmp_path / "new"), point])
        left = _leftovers(folder, {"app.py"})
        if point in _BEFORE_RENAME:
            assert target.read_bytes() == old
            # Only this process's temporary file: each new write removed the one its killed predecessor left.
            [temp] = left
            assert temp.name.startswith(temp_prefix(target)) and temp.name.endswith(TEMP_SUFFIX)
            assert temp not in earlier
            earlier.append(temp)
        else:
            assert target.read_bytes() == new
            assert left == []
        assert stat.S_IMODE(target.stat().st_mode) == 0o755
    # Discovery does not read the leftovers, a later write removes them, and the file gets written.
    assert discover([folder]).files == [target]
    assert sorted(stale_temps(folder)) == left
    write_atomic(target, new + b"again\n")
    assert target.read_bytes() == new + b"again\n"
    assert _leftovers(folder, {"app.py"}) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


_APPLY_CHILD = r"""
import os, sys
from rewriter import cli

stop_at, calls, real = int(sys.argv[2]), 0, os.replace


def replace(*args, **kwargs):
    global calls
    if str(args[1]).startswith(sys.argv[1]):  # a file of the tree, not a cache entry
        calls += 1
        if calls == stop_at:
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            sys.stdin.read()  # killed here, in the middle of the third file's write
            raise SystemExit("not killed")
    return real(*args, **kwargs)


os.replace = replace
raise SystemExit(cli.main(["apply", "-j", "1", sys.argv[1]]))
"""


def test_apply_killed_between_files_leaves_each_file_old_or_new_and_a_rerun_finishes(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    sources = {f"fn{i}/app.py": HANDLER.replace('"s3"', f'"s3", region_name="eu-west-{i}"').encode() for i in range(6)}
    write(repo, sources)
    expected = {name: _rewritten(tmp_path, data) for name, data in sources.items()}
    _killed_at_ready([_APPLY_CHILD, str(repo), "3"])
    now = {name: (repo / name).read_bytes() for name in sources}
    assert sorted(name for name in sources if now[name] == expected[name]) == ["fn0/app.py", "fn1/app.py"]
    assert all(now[name] == sources[name] for name in sources if name not in ("fn0/app.py", "fn1/app.py"))
    [left] = _leftovers(repo / "fn2", {"app.py"})
    assert left.name.startswith(".app.py.lambda-rewriter-")
    # The leftover is not code to the tool: `check` does not list it, and `apply` cleans it up.
    _, report = invoke_json(["check", "-j", "1"], repo)
    assert sorted(f["path"] for f in report["files"]) == sorted(sources)
    assert invoke(["apply", "-j", "1"], repo).exit_code == 0
    assert {name: (repo / name).read_bytes() for name in sources} == expected
    assert not left.exists()


def test_stale_temporary_files_of_a_live_process_or_of_other_names_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "app.py"
    target.write_bytes(b"x = 1\n")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    names = {
        f".app.py.lambda-rewriter-{gone.pid}-abc123{TEMP_SUFFIX}": False,  # its process is gone: removed
        f".app.py.lambda-rewriter-{os.getppid()}-abc123{TEMP_SUFFIX}": True,  # a live process: kept
        f".app.py.lambda-rewriter-{gone.pid}-abc123.py": True,  # not one of ours: kept
        "app.py.lambda-rewriter.tmp": True,
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    (tmp_path / f".link.py.lambda-rewriter-{gone.pid}-abc{TEMP_SUFFIX}").symlink_to(target)
    removed = remove_stale_temps(tmp_path)
    assert [p.name for p in removed] == [name for name, kept in names.items() if not kept]
    assert all((tmp_path / name).exists() == kept for name, kept in names.items())
    assert target.read_bytes() == b"x = 1\n"


def test_a_long_file_name_still_gets_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ("x" * 250 + ".py")
    target.write_bytes(b"x = 1\n")
    write_atomic(target, b"x = 2\n")
    assert target.read_bytes() == b"x = 2\n"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to someone else")
def test_a_rewritten_file_keeps_its_owner_and_group(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    os.chown(repo / "app.py", 12345, 23456)
    (repo / "app.py").chmod(0o640)
    assert invoke(["apply", "-j", "1"], repo).exit_code == 0
    st = (repo / "app.py").stat()
    assert (repo / "app.py").read_bytes() != HANDLER.encode()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (12345, 23456, 0o640)


def test_a_read_only_file_is_not_written_and_the_rest_is(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"locked.py": HANDLER, "open.py": HANDLER})
    (repo / "locked.py").chmod(0o444)
    result = invoke(["apply", "-j", "1"], repo)
    assert result.exit_code == 3
    assert "locked.py" in result.stderr and "read-only" in result.stderr
    assert (repo / "locked.py").read_bytes() == HANDLER.encode()
    assert stat.S_IMODE((repo / "locked.py").stat().st_mode) == 0o444
    assert (repo / "open.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())


def test_a_file_edited_during_the_run_is_not_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter import engine

    repo = git_init(tmp_path / "repo")
    write(repo, {"edited.py": HANDLER, "other.py": HANDLER})
    real_run = engine.run

    def run_then_someone_saves(*args, **kwargs):
        results = real_run(*args, **kwargs)
        (repo / "edited.py").write_text(HANDLER + "# saved by the editor meanwhile\n")  # a concurrent editor
        return results

    monkeypatch.setattr(engine, "run", run_then_someone_saves)
    result = invoke(["apply", "-j", "1"], repo)
    assert result.exit_code == 3 and "edited.py" in result.stderr and "changed while" in result.stderr
    assert (repo / "edited.py").read_text() == HANDLER + "# saved by the editor meanwhile\n"
    assert (repo / "other.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())


# --- lost changes: two writers at once (issue 16) ----------------------------------------------------------

_TWO_CODEMODS = HANDLER.replace("import boto3\n", "import boto3\nimport botocore\n")

_PAUSED_APPLY = r"""
import sys, tempfile
from rewriter import cli, writeback

root, codemod, where = sys.argv[1:4]


def pause():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()


if where == "holding-the-lock":  # compared under the file's lock, about to make its temporary file
    real_mkstemp = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        if str(kwargs.get("dir", "")).startswith(root):
            pause()
        return real_mkstemp(*args, **kwargs)

    tempfile.mkstemp = mkstemp
else:  # found the file locked by the other run, which holds it between its compare and its rename
    real_flock, paused = writeback.fcntl.flock, []

    def flock(fd, operation):
        try:
            return real_flock(fd, operation)
        except BlockingIOError:
            if not paused:
                paused.append(pause())
            raise

    writeback.fcntl.flock = flock
raise SystemExit(cli.main(["apply", "-j", "1", "--no-cache", "-c", codemod, root]))
"""


def _paused(args: list[str]) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", _PAUSED_APPLY, *args], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_child_env())
    # Not a timing assertion: a guard so that a child that never gets there fails the test instead of hanging it.
    if not select.select([child.stdout], [], [], 300)[0] or child.stdout.readline() != b"ready\n":
        child.kill()
        raise AssertionError(f"the child never got there: {child.communicate()[1].decode(errors='replace')}")
    return child


def _go_on(child: subprocess.Popen) -> tuple[int, str]:
    _, err = child.communicate(b"\n", timeout=300)
    return child.returncode, err.decode(errors="replace")


def test_lost_changes_two_applies_at_once_keep_one_change_and_fail_the_other(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": _TWO_CODEMODS})
    target = repo / "app.py"
    first = _paused([str(repo), "hoist-clients", "holding-the-lock"])
    # The second run read the file as the first did; without the lock it would now compare, write, and then
    # lose its change to the first run's rename.
    second = _paused([str(repo), "targeted-imports", "waiting-for-the-lock"])
    assert _go_on(first)[0] == 0
    hoisted = target.read_bytes()
    assert b"\ndef get_s3_client():\n" in hoisted and b"import botocore" in hoisted  # the first-use factory
    status, stderr = _go_on(second)
    assert status == 3, stderr
    assert "app.py" in stderr and "changed while it was being rewritten; run again" in stderr
    assert target.read_bytes() == hoisted  # the first run's change was not overwritten
    assert [p.name for p in repo.iterdir() if p.name != ".git"] == ["app.py"]
    # Run again, as the message says: both changes are there.
    assert invoke(["apply", "-j", "1", "-c", "targeted-imports"], repo).exit_code == 0
    assert b"botocore" not in target.read_bytes() and b"\ndef get_s3_client():\n" in target.read_bytes()


def test_lost_changes_two_applies_racing_over_many_files_report_only_changes_they_kept(tmp_path: Path) -> None:
    """The issue's run, free-running: which interleavings happen is up to the scheduler (the test above
    pins the one that lost changes); whichever happen, no file reported written lacks its change."""
    repo = git_init(tmp_path / "repo")
    files = {f"fn{i:02d}/app.py": _TWO_CODEMODS for i in range(60)}
    write(repo, files)
    runs = {
        codemod: subprocess.Popen([sys.executable, "-m", "rewriter.cli", "apply", "-j", "2", "--no-cache", "-c", codemod,
                                   str(repo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_child_env())
        for codemod in ("hoist-clients", "targeted-imports")
    }
    failed = {}
    for codemod, child in runs.items():
        _, err = child.communicate(timeout=600)
        assert child.returncode in (0, 3), err
        failed[codemod] = {name for name in files if f"{name}: " in err.decode(errors="replace")}
    for name in files:
        text = (repo / name).read_text()
        kept = {"hoist-clients": "\ndef get_s3_client():\n" in text, "targeted-imports": "botocore" not in text}
        for codemod in runs:
            # Reported written exactly when its change is in the file: nothing reported done was lost.
            assert kept[codemod] == (name not in failed[codemod]), (name, codemod, text)


def test_lost_changes_an_editor_save_right_before_the_rename_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rewriter import writeback

    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    saved = HANDLER + "# saved by the editor while the new bytes were being synced\n"
    real_keep_owner = writeback._keep_owner

    def editor_saves_meanwhile(temp, st):
        (repo / "app.py").write_text(saved)  # in place, as many editors write
        real_keep_owner(temp, st)

    monkeypatch.setattr(writeback, "_keep_owner", editor_saves_meanwhile)
    result = invoke(["apply", "-j", "1"], repo)
    assert result.exit_code == 3, result.output
    assert "app.py" in result.stderr and "changed while it was being rewritten" in result.stderr
    assert (repo / "app.py").read_text() == saved
    assert _temps(repo) == []


def test_lost_changes_a_file_with_hard_links_is_refused_with_a_note(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER, "other.py": HANDLER})
    os.link(repo / "app.py", tmp_path / "elsewhere.py")
    result = invoke(["apply", "-j", "1"], repo)
    assert result.exit_code == 3
    assert "app.py" in result.stderr and "2 hard links" in result.stderr and "not written" in result.stderr
    assert (repo / "app.py").read_text() == HANDLER == (tmp_path / "elsewhere.py").read_text()
    assert (repo / "app.py").stat().st_ino == (tmp_path / "elsewhere.py").stat().st_ino
    assert (repo / "other.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())


def test_lost_changes_extended_attributes_are_kept(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    try:
        os.setxattr(repo / "app.py", "user.origin", b"reviewed by legal")
    except OSError as error:
        pytest.skip(f"this file system keeps no user extended attributes: {error}")
    before = (repo / "app.py").stat().st_ino
    assert invoke(["apply", "-j", "1"], repo).exit_code == 0
    assert (repo / "app.py").stat().st_ino != before, "written by a rename"
    assert (repo / "app.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())
    assert os.getxattr(repo / "app.py", "user.origin") == b"reviewed by legal"


# --- stopping: Ctrl-C, SIGTERM, a killed parent (issue 16) -------------------------------------------------

_SLOW_APPLY = r"""
import sys, time
from rewriter import cli, engine

def an_hour_per_file(job, *args, **kwargs):
    time.sleep(3600)

engine.process_file = an_hour_per_file  # the workers are forked: they inherit it
raise SystemExit(cli.main(["apply", "-j", "2", "--no-cache", sys.argv[1]]))
"""


def _process(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None when it is gone (a zombie counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else (int(fields[1]), fields[19])


def _children(pid: int) -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            seen = _process(int(entry))
            if seen is not None and seen[0] == pid:
                found[int(entry)] = seen[1]
    return found


def _slow_apply_with_workers(repo: Path) -> tuple[subprocess.Popen, dict[int, str]]:
    """An apply -j 2 whose files each take an hour, once both of its workers run."""
    child = subprocess.Popen([sys.executable, "-c", _SLOW_APPLY, str(repo)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_child_env(), start_new_session=True)
    workers: dict[int, str] = {}
    for _ in range(3000):  # not a timing assertion: a guard, so that a child that never gets there fails
        workers = _children(child.pid)
        if len(workers) == 2 or child.poll() is not None:
            break
        select.select([], [], [], 0.1)
    assert len(workers) == 2, child.communicate()
    return child, workers


def _survivors(workers: dict[int, str]) -> list[int]:
    return [pid for pid, started in workers.items() if (_process(pid) or (0, None))[1] == started]


@pytest.fixture
def slow_repo(tmp_path: Path):
    repo = git_init(tmp_path / "repo")
    files = {f"fn{i}/app.py": HANDLER for i in range(6)}
    write(repo, files)
    before = _children(os.getpid())
    yield repo, files
    # A failed test must not leave hour-long sleepers behind: end what this test started, by pid.
    for pid in _children(os.getpid()).keys() - before.keys():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in _children(1):
        with contextlib.suppress(OSError):
            if b"an_hour_per_file" in Path(f"/proc/{pid}/cmdline").read_bytes() and str(repo).encode() in Path(
                f"/proc/{pid}/cmdline"
            ).read_bytes():
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_stopping_apply_j2_stops_now_kills_its_workers_and_writes_nothing(slow_repo, signum, status: int) -> None:
    repo, files = slow_repo
    child, workers = _slow_apply_with_workers(repo)
    if signum == signal.SIGINT:
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group, workers included
    else:
        os.kill(child.pid, signal.SIGTERM)  # to the parent alone, as a supervisor stops it
    # The files would take hours: only stopping ends the run before this guard does.
    _, err = child.communicate(timeout=60)
    assert child.returncode == status, err
    assert b"aborted" in err and b"Traceback" not in err
    assert _survivors(workers) == []
    assert {name: (repo / name).read_text() for name in files} == files
    assert [p for p in repo.rglob("*") if ".lambda-rewriter-" in p.name] == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
def test_stopping_a_killed_parent_takes_its_workers_with_it(slow_repo) -> None:
    repo, _ = slow_repo
    child, workers = _slow_apply_with_workers(repo)
    os.kill(child.pid, signal.SIGKILL)  # nothing of the parent runs: the kernel ends the workers
    child.communicate(timeout=60)
    for _ in range(600):  # a guard, not a timing assertion
        if not _survivors(workers):
            break
        select.select([], [], [], 0.1)
    assert _survivors(workers) == []


_INTERRUPTED_WRITES = r"""
import os, signal, sys
from rewriter import cli

real, calls = os.replace, []


def replace(source, target):
    if str(target).startswith(sys.argv[1]):  # a file of the tree, not a cache entry
        calls.append(target)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C as the second file is about to be renamed
    return real(source, target)


os.replace = replace
raise SystemExit(cli.main(["apply", "-j", "1", sys.argv[1]]))
"""


def test_stopping_during_the_writes_no_write_starts_after_the_signal(slow_repo, tmp_path: Path) -> None:
    repo, files = slow_repo
    done = subprocess.run([sys.executable, "-c", _INTERRUPTED_WRITES, str(repo)], capture_output=True,
                          env=_child_env(), check=False, timeout=300)
    assert done.returncode == 130, done.stderr
    now = {name: (repo / name).read_bytes() for name in files}
    written = [name for name in files if now[name] != files[name].encode()]
    assert written == ["fn0/app.py"], written
    assert now["fn0/app.py"] == _rewritten(tmp_path, HANDLER.encode())
    assert [p for p in repo.rglob("*") if ".lambda-rewriter-" in p.name] == []


# --- the disk full ---------------------------------------------------------------------------------------

_PADDED = HANDLER + "".join(f"# padding line {i:05d} to make the file large\n" for i in range(1600))  # ~70 KB

_LIMITED_CHILD = r"""
import resource, signal, sys
from rewriter import cli

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
raise SystemExit(cli.main(["apply", "-j", "1", sys.argv[1]]))
"""


def _full_disk_outcome(tmp_path: Path, root: Path, result_code: int, stderr: str, words: str, keep: set[str]) -> None:
    assert result_code == 3, stderr
    assert "big.py" in stderr and words in stderr, stderr
    assert "small.py" not in stderr
    assert (root / "big.py").read_bytes() == _PADDED.encode()
    assert (root / "small.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())
    assert sorted(p.name for p in root.iterdir()) == sorted(keep)


def test_a_write_past_the_file_size_limit_fails_cleanly_and_the_rest_is_written(tmp_path: Path) -> None:
    root = tmp_path / "fn"
    write(root, {"big.py": _PADDED, "small.py": HANDLER})
    done = subprocess.run([sys.executable, "-c", _LIMITED_CHILD, str(root), "16384"], capture_output=True,
                          env=_child_env(), check=False)
    stderr = done.stderr.decode(errors="replace")
    _full_disk_outcome(tmp_path, root, done.returncode, stderr, os.strerror(errno.EFBIG), {"big.py", "small.py"})
    assert "not written" in stderr and "1 failed" in stderr and "changed 1 file" in stderr


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KB tmpfs, when this machine lets the test mount one (root with CAP_SYS_ADMIN)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_a_full_disk_fails_the_write_cleanly_and_the_rest_is_written(tmp_path: Path, small_disk: Path) -> None:
    write(small_disk, {"big.py": _PADDED, "small.py": HANDLER})
    # Fill the disk, then free three pages: room for the small file's temporary copy, not the big one's.
    fd = os.open(small_disk / "filler.bin", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError) as full:
            while True:
                os.write(fd, b"\0" * 4096)
        assert full.value.errno == errno.ENOSPC
        os.ftruncate(fd, os.fstat(fd).st_size - 3 * 4096)
    finally:
        os.close(fd)
    result = invoke(["apply", "-j", "1"], small_disk)
    _full_disk_outcome(tmp_path, small_disk, result.exit_code, result.stderr, os.strerror(errno.ENOSPC),
                       {"big.py", "small.py", "filler.bin"})


# --- file names ------------------------------------------------------------------------------------------

NAMES = [
    pytest.param("-rf.py", id="leading-dash"),
    pytest.param("--help.py", id="option-like"),
    pytest.param("my handlers/app one.py", id="spaces"),
    pytest.param("new\nline.py", id="newline"),
    pytest.param("caf\u00e9/\u00fcber.py", id="non-ascii"),
    pytest.param("..py", id="dot-dot-name"),
    pytest.param("..hidden/app.py", id="dot-dot-folder"),
    pytest.param("a\\b\"c'.py", id="quotes-and-backslash"),
]


@pytest.mark.parametrize("name", NAMES)
def test_odd_file_names_are_rewritten_and_the_diff_applies(tmp_path: Path, name: str) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {name: HANDLER})
    expected = _rewritten(tmp_path, HANDLER.encode())
    result = invoke(["diff", "-j", "1"], repo)
    assert result.exit_code == 0, result.output
    patch = result.stdout_bytes
    # The name cannot forge a line: every line of the patch is a header, a hunk or a hunk line.
    lines = patch.split(b"\n")[:-1]
    assert all(line[:4] in (b"--- ", b"+++ ") or line[:1] in (b"@", b" ", b"+", b"-", b"\\") for line in lines), patch
    assert sum(line.startswith(b"+++ ") for line in lines) == 1
    assert summarize(patch)["files"] == 1
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    run(["git", "apply"], repo, patch)
    run(["patch", "-p1", "--no-backup-if-mismatch"], copy, patch)
    assert (repo / name).read_bytes() == (copy / name).read_bytes() == expected
    (repo / name).write_text(HANDLER)
    (repo / name).chmod(0o644)
    assert invoke(["apply", "-j", "1"], repo).exit_code == 0
    assert (repo / name).read_bytes() == expected
    assert stat.S_IMODE((repo / name).stat().st_mode) == 0o644
    assert _temps((repo / name).parent) == []


def test_branch_commits_files_with_odd_names_and_keeps_their_mode(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    names = [p.values[0] for p in NAMES]
    write(repo, dict.fromkeys(names, HANDLER))
    (repo / "-rf.py").chmod(0o755)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "base"], repo)
    before = snapshot(repo)
    result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>"], repo)
    assert result.exit_code == 0, result.output
    listing = run(["git", "ls-tree", "-r", "-z", "lambda-rewriter/all"], repo).stdout.split(b"\0")
    entries = {entry.split(b"\t", 1)[1].decode(): entry.split(b" ")[0] for entry in listing if entry}
    assert sorted(entries) == sorted(names)
    assert entries["-rf.py"] == b"100755" and entries["..py"] == b"100644"
    changed = run(["git", "diff", "-z", "--name-only", "main", "lambda-rewriter/all"], repo).stdout.split(b"\0")
    assert sorted(n.decode() for n in changed if n) == sorted(names)
    assert snapshot(repo) == before


# --- symbolic links --------------------------------------------------------------------------------------


def test_links_out_in_dangling_and_looping_are_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"theirs.py": HANDLER, "lib/app.py": HANDLER})
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    (repo / "out.py").symlink_to(outside / "theirs.py")
    (repo / "in.py").symlink_to("app.py")
    (repo / "dangling.py").symlink_to("missing.py")
    (repo / "loop1.py").symlink_to("loop2.py")
    (repo / "loop2.py").symlink_to("loop1.py")
    (repo / "outdir").symlink_to(outside / "lib")
    (repo / "self").symlink_to(".")
    before_outside = snapshot(outside)
    result = invoke(["apply", "-j", "1"], repo)
    assert "changed 1 file" in result.stderr, result.output
    assert (repo / "app.py").read_bytes() == _rewritten(tmp_path, HANDLER.encode())
    assert snapshot(outside) == before_outside
    for link, target in [("out.py", outside / "theirs.py"), ("in.py", Path("app.py")), ("dangling.py", Path("missing.py")),
                         ("loop1.py", Path("loop2.py")), ("outdir", outside / "lib"), ("self", Path("."))]:
        assert (repo / link).is_symlink() and Path(os.readlink(repo / link)) == target
    assert not (repo / "missing.py").exists()
    # Named on the command line, a link to outside is not followed either.
    result = invoke(["apply", "-j", "1", "outdir/app.py", "out.py"], repo)
    assert snapshot(outside) == before_outside


def test_a_looping_link_is_skipped_like_any_link(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    (repo / "loop1.py").symlink_to("loop2.py")
    (repo / "loop2.py").symlink_to("loop1.py")
    result, report = invoke_json(["check", "-j", "1"], repo)
    files = {f["path"]: f for f in report["files"]}
    assert files["loop1.py"]["status"] == "skipped" and "symbolic link" in files["loop1.py"]["reason"]
    assert result.exit_code == 1


# --- bytes and skips -------------------------------------------------------------------------------------


def test_a_nul_byte_past_the_binary_sniff_is_never_written(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    data = b"# padding\n" * 1000 + b"x = '\0'\n" + HANDLER.encode()
    write(repo, {"nul.py": data, "app.py": HANDLER})
    _, report = invoke_json(["check", "-j", "1"], repo)
    files = {f["path"]: f for f in report["files"]}
    assert files["nul.py"]["status"] in ("skipped", "error") and "null bytes" in files["nul.py"]["reason"]
    invoke(["apply", "-j", "1"], repo)
    assert (repo / "nul.py").read_bytes() == data
    assert (repo / "app.py").read_bytes() != HANDLER.encode()


def test_a_file_that_crashes_the_parser_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "fn"
    write(root, {"app.py": HANDLER, "deep.py": HANDLER + "x = " + "[" * 5000 + "]" * 5000 + "\n"})
    done = subprocess.run([sys.executable, "-m", "rewriter.cli", "check", "-j", "1", str(root)], capture_output=True,
                          env=_child_env(), check=False)
    assert done.returncode == 3, done.returncode
    assert b"deep.py: does not parse: line 7: too many nested parentheses" in done.stderr
    assert b"app.py" in done.stdout


def test_a_generated_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"gen.py": "# @generated by protoc; do not edit\n" + HANDLER})
    _, report = invoke_json(["check", "-j", "1"], repo)
    [entry] = report["files"]
    assert entry["status"] == "skipped" and "generated" in entry["reason"]


def test_a_newline_in_a_file_name_cannot_forge_a_line_of_the_check_report(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"x\nforged.py:1: hoist-clients: all clear.py": HANDLER, "bad\nforged-error.py": BROKEN})
    result = invoke(["check", "-j", "1"], repo)
    lines = result.stdout.splitlines() + result.stderr.splitlines()
    assert not [line for line in lines if line.startswith("forged")], lines


# --- the user's repository -------------------------------------------------------------------------------


def _git_dir_state(repo: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file under .git (refs, index, stash, config, objects): bytes, mtime and mode."""
    state = {}
    for path in sorted((repo / ".git").rglob("*")):
        if path.is_file():
            st = path.stat()
            state[path.relative_to(repo).as_posix()] = (path.read_bytes(), st.st_mtime_ns, st.st_mode)
    return state


@pytest.fixture
def hostile_repo(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with work in progress (staged, unstaged, stashed, untracked) and planted commands."""
    repo = git_init(tmp_path / "repo")
    markers = tmp_path / "markers"
    markers.mkdir()
    write(repo, {"app.py": HANDLER, "README": "readme\n", ".gitattributes": "*.py filter=evil diff=evil\n"})
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "base"], repo)
    (repo / "app.py").write_text(HANDLER + "# stashed\n")
    run(["git", "stash", "push", "-q", "-m", "wip"], repo)
    (repo / "README").write_text("staged\n")
    run(["git", "add", "README"], repo)
    (repo / "app.py").write_text(HANDLER + "# unstaged\n")
    write(repo, {"new.py": HANDLER})
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\ntouch "{markers}/$(basename "$0")-$$"\ncat\n')
    script.chmod(0o755)
    for key in ("core.fsmonitor", "filter.evil.clean", "filter.evil.smudge", "diff.evil.textconv", "core.pager",
                "core.sshCommand", "core.editor", "gpg.program"):
        run(["git", "config", key, str(script)], repo)
    run(["git", "config", "commit.gpgSign", "true"], repo)
    hooks = repo / ".git" / "hooks"
    for name in ("pre-commit", "commit-msg", "post-checkout", "post-commit", "reference-transaction", "pre-push"):
        (hooks / name).write_text(f'#!/bin/sh\ntouch "{markers}/{name}"\n')
        (hooks / name).chmod(0o755)
    return repo, markers


@pytest.mark.parametrize("command", ["diff", "check"])
def test_diff_and_check_leave_the_repository_byte_for_byte_and_run_nothing(hostile_repo, command: str) -> None:
    repo, markers = hostile_repo
    before = _git_dir_state(repo), snapshot(repo)
    result = invoke([command, "-j", "1"], repo)
    assert result.exit_code in (0, 1), result.output
    assert "app.py" in result.stdout and "new.py" in result.stdout
    assert (_git_dir_state(repo), snapshot(repo)) == before
    assert list(markers.iterdir()) == []


def test_apply_and_branch_run_nothing_from_the_repository(hostile_repo) -> None:
    repo, markers = hostile_repo
    git_before = _git_dir_state(repo)
    assert invoke(["apply", "-j", "1"], repo).exit_code == 0
    assert _git_dir_state(repo) == git_before
    result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>"], repo)
    assert result.exit_code == 0, result.output
    assert list(markers.iterdir()) == []


_BRANCH_CHILD = r"""
import sys
import git
from rewriter import cli

real = git.cmd.Git.execute


def execute(self, command, *args, **kwargs):
    if "update-ref" in command:  # every commit is made; the branch is not there yet
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.read()  # killed here
        raise SystemExit("not killed")
    return real(self, command, *args, **kwargs)


git.cmd.Git.execute = execute
raise SystemExit(cli.main(["branch", "-j", "1", "--author", "Bot <bot@example.com>", sys.argv[1]]))
"""


def test_branch_killed_before_the_ref_is_written_leaves_the_user_state_and_a_rerun_works(hostile_repo) -> None:
    repo, markers = hostile_repo

    def state():
        git_dir = repo / ".git"
        return (run(["git", "for-each-ref"], repo).stdout, (git_dir / "HEAD").read_bytes(),
                (git_dir / "index").read_bytes(), snapshot(repo))

    before = state()
    _killed_at_ready([_BRANCH_CHILD, str(repo)])
    assert state() == before
    result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>"], repo)
    assert result.exit_code == 0, result.output
    assert run(["git", "rev-parse", "--verify", "lambda-rewriter/all"], repo).returncode == 0
    assert list(markers.iterdir()) == []


# --- hostile URLs ----------------------------------------------------------------------------------------

# GitPython's own test payloads for its unsafe options and protocols (test_remote.py, test_clone.py), and
# the forms git accepts for them.
UNSAFE_URLS = [
    "--upload-pack=touch {marker}",
    "--receive-pack=touch {marker}",
    "--exec=touch {marker}",
    "-u touch {marker}",
    "-utouch {marker}",
    "--config=protocol.ext.allow=always",
    "-c protocol.ext.allow=always",
    "ext::sh -c touch% {marker}",
    "EXT::sh -c touch% {marker}",
    "ext::sh -c 'touch {marker}'",
    "fd::17/foo",
    "fd::17",
    "testtransport::{marker}",
    "foo://example.com/repo.git",
    "file::{marker}",
    "\x00ext::sh -c touch% {marker}",
    "https://example.com/repo.git\n--upload-pack=touch {marker}",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_are_refused_before_git_sees_them(tmp_path: Path, url: str) -> None:
    with pytest.raises(git_branch.BadRequest):
        git_branch.check_remote_url(url.format(marker=tmp_path / "pwned"))


@pytest.fixture
def pushable(tmp_path: Path) -> Path:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "base"], repo)
    run(["git", "init", "-q", "--bare", str(tmp_path / "remote.git")], tmp_path)
    return repo


@pytest.mark.parametrize("url", [u for u in UNSAFE_URLS if "\x00" not in u])
def test_branch_refuses_an_unsafe_push_url_given_or_configured(pushable: Path, tmp_path: Path, url: str) -> None:
    marker = tmp_path / "pwned"
    url = url.format(marker=marker)
    refs = run(["git", "for-each-ref"], pushable).stdout
    result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>", f"--push={url}"], pushable)
    assert result.exit_code == 2, result.output
    if "\n" not in url:
        run(["git", "remote", "add", "evil", "/nowhere"], pushable)
        run(["git", "config", "--", "remote.evil.pushurl", url], pushable)
        result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>", "--push", "evil"], pushable)
        assert result.exit_code == 2, result.output
    assert run(["git", "for-each-ref"], pushable).stdout == refs
    assert not marker.exists()


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(["remote.evil.url=sh -c touch% {marker}", "remote.evil.vcs=ext"], id="remote-vcs-ext"),
        pytest.param(["remote.evil.url={remote}", "url.ext::sh -c touch% {marker}.pushInsteadOf={remote}"],
                     id="push-instead-of-ext"),
        pytest.param(["remote.evil.url=ssh://-oProxyCommand=touch%20{marker}/repo.git"], id="ssh-host-as-option"),
        pytest.param(["remote.evil.url={remote}", "remote.evil.receivepack=touch {marker}; git-receive-pack"],
                     id="configured-receive-pack"),
    ],
)
def test_push_urls_that_pass_the_check_still_run_nothing(pushable: Path, tmp_path: Path, setup: list[str]) -> None:
    marker = tmp_path / "pwned"
    for entry in setup:
        key, value = entry.format(marker=marker, remote=tmp_path / "remote.git").split("=", 1)
        run(["git", "config", "--", key, value], pushable)
    result = invoke(["branch", "-j", "1", "--author", "Bot <bot@example.com>", "--push", "evil"], pushable)
    assert not marker.exists(), result.output
    if result.exit_code == 0:  # the configured command was ignored and git's own was used
        assert run(["git", "rev-parse", "lambda-rewriter/all"], tmp_path / "remote.git").returncode == 0
    else:
        assert result.exit_code in (2, 3) and run(["git", "for-each-ref", "refs/heads/lambda-rewriter"], pushable).stdout == b""


def test_the_installed_gitpython_is_at_least_the_pinned_safe_release() -> None:
    from importlib import metadata

    requires = [r for r in metadata.requires("lambda-rewriter") or [] if r.lower().startswith("gitpython")]
    assert requires == ["gitpython>=3.2.1"]
    assert tuple(int(p) for p in metadata.version("gitpython").split(".")[:3]) >= (3, 2, 1)


def test_git_runs_without_system_config_and_without_a_terminal_prompt() -> None:
    env = git_branch.safe_environment({})
    assert env.get("GIT_CONFIG_NOSYSTEM") == "1" and env.get("GIT_TERMINAL_PROMPT") == "0"


# --- supply chain ----------------------------------------------------------------------------------------

_VULNERABLE = {"name": "gitpython", "version": "3.1.29", "vulns": [{"id": "PYSEC-2022-42992", "fix_versions": ["3.1.30"]}]}
_CLEAN = {"name": "click", "version": "8.1.7", "vulns": []}
_EDITABLE = {"name": "lambda-rewriter", "version": "0.1.0", "skip_reason": "distribution marked as editable"}
_NOT_FOUND = {"name": "libcst", "version": "1.9.0", "skip_reason": "Dependency not found on PyPI and could not be audited"}


@pytest.mark.parametrize(
    "report, code, stderr, status, words",
    [
        pytest.param({"dependencies": [_VULNERABLE, _CLEAN, _EDITABLE]}, 1, "", 1,
                     "VULNERABLE: gitpython 3.1.29: PYSEC-2022-42992 (fixed in 3.1.30)", id="vulnerable"),
        pytest.param({"dependencies": [_CLEAN, _EDITABLE]}, 0, "", 0, "no known vulnerabilities in 1 packages",
                     id="clean"),
        pytest.param({"dependencies": [_CLEAN, _NOT_FOUND]}, 0, "", 0, "1 packages could not be audited: libcst",
                     id="partly-audited"),
        pytest.param({"dependencies": [_NOT_FOUND, _EDITABLE]}, 0, "", 0, "NOT audited", id="mirror-without-advisories"),
        pytest.param(None, 1, "requests.exceptions.ConnectionError: Max retries exceeded with url", 0, "NOT audited",
                     id="offline"),
        pytest.param(None, 2, "pip-audit: error: unrecognized arguments: --bogus", 2, "pip-audit failed", id="broken"),
    ],
)
def test_audit_fails_on_a_vulnerability_and_only_warns_offline(report, code: int, stderr: str, status: int,
                                                               words: str) -> None:
    got, lines = verdict(report, code, stderr)
    assert got == status
    assert any(words in line for line in lines), lines


def test_audit_runs_pip_audit_on_the_given_site_packages(tmp_path: Path, capsys) -> None:
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        f"assert args[args.index('--path') + 1] == {str(tmp_path / 'site')!r}\n"
        "open(args[args.index('--output') + 1], 'w').write(json.dumps({'dependencies': [%r], 'args': args}))\n"
        "sys.exit(1)\n" % _VULNERABLE
    )
    fake.chmod(0o755)
    assert audit_main([str(fake), str(tmp_path / "site")]) == 1
    assert "VULNERABLE: gitpython 3.1.29" in capsys.readouterr().out


def test_lost_changes_a_fifo_where_the_file_was_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "app.py"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(fifo, b"x = 1\n", expected=b"x = 0\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
