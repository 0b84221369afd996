"""Running the command line and git in temporary repositories, for the CLI, discovery and byte tests."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from rewriter import engine
from rewriter.cli import cli

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

# A handler with one client that always moves to module scope.
HANDLER = (
    "import boto3\n"
    "\n"
    "\n"
    "def handler(event, context):\n"
    '    s3 = boto3.client("s3")\n'
    "    return s3.list_buckets()\n"
)
# The same handler with a syntax error on line 5 (the unclosed call).
BROKEN = HANDLER.replace('boto3.client("s3")', 'boto3.client("s3"')
# A module nothing maps to a handler: a plain library function that builds a client.
LIBRARY = (
    "import boto3\n"
    "\n"
    "\n"
    "def load(bucket, key):\n"
    '    s3 = boto3.client("s3")\n'
    "    return s3.get_object(Bucket=bucket, Key=key)\n"
)

# Git must not read the user's or the machine's configuration, nor run hooks.
_GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


_PROCESS_FILE = engine.process_file  # taken at collection, before any test runs


@pytest.fixture(autouse=True)
def real_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine as shipped, even when an earlier test left a wrapper around ``process_file``.

    Import it into a test module to apply it there (benchmarks/proto_cli.py swaps the function).
    """
    monkeypatch.setattr(engine, "process_file", _PROCESS_FILE)


def run(args: list[str], cwd: Path, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **_GIT_ENV}
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, check=check, env=env)


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    run(["git", "init", "-q", "-b", "main", "."], path)
    return path


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)


def copy_samples(dest: Path) -> Path:
    """The samples in a fresh git repository at ``dest`` (samples/<app>/... below it)."""
    shutil.copytree(SAMPLES, dest / "samples")
    return git_init(dest)


def invoke(args: list[str], cwd: Path) -> Result:
    """The CLI as a user runs it from ``cwd``; stdout and stderr kept apart."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def invoke_json(args: list[str], cwd: Path) -> tuple[Result, dict]:
    result = invoke([*args, "--format", "json"], cwd)
    return result, json.loads(result.stdout)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file below ``root`` (outside .git): bytes, mtime in ns and mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        st = path.lstat()
        found[path.relative_to(root).as_posix()] = (path.read_bytes(), st.st_mtime_ns, st.st_mode)
    return found


def age(root: Path) -> None:
    """Set every file's mtime well into the past, so that a rewrite of the same second shows."""
    for path in root.rglob("*"):
        if not path.is_symlink():
            os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
