"""Open the tool's pull request for a pushed branch, or update the one it opened before; never touch another's.

A pull request is the tool's own when its body carries the hidden marker of this repository (``forge.marker``)
and it is the one the ledger recorded, or it was opened by the token's own account: a marker copied into
someone else's pull request does not make it the tool's. The forge lists pull requests by head branch, so
a run that stopped between opening one and writing the ledger finds it again instead of opening a second.
"""
from __future__ import annotations

import dataclasses

from rewriter import forge_body
from rewriter.forge import ForgeError, is_marked

STALE = ("lambda-rewriter closed this pull request: a run on the base branch at `{base}` finds nothing left to "
         "change (the change landed another way, or the code it rewrote is gone). Reopen it to keep it.")


@dataclasses.dataclass(frozen=True)
class Request:
    """What the user asked of every pull request (flags or config), before a manifest entry's own settings."""

    ready: bool = False
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    team_reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()


def _record(pr, client, action: str, ours: bool = True, reason: str | None = None) -> dict:
    return {"number": pr.number, "url": pr.url, "state": pr.state, "ours": ours, "action": action, "reason": reason,
            "forge": client.target.kind, "api_url": client.target.api_url, "repository": client.target.full_name}


def find_ours(client, key: str, branch: str, recorded: dict | None) -> tuple[list, list]:
    """(the tool's own pull requests on ``branch``, everyone else's)."""
    pulls = client.pulls_for(branch)
    marked = [p for p in pulls if is_marked(p.body, key)]
    number = (recorded or {}).get("number") if (recorded or {}).get("ours") else None
    ours = [p for p in marked if p.number == number]
    if not ours and marked:
        viewer = client.viewer()
        ours = [p for p in marked if p.author == viewer]
    return ours, [p for p in pulls if p not in ours]


def deliver(client, entry: dict, request: Request, recorded: dict | None, again: bool = True) -> dict:
    """The ledger's record of the pull request for ``entry`` (a pushed branch): opened, updated or left."""
    branch, key = entry["branch"], entry["key"]
    ours, others = find_ours(client, key, branch, recorded)
    complete = bool(entry.get("changes") or entry.get("notes"))  # False: a branch found pushed, its ledger elsewhere
    title, body = forge_body.title(entry), forge_body.body(entry)
    current = next((p for p in ours if p.is_open), None)
    if current is not None:
        action = "unchanged"
        if complete and (current.title, _normal(current.body)) != (title, _normal(body)):
            client.update(current.number, title=title, body=body)
            action = "updated"
        missing = [label for label in request.labels if label not in current.labels]
        if missing:
            client.add_labels(current.number, missing)
        return _record(dataclasses.replace(current, title=title), client, action)
    if ours:  # merged, or closed by someone: their decision stands
        done = ours[0]
        return _record(done, client, "left", reason=f"the tool's pull request #{done.number} was {done.state}; "
                       "not opened again")
    foreign = next((p for p in others if p.is_open), None)
    if foreign is not None:
        return _record(foreign, client, "left", ours=False,
                       reason=f"someone else's pull request #{foreign.number} is open on the branch; left alone")
    client.pacer.before_create()
    try:
        pr = client.create(title=title, body=body, head=branch, base=entry["base_branch"], draft=not request.ready)
    except ForgeError as error:
        if "already exists" not in str(error) or not again:
            raise
        # Opened meanwhile (another run, a person): what is there now decides, as above; once.
        return deliver(client, entry, request, recorded, again=False)
    client.pacer.did_create()
    if request.labels:
        client.add_labels(pr.number, list(request.labels))
    if request.reviewers or request.team_reviewers:
        client.request_reviewers(pr.number, list(request.reviewers), list(request.team_reviewers))
    if request.assignees:
        client.add_assignees(pr.number, list(request.assignees))
    return _record(pr, client, "opened")


def close_stale(client, entry: dict, recorded: dict | None) -> dict | None:
    """The tool's open pull request on the branch closed with a comment; None when there is none."""
    ours, _ = find_ours(client, entry["key"], entry["branch"], recorded)
    current = next((p for p in ours if p.is_open), None)
    if current is None:
        return None
    client.close(current.number, STALE.format(base=(entry.get("base") or "")[:12]))
    return _record(dataclasses.replace(current, state="closed"), client, "closed",
                   reason="nothing left to change: closed as stale")


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").strip()
