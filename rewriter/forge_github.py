"""GitHub's REST API for the tool's pull requests, through PyGithub (github.com and GitHub Enterprise Server).

PyGithub's own retries and write throttle are off (``retry=None``, no sleeps between calls): ``forge.Pacer`` owns
the pace, so that one Retry-After is honoured once, for the whole run. Every PyGithub error becomes a
``forge.ForgeError`` whose message holds the status and GitHub's words, never the token.
Objects are read only from fields the endpoint returns (``merged_at``, not ``merged``): PyGithub would
otherwise fetch each pull request again to complete it.
"""
from __future__ import annotations

import dataclasses

import github
import requests
from github import Auth, GithubException

from rewriter import __version__
from rewriter.forge import ForgeError, Pacer, RateLimited, Target, TokenRefused, hide, rate_limit_wait


@dataclasses.dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    state: str  # "draft", "open", "merged", "closed"
    title: str
    body: str
    author: str
    head_sha: str
    labels: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.state in ("draft", "open")


def _pull(pr) -> PullRequest:
    state = "merged" if pr.merged_at else "closed" if pr.state == "closed" else "draft" if pr.draft else "open"
    return PullRequest(pr.number, pr.html_url, state, pr.title or "", pr.body or "", pr.user.login if pr.user else "",
                       pr.head.sha, tuple(label.name for label in pr.labels or ()))


class GitHub:
    def __init__(self, target: Target, token: str, pacer: Pacer | None = None) -> None:
        self.target, self._token, self.pacer = target, token, pacer or Pacer()
        self._api = github.Github(base_url=target.api_url, auth=Auth.Token(token), retry=None, timeout=30,
                                  seconds_between_requests=None, seconds_between_writes=None, lazy=True,
                                  user_agent=f"lambda-rewriter/{__version__}")
        self._repo = self._api.get_repo(target.full_name)  # lazy (the Github object is): no GET
        self._viewer: str | None = None

    def _call(self, what: str, action):
        def attempt():
            try:
                return action()
            except GithubException as error:
                raise self._error(what, error) from None
            except requests.RequestException as error:  # refused, reset, timed out: the forge is not answering
                raise ForgeError(hide(f"{what}: {self.target.api_url} did not answer: {type(error).__name__}",
                                      self._token)) from None

        return self.pacer.call(attempt)

    def _error(self, what: str, error: GithubException) -> ForgeError:
        data = error.data if isinstance(error.data, dict) else {}
        said = str(data.get("message") or error.message or "")
        details = [str(e.get("message") or e.get("code") or "") for e in data.get("errors") or [] if isinstance(e, dict)]
        text = hide(f"{what}: GitHub said {error.status}: {'; '.join(filter(None, [said, *details])) or 'no reason'}",
                    self._token)
        if error.status == 401:
            return TokenRefused(f"{text} (the token was refused: check GITHUB_TOKEN or --token-command)")
        wait = rate_limit_wait(error.status, error.headers or {}, said)
        if wait is not None:
            return RateLimited(text, None if wait < 0 else wait)
        return ForgeError(text)

    def viewer(self) -> str:
        """The login the token belongs to."""
        if self._viewer is None:
            self._viewer = self._call("who the token is", lambda: self._api.get_user().login)
        return self._viewer

    def pulls_for(self, branch: str) -> list[PullRequest]:
        """Every pull request (open or not) whose head is ``branch`` of this repository."""
        owner = self.target.full_name.split("/", 1)[0]
        return self._call(f"list the pull requests of {branch}", lambda: [
            _pull(pr) for pr in self._repo.get_pulls(state="all", head=f"{owner}:{branch}")])

    def get(self, number: int) -> PullRequest:
        return self._call(f"read pull request #{number}", lambda: _pull(self._repo.get_pull(number)))

    def create(self, *, title: str, body: str, head: str, base: str, draft: bool) -> PullRequest:
        return self._call(f"open a pull request from {head}", lambda: _pull(
            self._repo.create_pull(title=title, body=body, head=head, base=base, draft=draft)))

    def update(self, number: int, *, title: str, body: str) -> None:
        self._call(f"update pull request #{number}", lambda: self._pr(number).edit(title=title, body=body))

    def _pr(self, number: int):
        """A pull request not read: edits, labels and comments go to its URLs without a GET first."""
        return github.PullRequest.PullRequest(self._api.requester, {}, {
            "number": number, "url": f"{self._repo.url}/pulls/{number}",
            "issue_url": f"{self._repo.url}/issues/{number}"}, completed=False)

    def add_labels(self, number: int, labels: list[str]) -> None:
        # PyGithub's add_to_labels posts a bare array, which GitHub takes but its OpenAPI description no longer
        # describes: the documented {"labels": [...]} form instead.
        url = f"{self._repo.url}/issues/{number}/labels"
        self._call(f"label pull request #{number}",
                   lambda: self._api.requester.requestJsonAndCheck("POST", url, input={"labels": labels}))

    def request_reviewers(self, number: int, reviewers: list[str], teams: list[str]) -> None:
        self._call(f"request reviewers on pull request #{number}",
                   lambda: self._pr(number).create_review_request(reviewers=reviewers or github.GithubObject.NotSet,
                                                                  team_reviewers=teams or github.GithubObject.NotSet))

    def add_assignees(self, number: int, assignees: list[str]) -> None:
        self._call(f"assign pull request #{number}", lambda: self._pr(number).add_to_assignees(*assignees))

    def close(self, number: int, comment: str) -> None:
        self._call(f"comment on pull request #{number}", lambda: self._pr(number).create_issue_comment(comment))
        self._call(f"close pull request #{number}", lambda: self._pr(number).edit(state="closed"))

    def checks(self, sha: str) -> str:
        """"passing", "failing", "pending" or "none": the check runs and commit statuses on ``sha`` together."""
        def read():
            commit = github.Commit.Commit(self._api.requester, {}, {"sha": sha, "url": f"{self._repo.url}/commits/{sha}"},
                                          completed=False)
            # Read as JSON: PyGithub's CheckRun fails on a null check_suite, which GitHub's description allows.
            _, data = self._api.requester.requestJsonAndCheck("GET", f"{commit.url}/check-runs",
                                                              parameters={"per_page": 100})
            runs = [(run.get("status"), run.get("conclusion")) for run in data.get("check_runs") or []]
            statuses = commit.get_combined_status()
            return runs, statuses.state, statuses.total_count

        runs, combined, count = self._call(f"read the checks of {sha[:12]}", read)
        failing = {"failure", "timed_out", "cancelled", "action_required", "startup_failure"}
        if any(conclusion in failing for _, conclusion in runs) or (count and combined in ("failure", "error")):
            return "failing"
        if any(status != "completed" for status, _ in runs) or (count and combined == "pending"):
            return "pending"
        return "passing" if runs or count else "none"

    def review_state(self, number: int) -> str:
        """"approved", "changes requested", "commented" or "none": each reviewer's last word."""
        reviews = self._call(f"read the reviews of #{number}",
                             lambda: [(r.user.login if r.user else "", r.state) for r in self._pr(number).get_reviews()])
        last: dict[str, str] = {}
        for who, state in reviews:
            if state in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"):
                last[who] = state
        words = set(last.values())
        if "CHANGES_REQUESTED" in words:
            return "changes requested"
        if "APPROVED" in words:
            return "approved"
        return "commented" if "COMMENTED" in words else "none"
