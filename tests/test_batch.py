"""`batch` on a fleet of real bare repositories: push, kill and resume, idempotent re-runs, hostile input, Dask."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import BROKEN, HANDLER, SAMPLES, invoke, run, write

from rewriter import batch, manifest

AUTHOR = "Batch Bot <bot@example.com>"
BRANCH = "lambda-rewriter/all"
TRAILER = "%(trailers:key=Lambda-Rewriter-Codemod,valueonly,separator=%x2C)"
HOISTED = 'import boto3\n\ns3 = boto3.client("s3")\n\n\ndef handler(event, context):\n    return s3.list_buckets()\n'
CHANGED = ["sam-orders", "serverless-notify", "node-orders", "ts-reports", "java-orders"]
UNCHANGED = ["docs-only", "plain-python", "already-hoisted"]
DONE = ("pushed", "unchanged", "skipped")


@pytest.fixture(scope="module", autouse=True)
def _isolated_git():
    """Git reads no user or machine configuration; set before any worker (process or Dask) starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout.decode().strip()


def make_remote(root: Path, name: str, files: dict[str, str] | None = None, sample: str | None = None) -> Path:
    """A bare repository (branch main) holding one sample app or the given files."""
    work = root / "work" / name
    if sample:
        shutil.copytree(SAMPLES / sample, work)
    write(work, files or {})
    run(["git", "init", "-q", "-b", "main", "."], work)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "base")
    bare = root / "remotes" / f"{name}.git"
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], root)
    return bare


def branch_commits(bare: Path, branch: str = BRANCH) -> list[str]:
    """The codemod trailer of each commit on ``branch`` above main (empty string: a commit not by the tool)."""
    return git(bare, "log", f"--format={TRAILER}", f"main..{branch}").split("\n")


def refs(bare: Path) -> dict[str, str]:
    out = git(bare, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in out.splitlines())


def ledger(workspace: Path) -> dict[str, dict]:
    found = {}
    for path in (workspace / "ledger").glob("*.json"):
        entry = json.loads(path.read_text())
        found[Path(entry["repository"]).stem] = entry
    return found


def _invoke(args: list[str], cwd: Path):
    return invoke(["batch", *args, "--author", AUTHOR], cwd)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    for name in CHANGED:
        make_remote(root, name, sample=name)
    make_remote(root, "docs-only", {"README.md": "# docs\n"})
    make_remote(root, "plain-python", {"tools/sums.py": "def total(xs):\n    return sum(xs)\n"})
    make_remote(root, "already-hoisted", {"src/app.py": HOISTED})
    make_remote(root, "broken-file", {"src/ok/app.py": HANDLER, "src/broken/app.py": BROKEN})
    refusing = make_remote(root, "push-rejected", {"src/app.py": HANDLER})
    git(refusing, "config", "receive.maxInputSize", "1")  # the remote refuses every pack
    theirs = make_remote(root, "branch-exists", {"src/app.py": HANDLER})
    work = root / "work" / "branch-exists"
    git(work, "checkout", "-q", "-b", BRANCH)
    write(work, {"NOTES.md": "someone's work in progress\n"})
    git(work, "add", "-A")
    git(work, "commit", "-qm", "their own commit")
    git(work, "push", "-q", str(theirs), BRANCH)
    corrupt = root / "remotes" / "cannot-clone.git"  # looks like a repository to the manifest check, not to git
    corrupt.mkdir()
    (corrupt / "HEAD").write_text("garbage\n")
    names = [*CHANGED, *UNCHANGED, "broken-file", "push-rejected", "branch-exists", "cannot-clone"]
    lines = ["# the fleet, as turbolift's repos.txt", *(f"remotes/{n}.git" for n in names)]
    (root / "repos.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def campaign(fleet: Path) -> dict:
    """A --push run on two workers killed with SIGINT after a few repositories, then resumed."""
    workspace = fleet / "workspace"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "rewriter.cli", "batch", "repos.txt", "--push", "--workspace", str(workspace),
            "--author", AUTHOR, "-j", "2"]
    child = subprocess.Popen(args, cwd=fleet, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        if sum(e.get("outcome") in DONE for e in ledger(workspace).values()) >= 3:
            break
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGINT)  # Ctrl-C: the whole process group, git included
    out, err = child.communicate(timeout=120)
    interrupted = ledger(workspace)
    resumed = _invoke(["repos.txt", "--push", "--resume", "--workspace", str(workspace), "-j", "2",
                       "--report", str(fleet / "report.json")], fleet)
    return {
        "workspace": workspace, "killed_rc": child.returncode, "killed_err": err.decode(), "interrupted": interrupted,
        "resumed": resumed, "report": json.loads((fleet / "report.json").read_text()), "ledger": ledger(workspace),
    }


def test_the_killed_run_stopped_halfway_and_kept_its_ledger(campaign: dict) -> None:
    assert campaign["killed_rc"] == 130, campaign["killed_err"]  # issue 18: Ctrl-C exits 130, with the report
    assert "interrupted" in campaign["killed_err"] and "--resume" in campaign["killed_err"]
    done = [name for name, e in campaign["interrupted"].items() if e["outcome"] in DONE]
    assert 3 <= len(done) < 12, campaign["interrupted"]
    for entry in campaign["interrupted"].values():
        assert entry["outcome"] in (*DONE, "running", "failed")


def test_resume_finishes_every_repository(campaign: dict, fleet: Path) -> None:
    result = campaign["resumed"]
    assert result.exit_code == 3, result.output
    entries = campaign["ledger"]
    assert len(entries) == 12
    assert {n for n, e in entries.items() if e["outcome"] == "pushed"} == set(CHANGED)
    for name in CHANGED:
        assert entries[name]["outcome"] == "pushed", entries[name]
        assert entries[name]["stage"] == "pushed"
        assert entries[name]["tip"] == refs(fleet / "remotes" / f"{name}.git")[f"refs/heads/{BRANCH}"]
    for name in UNCHANGED:
        assert entries[name]["outcome"] == "unchanged"
        assert f"refs/heads/{BRANCH}" not in refs(fleet / "remotes" / f"{name}.git")
    # Resumed repositories were not run again.
    before = campaign["interrupted"]
    for name, entry in before.items():
        if entry["outcome"] in DONE:
            assert entries[name]["attempts"] == entry["attempts"] == 1


def test_failures_are_named_with_their_reason(campaign: dict, fleet: Path) -> None:
    entries = campaign["ledger"]
    clone = entries["cannot-clone"]
    assert (clone["outcome"], clone["failed_stage"]) == ("failed", "clone")
    assert "does not appear to be a git repository" in clone["reason"] or "not a git repository" in clone["reason"]
    exists = entries["branch-exists"]
    assert exists["outcome"] == "failed" and "exists on the remote" in exists["reason"]
    assert "did not make" in exists["reason"]
    assert branch_commits(fleet / "remotes" / "branch-exists.git") == [""]  # theirs, untouched
    broken = entries["broken-file"]
    assert broken["outcome"] == "failed" and broken["stage"] == "pushed"
    assert "src/broken/app.py" in broken["reason"] and "does not parse" in broken["reason"]
    assert broken["commits"][0]["files"] == ["src/ok/app.py"]  # the rest of the repository was done
    rejected = entries["push-rejected"]
    assert (rejected["outcome"], rejected["failed_stage"], rejected["stage"]) == ("failed", "push", "committed")
    assert "refused" in rejected["reason"]
    assert f"refs/heads/{BRANCH}" not in refs(fleet / "remotes" / "push-rejected.git")
    stderr = campaign["resumed"].stderr
    for name in ("cannot-clone", "branch-exists", "broken-file", "push-rejected"):
        assert f"failed    {fleet}/remotes/{name}.git" in stderr


def test_no_repository_got_two_commits_of_a_codemod(campaign: dict, fleet: Path) -> None:
    for name in [*CHANGED, "broken-file"]:
        trailers = branch_commits(fleet / "remotes" / f"{name}.git")
        assert trailers and all(trailers), (name, trailers)
        assert len(trailers) == len(set(trailers)), (name, trailers)
        assert [c["codemod"] for c in campaign["ledger"][name]["commits"]] == trailers[::-1]


def test_report_json_and_markdown(campaign: dict) -> None:
    report = campaign["report"]
    assert report["exit_status"] == 3 and report["push"] is True
    totals = report["totals"]
    counts = [totals[k] for k in ("repositories", "ok", "unchanged", "skipped", "failed")]
    assert counts == [12, 5, 3, 0, 4]
    assert totals["commits"] == sum(len(r["commits"] or []) for r in report["repositories"]) > 6
    assert totals["by_codemod"]["hoist-clients"]["changes"] > 0
    sam = next(r for r in report["repositories"] if r["repository"].endswith("sam-orders.git"))
    assert sam["files_changed"] > 0 and sam["lines_added"] > 0
    hoisted = [c for c in sam["changes"] if c["codemod"] == "hoist-clients"]
    assert sam["by_codemod"]["hoist-clients"]["changes"] == len(hoisted)
    markdown = campaign["resumed"].stdout
    assert "5 OK, 3 unchanged, 0 skipped, 4 errored" in markdown
    assert "| repository | outcome | branch | commits | files | lines | notes |" in markdown
    assert markdown.count("\n| ") == 2 + 12  # header, rule, one row per repository


def test_a_second_full_run_makes_no_commit_and_no_push(campaign: dict, fleet: Path) -> None:
    before = {name: refs(fleet / "remotes" / f"{name}.git") for name in [*CHANGED, *UNCHANGED, "broken-file"]}
    local = {name: git(campaign["workspace"] / "repos" / e["key"], "for-each-ref")
             for name, e in campaign["ledger"].items() if name != "cannot-clone"}
    again = _invoke(["repos.txt", "--push", "--workspace", str(campaign["workspace"]), "-j", "2"], fleet)
    assert again.exit_code == 3, again.output
    after = ledger(campaign["workspace"])
    assert {name: refs(fleet / "remotes" / f"{name}.git") for name in before} == before
    assert {name: git(campaign["workspace"] / "repos" / after[name]["key"], "for-each-ref") for name in local} == local
    for name in CHANGED:
        assert after[name]["outcome"] == "pushed" and after[name]["pushed_now"] is False
        assert after[name]["tip"] == campaign["ledger"][name]["tip"]


def test_a_fresh_workspace_skips_branches_the_tool_pushed(campaign: dict, fleet: Path, tmp_path: Path) -> None:
    (tmp_path / "two.txt").write_text(f"{fleet}/remotes/sam-orders.git\n{fleet}/remotes/branch-exists.git\n")
    result = _invoke(["two.txt", "--push", "--workspace", str(tmp_path / "ws")], tmp_path)
    assert result.exit_code == 3
    entries = ledger(tmp_path / "ws")
    assert entries["sam-orders"]["outcome"] == "skipped"
    assert "made by lambda-rewriter on this base" in entries["sam-orders"]["reason"]
    assert entries["branch-exists"]["outcome"] == "failed"
    assert "0 OK, 0 unchanged, 1 skipped, 1 errored" in result.stdout


def test_dry_run_writes_patches_and_touches_no_remote(fleet: Path, tmp_path: Path) -> None:
    remote = make_remote(tmp_path, "dry", sample="serverless-notify")
    before = refs(remote)
    (tmp_path / "repos.toml").write_text(
        '[defaults]\ncodemods = ["hoist-clients"]\n\n[[repository]]\nurl = "remotes/dry.git"\nbase = "main"\n'
        'exclude = ["src/handlers/digest.py"]\n'
    )
    result = _invoke(["repos.toml", "--workspace", "ws", "--report", "report.json"], tmp_path)
    assert result.exit_code == 0, result.output
    assert refs(remote) == before
    (entry,) = ledger(tmp_path / "ws").values()
    assert entry["outcome"] == "patched" and entry["branch"] == "lambda-rewriter/hoist-clients"
    assert [c["codemod"] for c in entry["commits"]] == ["hoist-clients"]
    assert {f for c in entry["commits"] for f in c["files"]} == {"src/handlers/notify.py"}
    patch = Path(entry["patch"]).read_text()
    assert patch.startswith("From ") and "Lambda-Rewriter-Codemod: hoist-clients" in patch
    # The patch is what `git am` takes on a clone of the remote.
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(remote), str(clone)], tmp_path)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "am", "-q", entry["patch"]], clone)
    assert git(clone, "log", "-1", f"--format={TRAILER}") == "hoist-clients"
    # A later --push run pushes the same commits, without rewriting again.
    pushed = _invoke(["repos.toml", "--workspace", "ws", "--push"], tmp_path)
    assert pushed.exit_code == 0, pushed.output
    assert refs(remote)["refs/heads/lambda-rewriter/hoist-clients"] == entry["tip"]


def test_planted_hooks_and_fsmonitor_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    marker.mkdir()
    script = f"#!/bin/sh\ntouch {marker}/$(basename $0)-$$\nexit 0\n"
    remote = make_remote(tmp_path, "planted", {"src/app.py": HANDLER})

    def plant(git_dir: Path, names: list[str]) -> None:
        for name in names:
            hook = git_dir / "hooks" / name
            hook.parent.mkdir(exist_ok=True)
            hook.write_text(script)
            hook.chmod(0o755)
        monitor = tmp_path / "fsmonitor.sh"
        monitor.write_text(script)
        monitor.chmod(0o755)
        run(["git", "config", "--file", str(git_dir / "config"), "core.fsmonitor", str(monitor)], tmp_path)

    plant(remote, ["pre-receive", "update", "post-receive", "post-update", "reference-transaction", "push-to-checkout"])
    (tmp_path / "repos.txt").write_text("remotes/planted.git\n")
    first = _invoke(["repos.txt", "--workspace", "ws", "--push"], tmp_path)
    assert first.exit_code == 0, first.output
    (entry,) = ledger(tmp_path / "ws").values()
    clone = tmp_path / "ws" / "repos" / entry["key"]
    plant(clone / ".git", ["reference-transaction", "pre-push", "post-commit", "pre-commit", "post-checkout",
                           "pre-auto-gc", "fsmonitor-watchman"])
    # The base moves on and the reviewed branch was merged and deleted: the second run rebuilds in the planted clone.
    work = tmp_path / "work" / "planted"
    write(work, {"src/other.py": HANDLER})
    git(work, "add", "-A")
    git(work, "commit", "-qm", "more")
    safe = ["-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false"]  # the test's own moves run nothing
    git(work, *safe, "push", "-q", "--receive-pack=git -c core.hooksPath=/dev/null receive-pack", str(remote), "main")
    git(remote, *safe, "update-ref", "-d", f"refs/heads/{BRANCH}")
    second = _invoke(["repos.txt", "--workspace", "ws", "--push"], tmp_path)
    assert second.exit_code == 0, second.output
    (entry,) = ledger(tmp_path / "ws").values()
    assert entry["outcome"] == "pushed" and entry["attempts"] == 2
    assert git(remote, "merge-base", BRANCH, "main") == git(remote, "rev-parse", "main")
    assert list(marker.iterdir()) == []


@pytest.mark.parametrize(
    "text, words",
    [
        pytest.param("ext::sh -c touch% /tmp/pwned\n", "transport helpers", id="ext"),
        pytest.param("fd::17\n", "transport helpers", id="fd"),
        pytest.param("--upload-pack=touch /tmp/pwned\n", "may not start with '-'", id="option"),
        pytest.param("-oProxyCommand=x\n", "may not start with '-'", id="dash"),
        pytest.param("https://example.com/a\x1b[2J.git\n", "control characters", id="control"),
        pytest.param("gopher://example.com/repo.git\n", "protocol gopher is refused", id="protocol"),
        pytest.param("./no/such/repository\n", "no such local repository", id="missing-path"),
        pytest.param("plain\n", "not a git repository", id="not-a-repository"),
        pytest.param("https://github.com/acme/orders.git\n# again\nhttps://GitHub.com/acme/orders/\n",
                     "repos.txt:4: https://GitHub.com/acme/orders/ is listed already on line 2", id="duplicate"),
        pytest.param("# nothing\n\n", "no repositories listed", id="empty"),
        pytest.param('[[repository]]\nurl = "https://github.com/acme/b.git"\n', "looks like the TOML form",
                     id="toml-in-a-txt"),
    ],
)
def test_hostile_manifests_are_refused_with_the_line(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "plain").mkdir()
    first = "" if "no repositories" in words else "https://github.com/acme/ok.git\n"
    (tmp_path / "repos.txt").write_text(first + text)
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.load(tmp_path / "repos.txt")
    assert words in str(caught.value)
    if first and "listed already" not in words:
        assert f"{tmp_path / 'repos.txt'}:2:" in str(caught.value)


def test_a_refused_manifest_exits_2_and_touches_nothing(tmp_path: Path) -> None:
    (tmp_path / "repos.txt").write_text("https://github.com/acme/ok.git\next::sh -c id\n")
    result = _invoke(["repos.txt", "--workspace", "ws"], tmp_path)
    assert result.exit_code == 2
    assert "repos.txt:2:" in result.stderr and "no repository was touched" in result.stderr
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    "text, words",
    [
        pytest.param('[[repository]]\nurl = "https://x.org/a.git"\ncodemod = ["x"]\n', "unknown key 'codemod'",
                     id="key"),
        pytest.param('[[repository]]\nurl = "https://x.org/a.git"\ncodemods = ["nope"]\n', "unknown codemod nope",
                     id="codemod"),
        pytest.param('[[repository]]\nbase = "main"\n', ":1: [[repository]] needs url", id="no-url"),
        pytest.param('[[repository]]\nurl = "https://x.org/a.git"\nbase = "--force"\n', "not an acceptable branch",
                     id="base"),
        pytest.param('[[repository]]\nurl = "https://x.org/a.git"\nexclude = ["../up"]\n', "relative to the repository",
                     id="exclude"),
        pytest.param("[[repository]\n", "not valid TOML", id="syntax"),
    ],
)
def test_toml_manifest_problems(tmp_path: Path, text: str, words: str) -> None:
    (tmp_path / "repos.toml").write_text(text)
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.load(tmp_path / "repos.toml")
    assert words in str(caught.value)


def test_manifest_forms_and_settings(tmp_path: Path) -> None:
    (tmp_path / "repos.txt").write_text("# fleet\n\nhttps://github.com/acme/a.git  # team A\ngit@github.com:acme/b.git")
    plain = manifest.load(tmp_path / "repos.txt")
    assert [(r.url, r.line) for r in plain] == [("https://github.com/acme/a.git", 3), ("git@github.com:acme/b.git", 4)]
    assert len({r.key for r in plain}) == 2 and all(r.key.startswith("acme-") for r in plain)
    (tmp_path / "repos.toml").write_text(
        '[defaults]\ncodemods = ["hoist-clients"]\n\n[[repository]]\nurl = "https://github.com/acme/a.git"\n\n'
        '[[repository]]\nurl = "https://github.com/acme/b.git"\nbase = "develop"\ncodemods = ["targeted-imports"]\n'
        'include = ["services/"]\nexclude = ["services/legacy/**"]\n\n'
        '[[repository]]\nurl = "https://github.com/acme/c.git"\ncodemods = []\ndisable = ["targeted-imports"]\n'
    )
    a, b, c = manifest.load(tmp_path / "repos.toml")
    assert "hoist-clients" in c.codemods and "targeted-imports" not in c.codemods
    assert (a.codemods, a.base, a.line) == (("hoist-clients",), None, 4)
    assert (b.codemods, b.base, b.line) == (("targeted-imports",), "develop", 7)
    assert b.keeps("services/orders/app.py") and not b.keeps("services/legacy/app.py") and not b.keeps("tools/x.py")


def test_samples_batch_manifests_parse() -> None:
    folder = SAMPLES / "batch"
    for name in ("repos.txt", "repos.toml"):
        assert manifest.load(folder / name)


def test_dask_executor_runs_on_a_local_cluster(fleet: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    make_remote(tmp_path, "serverless-notify", sample="serverless-notify")  # the fleet's may have its branch already
    (tmp_path / "repos.txt").write_text(f"remotes/serverless-notify.git\n{fleet}/remotes/docs-only.git\n"
                                        f"{fleet}/remotes/cannot-clone.git\n")
    with distributed.LocalCluster(n_workers=3, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        result = _invoke(["repos.txt", "--workspace", "ws", "--executor", "dask", "--scheduler",
                          cluster.scheduler_address, "--report", "report.json"], tmp_path)
    assert result.exit_code == 3, result.output
    entries = ledger(tmp_path / "ws")
    assert {n: e["outcome"] for n, e in entries.items()} == {
        "serverless-notify": "patched", "docs-only": "unchanged", "cannot-clone": "failed"}
    assert Path(entries["serverless-notify"]["patch"]).is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["ok"] == 1 and report["totals"]["failed"] == 1


def test_dask_executor_without_dask_or_scheduler_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "repos.txt").write_text("https://github.com/acme/a.git\n")
    missing = _invoke(["repos.txt", "--workspace", "ws", "--executor", "dask"], tmp_path)
    assert missing.exit_code == 2 and "--scheduler" in missing.stderr
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = _invoke(["repos.txt", "--workspace", "ws", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"],
                     tmp_path)
    assert result.exit_code == 2 and "lambda-rewriter[dask]" in result.stderr


def test_one_batch_per_workspace(tmp_path: Path) -> None:
    with batch.workspace_lock(tmp_path / "ws"):
        with pytest.raises(batch.BatchError, match="another batch"):
            with batch.workspace_lock(tmp_path / "ws"):
                pass


@pytest.mark.parametrize("args", [["--branch", "../escape"], ["--branch", "-x"], ["--author", "nobody"],
                                  ["-c", "no-such-codemod"]])
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "repos.txt").write_text("https://github.com/acme/a.git\n")
    result = invoke(["batch", "repos.txt", "--workspace", "ws", *args], tmp_path)
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "ws").exists()


# -- a second reading: odd manifests, changed manifests, credentials ------------------------------------------------


def test_a_manifest_saved_on_windows_is_read(tmp_path: Path) -> None:
    """A byte order mark, CRLF line ends, tabs and trailing spaces are no part of an entry."""
    make_remote(tmp_path, "a", {"app.py": HANDLER})
    make_remote(tmp_path, "b", {"app.py": HANDLER})
    (tmp_path / "repos.txt").write_bytes(b"\xef\xbb\xbfremotes/a.git  \r\n\tremotes/b.git\t# team B\r\n")
    assert [Path(r.url).name for r in manifest.load(tmp_path / "repos.txt")] == ["a.git", "b.git"]
    (tmp_path / "repos.toml").write_bytes(b'\xef\xbb\xbf[[repository]]\r\nurl = "remotes/a.git"\r\n')
    [repo] = manifest.load(tmp_path / "repos.toml")
    assert (Path(repo.url).name, repo.line) == ("a.git", 1)


@pytest.mark.parametrize(
    "first, second",
    [
        pytest.param("remotes/a.git", "remotes/../remotes/a.git", id="dot-dot"),
        pytest.param("remotes/a.git", "link.git", id="symbolic-link"),
        pytest.param("https://bot:t0ken@example.com/acme/x.git", "https://example.com/acme/x", id="credentials"),
        pytest.param("git@github.com:acme/y.git", "ssh://git@github.com/acme/y", id="scp-and-ssh"),
    ],
)
def test_one_repository_spelled_two_ways_is_a_duplicate(tmp_path: Path, first: str, second: str) -> None:
    make_remote(tmp_path, "a", {"app.py": HANDLER})
    (tmp_path / "link.git").symlink_to(tmp_path / "remotes" / "a.git")
    (tmp_path / "repos.txt").write_text(f"{first}\n{second}\n")
    with pytest.raises(manifest.ManifestError, match="is listed already on line 1"):
        manifest.load(tmp_path / "repos.txt")


def test_credentials_in_an_url_are_never_shown(tmp_path: Path) -> None:
    """The Markdown goes into a tracking issue and the report to CI artefacts: a token stays out of both."""
    url = "https://bot:s3cret-token@127.0.0.1:1/acme/x.git"  # nothing listens: the clone fails
    (tmp_path / "repos.txt").write_text(f"{url}\n")
    [repo] = manifest.load(tmp_path / "repos.txt")
    assert repo.url == url and repo.shown == "https://***@127.0.0.1:1/acme/x.git" and "s3cret" not in repo.key
    assert manifest.redact("ssh://git:pw@host/x.git") == "ssh://git:***@host/x.git"
    assert manifest.redact("git@github.com:acme/x.git") == "git@github.com:acme/x.git"
    result = _invoke(["repos.txt", "--workspace", "ws", "--report", "report.json"], tmp_path)
    assert result.exit_code == 3, result.output
    assert "https://***@127.0.0.1:1/acme/x.git" in result.stdout
    written = [p.read_text() for p in (tmp_path / "ws" / "ledger").glob("*.json")] + [
        (tmp_path / "report.json").read_text()]
    for text in [result.stdout, result.stderr, *written]:
        assert "s3cret" not in text
    (tmp_path / "repos.txt").write_text(f"{url}\n{url.replace('x.git', 'x')}\n")
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.load(tmp_path / "repos.txt")
    assert "listed already" in str(caught.value) and "s3cret" not in str(caught.value)


def test_resume_redoes_a_repository_whose_settings_changed(tmp_path: Path) -> None:
    """--resume skips what is done for this manifest; a new branch name, codemods or scope is not done."""
    make_remote(tmp_path, "a", {"app.py": HANDLER, "jobs/app.py": HANDLER})
    toml = tmp_path / "repos.toml"
    toml.write_text('[[repository]]\nurl = "remotes/a.git"\n')
    first = _invoke(["repos.toml", "--workspace", "ws"], tmp_path)
    assert first.exit_code == 0, first.output
    toml.write_text('[[repository]]\nurl = "remotes/a.git"\nbranch = "perf/warm"\ncodemods = ["hoist-clients"]\n')
    second = _invoke(["repos.toml", "--workspace", "ws", "--resume"], tmp_path)
    assert second.exit_code == 0, second.output
    [entry] = ledger(tmp_path / "ws").values()
    assert (entry["branch"], entry["codemods"], entry["attempts"]) == ("perf/warm", ["hoist-clients"], 2)
    assert "`perf/warm`" in second.stdout
    # A narrower scope: the branch is rebuilt, not reused from the earlier run.
    toml.write_text(toml.read_text() + 'exclude = ["jobs/"]\n')
    third = _invoke(["repos.toml", "--workspace", "ws", "--resume"], tmp_path)
    assert third.exit_code == 0, third.output
    [entry] = ledger(tmp_path / "ws").values()
    assert entry["attempts"] == 3 and entry["files_changed"] == 1, entry
    assert "jobs/app.py" not in Path(entry["patch"]).read_text()
    fourth = _invoke(["repos.toml", "--workspace", "ws", "--resume"], tmp_path)
    assert "done in an earlier run" in fourth.stderr and ledger(tmp_path / "ws")["a"]["attempts"] == 3


@pytest.mark.parametrize("spoil", ["ledger-is-a-file", "parent-is-a-file"])
def test_a_workspace_that_cannot_be_used_is_one_clear_error(tmp_path: Path, spoil: str) -> None:
    make_remote(tmp_path, "a", {"app.py": HANDLER})
    (tmp_path / "repos.txt").write_text("remotes/a.git\n")
    if spoil == "ledger-is-a-file":
        write(tmp_path, {"ws/ledger": "not a folder\n"})
        workspace, words = "ws", "cannot hold the ledger"
    else:
        write(tmp_path, {"taken": "a file\n"})
        workspace, words = "taken/ws", "cannot use it as the workspace"
    result = _invoke(["repos.txt", "--workspace", workspace], tmp_path)
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Traceback" not in result.stderr


def test_the_log_line_tells_a_push_from_a_branch_found_pushed() -> None:
    entry = {"repository": "r", "outcome": "pushed", "branch": "b", "commits": [{"sha": "1"}], "pushed_now": True}
    assert batch.describe(entry) == "ok        r: pushed b (1 commit)"
    assert batch.describe({**entry, "pushed_now": False}) == "ok        r: already on the remote: b (1 commit)"
    assert batch.describe({**entry, "pushed_now": False, "resumed": True}).endswith("(done in an earlier run)")
    assert "2 commits, patch p" in batch.describe({**entry, "outcome": "patched", "patch": "p", "commits": [{}, {}]})


def test_no_git_identity_is_one_clear_error_before_any_clone(tmp_path: Path, monkeypatch) -> None:
    """Not one failure per repository after its clone: a CI container without user.name is the usual case."""
    make_remote(tmp_path, "a", {"app.py": HANDLER})
    (tmp_path / "repos.txt").write_text("remotes/a.git\n")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "")  # git refuses an empty name, whatever the machine's host name
    monkeypatch.setenv("GIT_COMMITTER_NAME", "")
    result = invoke(["batch", "repos.txt", "--workspace", "ws"], tmp_path)
    assert result.exit_code == 2, result.output
    assert "--author" in result.stderr and not (tmp_path / "ws" / "repos").exists()
    result = _invoke(["repos.txt", "--workspace", "ws"], tmp_path)
    assert result.exit_code == 0, result.output


def test_a_report_that_could_not_be_written_is_refused_before_the_batch(tmp_path: Path) -> None:
    make_remote(tmp_path, "a", {"app.py": HANDLER})
    (tmp_path / "repos.txt").write_text("remotes/a.git\n")
    result = _invoke(["repos.txt", "--workspace", "ws", "--report", "no/such/folder/report.json"], tmp_path)
    assert result.exit_code == 2, result.output
    assert "--report" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "ws").exists(), "nothing may be cloned for a batch whose report has nowhere to go"


_STALLED_BATCH = r"""
import os, shutil, sys, time
from rewriter import cli
from rewriter import git as git_branch

parent, real_rmtree = os.getpid(), shutil.rmtree


def stalled(*args, **kwargs):  # inside make_branch, its export made: wait for Ctrl-C
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    time.sleep(3600)


def slow_rmtree(path, *args, **kwargs):
    if os.getpid() == parent:
        return real_rmtree(path, *args, **kwargs)
    # A worker removing a large export: part of it goes, then the parent's patience runs out.
    for folder, _, files in os.walk(path):
        for name in files:
            os.unlink(os.path.join(folder, name))
            time.sleep(3600)


git_branch.engine.run = stalled
shutil.rmtree = slow_rmtree
raise SystemExit(cli.main(["batch", "repos.txt", "--workspace", "ws", "-j", "2", "--author", sys.argv[1]]))
"""


def test_stopping_batch_j2_leaves_no_half_removed_export_in_tmpdir(tmp_path: Path) -> None:
    import select

    names = ["one", "two"]
    for name in names:
        make_remote(tmp_path, name, {"src/app.py": HANDLER, **{f"src/data{i}.txt": "x\n" for i in range(5)}})
    (tmp_path / "repos.txt").write_text("".join(f"remotes/{name}.git\n" for name in names))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen([sys.executable, "-c", _STALLED_BATCH, AUTHOR], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        said = b""
        while said.count(b"ready\n") < 2 and select.select([child.stdout], [], [], 300)[0]:  # a guard, not a timing
            chunk = os.read(child.stdout.fileno(), 1024)
            if not chunk:
                break
            said += chunk
        assert said.count(b"ready\n") == 2, child.stderr.read()
        assert len(list(scratch.rglob("app.py"))) == 2, "both workers hold an export"
        os.killpg(child.pid, signal.SIGINT)  # Ctrl-C
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130, err  # issue 18: Ctrl-C exits 130 (it was 3), after the report
    assert b"interrupted" in err
    assert list(scratch.iterdir()) == []
