"""The command line through click's CliRunner: list, exit statuses, apply, JSON and parallel runs."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cli_support import BROKEN, HANDLER, LIBRARY, age, copy_samples, git_init, invoke, invoke_json, snapshot, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from codemods import all_codemods
from codemods.python.hoist_clients import HoistClients


def test_list_names_each_codemod_with_its_language_and_description(tmp_path: Path) -> None:
    result = invoke(["list"], tmp_path)
    assert result.exit_code == 0
    line = next(text for text in result.stdout.splitlines() if text.startswith("hoist-clients "))
    assert "python" in line
    assert line.endswith(HoistClients.DESCRIPTION)
    lines = result.stdout.splitlines()
    assert [text.split()[0] for text in lines] == list(all_codemods())
    # Descriptions start in one column, whatever the length of the language lists.
    starts = {text.index(impls[0].DESCRIPTION) for text, impls in zip(lines, all_codemods().values())}
    assert len(starts) == 1


@pytest.mark.parametrize(
    "files, args, status",
    [
        pytest.param({"app.py": HANDLER}, ["diff"], 0, id="diff-with-changes"),
        pytest.param({"app.py": HANDLER}, ["apply"], 0, id="apply-with-changes"),
        pytest.param({"app.py": HANDLER}, ["check"], 1, id="check-finds-a-change"),
        pytest.param({"lib.py": LIBRARY}, ["check"], 0, id="check-nothing-to-change"),
        pytest.param({"notes.txt": "boto3"}, ["check"], 0, id="check-no-code"),
        pytest.param({"app.py": HANDLER}, ["check", "-c", "no-such-codemod"], 2, id="unknown-codemod"),
        pytest.param({"app.py": HANDLER}, ["check", "missing/"], 2, id="nonexistent-path"),
        pytest.param({"app.py": HANDLER}, ["check", "-j", "0"], 2, id="jobs-zero"),
        pytest.param({"app.py": HANDLER}, ["check", "--format", "xml"], 2, id="unknown-format"),
        pytest.param({"app.py": HANDLER, "bad.py": BROKEN}, ["check"], 3, id="check-with-broken-file"),
        pytest.param({"app.py": HANDLER, "bad.py": BROKEN}, ["diff"], 3, id="diff-with-broken-file"),
        pytest.param({"lib.py": LIBRARY, "bad.py": BROKEN}, ["apply"], 3, id="apply-with-broken-file"),
    ],
)
def test_exit_status(tmp_path: Path, files: dict[str, str], args: list[str], status: int) -> None:
    write(git_init(tmp_path), files)
    result = invoke(args, tmp_path)
    assert result.exit_code == status, result.output


@pytest.mark.parametrize(
    "setting, words",
    [
        pytest.param('colour = "always"', "unknown setting [tool.lambda-rewriter] colour", id="unknown-key"),
        pytest.param('codemods = ["hoist-everything"]', "hoist-everything", id="unknown-codemod"),
        pytest.param('codemods = "hoist-clients"', "codemods must be a list", id="codemods-not-a-list"),
        pytest.param("exclude = [1]", "exclude must be a list of strings", id="exclude-not-strings"),
        pytest.param('jobs = "4"', "jobs must be a whole number", id="jobs-a-string"),
        pytest.param("jobs = 0", "jobs must be a whole number", id="jobs-zero"),
        pytest.param("jobs = true", "jobs must be a whole number", id="jobs-a-boolean"),
        pytest.param("max-file-bytes = -1", "max-file-bytes must be a whole number", id="negative-size"),
        pytest.param("jobs = [", "pyproject.toml", id="not-toml"),
    ],
)
def test_bad_configuration_is_a_usage_error(tmp_path: Path, setting: str, words: str) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER, "pyproject.toml": f"[tool.lambda-rewriter]\n{setting}\n"})
    before = snapshot(tmp_path)
    result = invoke(["apply"], tmp_path)
    assert result.exit_code == 2
    assert words in result.stderr
    assert snapshot(tmp_path) == before


def test_configuration_is_read_from_the_repository_root(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/app.py": HANDLER, "pyproject.toml": '[tool.lambda-rewriter]\nexclude = ["src/"]\n'})
    result = invoke(["check", "app.py"], tmp_path / "src")
    # An explicit file is read even when excluded; a walk skips it.
    assert result.exit_code == 1
    assert invoke(["check"], tmp_path).exit_code == 0


@pytest.mark.parametrize("command", ["diff", "apply", "check"])
def test_a_file_that_does_not_parse_is_named_left_untouched_and_the_rest_processed(tmp_path: Path, command: str) -> None:
    write(git_init(tmp_path), {"pkg/bad.py": BROKEN, "pkg/app.py": HANDLER})
    age(tmp_path)
    bad = tmp_path / "pkg" / "bad.py"
    before = bad.stat().st_mtime_ns
    result, report = invoke_json([command], tmp_path) if command != "apply" else (invoke([command], tmp_path), None)
    assert result.exit_code == 3
    error = next(line for line in result.stderr.splitlines() if "pkg/bad.py" in line)
    assert "line 5" in error or "line 6" in error, error
    assert bad.read_bytes() == BROKEN.encode()
    assert bad.stat().st_mtime_ns == before
    if command == "apply":
        assert (tmp_path / "pkg" / "app.py").read_bytes() != HANDLER.encode()
    else:
        by_path = {f["path"]: f for f in report["files"]}
        assert by_path["pkg/bad.py"]["status"] == "error"
        assert by_path["pkg/app.py"]["status"] == "changed"
        assert report["summary"]["exit_status"] == 3


def test_apply_keeps_the_mode_and_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"run.py": "#!/usr/bin/env python3\n" + HANDLER, "lib.py": LIBRARY, "other.py": HANDLER})
    (tmp_path / "run.py").chmod(0o755)
    (tmp_path / "other.py").chmod(0o640)
    age(tmp_path)
    before = snapshot(tmp_path)
    inode = (tmp_path / "run.py").stat().st_ino
    result = invoke(["apply", "-j", "1"], tmp_path)
    assert result.exit_code == 0, result.output
    after = snapshot(tmp_path)
    assert after["lib.py"] == before["lib.py"]
    for name, mode in [("run.py", 0o755), ("other.py", 0o640)]:
        assert after[name][0] != before[name][0]
        assert stat.S_IMODE(after[name][2]) == mode
    assert after["run.py"][0].startswith(b"#!/usr/bin/env python3\n")
    # Atomic: a new file took the old one's place, and no temporary file is left behind.
    assert (tmp_path / "run.py").stat().st_ino != inode
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "lib.py", "other.py", "run.py"]
    assert "changed 2 files" in result.stderr


def test_apply_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    assert invoke(["apply"], tmp_path).exit_code == 0
    age(tmp_path)
    once = snapshot(tmp_path)
    assert invoke(["check"], tmp_path).exit_code == 0
    assert invoke(["apply"], tmp_path).exit_code == 0
    assert snapshot(tmp_path) == once


def test_apply_refuses_a_symlink_to_a_file_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"target.py": HANDLER})
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    (repo / "linked.py").symlink_to(outside / "target.py")
    age(outside)
    before = snapshot(outside)
    result, report = invoke_json(["check"], repo)
    linked = next(f for f in report["files"] if f["path"] == "linked.py")
    assert linked["status"] == "skipped"
    assert "symbolic link to outside the repository" in linked["reason"]
    result = invoke(["apply"], repo)
    assert result.exit_code == 0, result.output
    assert snapshot(outside) == before
    assert (repo / "linked.py").is_symlink()
    assert (repo / "app.py").read_bytes() != HANDLER.encode()


def test_apply_does_not_write_through_a_symlink_inside_the_repository(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"real.py": HANDLER})
    (repo / "alias.py").symlink_to("real.py")
    result = invoke(["apply", "alias.py"], repo)
    assert result.exit_code == 0
    assert (repo / "alias.py").is_symlink()
    assert (repo / "real.py").read_bytes() == HANDLER.encode()
    assert "skipped: symbolic link" in invoke(["check", "alias.py"], repo).stdout


def test_check_text_lists_changes_as_path_line_column_code(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    result = invoke(["check"], tmp_path)
    assert result.exit_code == 1
    assert any(line.startswith("app.py:5:5: LR004 ") for line in result.stdout.splitlines()), result.stdout
    assert "would change 1 file" in result.stderr


def test_json_report_carries_every_file_change_note_and_a_summary(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/app.py": HANDLER, "src/lib.py": LIBRARY, "src/bad.py": BROKEN})
    result, report = invoke_json(["check"], tmp_path)
    assert result.exit_code == 3
    assert report["mode"] == "check"
    files = {f["path"]: f for f in report["files"]}
    assert set(files) == {"src/app.py", "src/lib.py", "src/bad.py"}
    for entry in files.values():
        assert entry["language"] == "python"
        assert {"path", "language", "status", "changes", "notes"} <= set(entry)
    app = files["src/app.py"]
    assert app["status"] == "changed"
    assert app["changes"] and all(set(c) == {"codemod", "line", "message", "code", "column"} for c in app["changes"])
    assert app["changes"][0]["codemod"] == "hoist-clients"
    assert app["changes"][0]["line"] == 5
    lib = files["src/lib.py"]
    assert lib["status"] == "unchanged" and lib["changes"] == []
    note = next(n for n in lib["notes"] if n["codemod"] == "hoist-clients")
    assert note["line"] == 1
    assert "not Lambda code" in note["message"] and "(event, context)" in note["message"]
    assert files["src/bad.py"]["status"] == "error" and "does not parse" in files["src/bad.py"]["reason"]
    summary = report["summary"]
    assert (summary["changed"], summary["unchanged"], summary["skipped"], summary["error"]) == (1, 1, 0, 1)
    assert summary["exit_status"] == 3


def test_diff_json_carries_the_diff_of_each_changed_file(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER, "lib.py": LIBRARY})
    result, report = invoke_json(["diff"], tmp_path)
    assert result.exit_code == 0
    files = {f["path"]: f for f in report["files"]}
    assert files["app.py"]["diff"].startswith("--- a/app.py\n+++ b/app.py\n")
    assert "diff" not in files["lib.py"]


def test_diff_output_option_writes_the_patch_there_only(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    out = tmp_path / "out.patch"
    result = invoke(["diff", "--output", str(out)], repo)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert out.read_bytes().startswith(b"--- a/app.py\n")
    assert (repo / "app.py").read_bytes() == HANDLER.encode()


def _without_timing(report: dict) -> dict:
    return {"files": report["files"], "summary": report["summary"]}


def test_parallel_workers_give_the_same_results_as_one(tmp_path: Path) -> None:
    copy_samples(tmp_path)
    sequential, one = invoke_json(["diff", "-j", "1"], tmp_path)
    parallel, two = invoke_json(["diff", "-j", "2"], tmp_path)
    assert sequential.exit_code == parallel.exit_code == 0
    assert len(one["files"]) >= 4  # the engine only starts a pool for four files or more
    assert one["summary"]["changed"] >= 7
    assert _without_timing(one) == _without_timing(two)
    assert invoke(["diff", "-j", "2"], tmp_path).stdout == invoke(["diff", "-j", "1"], tmp_path).stdout


def test_version(tmp_path: Path) -> None:
    result = invoke(["--version"], tmp_path)
    assert result.exit_code == 0 and "lambda-rewriter" in result.stdout


def test_main_returns_the_exit_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rewriter.cli import main

    write(git_init(tmp_path), {"app.py": HANDLER})
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 1
    assert main(["check", "-c", "nope"]) == 2
    assert main(["list"]) == 0


@pytest.mark.parametrize("path", ["linked/app.py", "linked"])
def test_apply_does_not_write_through_a_linked_folder_to_outside_the_repository(tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    write(outside, {"app.py": HANDLER})
    repo = git_init(tmp_path / "repo")
    (repo / "linked").symlink_to(outside)
    age(outside)
    before = snapshot(outside)
    result, report = invoke_json(["check", path], repo)
    [entry] = report["files"]
    assert entry["status"] == "skipped" and "symbolic link to outside the repository" in entry["reason"]
    assert invoke(["apply", path], repo).exit_code == 0
    assert snapshot(outside) == before
