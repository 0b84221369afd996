"""Command-line conventions a user brings from ruff and black: -V, --color, did-you-mean, --exclude, plurals."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import HANDLER, LIBRARY, git_init, invoke, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)
from click.testing import CliRunner

from rewriter import __version__
from rewriter.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version(flag: str) -> None:
    result = CliRunner().invoke(cli, [flag])
    assert result.exit_code == 0 and result.stdout == f"lambda-rewriter, version {__version__}\n"


def run_in(cwd: Path, args: list[str], env: dict[str, str | None]) -> str:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner(env=env).invoke(cli, args).stdout
    finally:
        os.chdir(old)


def test_check_colours_when_told_and_never_when_told_not(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    plain = {"FORCE_COLOR": None, "NO_COLOR": None, "TTY_COMPATIBLE": None}
    assert "\x1b[" not in run_in(tmp_path, ["check"], plain)  # piped: plain text
    always = run_in(tmp_path, ["check", "--color", "always"], plain)
    assert "\x1b[1mapp.py:5:5:\x1b[0m \x1b[31m\x1b[1mLR004\x1b[0m" in always
    assert "\x1b[" in run_in(tmp_path, ["--color", "always", "check"], plain)
    assert "\x1b[" in run_in(tmp_path, ["check"], {**plain, "FORCE_COLOR": "1"})
    assert "\x1b[" not in run_in(tmp_path, ["check"], {**plain, "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[" not in run_in(tmp_path, ["check", "--color", "never"], {**plain, "FORCE_COLOR": "1"})
    assert "\x1b[" in run_in(tmp_path, ["check", "--color", "always"], {**plain, "NO_COLOR": "1"})


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_check_is_coloured_on_a_terminal(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = str(ROOT)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "rewriter.cli", "check", "--no-cache"], cwd=tmp_path,
                               stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    out = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    process.wait(60)
    os.close(leader)
    assert process.returncode == 1
    assert b"\x1b[31m\x1b[1mLR004" in out


def test_an_unknown_codemod_names_the_nearest_one(tmp_path: Path) -> None:
    git_init(tmp_path)
    result = invoke(["check", "-c", "hoist-client"], tmp_path)
    assert result.exit_code == 2 and "unknown codemod hoist-client (did you mean hoist-clients?)" in result.stderr
    far = invoke(["diff", "-c", "zzz"], tmp_path)
    assert far.exit_code == 2 and "known: sdk-v3, hoist-clients" in far.stderr
    batch = invoke(["batch", "-c", "reconect-guards", str(write_manifest(tmp_path))], tmp_path)
    assert batch.exit_code == 2 and "did you mean reconnect-guards?" in batch.stderr
    branch = invoke(["branch", "-c", "hoist-client"], tmp_path)
    assert branch.exit_code == 2 and "did you mean hoist-clients?" in branch.stderr
    write(tmp_path, {"lambda-rewriter.toml": 'codemods = ["lazy-import"]\n'})
    configured = invoke(["check"], tmp_path)
    assert configured.exit_code == 2 and "did you mean lazy-imports?" in configured.stderr


def write_manifest(tmp_path: Path) -> Path:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    (tmp_path / "repos.txt").write_text("repo\n")
    return tmp_path / "repos.txt"


def test_exclude_and_extend_exclude_on_the_command_line(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"a/app.py": HANDLER, "b/app.py": HANDLER, "c/app.py": HANDLER,
                 "lambda-rewriter.toml": 'exclude = ["a/"]\n'})

    def paths(*args: str) -> list[str]:
        out = invoke(["check", *args], repo).stdout
        return sorted({line.split(":", 1)[0] for line in out.splitlines()})

    assert paths() == ["b/app.py", "c/app.py"]
    assert paths("--exclude", "b/") == ["a/app.py", "c/app.py"]  # replaces the configuration's
    assert paths("--extend-exclude", "b/") == ["c/app.py"]  # adds to it
    assert paths("--exclude", "b/", "--exclude", "c/") == ["a/app.py"]
    assert invoke(["apply", "--extend-exclude", "b/", "--extend-exclude", "c/"], repo).exit_code == 0
    assert (repo / "b/app.py").read_text() == HANDLER and (repo / "a/app.py").read_text() == HANDLER


def test_findings_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    late_first = (
        "import boto3\n\n\n"
        "def _helper():\n"
        "    global _s3\n"
        "    _s3 = boto3.client('s3')\n"
        "    return _s3\n\n\n"
        "def handler(event, context):\n"
        "    d = boto3.client('dynamodb')\n"
        "    return d, _helper()\n"
    )
    write(git_init(tmp_path), {"z.py": HANDLER, "a/b.py": late_first, "m.py": HANDLER})
    out = invoke(["check", "-v"], tmp_path).stdout.splitlines()
    keys = [(line.split(":")[0], int(line.split(":")[1])) for line in out]
    assert keys == sorted(keys) and [k[0] for k in keys][:1] == ["a/b.py"]


def test_check_ends_with_what_to_run(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/app.py": HANDLER, "src/other.py": HANDLER, "lib.py": LIBRARY})
    result = invoke(["check", "src", "-c", "hoist-clients"], tmp_path)
    assert result.stderr.splitlines()[-1] == (
        "2 files would change: run `lambda-rewriter diff -c hoist-clients src` to see the changes, "
        "`lambda-rewriter apply -c hoist-clients src` to make them"
    )
    one = invoke(["check", "src/app.py"], tmp_path).stderr.splitlines()[-1]
    assert one.startswith("1 file would change: run `lambda-rewriter diff src/app.py`")
    nothing = invoke(["check", "lib.py"], tmp_path)
    assert nothing.exit_code == 0 and "would change: run" not in nothing.stderr


def test_check_of_a_path_or_include_that_matches_no_file_is_a_usage_error(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"src/app.py": HANDLER, "docs/index.md": "# docs\n"})
    assert invoke(["check", "src"], repo).exit_code == 1
    empty = invoke(["check", "src", "docs"], repo)
    assert empty.exit_code == 2 and "docs: no file here that lambda-rewriter reads" in empty.stderr
    write(repo, {"lambda-rewriter.toml": 'include = ["scr/"]\n'})
    typo = invoke(["check"], repo)
    assert typo.exit_code == 2 and "include 'scr/' matches no file here" in typo.stderr


def test_branch_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    for target, words in (("plain", "not a git repository"), ("nowhere", "no such folder")):
        result = invoke(["branch", target], tmp_path)
        assert result.exit_code == 2 and words in result.stderr, result.output


def test_summaries_say_one_file_and_one_hunk(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    diff = invoke(["diff", "-c", "hoist-clients"], tmp_path)
    assert "1 file, 1 hunk, " in diff.stderr
    (tmp_path / "changes.patch").write_text(diff.stdout)
    applied = invoke(["apply", "--patch", "changes.patch"], tmp_path)
    assert applied.exit_code == 0 and "patched 1 file, 1 hunk, " in applied.stderr
