"""V8's syntax check of a JavaScript result, many files per Node process instead of one `node --check` each.

Starting Node costs about 40 ms of CPU, and a `node --check` per rewritten file was three quarters of the tool's
time on JavaScript. One Node process per worker process (started on first use, by the process that uses it)
compiles each source as `node --check` would (node_syntax.cjs): an ES module as a module record, anything else as
the body of the CommonJS wrapper. Compiling runs nothing and reads nothing from the repository.

Only acceptance is taken from it. A source it refuses, or any trouble with the process (gone, stalled, no answer),
goes to `node --check` itself, whose message names the line: refusals are rare (a codemod's bug), and the verdict
and the message stay exactly `node --check`'s.
"""
from __future__ import annotations

import atexit
import os
import select
import subprocess
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_syntax.cjs")
# Seconds to wait for one answer: V8 compiles a 1 MB file in well under a second; past this the process is
# taken for stuck, stopped, and the file goes to `node --check` (which has its own limit).
ANSWER_TIMEOUT = 30.0
TIMEOUT = 60  # `node --check` of one file


def environment() -> dict[str, str]:
    """What a Node process of the tool runs with: no NODE_OPTIONS (`--require` of some module) from outside."""
    return {"PATH": os.environ.get("PATH", ""), "NODE_OPTIONS": ""}


class _Checker:
    """One long-lived Node process that answers, for each source sent, whether V8 compiles it."""

    def __init__(self, node: str) -> None:
        self.owner = os.getpid()  # a forked worker starts its own: the pipes are not shared
        self.process = subprocess.Popen(
            [node, "--experimental-vm-modules", "--no-warnings", SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            env=environment(),
        )

    def compiles(self, data: bytes, module: bool) -> bool | None:
        """True or False from V8; None when the process cannot answer (it is then stopped)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None  # both are pipes
        try:
            stdin.write(b"m" if module else b"c")
            stdin.write(len(data).to_bytes(4, "big"))
            stdin.write(data)
            stdin.flush()
            out = stdout.fileno()
            ready, _, _ = select.select([out], [], [], ANSWER_TIMEOUT)
            answer = os.read(out, 1) if ready else b""
        except (OSError, ValueError):
            answer = b""
        if answer not in (b"0", b"1"):
            self.stop()
            return None
        return answer == b"1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


_checker: _Checker | None = None


def _current(node: str) -> _Checker | None:
    global _checker  # noqa: PLW0603 (one checker per process, replaced when it died or the process forked)
    if _checker is None or _checker.owner != os.getpid() or _checker.process.poll() is not None:
        try:
            _checker = _Checker(node)
        except OSError:
            _checker = None
    return _checker


@atexit.register
def _close() -> None:
    if _checker is not None and _checker.owner == os.getpid():
        _checker.stop()


def check(node: str, data: bytes, module: bool) -> tuple[str, str] | None:
    """None when ``data`` is valid JavaScript for `node --check`, as an ES module when ``module`` else as a
    CommonJS file; else (line, message) of `node --check`'s error."""
    if len(data) < 2**32:
        checker = _current(node)
        if checker is not None and checker.compiles(data, module):
            return None
    return node_check(node, data, module)


def node_check(node: str, data: bytes, module: bool) -> tuple[str, str] | None:
    """`node --check` on a copy of ``data`` named `.mjs` or `.cjs`, so that no package.json decides its kind."""
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "check.mjs" if module else "check.cjs")
        with open(copy, "wb") as out:
            out.write(data)
        checked = subprocess.run([node, "--check", copy], capture_output=True, timeout=TIMEOUT, env=environment(),
                                 check=False)
    if checked.returncode == 0:
        return None
    lines = checked.stderr.decode("utf-8", "replace").splitlines()
    where = next((text.rsplit(":", 1)[-1] for text in lines[:1] if text.startswith(copy + ":")), "?")
    message = next((text for text in lines if "Error" in text), "node --check failed")
    return where, message
