"""The repository's own tests as the judge of a rewrite (``--test-command``, opt-in).

This is the one place where lambda-rewriter runs code of the repository it rewrites, and only a
command the user named: ``/bin/sh -c COMMAND`` in an exported tree, with the user's environment, no
standard input, and a timeout that ends the whole process group. Output (standard output and error
together) is read as it comes, but only its last lines are kept, with credentials hidden, for the
report. ``run`` never raises for what the command does; ``check`` refuses, before anything is
cloned or exported, a command whose program is plainly not there.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import selectors
import shlex
import shutil
import signal
import subprocess
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

DEFAULT_TIMEOUT = 600  # seconds, for each of the two runs
TAIL_LINES = 60
_LINE_CHARS = 400
_KEEP_BYTES = 64 * 1024  # of the output's end: enough for TAIL_LINES long lines, never the whole log in memory
_GRACE = 5.0  # seconds between SIGTERM and SIGKILL, so that a test runner can stop its own children
_NOT_STARTED = (126, 127)  # the shell's "found but not executable" and "not found"

# Shell words that are no program on PATH: the check leaves such commands to the shell.
_SHELL_WORDS = frozenset(
    "! { ( [ [[ . : alias bg break cd command continue eval exec exit export false fg for getopts hash if "
    "jobs kill let local printf pwd read readonly return set shift source test times trap true type ulimit "
    "umask unalias unset until wait while case select time".split()
)
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.+-]+\Z")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


class CommandError(Exception):
    """The test command cannot be run at all (a usage error: nothing was judged)."""


@dataclasses.dataclass(frozen=True)
class Result:
    """One run of the test command in one tree."""

    #: "passed" (exit 0), "failed" (any other exit) or "timed out" (ended by the tool).
    status: str
    #: The exit status; negative for a signal; None when the tool ended it.
    exit_code: int | None
    seconds: float
    #: The last lines of standard output and error, credentials hidden.
    tail: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def said(self) -> str:
        """How it ended, for a sentence: "passed", "failed (exit 1)", "timed out after 600 s"."""
        if self.status == "timed out":
            return f"timed out after {self.seconds:.0f} s"
        if self.status == "failed":
            code = self.exit_code if self.exit_code is None or self.exit_code >= 0 else f"signal {-self.exit_code}"
            return f"failed (exit {code})"
        return "passed"

    def as_json(self) -> dict:
        return {"status": self.status, "exit_code": self.exit_code, "seconds": round(self.seconds, 2),
                "tail": list(self.tail)}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The tests on the base tree and on the rewritten tree."""

    before: Result
    after: Result

    @property
    def blocks(self) -> bool:
        """Passed before, not after: the rewrite broke them, so nothing is committed or pushed."""
        return self.before.passed and not self.after.passed

    def sentence(self) -> str:
        before, after = self.before.said(), self.after.said()
        if self.blocks:
            return f"the tests passed before the rewrite and {after} after it"
        if self.before.passed:
            return "the tests passed before the rewrite and after it"
        if self.after.passed:
            return f"the tests {before} before the rewrite and passed after it"
        return (f"the tests {before} before the rewrite and {after} after it: "
                "the failure was there before, so it is not the rewrite's")

    def paragraph(self) -> str:
        """For the commit body; never the command itself (it may hold a token) nor the output."""
        text = self.sentence()
        return f"Tests (--test-command): {text[len('the tests '):]}."

    def as_json(self) -> dict:
        return {"before": self.before.as_json(), "after": self.after.as_json(), "blocks": self.blocks,
                "summary": self.sentence()}


def check(command: str, what: str = "--test-command") -> None:
    """Refuse an empty command, unbalanced quotes, and a plain program name that is not on PATH."""
    if not command.strip():
        raise CommandError(f"{what}: empty; name the command that runs the repository's tests")
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise CommandError(f"{what} {shown(command)!r}: not a shell command: {error}") from None
    while words and _ASSIGNMENT.match(words[0]):  # FOO=1 pytest
        words.pop(0)
    if not words:
        return
    program = words[0]
    # A path (./run-tests.sh) is in the exported tree, and shell syntax is the shell's: only the run can tell.
    if program in _SHELL_WORDS or not _PLAIN_WORD.match(program):
        return
    if shutil.which(program) is None:
        raise CommandError(f"{what} {shown(command)!r}: {program}: command not found on PATH")


def run(command: str, tree: Path, timeout: float = DEFAULT_TIMEOUT) -> Result:
    """Run ``command`` in ``tree``. Raises NotStarted when the shell could not start the program (exit 126 or
    127), CommandError when /bin/sh itself cannot start; whatever else the command does is in the Result."""
    env = dict(os.environ)
    # The exported tree's .git is an empty folder: git in the tests must not find a repository above the temporary one.
    env["GIT_CEILING_DIRECTORIES"] = str(tree.parent)
    started = time.monotonic()
    output = _Tail()
    process, timed_out = None, False
    try:
        with _interrupts_held():
            try:
                process = subprocess.Popen(
                    ["/bin/sh", "-c", command], cwd=tree, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            except OSError as error:
                raise CommandError(f"--test-command: cannot start /bin/sh: {error.strerror or error}") from None
        timed_out = not _read_until_exit(process, output, started + timeout)
    finally:
        if process is not None:
            _end_group(process, timed_out)
            _drain(process, output)
            code = process.wait()
    seconds = time.monotonic() - started
    tail = tuple(redact(line) for line in output.lines())
    if timed_out:
        return Result("timed out", None, timeout, tail)  # what it was given, not the wait for it to end
    if code in _NOT_STARTED:
        raise NotStarted(command, code, tail, seconds)
    return Result("passed" if code == 0 else "failed", code, seconds, tail)


class NotStarted(CommandError):
    """The shell ran but could not start the program (126: not executable, 127: not found)."""

    def __init__(self, command: str, code: int, tail: tuple[str, ...], seconds: float) -> None:
        said = tail[-1] if tail else ("not executable" if code == 126 else "not found")
        super().__init__(f"--test-command {shown(command)!r} could not start (exit {code}): {said}")
        self.result = Result("failed", code, seconds, tail)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C or SIGTERM while the shell starts waits until its pid is known: raised inside Popen, it would leave
    the command running with nobody to end its group. Caught signals are reset by exec, so the command also
    starts with both at their defaults where the caller ignores Ctrl-C (batch's pool workers): its own tests of
    Ctrl-C behave as they would in a terminal. Python handlers are the main thread's only."""
    held: list[signal.Signals] = []
    names = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {signum: signal.signal(signum, lambda got, frame: held.append(signal.Signals(got))) for signum in names}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        for signum in held:
            signal.raise_signal(signum)


def _read_until_exit(process: subprocess.Popen, output: _Tail, deadline: float) -> bool:
    """Read output until the shell exits (True) or the deadline passes (False)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        open_pipe = True
        while True:
            if _exited(process.pid):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if not open_pipe:
                time.sleep(min(remaining, 0.05))  # every writer closed the pipe; the shell is about to exit
                continue
            if selector.select(min(remaining, 0.25)):
                chunk = os.read(fd, 65536)
                if chunk:
                    output.add(chunk)
                else:
                    open_pipe = False
                    selector.unregister(fd)


def _exited(pid: int) -> bool:
    """Whether the shell has exited, leaving it a zombie: its pid, which is the group's id, cannot be reused
    before ``_end_group`` signals the group (Popen.poll would reap it, and then killpg might hit a stranger)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _end_group(process: subprocess.Popen, timed_out: bool) -> None:
    """End whatever the command left running (servers started in the background, a hung runner and its workers)."""
    if timed_out:
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + _GRACE
        while time.monotonic() < deadline and not _exited(process.pid):
            time.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _drain(process: subprocess.Popen, output: _Tail) -> None:
    """What the group wrote before it ended; a process that left the group (setsid) may keep the pipe open:
    it is not waited for."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + 2.0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while time.monotonic() < deadline and selector.select(max(0.0, deadline - time.monotonic())):
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            output.add(chunk)
    process.stdout.close()


class _Tail:
    """The last bytes of the output, bounded however much the command prints."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.cut = False

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(self.chunks[0]) >= _KEEP_BYTES:
            self.size -= len(self.chunks.popleft())
            self.cut = True

    def lines(self) -> list[str]:
        data = b"".join(self.chunks)[-_KEEP_BYTES:]
        text = data.decode("utf-8", "replace")
        lines = text.splitlines()
        if (self.cut or len(data) < self.size) and lines:
            lines[0] = "[...] " + lines[0]  # it starts in the middle
        lines = [_printable(line) for line in lines[-TAIL_LINES:]]
        return [line if len(line) <= _LINE_CHARS else line[:_LINE_CHARS] + " [...]" for line in lines]


_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _printable(line: str) -> str:
    """No terminal escapes (colours, titles, cursor moves) reach the user's terminal, the ledger or Markdown."""
    return _CONTROLS.sub("", _ESCAPES.sub("", line)).rstrip()


_URL_WITH_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@'\"<>]+@[^\s'\"<>]*")
_SECRET_NAME = re.compile(r"(?i)(token|secret|passw(or)?d|credential|private_?key|api_?key)")
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b([A-Za-z_]*(?:token|secret|passw(?:or)?d|credential|private_?key|api_?key)[A-Za-z0-9_]*)=(\S+)"
)


def redact(text: str) -> str:
    """Credentials hidden: in URLs (as the manifest shows them), in NAME=value for secret-looking names, and the
    values of the environment's secret-looking variables (a test that prints its environment)."""
    from rewriter.manifest import redact as redact_url  # manifest imports git, which imports this module

    text = _URL_WITH_USERINFO.sub(lambda m: redact_url(m.group(0)), text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group(1)}=***", text)
    for name, value in os.environ.items():
        if len(value) >= 8 and _SECRET_NAME.search(name) and value in text:
            text = text.replace(value, "***")
    return text


def shown(command: str) -> str:
    """The command as messages, the ledger and the report show it."""
    return redact(command)
