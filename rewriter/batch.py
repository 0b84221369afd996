"""Many repositories: a workspace of shallow clones, a ledger per repository, parallel runs, one report.

Per repository (``process``): look at the remote (``ls-remote``: its default branch, the base, and
whether the tool's branch is there already), fetch the base into the workspace clone (``git init`` +
``fetch --depth 1``, no checkout: nothing of the repository is ever run or even written out
except by ``git.make_branch``'s export), make the branch with one commit per codemod, then push it
(``--push``) or write ``<workspace>/patches/<key>.patch`` (the default, a dry run that touches no
remote). After each stage the repository's ledger file ``<workspace>/ledger/<key>.json`` is
replaced atomically, so a crash or Ctrl-C loses at most the stage in flight.

Re-runs are idempotent: a local branch that the ledger shows was built on the same base with the
same codemods is reused (no new commit), a remote branch that already holds it is not pushed
again, and a remote branch the tool made on the same base is left as it is ("skipped").

Why shallow clones are safe here although ``branch`` refuses them in a user's clone: there, the
existing-branch check walks history from the base and the push may go to a remote that lacks the
history under the shallow boundary. Here the base is fetched from the very remote the branch goes
to, and a local branch the ledger cannot vouch for is deleted before ``make_branch`` runs (the
workspace is the tool's own), so that check never walks shallow history. A partial clone
(``--filter=blob:none``) would not help: the export reads every blob of the base anyway, one at a
time, each a separate on-demand fetch.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import re
import shutil
import signal
import tempfile
import time
from typing import Any
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import git

from codemods import all_codemods
from rewriter import __version__, forge_run, gate
from rewriter import git as git_branch
from rewriter import git_safety
from rewriter.manifest import Repository
from rewriter.redaction import redact, redacted

DEFAULT_WORKSPACE = "lambda-rewriter-batch"
STAGES = ("cloned", "rewritten", "committed", "pushed")  # what a ledger entry's "stage" can say, in order
OK = ("pushed", "patched")  # outcomes; also "unchanged", "skipped", "tests-failed", "failed", "running" in flight
_BASE_REF = "refs/lambda-rewriter/base"
_REMOTE_REF = "refs/lambda-rewriter/remote-branch"


class BatchError(Exception):
    """The batch cannot start (workspace in use, executor missing); no repository was touched."""


@dataclasses.dataclass(frozen=True)
class Options:
    workspace: str
    push: bool = False
    codemods: tuple[str, ...] = ()  # for entries that name none
    branch: str | None = None  # for entries that name none
    author: str | None = None
    test_command: str | None = None  # for entries that name none; opt-in, it runs the repository's code
    test_timeout: int = gate.DEFAULT_TIMEOUT
    open_pr: bool = False  # the pull requests themselves are opened in the parent (forge_run), not in workers
    close_stale: bool = False  # the tool's branch on an older base: rewrite again to tell whether it is stale


# ---------------------------------------------------------------------------------------------- ledger


class Ledger:
    """One JSON file per repository, so that parallel workers never write the same file."""

    def __init__(self, workspace: Path) -> None:
        self.folder = workspace / "ledger"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def read(self, key: str) -> dict | None:
        try:
            entry = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry if isinstance(entry, dict) else None

    def write(self, entry: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry["updated"] = _now()
        data = (json.dumps(redacted(entry), indent=2, sort_keys=True) + "\n").encode()
        fd, temporary = tempfile.mkstemp(prefix=f".{entry['key']}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path(entry["key"]))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def is_done(entry: dict | None, push: bool, open_pr: bool = False) -> bool:
    """Whether ``--resume`` may skip the repository: a dry run's patch is not done for a --push run, nor a pushed
    branch without its pull request for an --open-pr run."""
    if not entry:
        return False
    if open_pr and not forge_run.is_handled(entry):
        return False
    outcome = entry.get("outcome")
    # tests-failed: the same request would meet the same tests; a changed one (same_request) is tried again.
    return outcome in ("pushed", "unchanged", "skipped", "tests-failed") or (outcome == "patched" and not push)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------- git


def git_environment() -> dict[str, str]:
    """Hooks, fsmonitor, transport helpers and prompts off (git.safe_environment); nor may ssh or a password ask."""
    env = git_branch.safe_environment()
    env["GIT_ASKPASS"] = "true"  # would answer an empty password: the request fails instead of waiting
    if "GIT_SSH_COMMAND" not in os.environ and "GIT_SSH" not in os.environ:
        env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
    return env


def _git(folder: Path) -> git.Git:
    runner = git.Git(str(folder))
    # The workspace's own clone, or no repository at all: never the configuration of one the workspace is in.
    runner.update_environment(**git_environment(), GIT_CEILING_DIRECTORIES=str(folder.absolute().parent))
    return runner


def _detail(error: git.GitCommandError) -> str:
    text = re.sub(r"^\s*stderr: '(.*)'\s*$", r"\1", error.stderr or "", flags=re.S)  # GitPython's wrapping
    return " ".join(text.split()) or str(error)


def remote_heads(runner: git.Git, url: str, names: list[str]) -> tuple[str | None, dict[str, str]]:
    """The remote's default branch (from its HEAD) and the shas of the refs asked for."""
    # The upload-pack for where git goes once url.<base>.insteadOf applies: a local path needs the safe one.
    upload_pack = git_branch.service_command(git_safety.fetch_url(runner, url), "upload-pack")
    out = str(runner.ls_remote("--symref", f"--upload-pack={upload_pack}", "--end-of-options", url, "HEAD", *names,
                               allow_unsafe_options=True))
    default: str | None = None
    heads: dict[str, str] = {}
    for line in out.splitlines():
        left, _, ref = line.partition("\t")
        if left.startswith("ref: ") and ref == "HEAD":
            default = left.removeprefix("ref: ").removeprefix("refs/heads/")
        elif ref in names or ref == "HEAD":
            heads[ref] = left
    return default, heads


def fetch(clone: Path, url: str, source: str, target: str, depth: int = 1) -> str:
    """Fetch one ref into ``clone`` (made here when missing), shallow; returns the fetched sha."""
    clone.mkdir(parents=True, exist_ok=True)
    # Every time: a no-op on a whole repository, a repair of one whose first `git init` was interrupted.
    _git(clone).init("-q", "--template=")  # no sample hooks copied in either
    runner = _git(clone)
    upload_pack = git_branch.service_command(git_safety.fetch_url(runner, url), "upload-pack")
    runner.fetch("-q", f"--depth={depth}", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head",
                 f"--upload-pack={upload_pack}", "--end-of-options", url, f"+{source}:{target}")
    return runner.rev_parse("--verify", f"{target}^{{commit}}")


def _sha(runner: git.Git, ref: str) -> str | None:
    try:
        return runner.rev_parse("--verify", "--quiet", ref)
    except git.GitCommandError:
        return None


def judge_remote_branch(runner: git.Git, base: str, limit: int) -> tuple[bool, list[dict], str]:
    """Walk the fetched remote branch down to ``base``: (made by the tool on this base?, its commits, why not)."""
    fmt = f"--format=%H %(trailers:key={git_branch.TRAILER_CODEMOD},valueonly,separator=%x2C)%x00%s"
    lines = runner.log("--first-parent", f"--max-count={limit}", fmt, _REMOTE_REF).splitlines()
    ours: list[dict] = []
    for line in lines:
        head, _, subject = line.partition("\0")
        sha, _, codemod = head.partition(" ")
        if sha == base:
            return bool(ours), ours, "" if ours else "it points at the base itself"
        if not codemod.strip():
            if ours:
                return False, ours, f"made by lambda-rewriter on another base ({sha[:12]})"
            return False, ours, "it has commits lambda-rewriter did not make"
        ours.insert(0, {"codemod": codemod.strip(), "sha": sha, "subject": subject, "files": []})
    return False, ours, "it does not start from the base"


def _stats(runner: git.Git, base: str, tip: str) -> dict:
    files, added, removed = 0, 0, 0
    for line in runner.diff("--numstat", "--no-renames", "--no-ext-diff", "--no-textconv", base, tip).splitlines():
        plus, minus, _ = line.split("\t", 2)
        files += 1
        added += int(plus) if plus.isdigit() else 0
        removed += int(minus) if minus.isdigit() else 0
    return {"files_changed": files, "lines_added": added, "lines_removed": removed}


def _by_codemod(changes: list[dict], notes: list[dict]) -> dict:
    summary: dict[str, dict[str, int]] = {}
    for kind, items in (("changes", changes), ("notes", notes)):
        for item in items:
            summary.setdefault(item["codemod"], {"changes": 0, "notes": 0})[kind] += 1
    return summary


# ---------------------------------------------------------------------------------------------- one repository


def process(repo: Repository, options: Options) -> dict:
    """Everything for one repository; never raises for the repository's own problems (they end as "failed")."""
    workspace = Path(options.workspace)
    ledger = Ledger(workspace)
    previous = ledger.read(repo.key) or {}
    codemods, branch = _codemods_and_branch(repo, options)
    command = chosen_test_command(repo, options)
    entry = {
        "key": repo.key, "repository": repo.shown, "line": repo.line, "branch": branch, "codemods": list(codemods),
        "include": list(repo.include), "exclude": list(repo.exclude),
        "version": __version__, "stage": None, "outcome": "running", "failed_stage": None, "reason": None,
        "attempts": int(previous.get("attempts", 0)) + 1, "started": _now(), "push": options.push,
        "base_branch": None, "base": None, "tip": None, "commits": [], "files_changed": 0, "lines_added": 0,
        "lines_removed": 0, "by_codemod": {}, "changes": [], "notes": [], "file_errors": [], "patch": None,
        "pushed_tip": previous.get("pushed_tip"), "pushed_now": False, **_test_request(command, options),
        "tests": None, "warnings": [], "pr": _earlier(previous.get("pr")), "pr_error": None,
    }
    ledger.write(entry)
    where = ["clone"]
    try:
        _process(repo, options, workspace, ledger, previous, entry, branch, tuple(codemods), where, command)
    except (git_branch.GitError, git_safety.UnsafeURL) as error:
        _failed(entry, where[0], str(error))
    except git.GitCommandError as error:
        _failed(entry, where[0], f"git {error.command[1] if len(error.command) > 1 else ''} failed: {_detail(error)}")
    except OSError as error:
        _failed(entry, where[0], f"{type(error).__name__}: {error}")
    except Exception as error:  # a bug must not stop the other repositories
        _failed(entry, where[0], f"internal error: {type(error).__name__}: {error}")
    if entry["reason"]:  # git's messages spell the URL their own way, GitPython's name the command line
        entry["reason"] = redact(entry["reason"], repo.url)
    ledger.write(entry)
    return entry


def _earlier(pr: dict | None) -> dict | None:
    """An earlier run's pull request: still the repository's, but nothing this run did to it (yet)."""
    return {**pr, "action": None} if pr else None


def _codemods_and_branch(repo: Repository, options: Options) -> tuple[tuple[str, ...], str]:
    codemods = tuple(repo.codemods or options.codemods)
    return codemods, repo.branch or options.branch or git_branch.default_branch_name(codemods)


def chosen_test_command(repo: Repository, options: Options) -> str | None:
    """The manifest's test-command ("" for none), else --test-command."""
    command = repo.test_command if repo.test_command is not None else options.test_command
    return command or None


def _test_request(command: str | None, options: Options) -> dict:
    """As the ledger keeps it: credentials hidden, so compared hidden too."""
    return {"test_command": gate.shown(command) if command else None,
            "test_timeout": options.test_timeout if command else None}


def same_request(entry: dict, repo: Repository, options: Options) -> bool:
    """Whether a ledger entry was made for what this run asks of ``repo`` (the manifest may have changed)."""
    codemods, branch = _codemods_and_branch(repo, options)
    tests = _test_request(chosen_test_command(repo, options), options)
    return (entry.get("codemods") == list(codemods) and entry.get("branch") == branch
            and (repo.base is None or entry.get("base_branch") == repo.base)
            and entry.get("include", []) == list(repo.include) and entry.get("exclude", []) == list(repo.exclude)
            and all(entry.get(key) == value for key, value in tests.items()))


def _failed(entry: dict, stage: str, reason: str) -> None:
    entry.update(outcome="failed", failed_stage=stage, reason=reason)


def _process(repo, options, workspace, ledger, previous, entry, branch, codemods, where, command=None) -> None:
    """``where[0]``: the stage in flight, for the ledger when it fails."""
    clone = workspace / "repos" / repo.key
    ref = f"refs/heads/{branch}"
    default, heads = remote_heads(_git(workspace), repo.url, [ref] + ([f"refs/heads/{repo.base}"] if repo.base else []))
    base_branch = repo.base or default
    if base_branch is None:
        raise git_branch.GitError("the remote has no default branch (HEAD): it is empty, or name the base in the "
                                  "manifest")
    if f"refs/heads/{base_branch}" not in heads and repo.base is None:
        _, more = remote_heads(_git(workspace), repo.url, [f"refs/heads/{base_branch}"])
        heads.update(more)
    if f"refs/heads/{base_branch}" not in heads:
        raise git_branch.GitError(f"base branch {base_branch} does not exist on the remote")
    base = fetch(clone, repo.url, f"refs/heads/{base_branch}", _BASE_REF)
    runner = _git(clone)
    entry.update(stage="cloned", base_branch=base_branch, base=base)
    ledger.write(entry)

    where[0] = "branch"
    same_run = previous.get("base") == base and previous.get("version") == __version__ \
        and same_request(previous, repo, options)
    local = _sha(runner, ref)
    reuse = same_run and previous.get("stage") in ("committed", "pushed") and local and previous.get("tip") == local
    if local and not reuse:
        # The workspace clone is the tool's own: a branch it cannot vouch for is rebuilt, never pushed as is.
        runner.update_ref("-d", ref, local)
    remote_tip = heads.get(ref)
    if remote_tip is not None and not (reuse and remote_tip == local):
        fetch(clone, repo.url, ref, _REMOTE_REF, depth=len(all_codemods()) + 2)
        made_here, commits, why = judge_remote_branch(runner, base, len(all_codemods()) + 2)
        if not commits:  # someone else's branch: never overwritten
            raise git_branch.GitError(f"branch {branch} exists on the remote and is left alone: {why}")
        # The tool's own branch (an earlier run, maybe from another workspace): a review may be under way on it.
        on = "this base" if made_here else "an older base"
        if not made_here and options.close_stale and _nothing_left(repo, options, clone, runner, base, branch, codemods,
                                                                    command, entry):
            entry.update(stage="rewritten", outcome="unchanged", reason="nothing left to change on the base: the "
                         "tool's branch on the remote is stale")
            return
        entry.update(outcome="skipped", tip=remote_tip, commits=commits, reason="the branch is on the remote already, "
                     f"made by lambda-rewriter on {on}; left as it is")
        if made_here:
            entry.update(_stats(runner, base, remote_tip))
        return
    where[0] = "rewrite"
    if reuse:
        for key in ("tip", "commits", "files_changed", "lines_added", "lines_removed", "by_codemod", "changes",
                    "notes", "file_errors", "tests", "warnings"):
            entry[key] = previous.get(key)
    elif same_run and previous.get("stage") == "rewritten" and previous.get("outcome") == "unchanged":
        entry.update(stage="rewritten", outcome="unchanged", notes=previous.get("notes", []),
                     by_codemod=previous.get("by_codemod", {}))
        return
    else:
        outcome = git_branch.make_branch(
            clone, codemods, branch=branch, base=base, on_existing="fail", author=options.author, workers=1,
            shallow_ok=True, keep=repo.keeps if (repo.include or repo.exclude) else None,
            test_command=command, test_timeout=options.test_timeout,
        )
        entry.update(
            file_errors=[{"path": p, "reason": why} for p, why in outcome.failures],
            changes=outcome.changes, notes=outcome.notes, by_codemod=_by_codemod(outcome.changes, outcome.notes),
            tests=outcome.tests.as_json() if outcome.tests else None, warnings=outcome.warnings,
        )
        if outcome.status == "tests-failed":
            assert outcome.tests is not None
            entry.update(stage="rewritten", outcome="tests-failed", reason=outcome.tests.sentence())
            return
        if not outcome.commits:
            entry.update(stage="rewritten", outcome="unchanged")
            _file_errors(entry)
            return
        entry.update(
            stage="committed", tip=outcome.commits[-1].sha,
            commits=[{"codemod": c.codemod, "sha": c.sha, "subject": c.subject, "files": c.files}
                     for c in outcome.commits],
            **_stats(runner, base, outcome.commits[-1].sha),
        )
    entry["stage"] = "committed"
    ledger.write(entry)

    if options.push:
        where[0] = "push"
        entry["pushed_now"] = remote_tip != entry["tip"]
        if entry["pushed_now"]:
            repository = git_branch.open_repository(clone, shallow_ok=True)
            try:
                git_branch._push(repository, repo.url, branch, entry["tip"], None)
            finally:
                repository.close()
        entry.update(stage="pushed", outcome="pushed", pushed_tip=entry["tip"])
    else:
        where[0] = "patch"
        patches = workspace / "patches"
        patches.mkdir(parents=True, exist_ok=True)
        text = runner.format_patch("--stdout", "--no-signature", "--no-ext-diff", "--no-textconv",
                                   f"{base}..{entry['tip']}",
                                   stdout_as_string=False, strip_newline_in_stdout=False)
        target = patches / f"{repo.key}.patch"
        target.write_bytes(text)
        entry.update(outcome="patched", patch=str(target))
    _file_errors(entry)


def _nothing_left(repo, options, clone, runner, base, branch, codemods, command, entry) -> bool:
    """--close-stale: whether the codemods change nothing on the new base. The commits a rewrite makes here are
    not kept: the remote branch stays as it is either way, and only its pull request may be closed."""
    outcome = git_branch.make_branch(
        clone, codemods, branch=branch, base=base, on_existing="fail", author=options.author, workers=1,
        shallow_ok=True, keep=repo.keeps if (repo.include or repo.exclude) else None,
        test_command=None, test_timeout=options.test_timeout,
    )
    local = _sha(runner, f"refs/heads/{branch}")
    if local:
        runner.update_ref("-d", f"refs/heads/{branch}", local)
    if outcome.commits or outcome.failures:
        return False
    entry.update(notes=outcome.notes, by_codemod=_by_codemod([], outcome.notes))
    return True


def _file_errors(entry: dict) -> None:
    errors = entry.get("file_errors") or []
    if errors:
        noun = "file" if len(errors) == 1 else "files"
        listed = "; ".join(f"{e['path']}: {e['reason']}" for e in errors[:3])
        _failed(entry, "rewrite", f"{len(errors)} {noun} could not be processed (the others were): {listed}")


# ---------------------------------------------------------------------------------------------- many repositories


class Events:
    """What the display hears: a repository started (when known) and finished."""

    def started(self, repo: Repository) -> None: ...

    def finished(self, entry: dict, resumed: bool = False) -> None: ...


@contextlib.contextmanager
def workspace_lock(workspace: Path) -> Iterator[None]:
    """One batch per workspace at a time: two would write the same clones and ledger files."""
    import fcntl

    try:
        workspace.mkdir(parents=True, exist_ok=True)
        (workspace / ".lock").touch()
    except OSError as error:
        raise BatchError(f"{workspace}: cannot use it as the workspace: {error.strerror or error}") from None
    with open(workspace / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BatchError(f"{workspace}: another batch is running in this workspace") from None
        yield


@contextlib.contextmanager
def _term_as_interrupt() -> Iterator[None]:
    from rewriter.pool import Terminated

    def handler(signum, frame):
        raise Terminated  # a KeyboardInterrupt that remembers it was SIGTERM: exit 143, not 130

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(
    repos: list[Repository],
    options: Options,
    *,
    jobs: int = 1,
    resume: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    events: Events | None = None,
    pull_requests: forge_run.PullRequests | None = None,
) -> list[dict]:
    """Process the repositories; returns one ledger entry per repository, in manifest order. Interrupted (Ctrl-C,
    SIGTERM): raises ``Interrupted`` with the entries of the repositories that finished."""
    events = events or Events()
    workspace = Path(options.workspace)
    ledger = Ledger(workspace)
    try:
        ledger.folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BatchError(f"{ledger.folder}: cannot hold the ledger: {error.strerror or error}") from None
    entries: dict[str, dict] = {}
    todo = []
    for repo in repos:
        old = ledger.read(repo.key)
        if resume and old is not None and is_done(old, options.push, options.open_pr) and same_request(old, repo, options):
            entries[repo.key] = {**old, "resumed": True, "pushed_now": False}
            events.finished(entries[repo.key], resumed=True)
        else:
            todo.append(repo)
    if todo and executor == "local" and options.author is None:
        _check_identity(workspace)

    by_key = {repo.key: repo for repo in repos}

    def finished(entry: dict) -> None:
        if pull_requests is not None and entry.get("key") in by_key:
            pull_requests.handle(entry, by_key[entry["key"]])
            ledger.write(entry)
        entries[entry["key"]] = entry
        events.finished(entry)

    try:
        with _term_as_interrupt():
            if executor == "dask":
                _run_dask(todo, options, scheduler, ledger, events, finished)
            elif jobs <= 1 or len(todo) <= 1:
                with _scratch_root() as scratch, _temporary_files_in(scratch):
                    for repo in todo:
                        events.started(repo)
                        finished(process(repo, options))
            else:
                with _scratch_root() as scratch:
                    _run_pool(todo, options, jobs, events, finished, scratch)
    except KeyboardInterrupt as interrupt:
        # The scratch folder is gone by now (its finally ran): what is left to do is the report of what finished.
        done = [entries[r.key] for r in repos if r.key in entries]
        raise Interrupted(done, len(repos) - len(done), getattr(interrupt, "signum", signal.SIGINT)) from None
    return [entries[r.key] for r in repos]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the batch: ``entries`` finished, ``left`` did not (their ledger keeps each stage)."""

    def __init__(self, entries: list[dict], left: int, signum: int) -> None:
        super().__init__()
        self.entries, self.left, self.signum = entries, left, signum


# The folder in $TMPDIR under which one batch run's workers make their temporary exports (make_branch's).
_SCRATCH = "lambda-rewriter-batch-"


@contextlib.contextmanager
def _scratch_root() -> Iterator[str]:
    """A folder of this run's own for the temporary exports, removed by this process once every worker has
    stopped. A worker stopped while it removed its export (Ctrl-C; SIGTERM; SIGKILL after five seconds)
    would otherwise leave half of it in $TMPDIR. Folders of earlier runs whose process is gone go too."""
    _remove_stale_scratch()
    root = tempfile.mkdtemp(prefix=f"{_SCRATCH}{os.getpid()}-")
    try:
        yield root
    finally:
        with _signals_held():  # a second Ctrl-C waits for the removal, then stops the run as the first would
            shutil.rmtree(root, ignore_errors=True)


def _remove_stale_scratch() -> None:
    from rewriter.writeback import _alive

    top = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for entry in os.scandir(top):
            pid = entry.name[len(_SCRATCH):].partition("-")[0]
            if (entry.name.startswith(_SCRATCH) and pid.isdigit() and not _alive(int(pid))
                    and entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.geteuid()):
                shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (blocked, not lost) until the block is done; only the main thread can say so."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def _temporary_files_in(folder: str) -> Iterator[None]:
    previous = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = previous


def _check_identity(workspace: Path) -> None:
    """Without --author the commits need git's own identity: missing, every repository would fail after its clone."""
    runner = _git(workspace)
    runner.update_environment(GIT_CEILING_DIRECTORIES=str(workspace.parent))  # not the config of a repository above
    try:
        runner.var("GIT_AUTHOR_IDENT")
        runner.var("GIT_COMMITTER_IDENT")
    except git.GitCommandError:
        raise BatchError('git knows no author and committer for the commits: pass --author "NAME <EMAIL>", or set '
                         "git config --global user.name and user.email") from None


def _run_pool(todo, options, jobs, events, finished, scratch: str) -> None:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_worker_setup, initargs=(scratch,))
    waiting = {pool.submit(_pool_process, repo, options): repo for repo in todo}
    seen = set()
    try:
        while waiting:
            done, _ = wait(waiting, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in list(waiting):
                if future not in seen and future.running():
                    seen.add(future)
                    events.started(waiting[future])
            for future in done:
                repo = waiting.pop(future)
                try:
                    finished(future.result())
                except Exception as error:  # the worker process died (out of memory, killed)
                    entry = _lost(repo, options, f"worker process failed: {type(error).__name__}: {error}")
                    finished(entry)
        pool.shutdown()
    except BaseException:
        # Ctrl-C reached the workers too; stop them before they take the next repository.
        # Ctrl-C: the workers ignore it; stop them before they take the next repository. The ledger
        # holds every stage they finished; make_branch turns SIGTERM into removing its temporary folder.
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.terminate()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.join(5)
                if worker.is_alive():
                    worker.kill()
        raise


def _worker_setup(scratch: str) -> None:
    """In a pool worker: Ctrl-C is for the parent, which decides; SIGTERM ends the worker. Temporary exports
    go below the run's scratch folder, which the parent removes whatever state the worker left it in."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tempfile.tempdir = scratch
    os.environ["TMPDIR"] = scratch


def _pool_process(repo: Repository, options: Options) -> dict:
    try:
        return process(repo, options)
    except KeyboardInterrupt:  # SIGTERM inside make_branch, after it removed its temporary folder
        os._exit(130)


def _lost(repo: Repository, options: Options, reason: str) -> dict:
    ledger = Ledger(Path(options.workspace))
    entry = ledger.read(repo.key) or {"key": repo.key, "repository": repo.shown, "line": repo.line, "stage": None}
    _failed(entry, {"cloned": "rewrite", "committed": "push"}.get(entry.get("stage") or "", "clone"),
            redact(reason, repo.url))
    ledger.write(entry)
    return entry


def _run_dask(todo, options, scheduler, ledger, events, finished) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BatchError("--executor dask needs Dask distributed: pip install 'lambda-rewriter[dask]'") from None
    if not scheduler:
        raise BatchError("--executor dask needs --scheduler ADDRESS (tcp://host:8786)")
    try:
        client = Client(scheduler, timeout=30, set_as_default=False)
    except OSError as error:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        futures = {
            client.submit(process, repo, options, pure=False, key=f"lambda-rewriter-{repo.key}-{time.time_ns()}"): repo
            for repo in todo
        }
        for repo in todo:
            events.started(repo)
        for future in as_completed(futures, loop=client.loop):
            repo = futures[future]
            try:
                entry = future.result()
            except Exception as error:
                entry = _lost(repo, options, f"Dask task failed: {type(error).__name__}: {error}")
            # Workers write the ledger on a shared workspace; written here too, so it holds when they do not share it.
            ledger.write(entry)
            finished(entry)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------- report


def outcome_counts(entries: list[dict]) -> Counter:
    return Counter("ok" if e.get("outcome") in OK else e.get("outcome") or "running" for e in entries)


def exit_status(entries: list[dict]) -> int:
    return 3 if any(e.get("outcome") not in (*OK, "unchanged", "skipped") or e.get("pr_error") for e in entries) else 0


def report(entries: list[dict], options: Options, manifest: str) -> dict:
    totals: dict[str, Any] = {
        "repositories": len(entries),
        **{name: outcome_counts(entries)[name] for name in ("ok", "unchanged", "skipped", "failed")},
        "tests_failed": outcome_counts(entries)["tests-failed"],
        "pull_requests": dict(pr_counts(entries)),
        "commits": sum(len(e.get("commits") or []) for e in entries),
        "files_changed": sum(e.get("files_changed") or 0 for e in entries),
        "lines_added": sum(e.get("lines_added") or 0 for e in entries),
        "lines_removed": sum(e.get("lines_removed") or 0 for e in entries),
        "by_codemod": {},
    }
    for e in entries:
        for codemod, counts in (e.get("by_codemod") or {}).items():
            into = totals["by_codemod"].setdefault(codemod, {"changes": 0, "notes": 0})
            into["changes"] += counts["changes"]
            into["notes"] += counts["notes"]
    keys = ("repository", "key", "outcome", "stage", "failed_stage", "reason", "branch", "base_branch", "base", "tip",
            "commits", "files_changed", "lines_added", "lines_removed", "by_codemod", "changes", "notes",
            "file_errors", "patch", "attempts", "updated", "resumed", "pushed_now", "test_command", "tests",
            "warnings", "pr", "pr_error")
    return {
        "tool": "lambda-rewriter", "version": __version__, "command": "batch", "manifest": manifest,
        "push": options.push, "workspace": options.workspace,
        "repositories": [redacted({k: e.get(k) for k in keys}) for e in entries],
        "totals": totals, "exit_status": exit_status(entries),
    }


def pr_counts(entries: list[dict]) -> Counter:
    """What happened to each pull request this run: opened, updated, unchanged, left, closed, failed."""
    return Counter("failed" if e.get("pr_error") else e["pr"]["action"] for e in entries
                   if e.get("pr_error") or (e.get("pr") or {}).get("action"))


def summary_line(entries: list[dict]) -> str:
    counts = outcome_counts(entries)
    tests = f", {counts['tests-failed']} tests-failed" if counts["tests-failed"] else ""
    # Every row is counted once, under the word its row shows: a repository still running when the run
    # stopped is "not finished", not an error the rows do not show.
    running = f", {counts['running']} not finished" if counts["running"] else ""
    line = (f"{counts['ok']} OK, {counts['unchanged']} unchanged, {counts['skipped']} skipped{tests}, "
            f"{counts['failed']} errored{running}")
    prs = pr_counts(entries)
    if prs:
        order = ("opened", "updated", "unchanged", "left", "closed", "failed")
        line += "; pull requests: " + ", ".join(f"{prs[k]} {k}" for k in order if prs[k])
    return line


def markdown(entries: list[dict], options: Options) -> str:
    """A summary fit to paste into a tracking issue."""
    mode = "pushed" if options.push else "dry run (patches in the workspace)"
    with_prs = any(e.get("pr") or e.get("pr_error") for e in entries)
    lines = [f"### lambda-rewriter batch: {summary_line(entries)}", "", f"Mode: {mode}.", "",
             "| repository | outcome | branch | commits | files | lines | notes |" + (" pull request |" if with_prs else ""),
             "| --- | --- | --- | ---: | ---: | ---: | --- |" + (" --- |" if with_prs else "")]
    for e in map(redacted, entries):  # before any formatting: a credential cut by an escape would show
        outcome = e.get("outcome") or "running"
        if outcome == "failed":
            outcome = f"failed at {e.get('failed_stage')}: {e.get('reason')}"
        elif outcome in ("skipped", "tests-failed") and e.get("reason"):
            outcome = f"{outcome}: {e['reason']}"
        tests = e.get("tests") or {}
        if outcome in OK and tests and tests["before"]["status"] != "passed":  # landed, but the tests judged nothing
            outcome += f" (tests: {tests['before']['status']} before the rewrite, {tests['after']['status']} after)"
        has_branch = e.get("commits") or e.get("outcome") == "skipped"
        notes = sum(c.get("notes", 0) for c in (e.get("by_codemod") or {}).values())
        cells = [
            e.get("repository", ""), outcome, f"`{e['branch']}`" if has_branch and e.get("branch") else "",
            str(len(e.get("commits") or [])), str(e.get("files_changed") or 0),
            f"+{e.get('lines_added') or 0} -{e.get('lines_removed') or 0}", str(notes),
        ] + ([_pr_cell(e)] if with_prs else [])
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines + _test_tails(entries)) + "\n"


def _pr_cell(entry: dict) -> str:
    pr = entry.get("pr") or {}
    if entry.get("pr_error"):
        return f"failed: {entry['pr_error']}"
    if not pr:
        return ""
    mine = "" if pr.get("ours") else ", someone else's"
    return f"[#{pr['number']}]({pr['url']}) {pr['state']}{mine} ({pr['action'] or 'an earlier run'})"


def _test_tails(entries: list[dict]) -> list[str]:
    """The end of the output of the tests a rewrite broke, one folded block per repository."""
    lines = []
    for e in entries:
        tail = ((e.get("tests") or {}).get("after") or {}).get("tail")
        if e.get("outcome") != "tests-failed" or not tail:
            continue
        fence = "~" * max([3] + [len(line) - len(line.lstrip("~")) + 1 for line in tail])  # no line closes it
        lines += ["", f"<details><summary>{_html(e.get('repository', ''))}: the last lines of the tests after the "
                  "rewrite</summary>", "", fence, *tail, fence, "", "</details>"]
    return lines


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def describe(entry: dict) -> str:
    """One log line for a finished repository."""
    entry = redacted(entry)
    outcome = entry.get("outcome")
    name = entry.get("repository", entry.get("key"))
    if outcome == "failed":
        return f"{'failed':<9} {name}: {entry.get('failed_stage')}: {entry.get('reason')}"
    count = len(entry.get("commits") or [])
    commits = f"{count} commit{'' if count == 1 else 's'}"
    # A re-run finds the branch on the remote already: say so, a reader would count a second push.
    pushed = "pushed" if entry.get("pushed_now") or entry.get("resumed") else "already on the remote:"
    detail = {
        "pushed": f"{pushed} {entry.get('branch')} ({commits})",
        "patched": f"{commits}, patch {entry.get('patch')}",
        "unchanged": "nothing to change",
        "skipped": f"skipped: {entry.get('reason')}",
        "tests-failed": f"{entry.get('reason')}; not committed, not pushed",
    }.get(outcome or "", outcome or "")
    earlier = " (done in an earlier run)" if entry.get("resumed") else ""
    pr = entry.get("pr") or {}
    if entry.get("pr_error"):
        detail += f"; pull request failed: {entry['pr_error']}"
    elif pr.get("action"):
        detail += f"; pull request {pr.get('url')} {pr.get('action')}" + (f": {pr['reason']}" if pr.get("reason") else "")
    return f"{'ok' if outcome in OK else outcome:<9} {name}: {detail}{earlier}"


def short_name(shown: str) -> str:
    """``orders-service`` for ``https://github.com/acme/orders-service.git`` or ``/work/fleet/orders-service.git``."""
    name = shown.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return name[: -len(".git")] if name.endswith(".git") and len(name) > len(".git") else name


class Display(Events):
    """Rich progress on a terminal (done, failed, in flight), plain log lines otherwise."""

    def __init__(self, total: int, console, jobs: int | None) -> None:
        self.total, self.console, self.jobs = total, console, jobs
        self.done = self.failed = self.in_flight = 0
        self.flying: dict[str, str] = {}  # key -> short name, in the order they started
        self.progress = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # rich's default bar is red-pink: green while nothing failed, red from the first failure.
            self.bar = BarColumn(complete_style="green", finished_style="green")
            self.progress = Progress(TextColumn("{task.description}"), self.bar, MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=console, transient=True)
            self.task = self.progress.add_task(self._text(), total=total)

    def _text(self) -> str:
        # A process pool marks a few queued repositories as running already: never more than the workers.
        flying = self.in_flight if self.jobs is None else min(self.in_flight, self.jobs)
        names = list(self.flying.values())[:flying]
        shown = f": {', '.join(names[:3])}{', ...' if len(names) > 3 else ''}" if names else ""
        return f"done {self.done}, failed {self.failed}, in flight {flying}{shown}"

    def __enter__(self) -> Display:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()

    def started(self, repo: Repository) -> None:
        self.in_flight += 1
        self.flying[repo.key] = short_name(repo.shown)
        self._update()

    def finished(self, entry: dict, resumed: bool = False) -> None:
        if not resumed:
            self.in_flight = max(0, self.in_flight - 1)
        self.flying.pop(entry.get("key", ""), None)
        if entry.get("outcome") in ("failed", "tests-failed"):
            self.failed += 1
            if self.progress is not None:
                self.bar.complete_style = self.bar.finished_style = "red"
        else:
            self.done += 1
        self.console.print(describe(entry), markup=False, highlight=False, soft_wrap=True)
        self._update(advance=1)

    def _update(self, advance: int = 0) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=self._text(), advance=advance)
