"""``lambda-rewriter status MANIFEST``: where each repository's pull request stands, read from the forge now.

The ledger says which pull request belongs to which repository; the forge says its state (draft, open, merged,
closed), its checks and its reviews. A pull request's state is not the migration's progress: merged is done,
open with failing checks needs someone, "not opened" names the repositories the campaign has not reached.
"""
from __future__ import annotations

from collections import Counter

from rewriter import forge
from rewriter.batch import Ledger
from rewriter.forge_run import PullRequests
from rewriter.manifest import Repository


def collect(repos: list[Repository], ledger: Ledger, pull_requests: PullRequests) -> list[dict]:
    rows = []
    for repo in repos:
        entry = ledger.read(repo.key) or {}
        pr = entry.get("pr") or {}
        row = {"repository": repo.shown, "branch": entry.get("branch"), "outcome": entry.get("outcome"),
               "number": pr.get("number"), "url": pr.get("url"), "ours": pr.get("ours"), "state": "not opened",
               "checks": None, "review": None, "error": None}
        if pr.get("number") and not pull_requests.refused:
            try:
                client = pull_requests.client(pull_requests.target(repo))
                now = client.get(pr["number"])
                row.update(url=now.url, state=now.state, checks=client.checks(now.head_sha),
                           review=client.review_state(now.number))
            except forge.TokenRefused as error:
                pull_requests.refused = str(error)
                row["error"] = str(error)
            except forge.ForgeError as error:
                row["error"] = str(error)
        elif pr.get("number"):
            row["error"] = f"not read: {pull_requests.refused}"
        rows.append(row)
    return rows


def summary_line(rows: list[dict]) -> str:
    """"12 merged, 40 open (5 drafts, 3 failing checks), 2 closed, 6 not opened"."""
    states = Counter("unknown" if r["error"] else r["state"] for r in rows)
    open_rows = [r for r in rows if not r["error"] and r["state"] in ("open", "draft")]
    failing = sum(r["checks"] == "failing" for r in open_rows)
    detail = [f"{states['draft']} draft{'' if states['draft'] == 1 else 's'}"] if states["draft"] else []
    detail += [f"{failing} failing checks"] if failing else []
    shown = f" ({', '.join(detail)})" if detail else ""
    line = (f"{states['merged']} merged, {len(open_rows)} open{shown}, {states['closed']} closed, "
            f"{states['not opened']} not opened")
    return line + (f", {states['unknown']} unknown" if states["unknown"] else "")


def markdown(rows: list[dict]) -> str:
    lines = [f"### lambda-rewriter status: {summary_line(rows)}", "",
             "| repository | branch | pull request | state | checks | review |", "| --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        link = f"[#{row['number']}]({row['url']})" if row["number"] else ""
        if row["number"] and row["ours"] is False:
            link += " (someone else's)"
        state = f"unknown: {row['error']}" if row["error"] else row["state"]
        cells = [row["repository"], f"`{row['branch']}`" if row["branch"] else "", link, state, row["checks"] or "",
                 row["review"] or ""]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"
