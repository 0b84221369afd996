"""Unified diffs that `git apply` and `patch -p1` take unchanged, and the paths they name."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import HANDLER, LIBRARY, age, copy_samples, git_init, invoke, run, snapshot, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter.diff import summarize, unified_diff


def _git_and_patch_apply(tmp_path: Path, files: dict[str, bytes], patch: bytes) -> tuple[Path, Path]:
    """Apply ``patch`` to ``files`` with git in one repository and with patch(1) in a copy."""
    with_git = git_init(tmp_path / "git")
    write(with_git, files)
    with_patch = tmp_path / "patch"
    shutil.copytree(with_git, with_patch)
    run(["git", "apply", "--check"], with_git, patch)
    run(["patch", "-p1", "--dry-run"], with_patch, patch)
    run(["git", "apply"], with_git, patch)
    run(["patch", "-p1", "--no-backup-if-mismatch", "--quiet"], with_patch, patch)
    return with_git, with_patch


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param(b"a\nb\nc\n", b"a\nB\nc\n", id="plain"),
        pytest.param(b"a\nb", b"a\nb\nc", id="no-final-newline-both"),
        pytest.param(b"a\nb", b"a\nb\n", id="final-newline-added"),
        pytest.param(b"a\nb\n", b"a\nb", id="final-newline-removed"),
        pytest.param(b"a\r\nb\r\nc\r\n", b"a\r\nx\r\nb\r\nc\r\n", id="crlf"),
        pytest.param(b"a\r\nb\r\nc", b"x\r\na\r\nb\r\nc", id="crlf-no-final-newline"),
        pytest.param(b"a\n\x0c\nb\n", b"a\nx\n\x0c\nb\n", id="form-feed-line"),
        pytest.param(b"a = 1\x0c  # x\nb\n", b"a = 2\x0c  # x\nb\n", id="form-feed-inside-a-line"),
        pytest.param(b"s = 'a\rb'\nc\n", b"s = 'a\rb'\nd\n", id="lone-cr-inside-a-line"),
        pytest.param(b"\xef\xbb\xbfa\nb\n", b"\xef\xbb\xbfa\nx\nb\n", id="bom"),
        pytest.param(b"# coding: latin-1\nx = '\xe9'\n", b"# coding: latin-1\ny = 1\nx = '\xe9'\n", id="latin1"),
        pytest.param(b"\ta\n\t\tb\n", b"\ta\n\t\tc\n", id="tabs"),
        pytest.param(b"a\r\nb\nc\r\n", b"a\r\nb\nx\nc\r\n", id="mixed-endings"),
    ],
)
def test_unified_diff_round_trips_through_git_apply_and_patch(tmp_path: Path, before: bytes, after: bytes) -> None:
    patch = unified_diff("pkg/mod.py", before, after)
    assert patch.startswith(b"--- a/pkg/mod.py\n+++ b/pkg/mod.py\n@@ ")
    with_git, with_patch = _git_and_patch_apply(tmp_path, {"pkg/mod.py": before}, patch)
    assert (with_git / "pkg" / "mod.py").read_bytes() == after
    body = patch.split(b"\n")[2:]
    added = sum(1 for line in body if line.startswith(b"+"))
    removed = sum(1 for line in body if line.startswith(b"-"))
    assert summarize(patch) == {"files": 1, "hunks": 1, "added": added, "removed": removed}
    assert (with_patch / "pkg" / "mod.py").read_bytes() == after


def test_unified_diff_of_equal_bytes_is_empty() -> None:
    assert unified_diff("a.py", b"x\n", b"x\n") == b""


def test_summarize_counts_files_hunks_and_lines() -> None:
    patch = unified_diff("a.py", b"1\n2\n3\n", b"1\nx\n3\ny\n") + unified_diff(
        "b.py", b"".join(b"%d\n" % i for i in range(20)), b"".join(b"%d\n" % i for i in range(1, 19))
    )
    assert summarize(patch) == {"files": 2, "hunks": 3, "added": 2, "removed": 3}


def test_diff_of_the_samples_applies_from_the_repository_root(tmp_path: Path) -> None:
    repo = copy_samples(tmp_path / "repo")
    age(repo)
    before = snapshot(repo)
    result = invoke(["diff", "..", "-j", "1"], repo / "samples" / "sam-orders")
    assert result.exit_code == 0, result.output
    assert snapshot(repo) == before, "diff wrote to disk"
    patch = result.stdout_bytes
    names = [line[6:] for line in patch.decode().splitlines() if line.startswith("+++ b/")]
    assert len(names) >= 7 and all(name.startswith("samples/") for name in names), names
    assert f"{len(names)} files" in result.stderr
    # The same bytes as `apply` writes, through both tools.
    expected = tmp_path / "expected"
    shutil.copytree(repo, expected)
    assert invoke(["apply", "-j", "1"], expected).exit_code == 0
    files = {name: (repo / name).read_bytes() for name in before}
    with_git, with_patch = _git_and_patch_apply(tmp_path, files, patch)
    for name in before:
        assert (with_git / name).read_bytes() == (expected / name).read_bytes(), name
        assert (with_patch / name).read_bytes() == (expected / name).read_bytes(), name


@pytest.mark.parametrize(
    "in_repo, cwd, path, shown",
    [
        pytest.param(True, ".", ".", "app/src/fn.py", id="repo-root"),
        pytest.param(True, "app/src", ".", "app/src/fn.py", id="repo-from-subfolder"),
        pytest.param(True, ".", "app/src/fn.py", "app/src/fn.py", id="repo-file"),
        pytest.param(True, "app", "src", "app/src/fn.py", id="repo-subfolder-path"),
        pytest.param(False, ".", ".", "app/src/fn.py", id="no-repo-cwd"),
        pytest.param(False, ".", "app", "src/fn.py", id="no-repo-path"),
        pytest.param(False, "app/src", ".", "fn.py", id="no-repo-from-inside"),
        pytest.param(False, ".", "app/src/fn.py", "fn.py", id="no-repo-file"),
    ],
)
def test_diff_paths_are_relative_to_the_repository_root_or_path(
    tmp_path: Path, in_repo: bool, cwd: str, path: str, shown: str
) -> None:
    top = tmp_path / "top"
    git_init(top) if in_repo else top.mkdir()
    write(top, {"app/src/fn.py": HANDLER, "app/src/lib.py": LIBRARY})
    result = invoke(["diff", path], top / cwd)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"--- a/{shown}\n+++ b/{shown}\n")
    # From the folder the paths are relative to, the patch applies.
    base = top / cwd / path if not in_repo else top
    base = base.parent if base.is_file() else base
    run(["git", "apply", "--check"], base, result.stdout_bytes)
    run(["patch", "-p1", "--dry-run"], base, result.stdout_bytes)


def test_several_paths_outside_a_repository_are_shown_from_their_common_folder(tmp_path: Path) -> None:
    write(tmp_path, {"one/fn.py": HANDLER, "two/deep/fn.py": HANDLER})
    result = invoke(["diff", "one", "two/deep/fn.py"], tmp_path)
    assert result.exit_code == 0, result.output
    names = [line for line in result.stdout.splitlines() if line.startswith(("--- ", "+++ "))]
    assert names == ["--- a/one/fn.py", "+++ b/one/fn.py", "--- a/two/deep/fn.py", "+++ b/two/deep/fn.py"]
    run(["git", "apply", "--check"], tmp_path, result.stdout_bytes)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("my dir/app.py", id="space"),
        pytest.param("a\tb.py", id="tab"),
        pytest.param("caf\u00e9/app.py", id="non-ascii"),
        pytest.param('q"x.py', id="double-quote"),
        pytest.param("back\\slash.py", id="backslash"),
    ],
)
def test_names_git_quotes_apply_with_git_and_patch(tmp_path: Path, name: str) -> None:
    patch = unified_diff(name, b"a\nb\n", b"a\nc\n")
    with_git, with_patch = _git_and_patch_apply(tmp_path, {name: b"a\nb\n"}, patch)
    assert (with_git / name).read_bytes() == (with_patch / name).read_bytes() == b"a\nc\n"
    assert summarize(patch) == {"files": 1, "hunks": 1, "added": 1, "removed": 1}


def test_diff_of_a_folder_with_a_space_applies(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"my functions/app.py": HANDLER})
    result = invoke(["diff"], repo)
    assert result.exit_code == 0
    assert result.stdout.startswith("--- a/my functions/app.py\t\n+++ b/my functions/app.py\t\n")
    with_git, with_patch = _git_and_patch_apply(tmp_path, {"my functions/app.py": HANDLER.encode()}, result.stdout_bytes)
    assert (with_git / "my functions/app.py").read_bytes() == (with_patch / "my functions/app.py").read_bytes()
    assert (with_git / "my functions/app.py").read_bytes() != HANDLER.encode()


@pytest.mark.parametrize(
    "before, after, expected",
    [
        pytest.param(b"a\nb\nc\n", b"a\nb\nc\n", {1: 1, 2: 2, 3: 3}, id="same"),
        pytest.param(b"a\nb\nc\n", b"x\ny\na\nb\nc\n", {1: 1, 2: 1, 3: 1, 4: 2, 5: 3}, id="inserted-above"),
        pytest.param(b"a\nb\nc\n", b"a\nc\n", {1: 1, 2: 3}, id="removed"),
        pytest.param(b"a\nb\n", b"a\nb\nz\n", {1: 1, 2: 2, 3: 2}, id="appended"),
        pytest.param(b"a\nb\nc\n", b"a\nB\nc\n", {1: 1, 2: 2, 3: 3}, id="replaced"),
    ],
)
def test_line_map_points_each_line_at_where_it_came_from(before: bytes, after: bytes, expected: dict) -> None:
    from rewriter.diff import line_map

    assert line_map(before, after) == expected
