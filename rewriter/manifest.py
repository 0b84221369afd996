"""The list of repositories for `batch`: a plain list (turbolift's repos.txt) or TOML with settings.

Plain form: one URL or local path per line; `#` starts a comment (at the start of a line or after a
space). TOML form (a file ending in `.toml`)::

    [defaults]                        # optional, any key below except url
    codemods = ["hoist-clients"]
    branch = "lambda-rewriter/hoist"

    [[repository]]
    url = "https://github.com/acme/orders.git"
    base = "develop"                  # default: the remote's default branch
    disable = ["targeted-imports"]    # every codemod but these (as in lambda-rewriter.toml)
    include = ["services/"]           # only files below these (relative "/" paths or glob patterns)
    exclude = ["services/legacy/"]    # gitignore-style patterns, on top of the repository's own settings
    test-command = "make test"        # opt-in: run with /bin/sh -c before and after the rewrite ("": none)
    labels = ["performance"]          # --open-pr: this entry's labels, reviewers, team-reviewers, assignees
    pr-repository = "acme/orders"     # the repository on the forge (default: from the URL); also api-url, forge

Every entry is checked before git sees it; any problem refuses the whole manifest (exit status 2)
with each problem named by line, so that nothing runs on a list that is not what was meant.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from codemods import all_codemods, select
from rewriter import config, gate
from rewriter import git as git_branch
from rewriter.gitignore import compiled
from rewriter.redaction import redact


class ManifestError(Exception):
    """The manifest cannot be used; ``problems`` holds one line per problem, each with its line number."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = [redact(problem) for problem in problems]
        super().__init__("\n".join(self.problems))


@dataclasses.dataclass(frozen=True)
class Repository:
    url: str  # as git gets it: an URL, or an absolute local path
    key: str  # folder and ledger name in the workspace
    line: int
    base: str | None = None  # branch name; None: the remote's default branch
    branch: str | None = None  # None: lambda-rewriter/<codemods>
    codemods: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    test_command: str | None = None  # None: batch's --test-command; "": no tests for this repository
    # --open-pr: this entry's own labels, reviewers... (None: the flags'), and where its pull request goes.
    labels: tuple[str, ...] | None = None
    reviewers: tuple[str, ...] | None = None
    team_reviewers: tuple[str, ...] | None = None
    assignees: tuple[str, ...] | None = None
    pr_repository: str | None = None  # OWNER/NAME on the forge; default: from the URL
    api_url: str | None = None
    forge: str | None = None

    @property
    def shown(self) -> str:
        """The location as reports and logs show it: credentials in an URL hidden, a local path without `..`."""
        if os.path.isabs(self.url):  # display only: git gets the path as given, links and all
            return os.path.normpath(self.url)
        return redact(self.url)

    def keeps(self, path: str) -> bool:
        """Whether ``path`` (relative, "/") is in scope for this repository."""
        if self.include and not _matches(self.include, path, prefix=True):
            return False
        return not (self.exclude and _matches(self.exclude, path, prefix=False))


def _matches(patterns: tuple[str, ...], path: str, prefix: bool) -> bool:
    if prefix and any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in patterns):
        return True
    return compiled(patterns).match_file(path)


_KEYS = {"url": str, "base": str, "branch": str, "codemods": list, "disable": list, "include": list, "exclude": list,
         "test-command": str, "labels": list, "reviewers": list, "team-reviewers": list, "assignees": list,
         "pr-repository": str, "api-url": str, "forge": str}
_SETTINGS = ("codemods", "disable")  # read as the repository settings are (config.parse_table)
_SCP_LIKE = re.compile(r"^(?:[^@/:\s]+@)?[A-Za-z0-9.-]+:(?!//)")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def load(path: Path) -> list[Repository]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte order mark (Windows editors) is no entry
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError([f"{path}: cannot read: {error}"]) from None
    entries = _parse_toml(path, text) if path.suffix == ".toml" else _parse_plain(path, text)
    return _check(path, entries)


def _parse_plain(path: Path, text: str) -> list[tuple[int, dict]]:
    entries = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = re.split(r"(?:^|\s)#", raw.rstrip("\r"), maxsplit=1)[0].strip()
        if re.match(r"\[\[?\s*(?:repository|defaults)\s*\]", line):
            raise ManifestError([f"{path}:{number}: this looks like the TOML form: name the file *.toml"])
        if line:
            entries.append((number, {"url": line}))
    return entries


def _parse_toml(path: Path, text: str) -> list[tuple[int, dict]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError([f"{path}: not valid TOML: {error}"]) from None
    except RecursionError:
        raise ManifestError([f"{path}: not valid TOML: arrays or tables nested too deeply"]) from None
    problems = [f"{path}: unknown table or key {key!r} (expected [defaults] and [[repository]])"
                for key in data if key not in ("defaults", "repository")]
    defaults = data.get("defaults", {})
    repositories = data.get("repository", [])
    if not isinstance(defaults, dict):
        problems.append(f"{path}: defaults must be a table")
        defaults = {}
    if not isinstance(repositories, list) or not all(isinstance(r, dict) for r in repositories):
        raise ManifestError([*problems, f"{path}: repository must be an array of tables ([[repository]])"])
    # tomllib keeps no positions: the n-th [[repository]] header is the n-th entry.
    headers = [n for n, line in enumerate(text.split("\n"), start=1) if re.match(r"\s*\[\[\s*repository\s*\]\]", line)]
    problems += _check_keys(path, "[defaults]", defaults, allow_url=False)
    entries = []
    for index, table in enumerate(repositories):
        number = headers[index] if index < len(headers) else 0
        found = _check_keys(path, f"line {number}", table, allow_url=True)
        if "url" not in table:
            found.append(f"{path}:{number}: [[repository]] needs url")
        problems += found
        if not found:
            entries.append((number, {**defaults, **table}))
    if problems:
        raise ManifestError(problems)
    return entries


def _check_keys(path: Path, where: str, table: dict, allow_url: bool) -> list[str]:
    problems = []
    prefix = f"{path}:{where.removeprefix('line ')}" if where.startswith("line ") else f"{path}: {where}"
    for key, value in table.items():
        if key not in _KEYS or (key == "url" and not allow_url):
            known = ", ".join(k for k in _KEYS if allow_url or k != "url")
            problems.append(f"{prefix}: unknown key {key!r} (known: {known})")
        elif _KEYS[key] is str and not isinstance(value, str):
            problems.append(f"{prefix}: {key} must be a string")
        elif _KEYS[key] is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(f"{prefix}: {key} must be a list of strings")
    return problems


def _check(path: Path, entries: list[tuple[int, dict]]) -> list[Repository]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    repositories = []
    for number, entry in entries:
        where = f"{path}:{number}"
        try:
            url = _checked_location(entry["url"], path.parent)
        except git_branch.BadRequest as error:
            problems.append(redact(f"{where}: {error}", entry["url"]))
            continue
        same = _identity(url)
        if same in seen:
            problems.append(f"{where}: {redact(entry['url'])} is listed already on line {seen[same]}")
            continue
        seen[same] = number
        try:
            codemods = _codemods({k: entry[k] for k in _SETTINGS if k in entry}, where)
        except config.ConfigError as error:
            problems.append(str(error))
            continue
        for key in ("base", "branch"):
            value = entry.get(key)
            if value is not None and not acceptable_branch(value):
                problems.append(f"{where}: {key} {value!r} is not an acceptable branch name")
        command = entry.get("test-command")
        if command is not None and command.strip():
            try:
                gate.check(command, "test-command")
            except gate.CommandError as error:
                problems.append(f"{where}: {error}")
        if entry.get("forge") not in (None, "github", "gitlab"):
            problems.append(f"{where}: forge {entry['forge']!r}: expected github or gitlab")
        if entry.get("pr-repository") is not None and not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)+", entry["pr-repository"]):
            problems.append(f"{where}: pr-repository {entry['pr-repository']!r}: expected OWNER/NAME")
        if entry.get("api-url") is not None and not re.match(r"^https?://[^/\s]+", entry["api-url"]):
            problems.append(f"{where}: api-url {redact(entry['api-url'])!r}: expected an http(s) URL")
        for key in ("include", "exclude"):
            for pattern in entry.get(key, ()):
                if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
                    problems.append(f"{where}: {key} {pattern!r}: give paths relative to the repository root")
        forge_lists: dict[str, Any] = {  # this entry's pull-request lists; a missing one is the flags'
            key.replace("-", "_"): tuple(entry[key]) for key in ("labels", "reviewers", "team-reviewers", "assignees")
            if key in entry
        }
        repositories.append(Repository(
            url=url, key=workspace_key(url), line=number, base=entry.get("base"), branch=entry.get("branch"),
            codemods=codemods, include=tuple(entry.get("include", ())),
            exclude=tuple(entry.get("exclude", ())),
            test_command=command if command is None or command.strip() else "",
            **forge_lists,
            **{key.replace("-", "_"): entry[key] for key in ("pr-repository", "api-url", "forge") if key in entry},
        ))
    if not problems and not repositories:
        problems.append(f"{path}: no repositories listed")
    if problems:
        raise ManifestError(problems)
    return repositories


def acceptable_branch(name: str) -> bool:
    """A plain branch name (git check-ref-format says more later): no option, no revision syntax."""
    return bool(re.fullmatch(r"[\w./+-]+", name)) and not name.startswith(("-", "/")) and ".." not in name \
        and "//" not in name and not name.endswith((".", "/", ".lock"))


def _codemods(table: dict, where: str) -> tuple[str, ...]:
    """The codemods an entry asks for; () is every codemod that is not opt-in."""
    parse = getattr(config, "parse_table", None)
    if parse is not None:
        settings = parse(table, where, "[[repository]]")
        return settings.selected() if hasattr(settings, "selected") else settings.codemods
    known = all_codemods()
    unknown = [c for key in _SETTINGS for c in table.get(key, ()) if c not in known]
    if unknown:
        raise config.ConfigError(f"{where}: unknown codemod {', '.join(unknown)} (known: {', '.join(known)})")
    chosen = table.get("codemods") or [name for name in known if name in {i.NAME for i in select(())}]
    return tuple(c for c in chosen if c not in table.get("disable", ())) if table.get("disable") else tuple(chosen)


def _checked_location(text: str, here: Path) -> str:
    """An URL git may use, or an absolute path to a local repository that exists."""
    shown = _brief(redact(text, text))  # every message below names the entry so: credentials hidden, then quoted
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise git_branch.BadRequest(f"{shown!r}: control characters are refused")
    if text.startswith("-"):
        raise git_branch.BadRequest(f"{shown!r}: an entry may not start with '-' (git would read it as an option)")
    if "::" in text.split("/", 1)[0] or re.match(r"^[A-Za-z0-9+.-]+::", text):
        raise git_branch.BadRequest(f"{shown!r}: transport helpers (ext::, fd::, <transport>::<address>) are refused")
    if _URL.match(text) and not text.lower().startswith("file://"):
        git_branch.check_remote_url(text)
        return text
    if _CREDENTIALS_WITHOUT_SCHEME.match(text):
        raise git_branch.BadRequest(f"{shown}: credentials without a scheme (git would take the part before the "
                                    "first ':' for a host): write https://... or an ssh location like git@host:path")
    if text.lower().startswith("file://"):
        git_branch.check_remote_url(text)
        text = text[len("file://"):]
    unusable = None
    try:
        local = (here / Path(text).expanduser()).absolute()
        is_dir = local.is_dir()
        repository = is_dir and ((local / ".git").exists() or (local / "HEAD").is_file())
    except RuntimeError:  # ~nosuchuser
        raise git_branch.BadRequest(f"{shown}: {text.split('/')[0]} names no user with a home folder") from None
    except OSError as error:  # a name longer than the system takes, a folder that cannot be entered
        unusable, is_dir = error.strerror or str(error), False
    if is_dir:
        if not repository:
            raise git_branch.BadRequest(f"{shown}: not a git repository")
        return str(local)
    if _SCP_LIKE.match(text):  # git@github.com:acme/orders.git
        git_branch.check_remote_url(text)
        return text
    if unusable is not None:
        raise git_branch.BadRequest(f"{shown}: not a usable path ({unusable})")
    raise git_branch.BadRequest(f"{shown}: no such local repository, and not an URL (https://, ssh://, git@host:path)")


# user:secret@host..., before any "/": no scp-like location has a ":" before its "@".
_CREDENTIALS_WITHOUT_SCHEME = re.compile(r"^[^/@:]*:[^/]*@")
_LONGEST_SHOWN = 200


def _brief(text: str) -> str:
    """An entry as one line of an error: a 5,000-character line is cut, and says how long it was."""
    if len(text) <= _LONGEST_SHOWN:
        return text
    return f"{text[:_LONGEST_SHOWN]}... ({len(text)} characters)"


def _identity(url: str) -> str:
    """Two spellings of the same repository: trailing "/" or ".git", case of the host, credentials or
    user, ``git@host:path`` for ``ssh://git@host/path``, and for a local path ``..`` and symbolic links."""
    if url.startswith("/"):
        url = os.path.realpath(url)
    elif not _URL.match(url) and _SCP_LIKE.match(url):
        host, _, rest = url.partition(":")
        url = f"ssh://{host}/{rest.lstrip('/')}"
    text = url.rstrip("/").removesuffix(".git").rstrip("/")
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/]*)(.*)$", text)
    if match:
        host = match.group(2).rpartition("@")[2]
        return match.group(1).lower() + host.lower() + match.group(3)
    return text


def workspace_key(url: str) -> str:
    """A readable, unique folder name: the last two parts of the location and a hash of all of it."""
    parts = [p for p in re.split(r"[/:]+", redact(url).rstrip("/").removesuffix(".git")) if p]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts[-2:]))[:60].strip(".-") or "repository"
    return f"{readable}-{hashlib.sha1(_identity(url).encode()).hexdigest()[:8]}"
