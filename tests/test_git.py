"""`branch` on real temporary repositories with a bare remote: commits, safety, refusals, pushes."""
from __future__ import annotations

import os
import signal
import stat
import tempfile
from pathlib import Path

import pytest
from cli_support import BROKEN, HANDLER, LIBRARY, copy_samples, git_init, invoke, run, snapshot, write

from rewriter import __version__
from rewriter import git as git_branch

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OWNER = ("Repo Owner", "owner@example.com")


@pytest.fixture(autouse=True)
def _no_outside_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Identity and settings come from the test repositories only, as on a clean CI machine."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout.decode().strip()


def _commit_all(repo: Path, message: str = "base") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def _own(repo: Path) -> Path:
    git(repo, "config", "user.name", OWNER[0])
    git(repo, "config", "user.email", OWNER[1])
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The samples, committed on main, with an `origin` that is a bare repository."""
    repo = _own(copy_samples(tmp_path / "repo"))
    _commit_all(repo)
    remote = tmp_path / "remote.git"
    run(["git", "init", "-q", "--bare", str(remote)], tmp_path)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    return repo


def _without_a_blob(repo: Path) -> Path:
    """A base commit whose tree names a blob the object store does not hold (a partial or LFS-less clone)."""
    write(repo, {"data.bin": "not in the object store\n"})
    _commit_all(repo, "data")
    sha = git(repo, "rev-parse", "HEAD:data.bin")
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    return repo


def _branches(repo: Path) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/")
    return dict(line.split(" ") for line in out.splitlines())


def _base_of(repo: Path, branch: str) -> str:
    """The first commit below ``branch`` that the tool did not make."""
    fmt = "--format=%H %(trailers:key=Lambda-Rewriter-Codemod,valueonly,separator=%x2C)"
    for line in git(repo, "log", "--first-parent", fmt, branch).splitlines():
        sha, _, codemod = line.partition(" ")
        if not codemod.strip():
            return sha
    raise AssertionError(f"{branch} has only tool commits")


def _state(repo: Path) -> dict:
    """Everything of the user's that `branch` must leave as it was."""
    dot = repo / ".git"
    return {
        "files": snapshot(repo),
        "index": (dot / "index").read_bytes(),
        "HEAD": (dot / "HEAD").read_bytes(),
        "stash": git(repo, "stash", "list", "--format=%H %gs"),
        "status": git(repo, "--no-optional-locks", "status", "--porcelain=v2", "--branch", "--untracked-files=all"),
        "worktrees": git(repo, "worktree", "list", "--porcelain"),
        "admin": sorted(p.name for p in dot.iterdir() if p.name not in ("objects", "refs", "logs", "packed-refs")),
    }


def _make_dirty(repo: Path) -> None:
    """A stash entry, a staged change, an unstaged change to a file the codemod rewrites, untracked files."""
    handler = repo / "samples/sam-orders/src/create_order/app.py"
    handler.write_text(handler.read_text() + "# stashed work\n")
    git(repo, "stash", "push", "-q", "-m", "work in progress")
    readme = repo / "samples/README.md"
    readme.write_text(readme.read_text() + "\nstaged line\n")
    git(repo, "add", "samples/README.md")
    handler.write_text(handler.read_text().replace("def lambda_handler", "def lambda_handler  # unstaged", 1))
    write(repo, {"notes.txt": "untracked\n", "samples/new_handler.py": HANDLER})


def test_branch_commits_the_rewrite_and_leaves_a_dirty_checkout_exactly_as_it_was(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "main")
    _make_dirty(repo)
    before = _state(repo)
    result = invoke(["branch", "-j", "1", "-c", "hoist-clients"], repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "lambda-rewriter/hoist-clients"
    assert _state(repo) == before
    assert "warning: uncommitted edits are not part of the branch" in result.stderr
    tip = "lambda-rewriter/hoist-clients"
    assert git(repo, "rev-parse", f"{tip}^") == base
    changed = git(repo, "diff", "--name-only", base, tip).splitlines()
    assert "samples/sam-orders/src/create_order/app.py" in changed
    assert "samples/new_handler.py" not in changed and "samples/README.md" not in changed
    # The branch holds exactly what `apply` gives on a clean checkout of the base.
    clean = tmp_path / "clean"
    run(["git", "clone", "-q", str(repo), str(clean)], tmp_path)
    assert invoke(["apply", "-c", "hoist-clients"], clean).exit_code == 0
    run(["git", "diff", "--exit-code", f"origin/{tip}"], clean)


def test_commit_message_subject_body_trailers_and_identity(repo: Path) -> None:
    made = invoke(["branch", "-j", "1", "-c", "hoist-clients"], repo)
    assert made.exit_code == 0 and "uncommitted" not in made.stderr  # a clean checkout: no warning
    tip = "lambda-rewriter/hoist-clients"
    subject, _, body = git(repo, "log", "-1", "--format=%B", tip).partition("\n\n")
    assert subject.startswith("hoist-clients: rewrite ") and "\n" not in subject
    assert "Changes:\n- " in body and "\n- samples/sam-orders/src/create_order/app.py:" in body
    assert "Left as they were (notes):\n" in body and "samples/sam-orders/src/get_order/app.py:25:" in body
    assert git(repo, "log", "-1", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)", tip) == "hoist-clients"
    assert git(repo, "log", "-1", "--format=%(trailers:key=Lambda-Rewriter-Version,valueonly)", tip) == __version__
    owner = f"{OWNER[0]} <{OWNER[1]}>"
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", tip) == f"{owner}|{owner}"


def test_author_option_sets_author_and_committer(repo: Path) -> None:
    result = invoke(["branch", "-j", "1", "--author", "Platform Bot <bot@example.com>", "--branch", "bot"], repo)
    assert result.exit_code == 0, result.output
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "bot") == (
        "Platform Bot <bot@example.com>|Platform Bot <bot@example.com>"
    )


def test_one_commit_per_codemod_that_changed_something_in_catalogue_order(repo: Path) -> None:
    write(repo, {"samples/db/handler.py": (FIXTURES / "reconnect-guards" / "pymysql_with.in.py").read_bytes()})
    base = _commit_all(repo, "add a db handler")
    result = invoke(["branch", "-c", "reconnect-guards", "-c", "hoist-clients"], repo)
    assert result.exit_code == 0, result.output
    tip = "lambda-rewriter/hoist-clients+reconnect-guards"
    trailers = git(repo, "log", "--reverse", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)", f"{base}..{tip}")
    assert trailers.split() == ["hoist-clients", "reconnect-guards"]
    guarded = git(repo, "diff", "--name-only", f"{tip}^", tip).splitlines()
    assert guarded == [
        "samples/db/handler.py",
        "samples/rds-reports/src/mysql_report/app.py",
        "samples/rds-reports/src/pg_report/app.py",
    ]


def test_planted_hooks_filters_and_fsmonitor_never_run(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "markers"
    marker.mkdir()
    script = tmp_path / "evil.sh"
    script.write_text(f'#!/bin/sh\ntouch "{marker}/$(basename "$0")-$$"\ncat\n')
    script.chmod(0o755)
    write(repo, {".gitattributes": "*.py filter=evil\n"})
    _commit_all(repo, "attributes")
    hooks = ["pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "post-checkout", "reference-transaction",
             "pre-push", "post-rewrite", "pre-auto-gc", "post-index-change"]
    for folder in (repo / ".git" / "hooks", tmp_path / "planted-hooks"):
        folder.mkdir(exist_ok=True)
        for name in hooks:
            hook = folder / name
            hook.write_text(f'#!/bin/sh\ntouch "{marker}/{folder.name}-{name}"\n')
            hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(script))
    git(repo, "config", "filter.evil.smudge", str(script))
    git(repo, "config", "filter.evil.clean", str(script))
    git(repo, "config", "core.hooksPath", str(tmp_path / "planted-hooks"))
    git(repo, "config", "remote.origin.receivepack", f"touch {marker}/receivepack; git-receive-pack")
    git(repo, "config", "remote.origin.uploadpack", f"touch {marker}/uploadpack; git-upload-pack")
    # The remote is a local path: git runs its receive-pack here, without this side's config overrides.
    for name in ("pre-receive", "update", "post-receive", "post-update", "reference-transaction", "proc-receive"):
        hook = tmp_path / "remote.git" / "hooks" / name
        hook.write_text(f'#!/bin/sh\ntouch "{marker}/remote-{name}"\n')
        hook.chmod(0o755)
    git(tmp_path / "remote.git", "config", "core.fsmonitor", str(script))
    result = invoke(["branch", "-j", "1", "--push", "origin"], repo)
    assert result.exit_code == 0, result.output
    result = invoke(["branch", "-j", "1", "--push", "origin", "--on-existing", "replace"], repo)
    assert result.exit_code == 0, result.output
    assert git(tmp_path / "remote.git", "rev-parse", "lambda-rewriter/all") == git(repo, "rev-parse", "lambda-rewriter/all")
    assert sorted(p.name for p in marker.iterdir()) == []


def test_nothing_to_change_makes_no_branch(tmp_path: Path) -> None:
    repo = _own(git_init(tmp_path / "repo"))
    write(repo, {"lib.py": LIBRARY, "README.md": "hello\n"})
    _commit_all(repo)
    before = _branches(repo)
    result = invoke(["branch", "-j", "1"], repo)
    assert result.exit_code == 0
    assert "nothing to change: no branch created" in result.stderr
    assert result.stdout == ""
    assert _branches(repo) == before


@pytest.mark.parametrize(
    "args, status, words",
    [
        pytest.param([], 3, "branch lambda-rewriter/all already exists", id="default-refuses"),
        pytest.param(["--on-existing", "fail"], 3, "already exists", id="fail"),
        pytest.param(["--on-existing", "skip"], 0, "left as it is", id="skip"),
    ],
)
def test_existing_branch_is_left_alone(repo: Path, args: list[str], status: int, words: str) -> None:
    assert invoke(["branch", "-j", "1"], repo).exit_code == 0
    before = _branches(repo)
    result = invoke(["branch", "-j", "1", *args], repo)
    assert result.exit_code == status
    assert words in result.stderr
    assert _branches(repo) == before


def test_replace_rebuilds_the_tools_branch_from_the_new_base(repo: Path) -> None:
    assert invoke(["branch", "-j", "1"], repo).exit_code == 0
    write(repo, {"samples/CHANGELOG.md": "new work on main\n"})
    new_base = _commit_all(repo, "more work")
    result = invoke(["branch", "-j", "1", "--on-existing", "replace"], repo)
    assert result.exit_code == 0, result.output
    assert "replaced branch lambda-rewriter/all" in result.stderr
    assert _base_of(repo, "lambda-rewriter/all") == new_base


def test_replace_refuses_a_branch_with_someone_elses_commits_unless_forced(repo: Path) -> None:
    assert invoke(["branch", "-j", "1"], repo).exit_code == 0
    git(repo, "checkout", "-q", "lambda-rewriter/all")
    write(repo, {"samples/mine.txt": "a human's commit\n"})
    _commit_all(repo, "human work")
    git(repo, "checkout", "-q", "main")
    before = _branches(repo)
    result = invoke(["branch", "-j", "1", "--on-existing", "replace"], repo)
    assert result.exit_code == 3
    assert "commit(s) the tool did not make" in result.stderr
    assert _branches(repo) == before
    result = invoke(["branch", "-j", "1", "--on-existing", "replace", "--force"], repo)
    assert result.exit_code == 0, result.output
    assert _base_of(repo, "lambda-rewriter/all") == git(repo, "rev-parse", "main")


def test_replace_refuses_the_branch_that_is_checked_out(repo: Path) -> None:
    assert invoke(["branch", "-j", "1"], repo).exit_code == 0
    git(repo, "checkout", "-q", "lambda-rewriter/all")
    before = _state(repo), _branches(repo)
    result = invoke(["branch", "-j", "1", "--base", "main", "--on-existing", "replace"], repo)
    assert result.exit_code == 3
    assert "checked out" in result.stderr
    assert (_state(repo), _branches(repo)) == before


def test_push_sends_the_branch_to_the_remote(repo: Path, tmp_path: Path) -> None:
    result = invoke(["branch", "-j", "1", "--push", "origin"], repo)
    assert result.exit_code == 0, result.output
    assert "pushed to origin: refs/heads/lambda-rewriter/all" in result.stderr
    remote = tmp_path / "remote.git"
    assert git(remote, "rev-parse", "refs/heads/lambda-rewriter/all") == git(repo, "rev-parse", "lambda-rewriter/all")


def test_push_to_a_path_given_directly(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.git"
    run(["git", "init", "-q", "--bare", str(other)], tmp_path)
    assert invoke(["branch", "-j", "1", "--push", str(other)], repo).exit_code == 0
    assert git(other, "rev-parse", "refs/heads/lambda-rewriter/all") == git(repo, "rev-parse", "lambda-rewriter/all")


def _someone_pushes(tmp_path: Path, branch: str, start: str = "main") -> str:
    """Another clone pushes a commit of its own to ``branch`` on the remote."""
    other = tmp_path / "someone"
    run(["git", "clone", "-q", str(tmp_path / "remote.git"), str(other)], tmp_path)
    _own(other)
    git(other, "checkout", "-q", "-B", branch, f"origin/{start}")
    write(other, {"theirs.txt": "their work\n"})
    sha = _commit_all(other, "their work")
    git(other, "push", "-q", "origin", f"{branch}:{branch}")
    return sha


def test_a_refused_push_leaves_no_local_branch(repo: Path, tmp_path: Path) -> None:
    theirs = _someone_pushes(tmp_path, "lambda-rewriter/all")
    before = _branches(repo)
    result = invoke(["branch", "-j", "1", "--push", "origin"], repo)
    assert result.exit_code == 3
    assert "push to origin refused" in result.stderr
    assert _branches(repo) == before
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/lambda-rewriter/all") == theirs


def test_replace_and_push_overwrites_the_tools_own_remote_branch(repo: Path, tmp_path: Path) -> None:
    first = invoke(["branch", "-j", "1", "--push", "origin"], repo)
    assert first.exit_code == 0, first.output
    write(repo, {"samples/CHANGELOG.md": "more\n"})
    _commit_all(repo, "more work")
    git(repo, "push", "-q", "origin", "main")
    result = invoke(["branch", "-j", "1", "--on-existing", "replace", "--push", "origin"], repo)
    assert result.exit_code == 0, result.output
    tip = git(repo, "rev-parse", "lambda-rewriter/all")
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/lambda-rewriter/all") == tip


def test_replace_never_overwrites_commits_someone_added_on_the_remote(repo: Path, tmp_path: Path) -> None:
    first = invoke(["branch", "-j", "1", "--push", "origin"], repo)
    assert first.exit_code == 0, first.output
    theirs = _someone_pushes(tmp_path, "lambda-rewriter/all", start="lambda-rewriter/all")
    before = _branches(repo)
    result = invoke(["branch", "-j", "1", "--on-existing", "replace", "--push", "origin"], repo)
    assert result.exit_code == 3
    assert "refused" in result.stderr
    assert _branches(repo) == before
    assert git(tmp_path / "remote.git", "rev-parse", "refs/heads/lambda-rewriter/all") == theirs


@pytest.mark.parametrize(
    "prepare, args, words",
    [
        pytest.param(lambda repo, tmp: tmp / "plain", [], "not a git repository", id="not-a-repository"),
        pytest.param(lambda repo, tmp: tmp / "remote.git", [], "bare repository", id="bare"),
        pytest.param(lambda repo, tmp: (git(repo, "checkout", "-q", "--detach"), repo)[1], [], "HEAD is detached",
                     id="detached-head"),
        pytest.param(lambda repo, tmp: repo, ["--base", "no-such-branch"], "does not exist", id="missing-base"),
        pytest.param(lambda repo, tmp: tmp / "nowhere", [], "no such folder", id="missing-folder"),
        pytest.param(
            lambda repo, tmp: run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(tmp / "shallow")], tmp)
            and tmp / "shallow",
            [],
            "shallow clone",
            id="shallow",
        ),
        pytest.param(lambda repo, tmp: _without_a_blob(repo), [], "the base commit lacks the content of data.bin",
                     id="missing-blob"),
    ],
)
def test_errors_are_clear_and_change_nothing(repo: Path, tmp_path: Path, prepare, args: list[str], words: str) -> None:
    (tmp_path / "plain").mkdir()
    target = prepare(repo, tmp_path)
    before = _branches(repo)
    result = invoke(["branch", str(target), *args], tmp_path / "plain")
    # A path that is no repository is a usage error, as a missing PATH is for check (issue 21); the rest exit 3.
    usage = words in ("not a git repository", "bare repository", "no such folder")
    assert result.exit_code == (2 if usage else 3), result.output
    assert words in result.stderr
    assert usage or "nothing was changed" in result.stderr
    assert _branches(repo) == before


def test_detached_head_with_an_explicit_base_works(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    before = _state(repo)
    result = invoke(["branch", "-j", "1", "--base", "main", "--branch", "from-main"], repo)
    assert result.exit_code == 0, result.output
    assert _base_of(repo, "from-main") == git(repo, "rev-parse", "main")
    assert _state(repo) == before


def test_an_older_base_and_a_run_from_a_subfolder(repo: Path) -> None:
    first = git(repo, "rev-parse", "main")
    write(repo, {"samples/later.txt": "later\n"})
    _commit_all(repo, "later")
    result = invoke(["branch", "-j", "1", "--base", first, "--branch", "old"], repo / "samples" / "sam-orders")
    assert result.exit_code == 0, result.output
    assert _base_of(repo, "old") == first


@pytest.mark.parametrize(
    "args, words",
    [
        pytest.param(["--push", "ext::sh -c touch% MARKER"], "transport helpers", id="ext-url"),
        pytest.param(["--push", "fd::3"], "transport helpers", id="fd-url"),
        pytest.param(["--push", "foo://example.com/repo.git"], "protocol foo is refused", id="unknown-protocol"),
        pytest.param(["--push=--upload-pack=touch MARKER"], "not an acceptable", id="option-as-remote"),
        pytest.param(["--push", "evil"], "transport helpers", id="remote-with-ext-url"),
        pytest.param(["--branch", "bad..name"], "not an acceptable branch name", id="bad-branch-name"),
        pytest.param(["--branch", "-D"], "not an acceptable branch name", id="branch-like-an-option"),
        pytest.param(["--base", "--all"], "not an acceptable revision", id="base-like-an-option"),
        pytest.param(["--author", "nobody"], 'expected "Name <email>"', id="bad-author"),
        pytest.param(["-c", "no-such-codemod"], "unknown codemod", id="unknown-codemod"),
        pytest.param(["--on-existing", "merge"], "merge", id="unknown-on-existing"),
    ],
)
def test_bad_requests_are_usage_errors_and_run_nothing(repo: Path, tmp_path: Path, args: list[str], words: str) -> None:
    git(repo, "remote", "add", "evil", "ext::sh -c touch% MARKER")
    before = _branches(repo)
    result = invoke(["branch", "-j", "1", *args], repo)
    assert result.exit_code == 2, result.output
    assert words in result.stderr
    assert _branches(repo) == before
    assert not list(repo.rglob("MARKER")) and not list(tmp_path.rglob("MARKER"))


def test_interrupted_run_leaves_no_temporary_folder_no_branch_and_the_checkout_as_it_was(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    _make_dirty(repo)
    before = _state(repo), _branches(repo)

    def terminated(*args, **kwargs):
        assert list(scratch.iterdir()), "the work happens in a temporary folder"
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(git_branch.engine, "run", terminated)
    with pytest.raises(KeyboardInterrupt):
        git_branch.make_branch(repo, ("hoist-clients",), workers=1)
    assert list(scratch.iterdir()) == []
    assert (_state(repo), _branches(repo)) == before
    assert signal.getsignal(signal.SIGTERM) is not None


def test_file_modes_are_kept_and_broken_files_are_reported(repo: Path) -> None:
    handler = repo / "samples" / "tool.py"
    write(repo, {"samples/tool.py": HANDLER, "samples/bad.py": BROKEN})
    handler.chmod(handler.stat().st_mode | stat.S_IXUSR)
    _commit_all(repo, "tools")
    result = invoke(["branch", "-j", "1"], repo)
    assert result.exit_code == 3
    assert "samples/bad.py" in result.stderr and "created branch" in result.stderr
    assert git(repo, "ls-tree", "lambda-rewriter/all", "samples/tool.py").startswith("100755 ")
    assert git(repo, "diff", "--name-only", "main", "lambda-rewriter/all", "--", "samples/tool.py") == "samples/tool.py"


def test_safe_environment_appends_to_the_callers_overrides() -> None:
    env = git_branch.safe_environment({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c"})
    count = int(env["GIT_CONFIG_COUNT"])
    assert count > 1 + len(git_branch.SAFE_CONFIG)  # then the user's own transport settings
    assert all(f"GIT_CONFIG_KEY_{n}" in env and f"GIT_CONFIG_VALUE_{n}" in env for n in range(1, count))
    assert env["GIT_CONFIG_KEY_1"] == "core.fsmonitor" and env["GIT_CONFIG_VALUE_2"] == "/dev/null"
    assert "GIT_CONFIG_KEY_0" not in env


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    repo = _own(git_init(tmp_path / "repo"))
    (repo / os.fsdecode(b"caf\xe9.py")).write_text(HANDLER)
    _commit_all(repo)
    result = invoke(["branch", "-j", "1"], repo)
    assert result.exit_code == 0, result.output
    assert git(repo, "diff", "--name-only", "main", "lambda-rewriter/all") == '"caf\\351.py"'


def test_opt_in_codemods_run_only_when_named(tmp_path: Path) -> None:
    repo = _own(git_init(tmp_path / "repo"))
    write(repo, {"handler.py": (FIXTURES / "lazy-imports" / "except_branch.in.py").read_bytes()})
    _commit_all(repo)
    result = invoke(["branch", "-j", "1"], repo)
    assert result.exit_code == 0 and "nothing to change" in result.stderr
    result = invoke(["branch", "-j", "1", "-c", "lazy-imports"], repo)
    assert result.exit_code == 0, result.output
    trailers = git(repo, "log", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)", "main..lambda-rewriter/lazy-imports")
    assert trailers.split() == ["lazy-imports"]


def test_a_refused_push_says_what_the_remote_said_without_gitpython_wrapping() -> None:
    import git as gitpython

    from rewriter.git import _refusal

    stderr = (b"remote: POLICY: branches need a ticket        \nTo https://example.com/r.git\n"
              b" ! [remote rejected] lambda-rewriter/all -> lambda-rewriter/all (pre-receive hook declined)\n"
              b"error: failed to push some refs to 'https://example.com/r.git'\n")
    error = gitpython.GitCommandError(["git", "push"], 1, stderr=stderr, stdout=b"Done\n")
    assert _refusal(error) == (
        "POLICY: branches need a ticket; ! [remote rejected] lambda-rewriter/all -> lambda-rewriter/all "
        "(pre-receive hook declined); error: failed to push some refs to 'https://example.com/r.git'"
    )
