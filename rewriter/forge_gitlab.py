"""GitLab merge requests, through python-gitlab, with the interface of ``forge_github.GitHub``.

A draft is a title that starts with ``Draft:``, so titles are compared and updated without it and the prefix
is kept while the merge request is a draft. python-gitlab waits out a 429 itself (``Retry-After``, then
``RateLimit-Reset``), up to ``max_retries``; what is still refused after that reaches ``forge.Pacer`` as a rate
limit without a stated wait (its headers are not kept by python-gitlab's errors), which backs off with jitter.
"""
from __future__ import annotations

import gitlab
import requests

from rewriter import __version__
from rewriter.forge import ForgeError, Pacer, RateLimited, Target, TokenRefused, hide
from rewriter.forge_github import PullRequest

DRAFT = "Draft: "


def _merge_request(mr) -> PullRequest:
    draft = bool(getattr(mr, "draft", False)) or mr.title.startswith(DRAFT)
    state = {"merged": "merged", "closed": "closed", "locked": "closed"}.get(mr.state) or ("draft" if draft else "open")
    return PullRequest(mr.iid, mr.web_url, state, mr.title.removeprefix(DRAFT), mr.description or "",
                       (mr.author or {}).get("username", ""), mr.sha or "", tuple(mr.labels or ()))


class GitLab:
    def __init__(self, target: Target, token: str, pacer: Pacer | None = None) -> None:
        self.target, self._token, self.pacer = target, token, pacer or Pacer()
        self._api = gitlab.Gitlab(target.api_url.removesuffix("/api/v4"), private_token=token, timeout=30,
                                  retry_transient_errors=False, user_agent=f"lambda-rewriter/{__version__}")
        # python-gitlab (4.x) has no such attribute and reads none: each request still retries a 429 up to its
        # default 10 times (http_request's max_retries). Kept as forge wrote it; see issue 20's lint report.
        self._api.max_retries = 3  # type: ignore[attr-defined]
        self._project = self._api.projects.get(target.full_name, lazy=True)
        self._viewer: str | None = None

    def _call(self, what: str, action):
        def attempt():
            try:
                return action()
            except gitlab.GitlabError as error:
                code = error.response_code or 0
                text = hide(f"{what}: GitLab said {code}: {error.error_message or 'no reason'}", self._token)
                if code == 401:
                    raise TokenRefused(f"{text} (the token was refused: check GITLAB_TOKEN or --token-command)") \
                        from None
                if code == 429:
                    raise RateLimited(text, None) from None
                raise ForgeError(text) from None
            except requests.RequestException as error:
                raise ForgeError(hide(f"{what}: {self.target.api_url} did not answer: {type(error).__name__}",
                                      self._token)) from None

        return self.pacer.call(attempt)

    def viewer(self) -> str:
        if self._viewer is None:
            def read():
                self._api.auth()
                assert self._api.user is not None  # auth() sets it, or raises
                return self._api.user.username
            self._viewer = self._call("who the token is", read)
        return self._viewer

    def pulls_for(self, branch: str) -> list[PullRequest]:
        return self._call(f"list the merge requests of {branch}", lambda: [
            _merge_request(mr) for mr in self._project.mergerequests.list(source_branch=branch, state="all",
                                                                          get_all=True)])

    def get(self, number: int) -> PullRequest:
        return self._call(f"read merge request !{number}", lambda: _merge_request(self._project.mergerequests.get(number)))

    def create(self, *, title: str, body: str, head: str, base: str, draft: bool) -> PullRequest:
        data = {"source_branch": head, "target_branch": base, "title": (DRAFT if draft else "") + title,
                "description": body}
        return self._call(f"open a merge request from {head}",
                          lambda: _merge_request(self._project.mergerequests.create(data)))

    def _put(self, number: int, what: str, data: dict) -> None:
        path = f"/projects/{self._project.encoded_id}/merge_requests/{number}"
        self._call(what, lambda: self._api.http_put(path, post_data=data))

    def update(self, number: int, *, title: str, body: str) -> None:
        current = self.get(number)
        prefix = DRAFT if current.state == "draft" else ""
        self._put(number, f"update merge request !{number}", {"title": prefix + title, "description": body})

    def add_labels(self, number: int, labels: list[str]) -> None:
        self._put(number, f"label merge request !{number}", {"add_labels": ",".join(labels)})

    def _user_ids(self, names: list[str]) -> list[int]:
        ids = []
        for name in names:
            found = self._call(f"find user {name}", lambda n=name: self._api.users.list(username=n, get_all=False))
            if not found:
                raise ForgeError(f"no GitLab user {name!r}")
            ids.append(found[0].id)
        return ids

    def request_reviewers(self, number: int, reviewers: list[str], teams: list[str]) -> None:
        if teams:
            raise ForgeError("GitLab has no team reviewers: name the people with --reviewer")
        self._put(number, f"request reviewers on merge request !{number}", {"reviewer_ids": self._user_ids(reviewers)})

    def add_assignees(self, number: int, assignees: list[str]) -> None:
        self._put(number, f"assign merge request !{number}", {"assignee_ids": self._user_ids(assignees)})

    def close(self, number: int, comment: str) -> None:
        path = f"/projects/{self._project.encoded_id}/merge_requests/{number}/notes"
        self._call(f"comment on merge request !{number}", lambda: self._api.http_post(path, post_data={"body": comment}))
        self._put(number, f"close merge request !{number}", {"state_event": "close"})

    def checks(self, sha: str) -> str:
        path = f"/projects/{self._project.encoded_id}/repository/commits/{sha}/statuses"
        statuses = self._call(f"read the pipelines of {sha[:12]}", lambda: self._api.http_list(path, get_all=True))
        states = {s.get("status") for s in statuses}
        if states & {"failed", "canceled"}:
            return "failing"
        if states - {"success", "skipped", "manual"}:
            return "pending" if states else "none"
        return "passing" if states else "none"

    def review_state(self, number: int) -> str:
        path = f"/projects/{self._project.encoded_id}/merge_requests/{number}/approvals"
        approvals = self._call(f"read the approvals of !{number}", lambda: self._api.http_get(path))
        return "approved" if approvals.get("approved_by") else "none"

