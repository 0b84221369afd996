"""Pull requests over a whole run: one token and one ``Pacer`` for every repository, in the process that opens them.

``batch`` hands each finished ledger entry to ``PullRequests.handle``, in its own process (never in a worker):
the token stays there, and one Retry-After pauses the whole run's creations, not one worker's. The entry gains
``pr`` (what the forge holds: number, URL, state, whether the tool opened it) or ``pr_error``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from rewriter import forge, forge_pr
from rewriter.manifest import Repository


@dataclasses.dataclass
class Settings:
    request: forge_pr.Request
    kind: str | None = None  # --forge
    api_url: str | None = None  # --api-url
    close_stale: bool = False


class PullRequests:
    def __init__(self, settings: Settings, token: Callable[[str], str], pacer: forge.Pacer) -> None:
        self.settings, self._token, self.pacer = settings, token, pacer
        self._clients: dict[forge.Target, object] = {}
        self._tokens: dict[str, str] = {}
        self.refused: str | None = None  # the token was refused once: no further call is made

    def target(self, repo: Repository) -> forge.Target:
        return forge.target_for(repo.url, kind=repo.forge or self.settings.kind,
                                api_url=repo.api_url or self.settings.api_url, full_name=repo.pr_repository)

    def client(self, target: forge.Target):
        if target not in self._clients:
            if target.kind == "gitlab":
                from rewriter.forge_gitlab import GitLab as Client
            else:
                from rewriter.forge_github import GitHub as Client  # type: ignore[assignment]  # the same methods

            if target.kind not in self._tokens:
                self._tokens[target.kind] = self._token(target.kind)
            self._clients[target] = Client(target, self._tokens[target.kind], self.pacer)
        return self._clients[target]

    def request(self, repo: Repository) -> forge_pr.Request:
        base = self.settings.request
        return dataclasses.replace(base, **{name: getattr(repo, name) for name in
                                            ("labels", "reviewers", "team_reviewers", "assignees")
                                            if getattr(repo, name) is not None})

    def handle(self, entry: dict, repo: Repository) -> None:
        outcome = entry.get("outcome")
        wants = outcome == "pushed" or (outcome == "skipped" and entry.get("commits"))
        stale = self.settings.close_stale and outcome == "unchanged" and (entry.get("pr") or {}).get("ours")
        if not (wants or stale):
            return
        if self.refused:
            entry["pr_error"] = f"not tried: {self.refused}"
            return
        try:
            client = self.client(self.target(repo))
            if wants:
                entry["pr"] = forge_pr.deliver(client, entry, self.request(repo), entry.get("pr"))
            else:
                closed = forge_pr.close_stale(client, entry, entry.get("pr"))
                if closed is not None:
                    entry["pr"] = closed
            entry["pr_error"] = None
        except forge.TokenRefused as error:
            self.refused = str(error)
            entry["pr_error"] = str(error)
        except forge.ForgeError as error:
            entry["pr_error"] = str(error)


def is_handled(entry: dict) -> bool:
    """Whether a pushed branch's pull request is done, so that ``--resume`` never opens one twice."""
    if entry.get("outcome") not in ("pushed", "skipped") or entry.get("pr_error"):
        return not entry.get("pr_error")
    return bool(entry.get("pr")) or (entry.get("outcome") == "skipped" and not entry.get("commits"))
