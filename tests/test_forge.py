"""`batch --push --open-pr` and `branch --push --open-pr` against a GitHub stand-in held to GitHub's OpenAPI
description (tests/github_standin.py), on real bare repositories."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cli_support import HANDLER, invoke, run, write
from github_standin import SPEC, Standin

from rewriter import forge
from rewriter.forge import Pacer, RateLimited

AUTHOR = "Batch Bot <bot@example.com>"
TOKEN = "t0ken-for-tests-4d2c"
BRANCH = "lambda-rewriter/all"
WITH_BLOCK = ("import requests\n\n\ndef handler(event, context):\n    with requests.Session() as session:\n"
              "        return session.get(event[\"url\"]).status_code\n")  # a note: the with block decides


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


@pytest.fixture
def github():
    if not SPEC.is_file():  # as the JavaScript tests do without npm (Makefile: tests/js/node_modules)
        pytest.skip("GitHub's OpenAPI description (npm @octokit/openapi) is not installed in tests/js/node_modules")
    with Standin() as standin:
        yield standin
        assert standin.violations == [], "\n".join(standin.violations)


def make_remote(root: Path, name: str, files: dict[str, str]) -> Path:
    work = root / "work" / name
    write(work, files)
    run(["git", "init", "-q", "-b", "main", "."], work)
    run(["git", "add", "-A"], work)
    run(["git", "commit", "-qm", "base"], work)
    bare = root / "remotes" / f"{name}.git"
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], root)
    return bare


def fleet(root: Path, names: list[str], extra: str = "") -> Path:
    """Bare repositories holding a handler to rewrite, and a TOML manifest naming each one's GitHub repository."""
    blocks = []
    for name in names:
        make_remote(root, name, {"src/app.py": HANDLER, "src/other.py": WITH_BLOCK})
        blocks.append(f'[[repository]]\nurl = "remotes/{name}.git"\npr-repository = "acme/{name}"\n')
    manifest = root / "repos.toml"
    manifest.write_text(extra + "\n".join(blocks))
    return manifest


def batch(root: Path, github: Standin, *args: str, api: str = "/api/v3"):
    return invoke(["batch", "repos.toml", "--push", "--open-pr", "--workspace", str(root / "ws"), "--author", AUTHOR,
                   "--api-url", github.url + api, "--pr-interval", "0", *args], root)


def ledger(root: Path) -> dict[str, dict]:
    return {Path(e["repository"]).stem: e for e in
            (json.loads(p.read_text()) for p in (root / "ws" / "ledger").glob("*.json"))}


def test_a_batch_opens_draft_pull_requests_with_the_body(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders", "reports"], extra='[defaults]\nlabels = ["performance"]\n')
    result = batch(tmp_path, github, "--reviewer", "alice", "--team-reviewer", "platform", "--assignee", "bob",
                   "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.stderr
    for name in ("orders", "reports"):
        [pr] = github.pulls[f"acme/{name}"].values()
        assert pr["draft"] is True and pr["state"] == "open" and pr["head"] == BRANCH and pr["base"] == "main"
        assert pr["labels"] == ["performance"] and pr["reviewers"] == ["alice", "team:platform"]
        assert pr["assignees"] == ["bob"]
        body = pr["body"]
        assert forge.marker(ledger(tmp_path)[name]["key"]) in body
        assert "- `src/app.py`\n  - line 5 (hoist-clients): `handler` builds `boto3.client(\"s3\")` once" in body
        assert "- `src/other.py` line 5 (hoist-clients): left in `handler`: `requests.Session(...)`" in body, body
        assert "### Estimated savings per warm invocation" in body and "| `src/app.py` | `handler` | ~5 ms |" in body
        assert "### How to review" in body and "### How to revert" in body and "git revert -m 1" in body
        from rewriter import __version__
        assert f"lambda-rewriter {__version__}" in body
        assert ledger(tmp_path)[name]["pr"]["number"] == 1 and ledger(tmp_path)[name]["pr"]["action"] == "opened"
    assert "pull requests: 2 opened" in result.stdout and "[#1](" in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["totals"]["pull_requests"] == {"opened": 2}
    for place in (result.stdout, result.stderr, (tmp_path / "report.json").read_text(),
                  *(p.read_text() for p in (tmp_path / "ws").rglob("*.json"))):
        assert TOKEN not in place


def test_a_rerun_updates_nothing_and_opens_no_second(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders"])
    assert batch(tmp_path, github).exit_code == 0
    writes = [entry for entry in github.log if entry[0] != "GET"]
    again = batch(tmp_path, github)
    assert again.exit_code == 0, again.stderr
    assert len(github.pulls["acme/orders"]) == 1
    assert [entry for entry in github.log if entry[0] != "GET"] == writes, "the re-run wrote nothing"
    assert "pull requests: 1 unchanged" in again.stdout
    resumed = batch(tmp_path, github, "--resume")
    assert resumed.exit_code == 0 and len(github.pulls["acme/orders"]) == 1


def test_the_body_is_updated_when_the_tool_has_more_to_say(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders"])
    assert batch(tmp_path, github).exit_code == 0
    github.pulls["acme/orders"][1]["body"] += "\n(an older body)"
    github.pulls["acme/orders"][1]["body"] = github.pulls["acme/orders"][1]["body"].replace("line 5", "line 6")
    again = batch(tmp_path, github)
    assert again.exit_code == 0
    assert ("PATCH", "/repos/acme/orders/pulls/1", 200) in github.log
    assert "line 5 (hoist-clients)" in github.pulls["acme/orders"][1]["body"]
    assert "pull requests: 1 updated" in again.stdout


def test_someone_elses_pull_request_on_the_branch_is_never_touched(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders", "reports"])
    github.seed("acme/orders", BRANCH, author="carol", body="my own notes")
    # A copied marker does not make it the tool's: it was not the token's account that opened it.
    key = batch_key(tmp_path, "reports")
    github.seed("acme/reports", BRANCH, author="mallory", body=forge.marker(key))
    result = batch(tmp_path, github)
    assert result.exit_code == 0, result.stderr
    for name, body in (("orders", "my own notes"), ("reports", forge.marker(key))):
        [pr] = github.pulls[f"acme/{name}"].values()
        assert pr["body"] == body and pr["labels"] == []
        assert ledger(tmp_path)[name]["pr"]["ours"] is False
    assert not [e for e in github.log if e[0] != "GET"]
    assert "someone else's" in result.stdout


def batch_key(root: Path, name: str) -> str:
    from rewriter.manifest import workspace_key

    return workspace_key(str((root / "remotes" / f"{name}.git").absolute()))


def test_merged_and_closed_pull_requests_are_not_opened_again(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders", "reports"])
    assert batch(tmp_path, github).exit_code == 0
    github.set_state("acme/orders", 1, state="closed", merged=True)
    github.set_state("acme/reports", 1, state="closed")
    again = batch(tmp_path, github)
    assert again.exit_code == 0
    assert len(github.pulls["acme/orders"]) == 1 and len(github.pulls["acme/reports"]) == 1
    assert ledger(tmp_path)["orders"]["pr"]["state"] == "merged"
    assert ledger(tmp_path)["reports"]["pr"]["state"] == "closed"
    assert "was merged; not opened again" in again.stderr


def test_a_refused_token_fails_each_pull_request_once_and_never_shows(tmp_path: Path, github: Standin,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fleet(tmp_path, ["orders", "reports"])
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_refused0123456789")
    result = batch(tmp_path, github)
    assert result.exit_code == 3
    assert "Bad credentials" in result.stderr and "the token was refused" in result.stderr
    assert sum(1 for e in github.log if e[2] == 401) == 1, "after one refusal the run asks no more"
    assert "ghp_refused0123456789" not in result.stdout + result.stderr
    assert all(e["outcome"] == "pushed" and e["pr_error"] for e in ledger(tmp_path).values())
    # The branches are pushed; once the token is right, --resume opens the pull requests.
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    resumed = batch(tmp_path, github, "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert all(len(github.pulls[f"acme/{n}"]) == 1 for n in ("orders", "reports"))


def test_no_token_is_a_usage_error_before_anything_is_cloned(tmp_path: Path, github: Standin,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    fleet(tmp_path, ["orders"])
    monkeypatch.delenv("GITHUB_TOKEN")
    result = batch(tmp_path, github)
    assert result.exit_code == 2 and "GITHUB_TOKEN" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_token_command_gives_the_token(tmp_path: Path, github: Standin, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet(tmp_path, ["orders"])
    monkeypatch.delenv("GITHUB_TOKEN")
    result = batch(tmp_path, github, "--token-command", f"echo {TOKEN}", "--forge", "github", api="")  # github.com-style base URL
    assert result.exit_code == 0, result.stderr
    assert len(github.pulls["acme/orders"]) == 1
    failing = batch(tmp_path, github, "--token-command", f"echo {TOKEN}; exit 4")
    assert failing.exit_code == 2 and "exit 4" in failing.stderr and TOKEN not in failing.stderr


def test_ready_and_max_prs(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["a1", "a2", "a3"])
    first = batch(tmp_path, github, "--ready", "--max-prs", "2")
    assert first.exit_code == 3 and "--max-prs 2" in first.stdout
    assert sum(len(github.pulls.get(f"acme/{n}", {})) for n in ("a1", "a2", "a3")) == 2
    assert all(not pr["draft"] for pulls in github.pulls.values() for pr in pulls.values())
    second = batch(tmp_path, github, "--ready", "--max-prs", "2", "--resume")
    assert second.exit_code == 0, second.stdout
    assert all(len(github.pulls[f"acme/{n}"]) == 1 for n in ("a1", "a2", "a3"))


def test_a_pull_request_opened_meanwhile_is_adopted_not_doubled(tmp_path: Path, github: Standin) -> None:
    """A run stopped after the forge opened the pull request and before the ledger said so: the next run finds it
    (422 "already exists" would be GitHub's answer to a second one) and takes it as its own."""
    fleet(tmp_path, ["orders"])
    assert batch(tmp_path, github).exit_code == 0
    for path in (tmp_path / "ws" / "ledger").glob("*.json"):
        entry = json.loads(path.read_text())
        entry["pr"] = None
        path.write_text(json.dumps(entry))
    again = batch(tmp_path, github)
    assert again.exit_code == 0 and len(github.pulls["acme/orders"]) == 1
    assert ledger(tmp_path)["orders"]["pr"]["ours"] is True


def test_the_forge_refusing_a_second_pull_request_is_read_again(github: Standin) -> None:
    from rewriter import forge_pr
    from rewriter.forge_github import GitHub

    client = GitHub(forge.Target("github", github.url, "acme/orders"), TOKEN, Pacer(interval=0))
    entry = {"key": "orders-0", "branch": BRANCH, "base_branch": "main", "base": "a" * 40, "commits": [],
             "changes": [], "notes": []}
    github.seed("acme/orders", BRANCH, author="lambda-bot", body="no marker")
    real = client.pulls_for
    calls = []
    client.pulls_for = lambda branch: calls.append(branch) or ([] if len(calls) == 1 else real(branch))
    record = forge_pr.deliver(client, entry, forge_pr.Request(), None)
    assert ("POST", "/repos/acme/orders/pulls", 422) in github.log
    assert record["ours"] is False and record["number"] == 1 and len(github.pulls["acme/orders"]) == 1


@pytest.mark.parametrize("ready", [False, True])
def test_branch_push_open_pr(tmp_path: Path, github: Standin, ready: bool) -> None:
    bare = make_remote(tmp_path, "orders", {"src/app.py": HANDLER})
    work = tmp_path / "clone"
    run(["git", "clone", "-q", str(bare), str(work)], tmp_path)
    args = ["branch", str(work), "--push", "origin", "--open-pr", "--api-url", github.url, "--forge", "github",
            "--author", AUTHOR, "--label", "perf"]
    result = invoke([*args, *(["--ready"] if ready else [])], tmp_path)
    # A local remote names no GitHub repository: refused with the reason, after the push.
    assert result.exit_code == 3 and "pr-repository" in result.stderr
    shutil.rmtree(work)
    run(["git", "clone", "-q", str(bare), str(work)], tmp_path)
    run(["git", "remote", "set-url", "--push", "origin", str(bare)], work)
    run(["git", "remote", "set-url", "origin", "https://github.com/acme/orders.git"], work)
    run(["git", "config", "remote.origin.pushurl", str(bare)], work)
    result = invoke([*args, "--branch", "perf/hoist", *(["--ready"] if ready else [])], tmp_path)
    assert result.exit_code == 0, result.stderr
    [pr] = github.pulls["acme/orders"].values()
    assert pr["draft"] is (not ready) and pr["labels"] == ["perf"] and pr["head"] == "perf/hoist"
    assert "pull request https://github.example/acme/orders/pull/1" in result.stderr


def test_branch_open_pr_needs_push(tmp_path: Path) -> None:
    result = invoke(["branch", str(tmp_path), "--open-pr"], tmp_path)
    assert result.exit_code == 2 and "--push" in result.stderr


# ------------------------------------------------------------------------------------------ pace


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_waits_what_the_forge_asks_then_backs_off_with_bounded_jitter() -> None:
    clock = Clock()
    pacer = Pacer(interval=0, sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 1.0, attempts=5)
    answers = [RateLimited("secondary", 7), RateLimited("secondary", None), RateLimited("secondary", None), "done"]

    def action():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert pacer.call(action) == "done"
    # 7 s as asked (+ jitter under a second), then 2 s and 4 s of backoff, each with its jitter.
    assert clock.slept == [7 + 1.0, 2 * 2 ** 1 + 1.0, 2 * 2 ** 2 + 1.0]


def test_pacer_gives_up_after_its_attempts_and_on_a_reset_too_far() -> None:
    clock = Clock()
    pacer = Pacer(sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 0.0, attempts=3)
    with pytest.raises(RateLimited):
        pacer.call(lambda: (_ for _ in ()).throw(RateLimited("limited", 1)))
    assert len(clock.slept) == 2
    with pytest.raises(RateLimited, match="more than"):
        pacer.call(lambda: (_ for _ in ()).throw(RateLimited("limited", 3600)))


def test_pacer_keeps_the_interval_between_creations_and_the_cap() -> None:
    clock = Clock()
    pacer = Pacer(interval=5, max_prs=2, sleep=clock.sleep, clock=lambda: clock.now)
    pacer.before_create()
    pacer.did_create()
    clock.now += 2
    pacer.before_create()
    pacer.did_create()
    assert clock.slept == [3]
    with pytest.raises(forge.LimitReached):
        pacer.before_create()


@pytest.mark.parametrize("status, headers, message, wait", [
    (403, {"Retry-After": "30"}, "You have exceeded a secondary rate limit", 30.0),
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, "API rate limit exceeded", 100.0),
    (403, {}, "You have exceeded a secondary rate limit", -1.0),
    (429, {}, "", -1.0),
    (403, {}, "Resource not accessible by integration", None),
    (422, {"Retry-After": "3"}, "Validation Failed", None),
])
def test_rate_limit_wait(status, headers, message, wait) -> None:
    assert forge.rate_limit_wait(status, headers, message, now=1000.0) == wait


@pytest.mark.parametrize("url, expected", [
    ("https://github.com/acme/orders.git", ("github", "https://api.github.com", "acme/orders")),
    ("git@github.com:acme/orders.git", ("github", "https://api.github.com", "acme/orders")),
    ("ssh://git@github.com/acme/orders", ("github", "https://api.github.com", "acme/orders")),
    ("https://bot:secret@gitlab.com/group/sub/app.git", ("gitlab", "https://gitlab.com/api/v4", "group/sub/app")),
])
def test_target_from_the_remote_url(url, expected) -> None:
    target = forge.target_for(url)
    assert (target.kind, target.api_url, target.full_name) == expected


def test_target_for_github_enterprise_and_overrides() -> None:
    ghes = forge.target_for("https://ghe.example.com/acme/orders.git", kind="github")
    assert ghes.api_url == "https://ghe.example.com/api/v3"
    with pytest.raises(forge.ForgeError, match="--forge"):
        forge.target_for("https://ghe.example.com/acme/orders.git")
    with pytest.raises(forge.ForgeError, match="pr-repository"):
        forge.target_for("/srv/git/orders.git", api_url="https://api.github.com")
    named = forge.target_for("/srv/git/orders.git", api_url="https://api.github.com", full_name="acme/orders")
    assert named.full_name == "acme/orders" and named.kind == "github"


# ------------------------------------------------------------------------------------------ a fleet


def test_sixty_repositories_with_rate_limits_midway_open_every_pull_request_once(tmp_path: Path,
                                                                                 github: Standin) -> None:
    """A secondary rate limit (403 + Retry-After) at the 25th creation and a primary one (x-ratelimit-reset) at
    the 40th: the run waits as asked, never tries early, and ends with one pull request per repository."""
    names = [f"svc{i:02d}" for i in range(60)]
    fleet(tmp_path, names)
    github.secondary_at, github.primary_at, github.retry_after = {25}, {41}, 1
    result = batch(tmp_path, github, "-j", "2", "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.stdout[-3000:]
    assert github.creates == 60 and github.early_retries == 0
    assert all(len(github.pulls[f"acme/{name}"]) == 1 for name in names)
    assert [status for method, path, status in github.log if method == "POST" and path.endswith("/pulls")].count(403) == 2
    assert json.loads((tmp_path / "report.json").read_text())["totals"]["pull_requests"] == {"opened": 60}
    again = batch(tmp_path, github, "--resume")
    assert again.exit_code == 0 and github.creates == 60


def test_sigterm_writes_the_report_of_what_finished_and_exits_143(tmp_path: Path, github: Standin) -> None:
    import signal
    import subprocess
    import sys
    import time

    names = [f"svc{i:02d}" for i in range(12)]
    fleet(tmp_path, names)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent.parent), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, "-m", "rewriter.cli", "batch", "repos.toml", "--push", "--open-pr", "--workspace",
            str(tmp_path / "ws"), "--author", AUTHOR, "--api-url", github.url + "/api/v3", "--pr-interval", "0",
            "--report", str(tmp_path / "report.json"), "--summary", str(tmp_path / "summary.md")]
    child = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300  # a guard against a hang, not a timing
    while time.monotonic() < deadline and child.poll() is None and github.creates < 2:
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 143, err.decode()
    report = json.loads((tmp_path / "report.json").read_text())
    # The pull request in flight when the signal came may be open but not yet in the report: the re-run adopts it.
    assert report["interrupted"] is True and 1 <= len(report["repositories"]) < len(names)
    assert all(r["pr"]["action"] == "opened" for r in report["repositories"])
    summary = (tmp_path / "summary.md").read_text()
    assert summary == out.decode().rstrip("\n") + "\n" or summary in out.decode()
    assert "did not finish" in summary
    assert list(scratch.iterdir()) == []
    resumed = batch(tmp_path, github, "--resume")
    assert resumed.exit_code == 0 and github.creates == len(names)
    assert all(len(github.pulls[f"acme/{n}"]) == 1 for n in names)


# ------------------------------------------------------------------------------------------ status


def test_status_shows_state_checks_and_reviews(tmp_path: Path, github: Standin) -> None:
    names = ["merged1", "open1", "open2", "closed1", "draft1"]
    fleet(tmp_path, [*names, "never"])
    manifest = tmp_path / "repos.toml"
    full = manifest.read_text()
    manifest.write_text(full.split('[[repository]]\nurl = "remotes/never.git"')[0])
    assert batch(tmp_path, github).exit_code == 0
    manifest.write_text(full)
    github.set_state("acme/merged1", 1, state="closed", merged=True)
    github.set_state("acme/closed1", 1, state="closed")
    for name in ("open1", "open2"):
        github.pulls[f"acme/{name}"][1]["draft"] = False
    sha = github.pulls["acme/open1"][1]["sha"]
    github.checks[sha] = [("completed", "failure"), ("completed", "success")]
    github.reviews[("acme/open2", 1)] = [("alice", "CHANGES_REQUESTED"), ("alice", "APPROVED")]
    args = ["status", "repos.toml", "--workspace", str(tmp_path / "ws"), "--api-url", github.url + "/api/v3"]
    result = invoke(args, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "1 merged, 3 open (1 draft, 1 failing checks), 1 closed, 1 not opened" in result.stdout
    assert "| --- |" in result.stdout and "[#1](https://github.example/acme/open2/pull/1)" in result.stdout
    rows = {Path(r["repository"]).stem: r for r in json.loads(invoke([*args, "--format", "json"], tmp_path).stdout)
            ["repositories"]}
    assert rows["merged1"]["state"] == "merged" and rows["closed1"]["state"] == "closed"
    assert rows["draft1"]["state"] == "draft" and rows["never"]["state"] == "not opened"
    assert rows["open1"]["checks"] == "failing" and rows["open2"]["review"] == "approved"


# ------------------------------------------------------------------------------------------ stale


HOISTED = 'import boto3\n\ns3 = boto3.client("s3")\n\n\ndef handler(event, context):\n    return s3.list_buckets()\n'


def land_by_hand(root: Path, name: str) -> None:
    """Someone lands the change another way: the base now holds what the tool's branch would bring."""
    work = root / "work" / name
    run(["git", "pull", "-q", str(root / "remotes" / f"{name}.git"), "main"], work)
    write(work, {"src/app.py": HOISTED})
    run(["git", "commit", "-qam", "hoist by hand"], work)
    run(["git", "push", "-q", str(root / "remotes" / f"{name}.git"), "main"], work)


def test_close_stale_closes_the_tools_pull_request_with_a_comment(tmp_path: Path, github: Standin) -> None:
    fleet(tmp_path, ["orders", "reports"])
    assert batch(tmp_path, github).exit_code == 0
    land_by_hand(tmp_path, "orders")
    land_by_hand(tmp_path, "reports")
    github.seed("acme/reports", "lambda-rewriter/other", author="carol")  # not on the tool's branch: never touched
    kept = batch(tmp_path, github)  # without --close-stale: the branch and its pull request stay
    assert kept.exit_code == 0 and github.pulls["acme/orders"][1]["state"] == "open"
    assert ledger(tmp_path)["orders"]["outcome"] == "skipped"
    closed = batch(tmp_path, github, "--close-stale")
    assert closed.exit_code == 0, closed.stderr
    for name in ("orders", "reports"):
        assert github.pulls[f"acme/{name}"][1]["state"] == "closed"
        entry = ledger(tmp_path)[name]
        assert entry["outcome"] == "unchanged" and entry["pr"]["state"] == "closed" and entry["pr"]["action"] == "closed"
    assert github.pulls["acme/reports"][2]["state"] == "open"
    assert [(full, number) for full, number, _ in github.comments] == [("acme/orders", 1), ("acme/reports", 1)]
    assert all("nothing left to change" in text for _, _, text in github.comments)
    assert "pull requests: 2 closed" in closed.stdout
    again = batch(tmp_path, github, "--close-stale")
    assert again.exit_code == 0 and len(github.comments) == 2


def test_close_stale_needs_open_pr(tmp_path: Path) -> None:
    fleet(tmp_path, ["orders"])
    result = invoke(["batch", "repos.toml", "--push", "--close-stale", "--workspace", str(tmp_path / "ws")], tmp_path)
    assert result.exit_code == 2 and "--open-pr" in result.stderr


# ------------------------------------------------------------------------------------------ the body


def _entry(changes: int = 1) -> dict:
    return {"key": "orders-1", "branch": BRANCH, "base_branch": "main", "base": "a" * 40, "files_changed": 1,
            "commits": [{"codemod": "hoist-clients", "sha": "b" * 40, "subject": "hoist-clients: rewrite 1 file",
                         "files": ["app.py"]}],
            "changes": [{"codemod": "hoist-clients", "path": f"app{i}.py", "line": 5,
                         "message": "hoisted `s3 = boto3.client(\"s3\")` from `handler` to module scope"}
                        for i in range(changes)],
            "notes": [{"codemod": "hoist-clients", "path": "app.py", "line": 9,
                       "message": "left in `handler` for @alice: see #12 <b>now</b> `@keep`"}]}


def test_the_body_pings_nobody_and_links_no_issue() -> None:
    from rewriter import forge_body

    body = forge_body.body(_entry())
    assert "for &#64;alice: see &#35;12 &lt;b&gt;now&lt;/b&gt; `@keep`" in body
    assert "@alice" not in body and "#12" not in body


def test_a_body_too_long_for_the_forge_is_cut_and_keeps_review_and_revert() -> None:
    from rewriter import forge_body

    body = forge_body.body(_entry(changes=3000))
    assert len(body) <= forge_body.LIMIT
    assert "lines left out" in body and "### How to review" in body and "### How to revert" in body
    assert body.startswith(forge.marker("orders-1"))


# ------------------------------------------------------------------------------------------ the samples


def test_the_sample_fleet_gets_draft_pull_requests_a_quiet_rerun_and_status(tmp_path: Path,
                                                                           github: Standin) -> None:
    """The issue's "done when" on the sample apps as a fleet: draft pull requests with the body, a re-run that
    changes nothing, status (a stale one closed: test_close_stale_closes_the_tools_pull_request_with_a_comment)."""
    from cli_support import SAMPLES

    apps = ["sam-orders", "serverless-notify", "node-orders", "ts-reports", "java-orders"]
    blocks = []
    for app in apps:
        work = tmp_path / "work" / app
        shutil.copytree(SAMPLES / app, work)
        run(["git", "init", "-q", "-b", "main", "."], work)
        run(["git", "add", "-A"], work)
        run(["git", "commit", "-qm", "base"], work)
        run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "remotes" / f"{app}.git")], tmp_path)
        blocks.append(f'[[repository]]\nurl = "remotes/{app}.git"\npr-repository = "acme/{app}"\n')
    (tmp_path / "repos.toml").write_text("\n".join(blocks))
    first = batch(tmp_path, github, "-j", "2")
    assert first.exit_code == 0, first.stdout
    entries = ledger(tmp_path)
    for app in apps:
        [pr] = github.pulls[f"acme/{app}"].values()
        assert pr["draft"] and forge.marker(entries[app]["key"]) in pr["body"]
        for change in entries[app]["changes"]:
            assert f"`{change['path']}`" in pr["body"]
        notes = pr["body"][pr["body"].index("### Left as it was"):pr["body"].index("### How to review")]
        for note in entries[app]["notes"]:
            assert f"- `{note['path']}` line {note['line']} ({note['codemod']}): " in notes
    writes = [e for e in github.log if e[0] != "GET"]
    assert batch(tmp_path, github).exit_code == 0
    assert [e for e in github.log if e[0] != "GET"] == writes
    status = invoke(["status", "repos.toml", "--workspace", str(tmp_path / "ws"), "--api-url",
                     github.url + "/api/v3"], tmp_path)
    assert status.exit_code == 0 and "0 merged, 5 open (5 drafts), 0 closed, 0 not opened" in status.stdout
