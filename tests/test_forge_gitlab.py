"""`batch --push --open-pr` on GitLab: merge requests against a stand-in of the documented API subset
(tests/gitlab_standin.py), on real bare repositories."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import invoke
from gitlab_standin import GitLabStandin
from test_forge import AUTHOR, fleet

from rewriter import forge

TOKEN = "glpat-for-tests-7f3a"
BRANCH = "lambda-rewriter/all"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)


@pytest.fixture
def gitlab():
    with GitLabStandin() as standin:
        yield standin
        assert standin.violations == [], "\n".join(standin.violations)


def batch(root: Path, gitlab: GitLabStandin, *args: str):
    return invoke(["batch", "repos.toml", "--push", "--open-pr", "--workspace", str(root / "ws"), "--author", AUTHOR,
                   "--api-url", gitlab.url, "--pr-interval", "0", *args], root)


def ledger(root: Path) -> dict[str, dict]:
    return {Path(e["repository"]).stem: e for e in
            (json.loads(p.read_text()) for p in (root / "ws" / "ledger").glob("*.json"))}


def test_merge_requests_are_opened_once_as_drafts_with_the_body(tmp_path: Path, gitlab: GitLabStandin) -> None:
    fleet(tmp_path, ["orders", "reports"])
    gitlab.seed("acme/reports", BRANCH, author="carol", description="mine")  # someone else's: left alone
    result = batch(tmp_path, gitlab, "--label", "perf", "--reviewer", "alice", "--assignee", "bob")
    assert result.exit_code == 0, result.stderr
    [mr] = gitlab.mrs["acme/orders"].values()
    assert mr["title"].startswith("Draft: lambda-rewriter: hoist-clients") and mr["target_branch"] == "main"
    assert mr["labels"] == ["perf"] and mr["reviewers"] == ["alice"] and mr["assignees"] == ["bob"]
    assert forge.marker(ledger(tmp_path)["orders"]["key"]) in mr["description"]
    assert "### How to revert" in mr["description"]
    [theirs] = gitlab.mrs["acme/reports"].values()
    assert theirs["description"] == "mine" and ledger(tmp_path)["reports"]["pr"]["ours"] is False
    writes = [e for e in gitlab.log if e[0] != "GET"]
    again = batch(tmp_path, gitlab)
    assert again.exit_code == 0 and [e for e in gitlab.log if e[0] != "GET"] == writes
    assert gitlab.mrs["acme/orders"][1]["title"].startswith("Draft: "), "a re-run keeps the draft"
    assert TOKEN not in result.stdout + result.stderr + again.stdout + again.stderr


def test_a_429_is_waited_out_and_a_refused_token_stops_asking(tmp_path: Path, gitlab: GitLabStandin,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fleet(tmp_path, ["a1", "a2", "a3"])
    gitlab.limit_at = {2}
    result = batch(tmp_path, gitlab)
    assert result.exit_code == 0, result.stderr
    assert gitlab.creates == 3 and gitlab.early_retries == 0
    assert all(len(gitlab.mrs[f"acme/{n}"]) == 1 for n in ("a1", "a2", "a3"))
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-refused-0000")
    refused = batch(tmp_path, gitlab)
    assert refused.exit_code == 3 and "the token was refused" in refused.stderr
    assert sum(1 for e in gitlab.log if e[2] == 401) == 1
    assert "glpat-refused-0000" not in refused.stdout + refused.stderr


def test_close_stale_and_status_on_gitlab(tmp_path: Path, gitlab: GitLabStandin) -> None:
    from test_forge import land_by_hand

    fleet(tmp_path, ["orders", "reports"])
    assert batch(tmp_path, gitlab).exit_code == 0
    gitlab.set_state("acme/reports", 1, "merged")
    sha = gitlab.mrs["acme/orders"][1]["sha"]
    gitlab.statuses[sha] = ["success", "failed"]
    status = invoke(["status", "repos.toml", "--workspace", str(tmp_path / "ws"), "--api-url", gitlab.url],
                    tmp_path)
    assert status.exit_code == 0, status.stderr
    assert "1 merged, 1 open (1 draft, 1 failing checks), 0 closed, 0 not opened" in status.stdout
    land_by_hand(tmp_path, "orders")
    closed = batch(tmp_path, gitlab, "--close-stale")
    assert closed.exit_code == 0, closed.stderr
    assert gitlab.mrs["acme/orders"][1]["state"] == "closed"
    assert [(p, i) for p, i, _ in gitlab.notes] == [("acme/orders", 1)]
