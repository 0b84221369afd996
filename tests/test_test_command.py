"""--test-command: the repository's own tests judge the rewrite, on real temporary repositories (opt-in)."""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cli_support import HANDLER, invoke, run, snapshot, write

from rewriter import gate
from rewriter import git as git_branch

BRANCH = "refs/heads/lambda-rewriter/all"
PYTHON = shlex.quote(sys.executable)
# The repository's own test: it pins the client inside the handler, which the rewrite moves out.
TEST_CLIENT_IN_HANDLER = '''\
import ast
import pathlib


def test_client_is_built_in_the_handler():
    tree = ast.parse(pathlib.Path("src/app.py").read_text())
    handler = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "handler")
    assert "boto3.client" in ast.unparse(handler), "the handler must build its own client"
'''
PYTEST = f"{PYTHON} -m pytest -q -p no:cacheprovider tests"
# Shell checks on the handler file: the same tests in the exported tree, without a Python start-up.
CLIENT_IN_HANDLER = "#!/bin/sh\necho 'checking the handler'\n! grep -q '^def get_s3_client' src/app.py\n"
CLIENT_AT_MODULE = "#!/bin/sh\ngrep -q '^def get_s3_client' src/app.py\n"


@pytest.fixture(autouse=True)
def _no_outside_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout.decode().strip()


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A repository (main) with the one-client handler and ``files``, and a bare ``origin``."""
    repo = root / "repo"
    write(repo, {"src/app.py": HANDLER, **files})
    run(["git", "init", "-q", "-b", "main", "."], repo)
    git(repo, "config", "user.name", "Repo Owner")
    git(repo, "config", "user.email", "owner@example.com")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    run(["git", "init", "-q", "--bare", str(root / "origin.git")], root)
    git(repo, "remote", "add", "origin", str(root / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    return repo


def branches(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/").splitlines()


def body(repo: Path, ref: str = BRANCH) -> str:
    return git(repo, "log", "-1", "--format=%B", ref)


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie that only waits for its parent to read its status."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def wait_gone(pids: list[int]) -> list[int]:
    """The pids still running after a generous wait (a signalled process takes a moment to be reaped)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(gone(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if not gone(pid)]


# ---------------------------------------------------------------------------------------------- branch


def test_tests_that_pass_before_and_fail_after_stop_the_commit_and_the_push(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"tests/test_app.py": TEST_CLIENT_IN_HANDLER})
    files = snapshot(repo)
    result = invoke(["branch", "-j", "1", "--push", "origin", "--test-command", PYTEST], repo)
    assert result.exit_code == 3, result.output
    assert "tests-failed" in result.stderr and "passed before the rewrite and failed (exit 1) after it" in result.stderr
    assert "the handler must build its own client" in result.stderr  # the tail of pytest's own output
    assert "no branch was made, nothing was pushed" in result.stderr
    assert branches(repo) == ["refs/heads/main"]
    assert git(tmp_path / "origin.git", "for-each-ref", "--format=%(refname)") == "refs/heads/main"
    assert snapshot(repo) == files


def test_tests_that_pass_before_and_after_let_the_branch_land_with_the_verdict_in_its_body(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"check.sh": "#!/bin/sh\ngrep -q 'def handler' src/app.py\n"})
    result = invoke(["branch", "-j", "1", "--push", "origin", "--test-command", "sh check.sh"], repo)
    assert result.exit_code == 0, result.output
    assert "the tests passed before the rewrite and after it" in result.stderr
    message = body(repo)
    assert "Tests (--test-command): passed before the rewrite and after it." in message
    assert "sh check.sh" not in message  # a command may hold a token: never in a commit
    # The trailers are still the last paragraph, where git (and batch's judge) read them.
    assert git(repo, "log", "-1", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)", BRANCH) == \
        "hoist-clients"
    assert git(repo, "rev-parse", BRANCH) == git(tmp_path / "origin.git", "rev-parse", BRANCH)
    assert git(repo, "rev-parse", f"{BRANCH}^") == git(repo, "rev-parse", "main")
    assert git(repo, "diff", "--name-only", "main", BRANCH) == "src/app.py"


def test_a_failure_that_was_there_before_is_recorded_not_blamed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"check.sh": "#!/bin/sh\necho 'flaky test'\nexit 4\n"})
    result = invoke(["branch", "-j", "1", "--test-command", "sh check.sh"], repo)
    assert result.exit_code == 0, result.output
    said = "failed (exit 4) before the rewrite and failed (exit 4) after it: the failure was there before"
    assert said in result.stderr
    assert said in body(repo)


def test_tests_that_pass_only_after_the_rewrite_are_recorded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"check.sh": CLIENT_AT_MODULE})
    result = invoke(["branch", "-j", "1", "--test-command", "sh check.sh"], repo)
    assert result.exit_code == 0, result.output
    assert "Tests (--test-command): failed (exit 1) before the rewrite and passed after it." in body(repo)


def test_a_hanging_test_is_ended_with_its_children_and_blocks_the_branch(tmp_path: Path) -> None:
    """It passes on the base and hangs on the rewrite, with a child in the background and one in the foreground."""
    pids = tmp_path / "pids"
    hang = (f"#!/bin/sh\necho $$ >> {pids}\ngrep -q '^def get_s3_client' src/app.py || exit 0\n"
            f"sleep 300 &\necho $! >> {pids}\nsh -c 'echo $$ >> {pids}; sleep 300'\n")
    repo = make_repo(tmp_path, {"hang.sh": hang})
    result = invoke(["branch", "-j", "1", "--test-command", "sh hang.sh", "--test-timeout", "1"], repo)
    assert result.exit_code == 3, result.output
    assert "passed before the rewrite and timed out after 1 s after it" in result.stderr
    assert branches(repo) == ["refs/heads/main"]
    started = [int(line) for line in pids.read_text().split()]
    assert len(started) == 4, started  # the base's shell, then the rewrite's shell and its two children
    assert wait_gone(started) == []


def test_sigterm_during_the_tests_ends_them_and_leaves_no_temporary_folder(tmp_path: Path, monkeypatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    pids = tmp_path / "pids"
    repo = make_repo(tmp_path, {})
    command = f"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; kill -TERM {os.getpid()}; wait"
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        git_branch.make_branch(repo, ("hoist-clients",), workers=1, test_command=command)
    assert signal.getsignal(signal.SIGTERM) is handler
    started = [int(line) for line in pids.read_text().split()]
    assert len(started) == 2 and wait_gone(started) == []
    assert list(scratch.iterdir()) == [] and branches(repo) == ["refs/heads/main"]


def test_a_command_that_is_not_there_is_a_usage_error_that_names_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {})
    result = invoke(["branch", "--test-command", "no-such-test-runner --all"], repo)
    assert result.exit_code == 2, result.output
    assert "no-such-test-runner: command not found" in result.stderr and "Traceback" not in result.stderr
    # A path into the tree can only be tried there: the shell's "not found" is a usage error too.
    result = invoke(["branch", "-j", "1", "--test-command", "./run-tests.sh"], repo)
    assert result.exit_code == 2, result.output
    assert "could not start (exit 127)" in result.stderr and "run-tests.sh" in result.stderr
    assert branches(repo) == ["refs/heads/main"]


@pytest.mark.parametrize("command, words", [
    ("", "empty"),
    ("pytest 'tests", "not a shell command"),
])
def test_a_command_that_cannot_be_a_command_is_refused(tmp_path: Path, command: str, words: str) -> None:
    repo = make_repo(tmp_path, {})
    result = invoke(["branch", "--test-command", command], repo)
    assert result.exit_code == 2 and words in result.stderr, result.output
    assert branches(repo) == ["refs/heads/main"]


def test_nothing_to_change_runs_no_test(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    repo = make_repo(tmp_path, {})
    write(repo, {"src/app.py": "def handler(event, context):\n    return 1\n"})
    git(repo, "commit", "-qam", "nothing for the codemods")
    result = invoke(["branch", "--test-command", f"touch {marker}"], repo)
    assert result.exit_code == 0 and "nothing to change" in result.stderr, result.output
    assert not marker.exists()


def test_the_tests_of_the_base_run_in_their_own_tree(tmp_path: Path) -> None:
    """What a test run leaves behind (here a handler file) never reaches the codemods or the commits."""
    leaves = "#!/bin/sh\nmkdir -p src/generated\nprintf '%s\\n' 'import boto3' '' '' 'def handler(event, context):' " \
             "'    return boto3.client(\"sqs\")' > src/generated/app.py\n"
    repo = make_repo(tmp_path, {"leaves.sh": leaves})
    result = invoke(["branch", "-j", "1", "--test-command", "sh leaves.sh"], repo)
    assert result.exit_code == 0, result.output
    assert git(repo, "diff", "--name-only", "main", BRANCH) == "src/app.py"


# ---------------------------------------------------------------------------------------------- only what the user names


PLANTED = '[tool.lambda-rewriter]\ntest-command = "touch {marker}"\n'


def test_a_repositorys_own_configuration_never_chooses_a_command(tmp_path: Path) -> None:
    """Found, or named with --config: a file of the repository is ignored with a warning, and nothing runs."""
    marker = tmp_path / "marker"
    repo = make_repo(tmp_path, {"pyproject.toml": PLANTED.format(marker=marker)})
    result = invoke(["branch", "-j", "1", "--branch", "found"], repo)
    assert result.exit_code == 0, result.output
    assert "test-command is ignored" in result.stderr
    result = invoke(["branch", "-j", "1", "--branch", "named", "--config", "pyproject.toml"], repo)
    assert result.exit_code == 0, result.output
    assert "test-command is ignored" in result.stderr
    assert not marker.exists()
    assert "Tests (--test-command)" not in body(repo, "named")


def test_a_config_file_kept_outside_the_repository_is_the_users_choice(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    repo = make_repo(tmp_path, {})
    write(tmp_path, {"ci/lambda-rewriter.toml": f'test-command = "touch {marker}"\n'})
    result = invoke(["branch", "-j", "1", "--config", str(tmp_path / "ci/lambda-rewriter.toml")], repo)
    assert result.exit_code == 0, result.output
    assert marker.exists() and "test-command is ignored" not in result.stderr
    assert "passed before the rewrite and after it" in body(repo)


@pytest.mark.parametrize("value", ["1", '""', '["pytest"]'])
def test_a_configured_test_command_must_be_a_command(tmp_path: Path, value: str) -> None:
    repo = make_repo(tmp_path, {})
    write(tmp_path, {"ci/lambda-rewriter.toml": f"test-command = {value}\n"})
    result = invoke(["branch", "--config", str(tmp_path / "ci/lambda-rewriter.toml")], repo)
    assert result.exit_code == 2, result.output
    assert "test-command must be a shell command" in result.stderr


# ---------------------------------------------------------------------------------------------- the runner


def test_output_is_bounded_to_its_last_lines_without_escapes_or_credentials(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-0123456789")
    command = ("i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done; "
               "printf '\\033[31mred\\033[0m\\n'; echo https://bot:s3cret@git.example.com/x.git; "
               "echo token is $DEPLOY_TOKEN; echo API_KEY=abc123; exit 2")
    result = gate.run(command, tmp_path)
    assert (result.status, result.exit_code) == ("failed", 2)
    assert len(result.tail) == gate.TAIL_LINES
    assert result.tail[-5:] == ("line 19999", "red", "https://***@git.example.com/x.git", "token is ***",
                                "API_KEY=***")


def test_a_long_line_is_cut_and_the_tests_get_no_standard_input(tmp_path: Path) -> None:
    result = gate.run("head -c 10000 /dev/zero | tr '\\0' x; echo; read answer || echo 'no input'", tmp_path)
    assert result.passed
    assert result.tail == ("x" * 400 + " [...]", "no input")
    # One line longer than what is kept of the output: its end, marked as such.
    result = gate.run("head -c 1000000 /dev/zero | tr '\\0' y", tmp_path)
    assert result.tail == ("[...] " + "y" * 394 + " [...]",)


def test_the_tests_start_with_ctrl_c_at_its_default_where_the_caller_ignores_it(tmp_path: Path) -> None:
    """A batch pool worker ignores SIGINT; an ignored signal would be inherited by the tests and their children."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = gate.run("grep SigIgn /proc/self/status", tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)
    [mask] = [int(line.split()[1], 16) for line in result.tail if line.startswith("SigIgn:")]
    assert not mask & (1 << (signal.SIGINT - 1)) and not mask & (1 << (signal.SIGTERM - 1))
    assert signal.getsignal(signal.SIGINT) is previous


def test_git_in_the_tests_finds_no_repository_above_the_tree(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    run(["git", "init", "-q", str(outer)], tmp_path)
    tree = outer / "scratch" / "tree"
    (tree / ".git").mkdir(parents=True)
    result = gate.run("git rev-parse --show-toplevel", tree)
    assert result.status == "failed" and "not a git repository" in " ".join(result.tail)


# ---------------------------------------------------------------------------------------------- batch


def make_remote(root: Path, name: str, files: dict[str, str]) -> Path:
    work = root / "work" / name
    write(work, {"src/app.py": HANDLER, **files})
    run(["git", "init", "-q", "-b", "main", "."], work)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "base")
    bare = root / "remotes" / f"{name}.git"
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], root)
    return bare


def batch(root: Path, *args: str):
    return invoke(["batch", "repos.toml", "--workspace", "ws", "--author", "Bot <bot@example.com>", *args], root)


def entries(root: Path) -> dict[str, dict]:
    found = {}
    for path in (root / "ws" / "ledger").glob("*.json"):
        entry = json.loads(path.read_text())
        found[Path(entry["repository"]).stem] = entry
    return found


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """Three repositories: tests the rewrite breaks, tests that pass, tests that failed already; one with none."""
    make_remote(tmp_path, "breaks", {"check.sh": CLIENT_IN_HANDLER})
    make_remote(tmp_path, "passes", {"check.sh": "#!/bin/sh\ntrue\n"})
    make_remote(tmp_path, "failing", {"check.sh": "#!/bin/sh\nexit 1\n"})
    make_remote(tmp_path, "untested", {"check.sh": f"#!/bin/sh\ntouch {tmp_path / 'marker'}\n"})
    (tmp_path / "repos.toml").write_text(
        '[defaults]\ntest-command = "sh check.sh"\n\n'
        + "".join(f'[[repository]]\nurl = "remotes/{name}.git"\n' for name in ("breaks", "passes", "failing"))
        + '[[repository]]\nurl = "remotes/untested.git"\ntest-command = ""\n'
    )
    return tmp_path


def test_batch_holds_back_the_repository_whose_tests_the_rewrite_broke(fleet: Path) -> None:
    result = batch(fleet, "--push", "--report", "report.json")
    assert result.exit_code == 3, result.output
    found = entries(fleet)
    assert {name: e["outcome"] for name, e in found.items()} == {
        "breaks": "tests-failed", "passes": "pushed", "failing": "pushed", "untested": "pushed"}
    broke = found["breaks"]
    assert broke["stage"] == "rewritten" and broke["commits"] == [] and broke["test_command"] == "sh check.sh"
    assert broke["tests"]["before"]["status"] == "passed" and broke["tests"]["after"]["status"] == "failed"
    assert broke["tests"]["after"]["tail"] == ["checking the handler"]
    assert found["failing"]["tests"]["summary"].endswith("so it is not the rewrite's")
    assert found["untested"]["tests"] is None and not (fleet / "marker").exists()
    heads = {name: git(fleet / "remotes" / f"{name}.git", "for-each-ref", "--format=%(refname)", "refs/heads/")
             for name in found}
    assert heads["breaks"] == "refs/heads/main"
    assert all(BRANCH in heads[name] for name in ("passes", "failing", "untested"))
    assert "2 OK" not in result.stdout and "3 OK, 0 unchanged, 0 skipped, 1 tests-failed, 0 errored" in result.stdout
    assert "tests-failed: the tests passed before the rewrite and failed (exit 1) after it" in result.stdout
    assert "<details>" in result.stdout and "checking the handler" in result.stdout
    assert "| pushed (tests: failed before the rewrite, failed after) |" in result.stdout
    assert "tests-failed" in result.stderr and "not committed, not pushed" in result.stderr
    report = json.loads((fleet / "report.json").read_text())
    assert report["totals"]["tests_failed"] == 1 and report["exit_status"] == 3
    [row] = [r for r in report["repositories"] if r["outcome"] == "tests-failed"]
    assert row["tests"]["after"]["tail"] == ["checking the handler"]


def test_resume_leaves_a_tests_failed_repository_until_its_settings_change(fleet: Path) -> None:
    assert batch(fleet).exit_code == 3
    again = batch(fleet, "--resume")
    assert again.exit_code == 3, again.output
    assert entries(fleet)["breaks"]["attempts"] == 1 and "done in an earlier run" in again.stderr
    # Another command for that repository: tried again, and this one lets it land.
    text = (fleet / "repos.toml").read_text().replace('url = "remotes/breaks.git"\n',
                                                        'url = "remotes/breaks.git"\ntest-command = "true"\n')
    (fleet / "repos.toml").write_text(text)
    third = batch(fleet, "--resume")
    assert third.exit_code == 0, third.output
    broke = entries(fleet)["breaks"]
    assert (broke["outcome"], broke["attempts"], broke["test_command"]) == ("patched", 2, "true")
    # A longer timeout is another setting too.
    fourth = batch(fleet, "--resume", "--test-timeout", "900")
    assert fourth.exit_code == 0 and entries(fleet)["breaks"]["attempts"] == 3, fourth.output


def test_batch_never_runs_a_command_the_repository_names(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    make_remote(tmp_path, "planted", {"pyproject.toml": PLANTED.format(marker=marker)})
    (tmp_path / "repos.toml").write_text('[[repository]]\nurl = "remotes/planted.git"\n')
    result = batch(tmp_path)
    assert result.exit_code == 0, result.output
    [entry] = entries(tmp_path).values()
    assert entry["outcome"] == "patched" and entry["tests"] is None and not marker.exists()
    assert any("test-command is ignored" in w for w in entry["warnings"])


def test_batch_refuses_a_command_that_is_not_there_before_any_clone(tmp_path: Path) -> None:
    make_remote(tmp_path, "a", {})
    (tmp_path / "repos.toml").write_text('[[repository]]\nurl = "remotes/a.git"\ntest-command = "no-such-runner"\n')
    result = batch(tmp_path)
    assert result.exit_code == 2, result.output
    assert "repos.toml:1: test-command 'no-such-runner': no-such-runner: command not found" in result.stderr
    result = invoke(["batch", "repos.toml", "--workspace", "ws", "--test-command", "no-such-runner"], tmp_path)
    assert result.exit_code == 2 and "no-such-runner" in result.stderr, result.output
    assert not (tmp_path / "ws").exists()


def test_the_test_command_is_shown_without_its_credentials(tmp_path: Path) -> None:
    make_remote(tmp_path, "a", {})
    (tmp_path / "repos.toml").write_text('[[repository]]\nurl = "remotes/a.git"\n'
                                         'test-command = "API_TOKEN=s3cret-value true"\n')
    result = batch(tmp_path, "--report", "report.json")
    assert result.exit_code == 0, result.output
    [entry] = entries(tmp_path).values()
    assert entry["test_command"] == "API_TOKEN=*** true"
    assert "s3cret-value" not in (tmp_path / "report.json").read_text()
    assert "s3cret-value" not in result.output
