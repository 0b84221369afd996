"""The pull request's title and Markdown body, from what a run recorded (a batch ledger entry, or ``branch``'s outcome
in the same shape): what changed per file, every note, the estimated savings per function, how to review and
how to revert, the tool's version, and the hidden marker that tells the tool's own pull requests from others'."""
from __future__ import annotations

import re
from collections import defaultdict

from codemods import estimates
from rewriter import __version__
from rewriter.forge import marker

LIMIT = 65_000  # GitHub refuses a body over 65,536 characters; GitLab's limit is higher


def title(entry: dict) -> str:
    codemods = list(dict.fromkeys(c["codemod"] for c in entry.get("commits") or []))
    files = entry.get("files_changed") or len({f for c in entry.get("commits") or [] for f in c.get("files", [])})
    noun = "file" if files == 1 else "files"
    return f"lambda-rewriter: {', '.join(codemods) or 'rewrite'} ({files} {noun})"


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "&#64;", "#": "&#35;"})


def _quiet(text: str) -> str:
    """Outside `code`: no @mention pings anyone, no #123 links to an issue, no HTML is taken as markup."""
    parts = re.split(r"(`[^`\n]*`)", text.replace("\n", " "))
    for index in range(0, len(parts), 2):
        parts[index] = parts[index].translate(_ESCAPES)
    return "".join(parts)


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if fence == "`" else f"{fence} {text} {fence}"


def body(entry: dict) -> str:
    lines = _body_lines(entry)
    text = "\n".join(lines) + "\n"
    if len(text) <= LIMIT:
        return text
    # Too long for the forge: the lists are cut, the commits keep every word (their messages list all).
    head, tail = _split(lines)
    kept: list[str] = []
    size = sum(len(line) + 1 for line in head + tail) + 200
    for line in head[1:]:
        if size + len(line) + 1 > LIMIT:
            break
        kept.append(line)
        size += len(line) + 1
    cut = ["", f"_The lists above are cut ({len(head) - 1 - len(kept)} lines left out) to fit the forge's limit: each "
               "commit's message lists every change and note of its codemod._"]
    return "\n".join([head[0], *kept, *cut, *tail]) + "\n"


def _split(lines: list[str]) -> tuple[list[str], list[str]]:
    at = lines.index("### How to review")
    return lines[:at], lines[at:]


def _body_lines(entry: dict) -> list[str]:
    commits = entry.get("commits") or []
    base_branch, base, branch = entry.get("base_branch") or "the base", entry.get("base") or "", entry.get("branch")
    files = entry.get("files_changed") or len({f for c in commits for f in c.get("files", [])})
    lines = [marker(entry["key"]),
             f"**lambda-rewriter** rewrote {files} file{'' if files == 1 else 's'} in {len(commits)} "
             f"commit{'' if len(commits) == 1 else 's'} (+{entry.get('lines_added') or 0} "
             f"\u2212{entry.get('lines_removed') or 0} lines), on `{base_branch}` at `{base[:12]}`, so that AWS Lambda "
             "functions reuse their clients and connections and ship only what they use.", ""]
    changes, notes = entry.get("changes") or [], entry.get("notes") or []
    lines += ["### What changed", ""]
    if changes:
        by_file: dict[str, list[dict]] = defaultdict(list)
        for change in changes:
            by_file[change["path"]].append(change)
        for path, items in by_file.items():
            lines.append(f"- {_code(path)}")
            lines += [f"  - line {c['line']} ({c['codemod']}): {_quiet(c['message'])}" for c in items]
    else:  # a branch found on the remote already: its commits say what it holds
        lines += [f"- {_code(c['sha'][:12])} {_quiet(c['subject'])}: {', '.join(_code(f) for f in c.get('files', []))}"
                  for c in commits]
    lines += ["", "### Left as it was, and why (notes)", ""]
    lines += [f"- {_code(n['path'])} line {n['line']} ({n['codemod']}): {_quiet(n['message'])}" for n in notes] \
        or ["No notes: every construction the codemods looked at was changed."]
    lines += ["", *_savings(changes)]
    lines += ["### How to review", "",
              "- One commit per codemod, in catalogue order: review them one at a time in the Commits tab, or "
              f"`git fetch origin {branch} && git log -p --reverse {base[:12] or base_branch}..FETCH_HEAD`.",
              "- `lambda-rewriter diff` on the base shows the same bytes as the tip of this branch.",
              *[f"  - {_code(c['sha'][:12])} {_quiet(c['subject'])}" for c in commits]]
    tests = entry.get("tests")
    if tests:
        lines.append(f"- Tests (`--test-command`): {tests['before']['status']} before the rewrite, "
                     f"{tests['after']['status']} after it.")
    lines += ["", "### How to revert", "",
              "- Before merging: close this pull request and delete the branch; nothing else was changed.",
              "- After merging: `git revert -m 1 <merge commit>`; or one codemod alone: `git revert <its commit>`.",
              "", "---",
              f"Made by lambda-rewriter {__version__}. A re-run updates this pull request; edit the branch and the "
              "tool leaves it alone (codes of changes and notes: `lambda-rewriter check`, README \"Finding codes\")."]
    return lines


def _savings(changes: list[dict]) -> list[str]:
    rows = []
    by_file: dict[str, list[str]] = defaultdict(list)
    for change in changes:
        if change["codemod"] == "hoist-clients":
            by_file[change["path"]].append(change["message"])
    for path, messages in by_file.items():
        for function, ms in sorted(estimates.savings(messages).items(), key=lambda item: (-item[1], item[0])):
            amount = f"{ms:.0f}" if ms >= 1 else f"{ms:.2f}"
            rows.append(f"| {_code(path)} | {_code(function)} | ~{amount} ms |")
    if not rows:
        return []
    return ["### Estimated savings per warm invocation", "", "| file | function | client construction saved |",
            "| --- | --- | ---: |", *rows, "",
            f"_Estimates: CPU time per construction {estimates.MEASURED}; actual savings depend on the function's "
            "memory size._", ""]
