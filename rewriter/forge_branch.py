"""``branch --push REMOTE --open-pr``: the pull request for the branch just pushed, as batch opens it.

There is no ledger here: the tool's own pull request is found again by its marker and the token's account.
The marker's key is the remote's, as batch names a workspace entry (``manifest.workspace_key``), so that a
batch run over the same repository later finds this pull request as its own.
"""
from __future__ import annotations

from pathlib import Path

from rewriter import forge, forge_run, git_safety
from rewriter import git as git_branch
from rewriter.manifest import Repository, workspace_key


def pull_request(path: Path, remote: str, outcome, settings: forge_run.Settings, token, interval: float,
                 max_prs: int | None, base: str | None = None) -> tuple[str, bool]:
    """(a line for the user, whether it went well)."""
    repo = git_branch.open_repository(path)
    try:
        urls = git_safety.remote_urls(repo, remote)
        url = next(iter((urls[0] or urls[1]) if urls else [remote]), remote)  # the url names the forge
        base_branch = base or (None if repo.head.is_detached else repo.active_branch.name)
        stats = repo.git.diff("--numstat", "--no-renames", "--no-ext-diff", "--no-textconv", outcome.base,
                              outcome.commits[-1].sha if outcome.commits else outcome.base).splitlines()
    finally:
        repo.close()
    if base_branch is None:
        return "pull request not opened: HEAD is detached; name the base branch with --base", False
    numbers = [line.split("\t", 2) for line in stats]
    entry = {
        "key": workspace_key(url), "branch": outcome.branch, "base_branch": base_branch, "base": outcome.base,
        "commits": [{"codemod": c.codemod, "sha": c.sha, "subject": c.subject, "files": c.files}
                    for c in outcome.commits],
        "changes": outcome.changes, "notes": outcome.notes, "files_changed": len(numbers),
        "lines_added": sum(int(n[0]) for n in numbers if n[0].isdigit()),
        "lines_removed": sum(int(n[1]) for n in numbers if n[1].isdigit()),
        "tests": outcome.tests.as_json() if outcome.tests else None,
        "outcome": "pushed" if outcome.pushed else "skipped",
    }
    runner = forge_run.PullRequests(settings, token, forge.Pacer(interval=interval, max_prs=max_prs))
    runner.handle(entry, Repository(url=url, key=entry["key"], line=0))
    if entry.get("pr_error"):
        return f"pull request failed: {entry['pr_error']}", False
    pr = entry.get("pr")
    if not pr:
        return "no pull request: the branch was left as it is", True
    reason = f": {pr['reason']}" if pr.get("reason") else ""
    return f"pull request {pr['url']} ({pr['state']}): {pr['action']}{reason}", True
