"""Terminal manners: --quiet and --verbose, NO_COLOR, paths from where the user stands, one-line errors."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import BROKEN, HANDLER, LIBRARY, git_init, invoke, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)
from click.testing import CliRunner

from rewriter.cli import cli, main

FINDING = (
    'app.py:5:5: LR004 `handler` builds `boto3.client("s3")` once, on first use, through the cached factory'
    " `get_s3_client` (not at import: boto3 resolves the region and the credentials when it builds a client)"
)


def test_quiet_prints_nothing_but_the_exit_status_tells(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    check = invoke(["check", "--quiet"], tmp_path)
    assert (check.exit_code, check.stdout, check.stderr) == (1, "", "")
    diff = invoke(["diff", "-q"], tmp_path)
    assert diff.stdout.startswith("--- a/app.py\n+++ b/app.py\n") and diff.stderr == ""
    apply = invoke(["apply", "-q"], tmp_path)
    assert (apply.exit_code, apply.stdout, apply.stderr) == (0, "", "")
    assert b"def get_s3_client():" in (tmp_path / "app.py").read_bytes().split(b"def handler")[0]


def test_quiet_still_prints_errors(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"bad.py": BROKEN})
    result = invoke(["check", "-q"], tmp_path)
    assert result.exit_code == 3
    assert result.stderr.startswith("error: bad.py: does not parse") and len(result.stderr.splitlines()) == 1
    assert "fix the syntax error" in result.stderr


def test_verbose_lists_findings_on_stderr_for_diff_and_apply(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER, "lib.py": LIBRARY})
    diff = invoke(["diff", "--verbose"], tmp_path)
    assert FINDING in diff.stderr.splitlines()
    assert any(line.startswith("lib.py:1:1: LR901 note: not Lambda code") for line in diff.stderr.splitlines())
    assert "LR004" not in diff.stdout  # stdout stays a patch
    apply = invoke(["apply", "-v"], tmp_path)
    assert FINDING in apply.stderr.splitlines()


def test_quiet_and_verbose_together_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke(["check", "-q", "-v"], tmp_path)
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "-c", "nope"], "unknown codemod nope"),
        (["check", "no/such/path"], "no/such/path"),
        (["check", "--format", "xml"], "xml"),
        (["check", "--quiet", "--verbose"], "not both"),
    ],
)
def test_a_usage_error_is_one_line_that_says_where_to_look(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, args: list[str], words: str
) -> None:
    monkeypatch.chdir(git_init(tmp_path))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and words in err and "--help`" in err


def test_colour_only_when_forced_and_never_with_no_color(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"bad.py": BROKEN})
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        forced = CliRunner(env={"FORCE_COLOR": "1", "NO_COLOR": None}).invoke(cli, ["check"])
        plain = CliRunner(env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).invoke(cli, ["check"])
        piped = CliRunner(env={"FORCE_COLOR": None, "NO_COLOR": None, "TTY_COMPATIBLE": None}).invoke(cli, ["check"])
    finally:
        os.chdir(old)
    assert "\x1b[" in forced.stderr  # the test can tell colour apart
    assert "\x1b[" not in plain.stderr and "error: bad.py" in plain.stderr
    assert "\x1b[" not in piped.stderr


def test_text_paths_are_relative_to_where_the_user_stands(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"src/app.py": HANDLER, "src/bad.py": BROKEN})
    inside = invoke(["check", "."], repo / "src")
    assert FINDING in inside.stdout.splitlines()
    assert "error: bad.py: does not parse" in inside.stderr
    # Machine-read output and diffs stay relative to the repository root, for `git apply` and code scanning.
    assert '"path": "src/app.py"' in invoke(["check", ".", "--format", "json"], repo / "src").stdout
    assert invoke(["diff", "."], repo / "src").stdout.startswith("--- a/src/app.py\n+++ b/src/app.py\n")
    # Absolute paths in: paths from the repository root out.
    absolute = invoke(["check", str(repo / "src")], tmp_path)
    assert "src/" + FINDING in absolute.stdout.splitlines()
