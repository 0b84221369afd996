"""Branches with one commit per codemod, made without touching the user's checkout.

The base tree is exported blob by blob into a temporary folder (no checkout, so no smudge filter,
no hook, no fsmonitor), the codemods run there in one pass, as `diff` and `apply` run them, and the
pass is cut into one commit per codemod (the tip holds exactly what `diff` shows), committed with
plumbing (`hash-object`, `update-index` on a temporary index, `write-tree`, `commit-tree`,
`update-ref`) through GitPython's command line wrapper. The user's working tree, index, stash and
HEAD are never written; the repository only gains objects and one ref (and its reflog).
Every git call runs with configuration overridden through the environment, and the push runs from a
repository the tool makes, so no program named in the repository's configuration runs: the model is in
rewriter/git_safety.py. The branch's ref is locked and checked before the push and written after it.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import git

from codemods import all_codemods, select
from rewriter import __version__, config, engine, findings, gate, git_safety
from rewriter.engine import FileResult, Status
from rewriter.plan import plan
from rewriter.report import Report
from rewriter.writeback import WriteBack

TRAILER_CODEMOD = "Lambda-Rewriter-Codemod"
TRAILER_VERSION = "Lambda-Rewriter-Version"
ON_EXISTING = ("fail", "skip", "replace")

# Kept here for callers of the engine's git module; git_safety holds the model.
SAFE_CONFIG = git_safety.OVERRIDES
safe_environment = git_safety.safe_environment
service_command = git_safety.service_command
is_local = git_safety.is_local


class GitError(Exception):
    """The repository or the request cannot be served; nothing was changed."""


class BadRequest(GitError):
    """A name, an URL or an identity given on the command line is not acceptable."""


class PushIncomplete(GitError):
    """A remote with several push URLs took the branch at some of them, then one refused it."""


@dataclasses.dataclass
class Commit:
    codemod: str
    sha: str
    subject: str
    files: list[str]


@dataclasses.dataclass
class Outcome:
    branch: str
    status: str  # "created", "replaced", "nothing to change", "skipped", "tests-failed"
    base: str
    commits: list[Commit] = dataclasses.field(default_factory=list)
    failures: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    pushed: str | None = None
    # Every change and note of the run, as {codemod, path, line, message}: for reports over many repositories.
    changes: list[dict] = dataclasses.field(default_factory=list)
    notes: list[dict] = dataclasses.field(default_factory=list)
    # --test-command: the tests on the base and on the rewrite (None: not asked for, or nothing changed).
    tests: gate.Verdict | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)


def open_repository(path: Path, shallow_ok: bool = False) -> git.Repo:
    # A path that is no repository is a usage error (exit 2), as a missing PATH is for the other commands.
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise BadRequest(f"{path}: no such folder") from None
    except git.InvalidGitRepositoryError:
        raise BadRequest(f"{path}: not a git repository") from None
    repo.git.update_environment(**safe_environment())
    if repo.bare:
        raise BadRequest(f"{path}: a bare repository; run branch in a clone with a working tree")
    # A user's shallow clone may lack what the branch check and the push need; batch's clones are made for it.
    if not shallow_ok and repo.git.rev_parse("--is-shallow-repository") == "true":
        raise GitError(f"{repo.working_tree_dir}: a shallow clone; fetch the whole history first (git fetch --unshallow)")
    return repo


def _uncommitted(repo: git.Repo) -> bool:
    """Edits to tracked files, staged or not. Stat and index only: no file content is read, so no filter runs."""
    for command in (("diff-index", "--cached", "--quiet", "--ignore-submodules", "HEAD"),
                    ("diff-files", "--quiet", "--ignore-submodules")):
        try:
            repo.git.execute(["git", *command])
        except git.GitCommandError:
            return True
    return False


def check_remote_url(url: str) -> None:
    """Refuse what would make git run a transport helper or read an option: ext::, fd::, foo://, -x."""
    try:
        git_safety.check_remote_url(url)
    except git_safety.UnsafeURL as error:
        raise BadRequest(str(error)) from None


def check_remote(repo: git.Repo, remote: str) -> None:
    """Every URL a push to ``remote`` (a remote's name, an URL or a path) would reach, checked after rewriting."""
    if remote.startswith("-"):
        raise BadRequest(f"remote {remote!r}: not an acceptable name")
    with tempfile.TemporaryDirectory(prefix="lambda-rewriter-push-") as folder:
        _push_urls(git_safety.PushRepository(repo, Path(folder)), repo, remote)


def _push_urls(pusher: git_safety.PushRepository, repo: git.Repo, remote: str) -> list[tuple[str, str]]:
    configured = git_safety.remote_urls(repo, remote)
    if configured is not None and not any(configured):
        raise GitError(f"remote {remote} has no URL")
    try:
        return pusher.configure(remote, *(configured or ([], [])))
    except git_safety.UnsafeURL as error:
        raise BadRequest(str(error)) from None


def check_branch_name(repo: git.Repo, name: str) -> str:
    if not name or name.startswith("-"):
        raise BadRequest(f"branch {name!r}: not an acceptable branch name")
    try:
        repo.git.check_ref_format(f"refs/heads/{name}")  # not --branch: that would expand @{-1}
        return name
    except git.GitCommandError:
        raise BadRequest(f"branch {name!r}: not an acceptable branch name") from None


def parse_author(text: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*([^<>]*?)\s*<([^<>\s]+)>\s*", text)
    if not match or not match.group(1):
        raise BadRequest(f"--author {text!r}: expected \"Name <email>\"")
    return match.group(1), match.group(2)


def _resolve_base(repo: git.Repo, base: str | None) -> str:
    if base is None or base == "HEAD":
        if repo.head.is_detached:
            raise GitError("HEAD is detached; name the base with --base (a branch, tag or commit)")
        if not repo.head.is_valid():
            raise GitError("the current branch has no commits yet; nothing to branch from")
        return repo.head.commit.hexsha
    if base.startswith("-"):
        raise BadRequest(f"--base {base!r}: not an acceptable revision")
    try:
        return repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{base}^{{commit}}")
    except git.GitCommandError:
        raise GitError(f"base {base!r} does not exist (no such branch, tag or commit)") from None


def _branch_sha(repo: git.Repo, name: str) -> str | None:
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"refs/heads/{name}")
    except git.GitCommandError:
        return None


def _checked_out(repo: git.Repo, name: str) -> bool:
    listing = repo.git.worktree("list", "--porcelain")
    return f"branch refs/heads/{name}" in listing.splitlines()


def _foreign_commits(repo: git.Repo, base: str, tip: str) -> list[str]:
    """Commits on the branch (since the base) that the tool did not make."""
    fmt = f"--format=%H %(trailers:key={TRAILER_CODEMOD},valueonly,separator=%x2C)"
    lines = repo.git.log(fmt, f"{base}..{tip}").splitlines()
    return [line.split(" ", 1)[0] for line in lines if not line.partition(" ")[2].strip()]


@contextlib.contextmanager
def _interrupt_as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so that the temporary folder always goes away."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Scratch:
    """The base tree exported into a temporary folder, with its own index."""

    def __init__(self, repo: git.Repo, base: str, folder: Path) -> None:
        self.repo, self.tree, self.index = repo, folder / "tree", folder / "index"
        self.env = {"GIT_INDEX_FILE": str(self.index)}
        self.modes: dict[str, str] = {}
        self.tree.mkdir()
        (self.tree / ".git").mkdir()  # so that discovery takes this folder as the repository root
        repo.git.read_tree(base, env=self.env)
        raw = repo.git.ls_tree("-r", "-z", "--full-tree", base, stdout_as_string=False, strip_newline_in_stdout=False)
        listing = raw.decode("utf-8", "surrogateescape")  # file names are bytes to git
        for entry in filter(None, listing.split("\0")):
            info, path = entry.split("\t", 1)
            mode, kind, sha = info.split()
            if kind != "blob" or mode not in ("100644", "100755") or not _safe_path(path):
                continue  # symlinks, submodules: never rewritten, so not needed here
            target = self.tree.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                data = repo.odb.stream(bytes.fromhex(sha)).read()
            except ValueError:  # GitPython's word for "git cat-file says missing"
                raise GitError(
                    f"the base commit lacks the content of {path} (a partial, shallow or LFS-less clone?): "
                    "fetch the missing objects first, or run `lambda-rewriter apply` in a full checkout"
                ) from None
            target.write_bytes(data)
            if mode == "100755":
                target.chmod(0o755)
            self.modes[path] = mode

    def record(self, files: list[tuple[str, bytes]]) -> None:
        """New contents for some files (relative "/" paths), in the exported tree and the index. Only once the
        codemods' one pass is over: they read the base."""
        records = []
        for path, data in files:
            (self.tree / path).write_bytes(data)
            sha = self.repo.git.hash_object("-w", "--no-filters", "--", str(self.tree / path))
            records.append(f"{self.modes[path]} {sha}\t{path}\0")
        with tempfile.TemporaryFile() as stream:
            stream.write("".join(records).encode("utf-8", "surrogateescape"))
            stream.seek(0)
            self.repo.git.update_index("-z", "--index-info", istream=stream, env=self.env)

    def commit(self, parent: str, message: str, identity: dict[str, str]) -> str:
        tree = self.repo.git.write_tree(env=self.env)
        message_file = self.index.with_name("message")
        message_file.write_bytes(message.encode("utf-8", "surrogateescape"))
        return self.repo.git.commit_tree(tree, "-p", parent, "--no-gpg-sign", "-F", str(message_file), env=identity)


def _safe_path(path: str) -> bool:
    parts = path.split("/")
    return not any(p in ("", ".", "..") or p.lower() == ".git" for p in parts)


def message_for(codemod: str, step: list[tuple[FileResult, bytes, tuple[str, ...]]], results: list[FileResult]) -> str:
    """``step``: (file, its bytes in this commit, the codemods whose changes they hold): usually ``codemod``
    alone; also earlier ones whose step did not verify alone and folded into this one."""
    noun = "file" if len(step) == 1 else "files"
    description = all_codemods()[codemod][0].DESCRIPTION
    lines = [f"{codemod}: rewrite {len(step)} {noun}", "", description.rstrip(".") + ".", "", "Changes:"]
    for result, _, made in step:
        lines += [f"- {result.path}:{c.line}: {c.message}" for c in result.changes if c.codemod in made]
    notes = [(r.path, n) for r in results for n in r.notes if n.codemod == codemod]
    if notes:
        lines += ["", "Left as they were (notes):"]
        lines += [f"- {path}:{n.line}: {n.message}" for path, n in notes]
    lines += ["", f"{TRAILER_CODEMOD}: {codemod}", f"{TRAILER_VERSION}: {__version__}", ""]
    return "\n".join(lines)


def default_branch_name(codemods: tuple[str, ...]) -> str:
    """Named after the codemods chosen; "all" stays the same name when codemods are added to the tool."""
    order = list(all_codemods())
    return "lambda-rewriter/" + ("+".join(sorted(codemods, key=order.index)) if codemods else "all")


def make_branch(
    path: Path,
    codemods: tuple[str, ...] = (),
    *,
    branch: str | None = None,
    base: str | None = None,
    push: str | None = None,
    on_existing: str = "fail",
    force: bool = False,
    author: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
    shallow_ok: bool = False,
    keep: Callable[[str], bool] | None = None,
    config_file: Path | None = None,
    test_command: str | None = None,
    test_timeout: float = gate.DEFAULT_TIMEOUT,
) -> Outcome:
    """Run the codemods on ``base`` and commit each one's result on ``branch``; see the module docstring.

    With ``test_command`` (or ``test-command`` in a ``--config`` file kept outside the repository), the
    command runs on the base and on the rewritten tree; tests that passed before and fail after leave
    the branch unmade and unpushed (status "tests-failed").
    """
    say = progress or (lambda _: None)
    if on_existing not in ON_EXISTING:
        raise BadRequest(f"--on-existing {on_existing!r}: expected one of {', '.join(ON_EXISTING)}")
    known = all_codemods()
    unknown = [c for c in codemods if c not in known]
    if unknown:
        raise BadRequest(f"unknown codemod {', '.join(unknown)} (known: {', '.join(known)})")
    identity = {}
    if author is not None:
        name, email = parse_author(author)
        identity = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
                    "GIT_COMMITTER_EMAIL": email}
    repo = open_repository(path, shallow_ok)
    try:
        base_sha = _resolve_base(repo, base)
        if push is not None:
            check_remote(repo, push)
        dirty = base is None and _uncommitted(repo)
        with _interrupt_as_keyboard_interrupt(), tempfile.TemporaryDirectory(prefix="lambda-rewriter-") as folder:
            scratch = _Scratch(repo, base_sha, Path(folder))
            outcome = _build(repo, scratch, base_sha, codemods, branch, push, on_existing, force, identity, workers,
                             say, keep, config_file, (test_command, test_timeout))
        if dirty:
            outcome.warnings.insert(0, "uncommitted edits are not part of the branch: it is built from the last "
                                       "commit (commit them first to include them)")
        return outcome
    except git.GitCommandError as error:
        detail = " ".join((error.stderr or "").split()) or str(error)
        raise GitError(f"git {error.command[1] if len(error.command) > 1 else ''} failed: {detail}") from None
    finally:
        repo.close()


def _build(repo, scratch, base_sha, codemods, branch, push, on_existing, force, identity, workers, say, keep=None,
           config_file=None, tests=(None, gate.DEFAULT_TIMEOUT)) -> Outcome:
    try:
        settings = _settings(repo, scratch, config_file)
        first = plan([scratch.tree], settings=settings)
    except config.ConfigError as error:  # the base's pyproject.toml or lambda-rewriter.toml, or --config
        raise BadRequest(str(error).replace(str(scratch.tree) + os.sep, "")) from None
    selected = first.settings.selected(codemods)
    workers = workers or first.settings.jobs or engine.default_workers()
    ordered = tuple(dict.fromkeys(impl.NAME for impl in select(selected)))  # catalogue order; opt-in ones only by name
    name = check_branch_name(repo, branch or default_branch_name(tuple(selected)))
    outcome = Outcome(name, "created", base_sha)
    test_command = tests[0] if tests[0] is not None else _configured_test_command(repo, config_file, first.settings,
                                                                                outcome.warnings)
    old = _branch_sha(repo, name)
    tool_made = False  # the branch being replaced holds only the tool's own commits
    if old is not None:
        if on_existing == "skip":
            outcome.status = "skipped"
            return outcome
        if on_existing == "fail":
            raise GitError(f"branch {name} already exists; choose --on-existing skip or replace, or another --branch")
        if _checked_out(repo, name):
            raise GitError(f"branch {name} is checked out in a working tree; it is not replaced")
        foreign = _foreign_commits(repo, base_sha, old)
        tool_made = not foreign
        if foreign and not force:
            raise GitError(
                f"branch {name} has {len(foreign)} commit(s) the tool did not make ({foreign[0][:12]}...); "
                "it is not replaced without --force"
            )
        outcome.status = "replaced"
    # One pass of every codemod over the base, as `diff` and `apply` run them: the tip is what `diff` shows.
    # Running each codemod on the previous one's committed result would differ (a manifest would be
    # slimmed on the strength of a source rewrite in the same run), so the pass is cut into commits instead.
    say(f"running {', '.join(ordered)}")
    current = plan([scratch.tree], settings=first.settings)
    if keep is not None:  # paths chosen by the caller (batch manifests), as relative "/" paths
        current.jobs = [job for job in current.jobs if keep(job.display)]
    # The engine gets the selection as diff and apply give it: () is the default set, where opt-in is decided per
    # implementation (targeted-imports runs on JavaScript only when named); `ordered` names every codemod.
    results = engine.run(current.jobs, tuple(selected), workers)
    outcome.failures += [(r.path, r.reason) for r in results if r.status is Status.ERROR]
    outcome.failures += current.problems
    kept = [r for r in results if r.status in (Status.CHANGED, Status.UNCHANGED)]
    located = Report(WriteBack.CHECK, kept)
    for result in kept:  # with their codes and columns, as `check --format json` gives them
        for found in located.findings(result):
            (outcome.changes if found.kind == findings.CHANGE else outcome.notes).append(_entry(result.path, found))
    jobs = {job.display: job for job in current.jobs}
    by_codemod: dict[str, list[tuple[FileResult, bytes, tuple[str, ...]]]] = {}
    for result in results:
        if result.status is not Status.CHANGED:
            continue
        done: list[str] = []
        for codemod, after in engine.steps(jobs[result.path], tuple(selected), result):
            made = tuple(c for c in ordered[: ordered.index(codemod) + 1] if c not in done)
            done += made
            by_codemod.setdefault(codemod, []).append((result, after, made))
    tip = base_sha
    for codemod in ordered:
        step = by_codemod.get(codemod)
        if not step:
            continue
        scratch.record([(result.path, after) for result, after, _ in step])
        message = message_for(codemod, step, kept)
        tip = scratch.commit(tip, message, identity)
        outcome.commits.append(Commit(codemod, tip, message.splitlines()[0], [result.path for result, _, _ in step]))
    if not outcome.commits:
        outcome.status = "nothing to change"
        return outcome
    if test_command:
        outcome.tests = _judge(repo, scratch, base_sha, test_command, tests[1], say)
        if outcome.tests.blocks:
            outcome.status = "tests-failed"  # the commits stay unreferenced objects: no branch, no push
            return outcome
        tip = _record_tests(scratch, outcome, base_sha, identity, message)
    # Everything that can fail here fails before the push: nothing reaches the remote for a branch that cannot be.
    update = _RefUpdate(repo, f"refs/heads/{name}", tip, old,
                        f"lambda-rewriter: {', '.join(c.codemod for c in outcome.commits)}")
    try:
        if push is not None:
            outcome.pushed = _push(repo, push, name, tip, old if tool_made else None)
        update.commit()
    finally:
        update.close()
    return outcome


def _configured_test_command(repo: git.Repo, config_file: Path | None, settings: config.Settings,
                             warnings: list[str]) -> str | None:
    """``test-command`` of the settings, only from a file the user keeps outside the repository.

    A file of the repository (found, or named with --config) is the repository's say, and whoever can
    push to its base would choose a command that runs on the user's machine: it is ignored, with a warning.
    """
    if not settings.test_command:
        return None
    if config_file is not None:
        try:
            config_file.resolve().relative_to(Path(repo.working_tree_dir or repo.git_dir).resolve())
        except ValueError:
            return settings.test_command
    where = settings.source.name if settings.source is not None else "the repository's configuration"
    warnings.append(f"{where}: test-command is ignored: a repository's own configuration does not choose what runs "
                    "(pass --test-command, or keep the setting in a --config file outside the repository)")
    return None


def _judge(repo: git.Repo, scratch: _Scratch, base_sha: str, command: str, timeout: float,
           say: Callable[[str], None]) -> gate.Verdict:
    """The test command on a fresh export of the base (what it writes must not reach the codemods' input) and on
    the rewritten tree."""
    folder = scratch.index.parent / "base"
    folder.mkdir()
    say("running the tests on the base")
    try:
        before = gate.run(command, _Scratch(repo, base_sha, folder).tree, timeout)
        say("running the tests on the rewrite")
        try:
            after = gate.run(command, scratch.tree, timeout)
        except gate.NotStarted as error:  # it started on the base: a failure like any other
            after = error.result
    except gate.CommandError as error:
        raise BadRequest(str(error)) from None
    return gate.Verdict(before, after)


def _record_tests(scratch: _Scratch, outcome: Outcome, base_sha: str, identity: dict[str, str], message: str) -> str:
    """The last commit (``message``) made again with the verdict in its body, above the trailers: same tree, same
    parent; the first one stays an unreferenced object."""
    last = outcome.commits[-1]
    parent = outcome.commits[-2].sha if len(outcome.commits) > 1 else base_sha
    body, _, trailers = message.rpartition(f"\n\n{TRAILER_CODEMOD}: ")
    assert outcome.tests is not None
    message = f"{body}\n\n{outcome.tests.paragraph()}\n\n{TRAILER_CODEMOD}: {trailers}"
    outcome.commits[-1] = dataclasses.replace(last, sha=scratch.commit(parent, message, identity))
    return outcome.commits[-1].sha


def _entry(path: str, found) -> dict:
    item = found.item
    return {"codemod": item.codemod, "path": path, "line": item.line, "column": found.column,
            "code": found.finding.code, "message": item.message}


def _settings(repo: git.Repo, scratch: _Scratch, config_file: Path | None) -> config.Settings | None:
    """``--config``: a file of the repository is read as the base has it; globs are relative to the root."""
    if config_file is None:
        return None
    path = config_file.resolve()
    try:
        exported = scratch.tree / path.relative_to(Path(repo.working_tree_dir or repo.git_dir).resolve())
    except ValueError:
        exported = path  # kept outside the repository
    return config.read(exported if exported.is_file() else path, base=scratch.tree)


_PUSH = ("--porcelain", "--no-verify", "--no-follow-tags", "--no-signed", "--no-recurse-submodules")


def _push(repo: git.Repo, remote: str, name: str, tip: str, replaced: str | None) -> str:
    """Push exactly ``tip`` to the branch, at every push URL of ``remote``, from a repository the tool makes."""
    ref = f"refs/heads/{name}"
    with tempfile.TemporaryDirectory(prefix="lambda-rewriter-push-") as folder:
        pusher = git_safety.PushRepository(repo, Path(folder))
        urls = _push_urls(pusher, repo, remote)
        # Several URLs: a dry run at each first, so that a refusal the remotes can tell in advance changes none.
        where = {target: remote if len(urls) == 1 else f"{remote} ({url})" for target, url in urls}
        for target, url in urls if len(urls) > 1 else ():
            _push_one(pusher, where[target], target, url, tip, ref, replaced, ["--dry-run"])
        for done, (target, url) in enumerate(urls):
            try:
                _push_one(pusher, where[target], target, url, tip, ref, replaced, [])
            except GitError as error:
                if done:
                    raise PushIncomplete(f"{error}; {done} of its {len(urls)} push URLs have the branch already") \
                        from None
                raise
    return ref


def _push_one(pusher, where, target, url, tip, ref, replaced, extra) -> None:
    """Replacing the tool's own branch: with a lease on what it replaces, else (the remote has no such branch,
    or someone else's commits) a plain push, which never overwrites."""
    refspec = f"{tip}:{ref}"
    if replaced is not None:
        try:
            pusher.push(target, url, [*_PUSH, *extra, f"--force-with-lease={ref}:{replaced}"], refspec)
            return
        except git.GitCommandError as error:
            if "stale info" not in (error.stdout or ""):
                raise GitError(f"push to {where} refused: {_refusal(error)}") from None
    try:
        pusher.push(target, url, [*_PUSH, *extra], refspec)
    except git.GitCommandError as error:
        raise GitError(f"push to {where} refused: {_refusal(error)}") from None


class _RefUpdate:
    """The branch's ref, locked and checked by ``git update-ref --stdin`` before the push: a ref named as a folder
    of it (``perf`` for ``perf/hoist``) or below it, a value changed since, a lock someone holds; written after."""

    def __init__(self, repo: git.Repo, ref: str, new: str, old: str | None, message: str) -> None:
        self.process = repo.git.update_ref("-m", message, "--stdin", as_process=True, istream=subprocess.PIPE)
        update = f"update {ref} {new} {old}" if old else f"create {ref} {new}"
        self._send("start", update, "prepare")

    def _send(self, *lines: str) -> None:
        proc = self.process.proc
        try:
            proc.stdin.write("".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape"))
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        for command in (line for line in lines if line in ("start", "prepare", "commit")):
            if proc.stdout.readline().decode(errors="replace").strip() != f"{command}: ok":
                proc.stdin.close()
                said = proc.stderr.read().decode("utf-8", "replace")
                proc.wait()
                line = next((part for part in said.splitlines() if part.strip()), "update-ref failed")
                detail = re.sub(r"^(?:fatal|error): (?:\w+: )?", "", line.strip())
                raise GitError(f"the branch cannot be written: {detail}")

    def commit(self) -> None:
        self._send("commit")
        self.close()

    def close(self) -> None:
        """Without a commit: the transaction is aborted, the locks go."""
        proc = self.process.proc
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        proc.wait()


def _refusal(error: git.GitCommandError) -> str:
    """What the remote said (its hook's `remote:` lines) and why git gave up, without GitPython's wrapping."""
    text = "\n".join(re.sub(r"^\s*std(?:out|err): '(.*)'\s*$", r"\1", part or "", flags=re.S)
                     for part in (error.stdout, error.stderr))
    kept = [line.strip() for line in text.splitlines()
            if line.lstrip().startswith(("remote:", "!", "error:", "fatal:")) or "rejected]" in line]
    said = [" ".join(line.removeprefix("remote:").split()) for line in kept]
    return "; ".join(dict.fromkeys(line for line in said if line)) or " ".join(text.split()) or str(error)

