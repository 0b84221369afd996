"""Nothing named in a target repository's git configuration runs (rewriter/git_safety.py).

Every program-valued key of git's documentation is planted, each with its own marker-writing script, in the
repository's .git/config, in a file it includes and in a file it includes by includeIf; `branch --push`,
`branch --on-existing replace --push` and `batch --push` must never write a marker. A control test shows that
plain git runs the plants, so an empty marker folder means something.
"""
from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, invoke, run, write

from rewriter import git_safety

SCRIPT = '#!/bin/sh\ntouch "{markers}/{name}-$$"\ncat >/dev/null 2>&1 </dev/null\nexit 1\n'
HOOKS = ("pre-commit", "commit-msg", "post-commit", "pre-push", "reference-transaction", "post-checkout",
         "pre-receive", "update", "post-receive", "post-update", "proc-receive", "push-to-checkout", "pre-auto-gc")
ATTRIBUTES = "* filter=evil diff=evil merge=evil\n"
_PGP = "-----BEGIN PGP SIGNATURE-----\n\n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----"
_X509 = "-----BEGIN SIGNED MESSAGE-----\n MIIB\n -----END SIGNED MESSAGE-----"
_SSH = "-----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----"

# Each documented program-valued key: the entries that plant it ({s}: its script; {hooks}: a folder of hooks that
# are its scripts) and where the push must go for git to reach it (local: the bare remote; hostile: the
# repository the key rewrites the remote's URL to; ssh, git, http: a server that refuses, after git has run what
# the key names).
PLANTS = {
    "core.fsmonitor": ([("core.fsmonitor", "{s}")], "local"),
    "core.hooksPath": ([("core.hooksPath", "{hooks}")], "local"),
    "core.alternateRefsCommand": ([("core.alternateRefsCommand", "{s}")], "local"),
    "core.editor": ([("core.editor", "{s}")], "local"),
    "sequence.editor": ([("sequence.editor", "{s}")], "local"),
    "core.pager": ([("core.pager", "{s}")], "local"),
    "pager.<cmd>": ([(f"pager.{c}", "{s}") for c in ("log", "push", "config", "rev-parse", "ls-tree", "remote")],
                    "local"),
    "gpg.program": ([("gpg.program", "{s}"), ("log.showSignature", "true"), ("push.gpgSign", "true"),
                     ("commit.gpgSign", "true"), ("tag.gpgSign", "true")], "local"),
    "gpg.openpgp.program": ([("gpg.openpgp.program", "{s}"), ("log.showSignature", "true")], "local"),
    "gpg.x509.program": ([("gpg.x509.program", "{s}"), ("log.showSignature", "true")], "local"),
    "gpg.ssh.program": ([("gpg.ssh.program", "{s}"), ("gpg.ssh.allowedSignersFile", "{s}"),
                         ("log.showSignature", "true")], "local"),
    "gpg.ssh.defaultKeyCommand": ([("gpg.format", "ssh"), ("gpg.ssh.defaultKeyCommand", "{s}"),
                                   ("push.gpgSign", "true"), ("commit.gpgSign", "true")], "local"),
    "log.showSignature": ([("log.showSignature", "true"), ("gpg.program", "{s}")], "local"),
    "push.gpgSign": ([("push.gpgSign", "true"), ("gpg.program", "{s}")], "local"),
    "commit.gpgSign": ([("commit.gpgSign", "true"), ("gpg.program", "{s}")], "local"),
    "tag.gpgSign": ([("tag.gpgSign", "true"), ("tag.forceSignAnnotated", "true"), ("gpg.program", "{s}")], "local"),
    "merge.verifySignatures": ([("merge.verifySignatures", "true"), ("gpg.program", "{s}")], "local"),
    "core.sshCommand": ([("core.sshCommand", "{s}")], "ssh"),
    "ssh.variant": ([("ssh.variant", "simple"), ("core.sshCommand", "{s}")], "ssh"),
    "core.gitProxy": ([("core.gitProxy", "{s}")], "git"),
    "core.askPass": ([("core.askPass", "{s}")], "http"),
    "credential.helper": ([("credential.helper", "!{s}")], "http"),
    "credential.<url>.helper": ([("credential.{http}.helper", "!{s}")], "http"),
    "http.proxy": ([("http.proxy", "http://127.0.0.1:1"), ("credential.helper", "!{s}")], "http"),
    "remote.<name>.receivepack": ([("remote.origin.receivepack", "{s}")], "local"),
    "remote.<name>.uploadpack": ([("remote.origin.uploadpack", "{s}")], "local"),
    "remote.<name>.vcs": ([("remote.origin.vcs", "evil")], "local"),
    "remote.<name>.proxy": ([("remote.origin.proxy", "http://127.0.0.1:1"), ("credential.helper", "!{s}")], "http"),
    "url.<base>.insteadOf": ([("url.ext::{s} %S .insteadOf", "{remote}")], "local"),
    "url.<base>.pushInsteadOf": ([("url.{hostile}.pushInsteadOf", "{remote}")], "hostile"),
    "protocol.<name>.allow": ([("protocol.ext.allow", "always"), ("url.ext::{s} %S .pushInsteadOf", "{remote}")],
                              "local"),
    "push.followTags": ([("push.followTags", "true")], "local"),
    "fetch.recurseSubmodules": ([("fetch.recurseSubmodules", "yes"), ("submodule.sub.update", "!{s}")], "local"),
    "submodule.recurse": ([("submodule.recurse", "true"), ("submodule.sub.update", "!{s}")], "local"),
    "tag.forceSignAnnotated": ([("tag.forceSignAnnotated", "true"), ("gpg.program", "{s}")], "local"),
    # The other side's: they matter where a local remote's receive-pack runs (the batch test plants them there).
    "receive.autogc": ([("receive.autogc", "true"), ("gc.auto", "1"), ("gc.autoDetach", "false")], "local"),
    "receive.denyCurrentBranch": ([("receive.denyCurrentBranch", "updateInstead"), ("filter.evil.smudge", "{s}")],
                                  "local"),
    "push.recurseSubmodules": ([("push.recurseSubmodules", "on-demand"), ("submodule.recurse", "true")], "local"),
    "submodule.<name>.update": ([("submodule.sub.update", "!{s}"), ("submodule.sub.url", "{remote}"),
                                 ("submodule.sub.active", "true")], "local"),
    "diff.external": ([("diff.external", "{s}")], "local"),
    "diff.<driver>.textconv": ([("diff.evil.textconv", "{s}")], "local"),
    "diff.<driver>.command": ([("diff.evil.command", "{s}")], "local"),
    "filter.<driver>.clean": ([("filter.evil.clean", "{s}")], "local"),
    "filter.<driver>.smudge": ([("filter.evil.smudge", "{s}")], "local"),
    "filter.<driver>.process": ([("filter.evil.process", "{s}")], "local"),
    "merge.<driver>.driver": ([("merge.evil.driver", "{s}")], "local"),
    "interactive.diffFilter": ([("interactive.diffFilter", "{s}")], "local"),
    "alias.<name>": ([(f"alias.{c}", "!{s}") for c in ("push", "log", "config", "update-ref", "lambda")], "local"),
    "trailer.<token>.command": ([("trailer.sign.command", "{s}"), ("trailer.sign.ifMissing", "add")], "local"),
    "trailer.<token>.cmd": ([("trailer.sign.cmd", "{s}"), ("trailer.sign.ifMissing", "add")], "local"),
    "uploadpack.packObjectsHook": ([("uploadpack.packObjectsHook", "{s}")], "local"),
    "receive.procReceiveRefs": ([("receive.procReceiveRefs", "refs/heads")], "local"),
    "web.browser": ([("web.browser", "evil"), ("browser.evil.cmd", "{s}")], "local"),
    "help.browser": ([("help.browser", "evil"), ("help.format", "web")], "local"),
    "browser.<tool>.cmd": ([("browser.evil.cmd", "{s}")], "local"),
    "man.viewer": ([("man.viewer", "evil"), ("man.evil.cmd", "{s}")], "local"),
    "man.<tool>.cmd": ([("man.evil.cmd", "{s}")], "local"),
    "instaweb.browser": ([("instaweb.browser", "{s}")], "local"),
    "instaweb.httpd": ([("instaweb.httpd", "{s}")], "local"),
    "difftool.<tool>.cmd": ([("difftool.evil.cmd", "{s}"), ("diff.tool", "evil")], "local"),
    "mergetool.<tool>.cmd": ([("mergetool.evil.cmd", "{s}"), ("merge.tool", "evil")], "local"),
    "guitool.<name>.cmd": ([("guitool.evil.cmd", "{s}")], "local"),
    "imap.tunnel": ([("imap.tunnel", "{s}")], "local"),
    "sendemail.smtpServer": ([("sendemail.smtpServer", "{s}")], "local"),
    "sendemail.sendmailCmd": ([("sendemail.sendmailCmd", "{s}")], "local"),
    "sendemail.toCmd": ([("sendemail.toCmd", "{s}")], "local"),
    "sendemail.ccCmd": ([("sendemail.ccCmd", "{s}")], "local"),
    "sendemail.headerCmd": ([("sendemail.headerCmd", "{s}")], "local"),
    "gitcvs.dbDriver": ([("gitcvs.dbDriver", "{s}")], "local"),
}
ROUTES = ("config", "include.path", "includeIf")


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout.decode().strip()


@pytest.fixture(autouse=True)
def _clean_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    # A remote helper `evil` on PATH: what remote.<name>.vcs = evil would run.
    helpers = tmp_path / "bin"
    helpers.mkdir()
    helper = helpers / "git-remote-evil"
    helper.write_text(SCRIPT.format(markers=tmp_path / "markers", name="remote.<name>.vcs"))
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helpers}{os.pathsep}{os.environ['PATH']}")


class _Refusing(http.server.BaseHTTPRequestHandler):
    """Asks for a password on every request: git's credential helpers and askpass are then consulted."""

    def do_GET(self):  # noqa: N802
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/repo.git"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens there once closed


def _script(folder: Path, markers: Path, name: str) -> Path:
    script = folder / f"{name.replace('<', '').replace('>', '').replace('/', '_')}.sh"
    script.write_text(SCRIPT.format(markers=markers, name=name))
    script.chmod(0o755)
    return script


def _hooks(folder: Path, markers: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for hook in HOOKS:
        (folder / hook).write_text(SCRIPT.format(markers=markers, name=f"{name}-{hook}"))
        (folder / hook).chmod(0o755)
    return folder


def _sign(repo: Path, sha: str, signature: str, parent: str | None = None) -> str:
    """A copy of the commit with a signature header (and another parent): what log.showSignature verifies."""
    header, _, message = git(repo, "cat-file", "commit", sha).partition("\n\n")
    lines, signature_lines = [], False
    for line in header.splitlines():  # without the signature the copied commit had
        signature_lines = line.startswith("gpgsig ") or (signature_lines and line.startswith(" "))
        if not signature_lines:
            lines.append(line)
    if parent is not None:
        lines = [f"parent {parent}" if line.startswith("parent ") else line for line in lines]
    body = "\n".join(lines) + "\ngpgsig " + signature + "\n\n" + message + "\n"
    made = run(["git", "hash-object", "-t", "commit", "-w", "--stdin"], repo, stdin=body.encode())
    return made.stdout.decode().strip()


@pytest.fixture(scope="module")
def _world_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once (it takes a run of the tool); each test gets a copy."""
    root = tmp_path_factory.mktemp("world")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        repo = git_init(root / "repo")
        git(repo, "config", "user.name", "Owner")
        git(repo, "config", "user.email", "owner@example.com")
        write(repo, {"app.py": HANDLER, ".gitattributes": ATTRIBUTES})
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "base")
        git(repo, "tag", "-a", "-m", "not released", "v9-unreleased")
        for name in ("remote.git", "other.git", "hostile.git"):
            git(root, "init", "-q", "--bare", name)
        git(root / "remote.git", "symbolic-ref", "HEAD", "refs/heads/main")
        git(repo, "remote", "add", "origin", str(root / "remote.git"))
        git(repo, "push", "-q", "origin", "main")
        assert invoke(["branch", "-j", "1", "--push", "origin"], repo).exit_code == 0
        # The tool's commit, signed (PGP), then two more tool commits signed x509 and ssh: replace reads them.
        tip = git(repo, "rev-parse", "lambda-rewriter/all")
        first = _sign(repo, tip, _PGP)
        second = _sign(repo, first, _X509, parent=first)
        third = _sign(repo, second, _SSH, parent=second)
        git(repo, "update-ref", "refs/heads/lambda-rewriter/all", third)
        git(repo, "push", "-qf", "origin", "lambda-rewriter/all")
    return root


@pytest.fixture
def world(_world_template: Path, tmp_path: Path) -> dict:
    """A repository with a bare remote (which has alternates and hooks of its own), the tool's branch pushed and
    then signed three ways, an unreleased tag, and a second repository with hooks to rewrite URLs to."""
    for name in ("repo", "remote.git", "other.git", "hostile.git"):
        shutil.copytree(_world_template / name, tmp_path / name, symlinks=True)
    repo, remote, hostile, other = (tmp_path / n for n in ("repo", "remote.git", "hostile.git", "other.git"))
    markers = tmp_path / "markers"
    markers.mkdir()
    git(repo, "remote", "set-url", "origin", str(remote))
    # Alternates on both sides, for core.alternateRefsCommand.
    (repo / ".git/objects/info/alternates").write_text(f"{other / 'objects'}\n")
    (remote / "objects/info/alternates").write_text(f"{other / 'objects'}\n")
    # Hooks on the remote, and on a repository that a rewritten URL could lead the push to.
    _hooks(hostile / "hooks", markers, "hostile")
    _hooks(remote / "hooks", markers, "remote")
    git(remote, "config", "receive.certNonceSeed", "seed")  # the remote asks for signed pushes, if-asked
    return {"repo": repo, "remote": remote, "hostile": hostile, "markers": markers, "tmp": tmp_path}


def _plant(world: dict, key: str, route: str, http_url: str) -> None:
    entries, where = PLANTS[key]
    tmp, repo, markers = world["tmp"], world["repo"], world["markers"]
    script = _script(tmp, markers, key)
    hooks = _hooks(tmp / "planted-hooks", markers, key)
    values = {"s": str(script), "hooks": str(hooks), "remote": str(world["remote"]), "hostile": str(world["hostile"]),
              "http": http_url.rsplit("/", 1)[0]}
    target = {"config": repo / ".git/config", "include.path": tmp / "evil.inc", "includeIf": tmp / "evil.inc"}[route]
    for name, value in entries:
        run(["git", "config", "--file", str(target), "--add", name.format(**values), value.format(**values)], tmp)
    if route == "include.path":
        git(repo, "config", "include.path", str(target))
    elif route == "includeIf":
        git(repo, "config", f"includeIf.gitdir:{repo}/.git.path", str(target))
    port = _closed_port()
    url = {"local": None, "hostile": None, "ssh": f"ssh://127.0.0.1:{port}/repo.git",
           "git": f"git://127.0.0.1:{port}/repo.git", "http": http_url}[where]
    if url:
        git(repo, "config", "remote.origin.pushurl", url)


def _remote_refs(world: dict) -> str:
    return git(world["remote"], "for-each-ref", "--format=%(refname) %(objectname)")


def test_every_key_the_model_guards_is_planted_by_these_tests() -> None:
    guarded = {k for k, _ in git_safety.OVERRIDES if not k.startswith("protocol.")}  # GIT_ALLOW_PROTOCOL: below
    guarded |= {k for k, _ in git_safety.USER_KEYS} | set(git_safety.NEVER_RUN) | {"credential.helper"}
    guarded -= {"include.path", "includeIf.<condition>.path"}  # the routes, not keys: every plant takes all three
    assert guarded - set(PLANTS) == set()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("key", list(PLANTS))
def test_branch_push_and_replace_run_no_program_the_repository_names(world: dict, http_url: str, key: str,
                                                                     route: str) -> None:
    _plant(world, key, route, http_url)
    where = PLANTS[key][1]
    refs = _remote_refs(world)
    created = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/new"], world["repo"])
    replaced = invoke(["branch", "-j", "1", "--push", "origin", "--on-existing", "replace"], world["repo"])
    assert sorted(p.name for p in world["markers"].iterdir()) == []
    if where in ("local", "hostile") and "::" not in str(PLANTS[key][0]):
        assert created.exit_code == 0, created.output
        assert replaced.exit_code == 0, replaced.output
        landed = world[where if where == "hostile" else "remote"]
        after = git(landed, "for-each-ref", "--format=%(refname) %(objectname)")
        assert "refs/heads/perf/new" in after and after != refs
        assert "refs/tags/" not in after  # exactly the one ref, whatever push.followTags says
    else:  # the push fails where it goes, after the check or at a server that refuses; nothing is written
        assert created.exit_code in (2, 3) and replaced.exit_code in (2, 3), (created.output, replaced.output)
        assert _remote_refs(world) == refs
        assert "perf/new" not in git(world["repo"], "branch", "--list")


# Plain git in the planted repository, without the tool's environment: each plant is live.
CONTROLS = {
    "core.fsmonitor": ["status"],
    "core.hooksPath": ["commit", "--allow-empty", "-qm", "x"],
    "core.alternateRefsCommand": ["fetch", "-q", "{remote}"],
    "gpg.program": ["log", "--format=%H", "-3", "lambda-rewriter/all"],
    "gpg.x509.program": ["log", "--format=%H", "-3", "lambda-rewriter/all"],
    "gpg.ssh.program": ["log", "--format=%H", "-3", "lambda-rewriter/all"],
    "core.sshCommand": ["push", "origin", "main:refs/heads/x"],
    "core.gitProxy": ["push", "origin", "main:refs/heads/x"],
    "core.askPass": ["push", "origin", "main:refs/heads/x"],
    "credential.helper": ["push", "origin", "main:refs/heads/x"],
    "credential.<url>.helper": ["push", "origin", "main:refs/heads/x"],
    "remote.<name>.receivepack": ["push", "origin", "main:refs/heads/x"],
    "remote.<name>.vcs": ["push", "origin", "main:refs/heads/x"],
    "url.<base>.pushInsteadOf": ["push", "origin", "main:refs/heads/x"],
    "push.gpgSign": ["push", "origin", "main:refs/heads/x"],
    "filter.<driver>.clean": ["add", "--renormalize", "."],
    "diff.<driver>.textconv": ["log", "-p", "--textconv", "-1", "--format=", "main", "--", "app.py"],
}


@pytest.mark.parametrize("key", list(CONTROLS))
def test_plain_git_runs_what_the_plants_name(world: dict, http_url: str, key: str) -> None:
    _plant(world, key, "includeIf", http_url)
    args = [a.format(remote=world["remote"]) for a in CONTROLS[key]]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PROTOCOL_FROM_USER": "1"}
    subprocess.run(["git", *args], cwd=world["repo"], env=env, capture_output=True, timeout=60, check=False)
    # Its own marker: not the remote's hooks, which plain git runs too. A rewritten URL shows in the other's hooks.
    prefix = "hostile-" if PLANTS[key][1] == "hostile" else f"{key}-"
    fired = [p.name for p in world["markers"].iterdir() if p.name.startswith(prefix)]
    assert fired, sorted(p.name for p in world["markers"].iterdir())


def test_plain_git_push_publishes_the_unreleased_tag_with_follow_tags(world: dict) -> None:
    git(world["repo"], "config", "push.followTags", "true")
    git(world["repo"], "push", "-q", "--no-verify", "--receive-pack=git -c core.hooksPath=/dev/null receive-pack",
        "origin", "main:refs/heads/plain")
    assert "refs/tags/v9-unreleased" in _remote_refs(world)


@pytest.mark.parametrize("route", ROUTES)
def test_batch_push_runs_nothing_the_remote_or_the_workspace_clone_names(world: dict, http_url: str, route: str,
                                                                        tmp_path: Path) -> None:
    """The remote is a local repository: git runs its side here, under its configuration, which gets every plant."""
    remote, markers = world["remote"], world["markers"]
    target = {"config": remote / "config", "include.path": tmp_path / "remote.inc",
              "includeIf": tmp_path / "remote.inc"}[route]
    for key, (entries, where) in PLANTS.items():
        # receive.procReceiveRefs makes the remote refuse the push without its proc-receive hook: tested apart.
        if where != "local" or "::" in str(entries) or key == "receive.procReceiveRefs":
            continue
        values = {"s": str(_script(tmp_path, markers, key)), "remote": str(remote),
                  "hooks": str(_hooks(tmp_path / "remote-hooks", markers, key))}
        for name, value in entries:
            run(["git", "config", "--file", str(target), "--add", name.format(**values), value.format(**values)],
                tmp_path)
    if route == "include.path":
        git(remote, "config", "include.path", str(target))
    elif route == "includeIf":
        git(remote, "config", f"includeIf.gitdir:{remote}.path", str(target))
    (tmp_path / "repos.txt").write_text(f"{remote}\n")
    args = ["batch", "repos.txt", "--workspace", "ws", "--push", "--author", "Bot <bot@example.com>",
            "--branch", "perf/batch"]
    first = invoke(args, tmp_path)
    assert first.exit_code == 0, first.output
    assert "refs/heads/perf/batch" in _remote_refs(world)
    # The workspace clone's own configuration, planted as a shared workspace could be, for a second branch.
    clone = next((tmp_path / "ws" / "repos").iterdir())
    for key in ("core.fsmonitor", "core.sshCommand", "gpg.program", "core.alternateRefsCommand"):
        git(clone, "config", key, str(_script(tmp_path, markers, f"clone-{key}")))
    git(clone, "config", "log.showSignature", "true")
    git(clone, "config", "push.followTags", "true")
    git(clone, "config", "core.hooksPath", str(_hooks(tmp_path / "clone-hooks", markers, "clone")))
    git(clone, "config", "diff.external", str(_script(tmp_path, markers, "clone-diff.external")))
    second = invoke([*args[:-1], "perf/batch-2"], tmp_path)
    assert second.exit_code == 0, second.output
    assert "refs/heads/perf/batch-2" in _remote_refs(world)
    # The tool's signed branch on the remote: fetched, walked (log) and measured (diff) in the planted clone.
    third = invoke([*args[:-1], "lambda-rewriter/all"], tmp_path)
    assert third.exit_code == 0, third.output
    assert "skipped" in third.output
    assert sorted(p.name for p in markers.iterdir()) == []
    assert "refs/tags/" not in _remote_refs(world)


# --- the push itself ---------------------------------------------------------------------------------------


@pytest.fixture
def daemon(tmp_path: Path):
    """git daemon serving a bare repository over git://, receive-pack enabled."""
    base = tmp_path / "served"
    base.mkdir()
    git(tmp_path, "init", "-q", "--bare", str(base / "a.git"))
    port = _closed_port()
    process = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", f"--base-path={base}",
         f"--port={port}", "--listen=127.0.0.1", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                threading.Event().wait(0.05)
        yield f"git://127.0.0.1:{port}/a.git", base / "a.git"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_each_of_two_push_urls_gets_its_own_safe_receive_pack(world: dict, daemon) -> None:
    url, served = daemon
    repo, remote = world["repo"], world["remote"]
    git(repo, "config", "remote.origin.pushurl", url)
    git(repo, "config", "--add", "remote.origin.pushurl", str(remote))  # a local path second, with its hooks
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/two"], repo)
    assert result.exit_code == 0, result.output
    tip = git(repo, "rev-parse", "perf/two")
    assert git(served, "rev-parse", "perf/two") == tip and git(remote, "rev-parse", "perf/two") == tip
    assert sorted(p.name for p in world["markers"].iterdir()) == []


def test_a_refusal_at_the_second_url_is_found_before_the_first_gets_anything(world: dict, tmp_path: Path) -> None:
    repo, remote = world["repo"], world["remote"]
    first = tmp_path / "first.git"
    git(tmp_path, "init", "-q", "--bare", str(first))
    # Someone's branch there, not below what the tool pushes: refused as not a fast-forward.
    git(remote, "-c", "core.hooksPath=/dev/null", "update-ref", "refs/heads/perf/taken",
        git(remote, "rev-parse", "lambda-rewriter/all"))
    git(repo, "config", "remote.origin.pushurl", str(first))
    git(repo, "config", "--add", "remote.origin.pushurl", str(remote))
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/taken"], repo)
    assert result.exit_code == 3, result.output
    assert git(first, "for-each-ref") == ""
    assert "perf/taken" not in git(repo, "branch", "--list")


def test_a_branch_named_below_an_existing_one_fails_before_the_push(world: dict) -> None:
    repo = world["repo"]
    git(repo, "branch", "perf")
    before_remote, before_local = _remote_refs(world), git(repo, "for-each-ref")
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/hoist"], repo)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "refs/heads/perf" in result.stderr, result.stderr
    assert "exists" in result.stderr and "Traceback" not in result.output
    assert _remote_refs(world) == before_remote and git(repo, "for-each-ref") == before_local
    assert not list((repo / ".git" / "refs" / "heads").rglob("*.lock"))


def test_a_branch_that_is_a_folder_of_existing_ones_fails_before_the_push(world: dict) -> None:
    repo = world["repo"]
    git(repo, "branch", "perf/hoist/old")
    before = _remote_refs(world)
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/hoist"], repo)
    assert result.exit_code == 3 and result.stderr.count("\n") == 1, result.stderr
    assert _remote_refs(world) == before


def test_a_relative_path_remote_still_means_the_same_folder(world: dict) -> None:
    repo = world["repo"]
    git(repo, "remote", "set-url", "origin", "../remote.git")
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/relative"], repo)
    assert result.exit_code == 0, result.output
    assert "refs/heads/perf/relative" in _remote_refs(world)


def test_the_repositorys_insteadof_and_extra_header_reach_the_push(world: dict, tmp_path: Path) -> None:
    """Data the push may need (a CI checkout's token, the user's URL rewriting) passes; it is checked after."""
    repo, remote = world["repo"], world["remote"]
    git(repo, "remote", "set-url", "origin", "https://example.invalid/acme/repo.git")
    git(repo, "config", f"url.{remote}.insteadOf", "https://example.invalid/acme/repo.git")
    git(repo, "config", "http.https://example.invalid/.extraheader", "AUTHORIZATION: basic dG9rZW4=")
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/rewritten"], repo)
    assert result.exit_code == 0, result.output
    assert "refs/heads/perf/rewritten" in _remote_refs(world)
    assert sorted(p.name for p in world["markers"].iterdir()) == []  # the remote's hooks stayed off


def test_a_rewrite_to_a_transport_helper_is_refused_after_rewriting(world: dict) -> None:
    repo = world["repo"]
    marker = world["tmp"] / "pwned"
    git(repo, "config", f"url.ext::sh -c touch% {marker} %S .pushInsteadOf", str(world["remote"]))
    git(repo, "config", "protocol.ext.allow", "always")
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/ext"], repo)
    assert result.exit_code == 2 and "transport helpers" in result.output, result.output
    assert not marker.exists()


def test_a_local_remote_with_the_branch_checked_out_is_not_checked_out_through_its_filters(world: dict,
                                                                                          tmp_path: Path) -> None:
    """receive.denyCurrentBranch=updateInstead would update that working tree: smudge filter, push-to-checkout."""
    repo, markers = world["repo"], world["markers"]
    checkout = tmp_path / "checkout"
    run(["git", "clone", "-q", "-b", "lambda-rewriter/all", str(world["remote"]), str(checkout)], tmp_path)
    git(checkout, "config", "receive.denyCurrentBranch", "updateInstead")
    git(checkout, "config", "filter.evil.smudge", str(_script(tmp_path, markers, "checkout-smudge")))
    _hooks(checkout / ".git" / "hooks", markers, "checkout")
    git(repo, "remote", "add", "co", str(checkout))
    before = git(checkout, "rev-parse", "HEAD")
    result = invoke(["branch", "-j", "1", "--push", "co", "--on-existing", "replace"], repo)
    assert result.exit_code == 3 and "checked out" in result.output, result.output
    assert git(checkout, "rev-parse", "HEAD") == before
    assert sorted(p.name for p in markers.iterdir()) == []


@pytest.mark.parametrize(
    "key, where",
    [("credential.helper", "http"), ("core.askPass", "http"), ("core.sshCommand", "ssh")],
)
def test_the_users_own_transport_programs_still_run_the_repositorys_do_not(world: dict, http_url: str,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path, key: str,
                                                                          where: str) -> None:
    """Pushes authenticate as the user set up: their global helper, askpass or ssh command, not the repository's."""
    markers = world["markers"]
    own = tmp_path / "own.gitconfig"
    value = str(_script(tmp_path, markers, "user"))
    run(["git", "config", "--file", str(own), key, f"!{value}" if key == "credential.helper" else value], tmp_path)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(own))
    _plant(world, key, "config", http_url)
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/own"], world["repo"])
    assert result.exit_code == 3, result.output  # the server refuses whoever asks
    fired = {p.name.rsplit("-", 1)[0] for p in markers.iterdir()}
    assert fired == {"user"}, fired


def test_the_users_own_config_variables_keep_their_transport_settings_after_the_reset() -> None:
    env = git_safety.safe_environment({
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "Credential.https://example.com.Helper", "GIT_CONFIG_VALUE_0": "store",
        "GIT_CONFIG_KEY_1": "core.SSHCommand", "GIT_CONFIG_VALUE_1": "ssh -i deploy-key",
    })
    count = int(env["GIT_CONFIG_COUNT"])
    entries = [(env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"]) for n in range(2, count)]
    assert ("core.sshCommand", "ssh -i deploy-key") in entries
    reset = entries.index(("credential.helper", ""))
    assert entries[reset + 1:] == [("credential.https://example.com.helper", "store")]


def test_a_local_remotes_alternates_command_runs_for_plain_git_and_not_for_the_tool(world: dict,
                                                                                   tmp_path: Path) -> None:
    repo, remote, markers = world["repo"], world["remote"], world["markers"]
    git(remote, "config", "core.alternateRefsCommand", str(_script(tmp_path, markers, "remote-alternates")))
    result = invoke(["branch", "-j", "1", "--push", "origin", "--branch", "perf/alternates"], repo)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in markers.iterdir()) == []
    run(["git", "push", "-q", "--no-verify", "--receive-pack=git -c core.hooksPath=/dev/null receive-pack", "origin",
         "main:refs/heads/plain"], repo, check=False)
    assert [p.name for p in markers.iterdir() if p.name.startswith("remote-alternates-")]
