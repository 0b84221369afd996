"""The review flow: `diff --output` to a file, a reviewer cuts hunks or files, `apply --patch` applies the rest."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_support import HANDLER, copy_samples, git_init, invoke, run, snapshot, write

from rewriter import patch as patching
from rewriter.diff import summarize, unified_diff

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_INPUTS = sorted(FIXTURES.glob("*/*.in.*"))

TWO_CLIENTS = (
    "import boto3\n"
    "\n"
    "\n"
    "def handler(event, context):\n"
    '    s3 = boto3.client("s3")\n'
    "    s3.list_buckets()\n"
    + "".join(f"    step_{i} = {i}\n" for i in range(12))
    + '    sqs = boto3.client("sqs")\n'
    "    return sqs.list_queues()\n"
)


def _diff_to_file(repo: Path, *args: str) -> bytes:
    result = invoke(["diff", "--output", "changes.patch", *args], repo)
    assert result.exit_code == 0, result.output
    return (repo / "changes.patch").read_bytes()


def _hunks(data: bytes) -> list[tuple[int, int]]:
    """(start, end) byte offsets of each hunk, header included."""
    starts = [m.start() for m in re.finditer(rb"^@@ ", data, re.MULTILINE)]
    ends = []
    for start in starts:
        nxt = re.compile(rb"^(@@ |--- )", re.MULTILINE).search(data, start + 1)
        ends.append(nxt.start() if nxt else len(data))
    return list(zip(starts, ends))


def _committed(repo: Path) -> Path:
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "base"], repo)
    return repo


def _git_apply_copy(tmp_path: Path, repo: Path, data: bytes) -> Path:
    """The reference: the same patch applied by git to a copy of the repository."""
    copy = tmp_path / "reference"
    shutil.copytree(repo, copy, symlinks=True)
    run(["git", "apply"], copy, data)
    return copy


def test_samples_patch_applies_with_git_and_patch_and_reads_back(tmp_path: Path) -> None:
    repo = _committed(copy_samples(tmp_path / "repo"))
    data = _diff_to_file(repo)
    assert data.count(b"\n--- a/") + data.startswith(b"--- a/") >= 5
    run(["git", "apply", "--check"], repo, data)
    run(["patch", "-p1", "--dry-run", "--quiet"], repo, data)
    result = invoke(["diff"], repo)
    counts = summarize(data)
    assert f"{counts['files']} files, {counts['hunks']} hunks, +{counts['added']} -{counts['removed']} lines" in result.stderr
    assert counts["files"] == data.count(b"+++ b/")


def test_apply_patch_gives_what_apply_gives(tmp_path: Path) -> None:
    repo = _committed(copy_samples(tmp_path / "repo"))
    data = _diff_to_file(repo)
    (tmp_path / "changes.patch").write_bytes(data)
    (repo / "changes.patch").unlink()
    direct = tmp_path / "direct"
    shutil.copytree(repo, direct)
    assert invoke(["apply"], direct).exit_code == 0
    result = invoke(["apply", "--patch", str(tmp_path / "changes.patch")], repo)
    assert result.exit_code == 0, result.output
    assert re.search(r"patched \d+ files, \d+ hunks", result.stderr)
    assert {k: v[0] for k, v in snapshot(repo).items()} == {k: v[0] for k, v in snapshot(direct).items()}


@pytest.mark.parametrize("fixture", FIXTURE_INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_patch_applies_with_git_and_patch(tmp_path: Path, fixture: Path) -> None:
    repo = git_init(tmp_path / "repo")
    name = "handler" + fixture.name[fixture.name.index(".in.") + 3 :]
    write(repo, {name: fixture.read_bytes()})
    _committed(repo)
    result = invoke(["diff", "--output", "changes.patch", "-c", fixture.parent.name], repo)
    assert result.exit_code in (0, 3), result.output
    data = (repo / "changes.patch").read_bytes()
    (repo / "changes.patch").unlink()
    if not data:
        return
    run(["git", "apply", "--check"], repo, data)
    run(["patch", "-p1", "--dry-run", "--quiet"], repo, data)
    reference = _git_apply_copy(tmp_path, repo, data)
    patching.apply(repo, data)
    assert (repo / name).read_bytes() == (reference / name).read_bytes()


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param(b"a\nb\nc\n", b"a\nB\nc\n", id="plain"),
        pytest.param(b"a\nb", b"a\nc", id="no-final-newline"),
        pytest.param(b"a\nb", b"a\nb\n", id="final-newline-added"),
        pytest.param(b"a\nb\n", b"a\nb", id="final-newline-removed"),
        pytest.param(b"a\r\nb\r\nc\r\n", b"a\r\nx\r\nb\r\nc\r\n", id="crlf"),
        pytest.param(b"a\x0cb\nq\n", b"a\x0cb\nz\n", id="form-feed"),
        pytest.param(b"a\rb\nc\n", b"a\rb\nd\n", id="lone-cr"),
        pytest.param(b"\xef\xbb\xbfa\nb\n", b"\xef\xbb\xbfa\nx\nb\n", id="bom"),
        pytest.param(b"x = '\xe9'\n1\n", b"x = '\xe9'\n2\n", id="latin1"),
        pytest.param(b"".join(b"%d\n" % i for i in range(40)), b"".join(b"%d\n" % i for i in range(1, 39)), id="two-hunks"),
        pytest.param(b"", b"a\n", id="empty-file"),
    ],
)
def test_apply_matches_the_diff_byte_for_byte(tmp_path: Path, before: bytes, after: bytes) -> None:
    write(tmp_path, {"pkg/data.txt": before})
    patching.apply(tmp_path, unified_diff("pkg/data.txt", before, after))
    assert (tmp_path / "pkg" / "data.txt").read_bytes() == after


def test_apply_reads_git_diff_output_with_quoted_and_spaced_names(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    names = ["with space/a b.txt", "tab\there.txt", "caf\u00e9.txt"]
    write(repo, dict.fromkeys(names, "one\ntwo\n"))
    _committed(repo)
    write(repo, dict.fromkeys(names, "one\n2\n"))
    data = run(["git", "diff"], repo).stdout
    assert b'"b/tab\\there.txt"' in data
    run(["git", "checkout", "--", "."], repo)
    applied = patching.apply(repo, data)
    assert sorted(applied.files) == sorted(names)
    assert all((repo / name).read_text() == "one\n2\n" for name in names)


@pytest.mark.parametrize("name", ["my dir/app.py", "a\tb.py", "caf\u00e9.py", 'q"x.py', "back\\slash.py"])
def test_apply_reads_the_names_diff_writes(tmp_path: Path, name: str) -> None:
    write(tmp_path, {name: "a\nb\n"})
    applied = patching.apply(tmp_path, unified_diff(name, b"a\nb\n", b"a\nc\n"))
    assert applied.files == [name]
    assert (tmp_path / name).read_bytes() == b"a\nc\n"


def test_reviewer_cuts_a_hunk_and_the_rest_applies_like_git_apply(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": TWO_CLIENTS, "other.py": HANDLER})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    first_file_hunks = [h for h in _hunks(data) if h[0] < data.index(b"+++ b/other.py")]
    assert len(first_file_hunks) == 2
    start, end = first_file_hunks[0]
    cut = data[:start] + data[end:]
    reference = _git_apply_copy(tmp_path, repo, cut)
    (tmp_path / "cut.patch").write_bytes(cut)
    result = invoke(["apply", "--patch", str(tmp_path / "cut.patch")], repo)
    assert result.exit_code == 0, result.output
    for name in ("app.py", "other.py"):
        assert (repo / name).read_bytes() == (reference / name).read_bytes()
    assert (repo / "app.py").read_bytes() != TWO_CLIENTS.encode()


def test_reviewer_cuts_a_file(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": TWO_CLIENTS, "other.py": HANDLER})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    cut = data[: data.index(b"--- a/other.py")]
    (tmp_path / "cut.patch").write_bytes(cut)
    result = invoke(["apply", "--patch", str(tmp_path / "cut.patch")], repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["app.py"]
    assert (repo / "other.py").read_text() == HANDLER
    assert (repo / "app.py").read_text() != TWO_CLIENTS


def test_a_patch_that_no_longer_applies_is_refused_naming_file_and_hunk_and_changes_nothing(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"a_first.py": HANDLER, "app.py": TWO_CLIENTS})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    # The second hunk of app.py no longer finds its lines; a_first.py and app.py's first hunk still would.
    write(repo, {"app.py": TWO_CLIENTS.replace('boto3.client("sqs")', 'boto3.client("sqs", region_name="eu-west-1")')})
    before = snapshot(repo)
    (tmp_path / "changes.patch").write_bytes(data)
    result = invoke(["apply", "--patch", str(tmp_path / "changes.patch")], repo)
    assert result.exit_code == 3
    assert "app.py: hunk 2 (@@ -" in result.stderr
    assert "no file was changed" in result.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "edit, words",
    [
        pytest.param(lambda d: re.sub(rb"\n-    s3 = [^\n]*", b"", d, count=1), "is damaged", id="a-line-cut-inside-a-hunk"),
        pytest.param(lambda d: d.replace(b"a/app.py", b"a/../app.py").replace(b"b/app.py", b"b/../app.py"), "not a path inside", id="path-escapes"),
        pytest.param(lambda d: d.replace(b"--- a/app.py", b"--- /dev/null"), "creates or deletes", id="creates"),
        pytest.param(lambda d: d.replace(b"+++ b/app.py", b"+++ b/renamed.py"), "renames", id="renames"),
        pytest.param(lambda d: d.replace(b"a/app.py", b"a/gone.py").replace(b"b/app.py", b"b/gone.py"),
                     "no such file", id="missing-file"),
        pytest.param(lambda d: d + b"--- a/app.py\n+++ b/app.py\n", "no hunks", id="header-without-hunks"),
        pytest.param(lambda d: re.sub(rb"\n\+(?!\+\+ )([^\n]*)\n", rb"\n+\1(\n", d, count=1), "would not parse", id="breaks-syntax"),
    ],
)
def test_refusals_change_nothing(tmp_path: Path, edit, words: str) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"a_first.py": HANDLER, "app.py": TWO_CLIENTS})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    before = snapshot(repo)
    (tmp_path / "edited.patch").write_bytes(edit(data))
    result = invoke(["apply", "--patch", str(tmp_path / "edited.patch")], repo)
    assert result.exit_code == 3, result.output
    assert words in result.stderr
    assert snapshot(repo) == before


def test_a_symbolic_link_on_the_way_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"app.py": HANDLER})
    repo = git_init(tmp_path / "repo")
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    data = unified_diff("linked/app.py", HANDLER.encode(), HANDLER.replace("s3", "S3").encode())
    with pytest.raises(patching.PatchError, match="symbolic link"):
        patching.apply(repo, data)
    assert (outside / "app.py").read_text() == HANDLER


def test_hunks_apply_at_an_offset_when_lines_were_added_between(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": TWO_CLIENTS})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    write(repo, {"app.py": TWO_CLIENTS.replace("    step_5 = 5\n", "    step_5 = 5\n    added = 'after the review'\n")})
    reference = _git_apply_copy(tmp_path, repo, data)
    patching.apply(repo, data)
    assert (repo / "app.py").read_bytes() == (reference / "app.py").read_bytes()


def test_a_failed_write_puts_back_the_files_already_written(tmp_path: Path, monkeypatch) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"a_first.py": HANDLER, "app.py": TWO_CLIENTS})
    _committed(repo)
    data = _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    before = snapshot(repo)
    real = patching.write_atomic
    calls = []

    def failing_second(path, content, expected=None):
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        real(path, content, expected=expected)

    monkeypatch.setattr(patching, "write_atomic", failing_second)
    with pytest.raises(OSError, match="disk full"):
        patching.apply(repo, data)
    assert {k: v[0] for k, v in snapshot(repo).items()} == {k: v[0] for k, v in before.items()}


@pytest.mark.parametrize(
    "args",
    [pytest.param(["-c", "hoist-clients"], id="with-codemod"), pytest.param([".", "."], id="two-paths")],
)
def test_patch_with_codemods_or_several_paths_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    write(tmp_path, {"changes.patch": ""})
    result = invoke(["apply", "--patch", "changes.patch", *args], tmp_path)
    assert result.exit_code == 2


def test_an_empty_patch_changes_nothing_and_succeeds(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER, "changes.patch": ""})
    result = invoke(["apply", "--patch", "changes.patch"], tmp_path)
    assert result.exit_code == 0
    assert "patched 0 files" in result.stderr
    assert (tmp_path / "app.py").read_text() == HANDLER



def _git_change(repo: Path, kind: str) -> None:
    """One change of ``kind`` next to an edit of app.py's text, in the working tree of ``repo``."""
    (repo / "app.py").write_text(TWO_CLIENTS.replace("step_3 = 3", "step_3 = 33"))
    if kind == "binary":
        (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x01changed")
    elif kind == "rename":
        run(["git", "mv", "a_first.py", "renamed.py"], repo)
    elif kind == "mode":
        (repo / "a_first.py").chmod(0o755)
    elif kind == "deletion":
        (repo / "a_first.py").unlink()
    elif kind == "creation":
        (repo / "new.py").write_text(HANDLER)
        run(["git", "add", "-N", "new.py"], repo)


@pytest.mark.parametrize(
    "kind, git_args, words",
    [
        pytest.param("binary", ["--binary"], "changes a binary file", id="binary-git-binary-patch"),
        pytest.param("binary", [], "changes a binary file", id="binary-files-differ"),
        pytest.param("rename", ["-M", "HEAD"], "renames a file", id="rename"),
        pytest.param("mode", [], "changes a file's mode", id="mode"),
        pytest.param("deletion", [], "deletes a file", id="deletion"),
        pytest.param("creation", [], "creates a file", id="creation"),
    ],
)
def test_lost_changes_a_git_patch_with_more_than_text_edits_is_refused_whole(
    tmp_path: Path, kind: str, git_args: list[str], words: str
) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"a_first.py": HANDLER, "app.py": TWO_CLIENTS, "logo.png": b"\x89PNG\r\n\x1a\n\x00\x01"})
    _committed(repo)
    _git_change(repo, kind)
    data = run(["git", "diff", *git_args], repo).stdout
    assert b"+    step_3 = 33" in data, "the patch also holds a text edit, which alone would apply"
    run(["git", "reset", "-q", "--hard"], repo)
    (repo / "new.py").unlink(missing_ok=True)
    before = snapshot(repo)
    (tmp_path / "git.patch").write_bytes(data)
    result = invoke(["apply", "--patch", str(tmp_path / "git.patch")], repo)
    assert result.exit_code == 3, result.output
    assert words in result.stderr and "no file was changed" in result.stderr
    assert "patched" not in result.stderr
    assert snapshot(repo) == before


def test_words_of_a_commit_message_above_the_diff_are_not_taken_for_a_rename(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": TWO_CLIENTS})
    _committed(repo)
    data = b"Subject: hoist\n\nrename from the old style; Binary-free.\n\n" + _diff_to_file(repo)
    (repo / "changes.patch").unlink()
    assert patching.apply(repo, data).files == ["app.py"]
