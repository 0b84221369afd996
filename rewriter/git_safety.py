"""What git may read from a repository the tool did not make, and what it may run (README, "Safety").

1. Every git call gets ``safe_environment()``: no system configuration, and through GIT_CONFIG_COUNT (which
   beats every configuration file and everything they include) a value the tool chooses for every program-valued
   key that has a fixed name (``OVERRIDES``), the user's own global value for the transport ones (``USER_KEYS``:
   ssh, askpass, credential helpers), and environment variables that beat the keys git reads first-match
   (``ENVIRONMENT``).
2. Keys named after something the repository chooses (``filter.<driver>.*``, ``diff.<driver>.*``, ``alias.*``...)
   cannot be overridden in advance: ``NEVER_RUN`` says, for each, why no git command the tool runs reaches it.
3. Pushes never run in the repository: they run in a temporary bare repository (``PushRepository``) that borrows
   the repository's objects through ``objects/info/alternates`` and whose configuration is git's defaults, the
   user's global configuration and, from the repository, only data: the remote's URLs, ``url.<base>.insteadOf``
   and ``pushInsteadOf``, and ``http.<url>.extraHeader`` (the token a CI checkout leaves). Every URL git will
   push to is asked from git after rewriting and checked before anything is sent.
4. For a local remote git runs the other side here, with that repository's configuration and without the
   GIT_CONFIG_* variables: ``service_command`` puts the overrides on its command line.
"""
from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import git

# Protocols git may use to reach a remote; everything else (ext::, fd::, remote helpers) is refused.
PROTOCOLS = ("https", "http", "ssh", "git", "file")

# Program-valued keys with a fixed name, and the value that runs nothing (or git's own). core.fsmonitor and
# core.hooksPath stay first: callers read the environment by position.
OVERRIDES = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.alternateRefsCommand", "true"),  # advertises no alternate's refs: the push may send a few more objects
    ("core.editor", "false"),
    ("sequence.editor", "false"),
    ("core.pager", "cat"),
    ("gpg.program", "false"),
    ("gpg.openpgp.program", "false"),
    ("gpg.x509.program", "false"),
    ("gpg.ssh.program", "false"),
    ("gpg.ssh.defaultKeyCommand", "false"),
    ("commit.gpgSign", "false"),
    ("tag.gpgSign", "false"),
    ("tag.forceSignAnnotated", "false"),
    ("push.gpgSign", "false"),
    ("log.showSignature", "false"),
    ("merge.verifySignatures", "false"),
    ("push.recurseSubmodules", "no"),
    ("fetch.recurseSubmodules", "false"),
    ("submodule.recurse", "false"),
    ("push.followTags", "false"),
    ("receive.denyCurrentBranch", "refuse"),  # updateInstead would check files out, through the remote's filters
    ("receive.autogc", "false"),
    ("interactive.diffFilter", "cat"),
    ("diff.external", ""),  # no ext diff in any command the tool runs; empty in case one ever does
    ("web.browser", "false"),
    ("help.browser", "false"),
    ("man.viewer", "man"),
    ("instaweb.browser", "false"),
    ("instaweb.httpd", "false"),
    ("imap.tunnel", ""),
    ("sendemail.smtpServer", ""),
    ("sendemail.sendmailCmd", ""),
    ("sendemail.toCmd", ""),
    ("sendemail.ccCmd", ""),
    ("sendemail.headerCmd", ""),
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "always") for name in PROTOCOLS),
)

# Transport programs the user may rely on: their own global value wins, else the neutral one. Their repository's
# value never does. credential.helper is a list: an empty value resets it, then the user's helpers come back.
USER_KEYS = (("core.sshCommand", "ssh"), ("core.askPass", ""), ("ssh.variant", "auto"))

# Keys git reads first-match (core.gitProxy) or per command (pager.<cmd>), beaten only by a variable; and the
# protocol allow-list, which GIT_ALLOW_PROTOCOL imposes over any protocol.<name>.allow a repository sets.
ENVIRONMENT = {
    "GIT_PROXY_COMMAND": "",  # set, even empty: core.gitProxy is not read
    "GIT_PAGER": "cat",  # over core.pager and pager.<cmd>; no tty either
    "GIT_EDITOR": "false",
    "GIT_SEQUENCE_EDITOR": "false",
    "GIT_ALLOW_PROTOCOL": ":".join(PROTOCOLS),
    "GIT_CONFIG_NOSYSTEM": "1",  # a shared runner's /etc/gitconfig is nobody's review
    "GIT_TERMINAL_PROMPT": "0",  # no prompt that would hang
}

# Program-valued keys named after something the repository chooses, and why no command the tool runs reaches them.
NEVER_RUN = {
    "filter.<driver>.clean": "blobs are hashed with --no-filters; nothing is checked out",
    "filter.<driver>.smudge": "nothing is checked out: files are read from the object store (cat-file)",
    "filter.<driver>.process": "as clean and smudge",
    "diff.<driver>.textconv": "diff and format-patch run with --no-textconv; log shows no patches",
    "diff.<driver>.command": "diff and format-patch run with --no-ext-diff",
    "merge.<driver>.driver": "the tool never merges",
    "pager.<cmd>": "GIT_PAGER=cat, and git's output is never a terminal",
    "alias.<name>": "the tool runs only git's built-in commands, which an alias cannot replace",
    "credential.<url>.helper": "the reset of credential.helper empties the list these add to",
    "remote.<name>.receivepack": "pushes name --receive-pack, from a repository whose remotes are the tool's",
    "remote.<name>.uploadpack": "fetches name --upload-pack and an URL, not a remote",
    "remote.<name>.vcs": "remotes are not read from the repository; GIT_ALLOW_PROTOCOL refuses helpers",
    "remote.<name>.proxy": "remotes are not read from the repository",
    "http.proxy": "not a program; not read from the repository for a push",
    "url.<base>.insteadOf": "applied by git in the push repository; every resulting URL is checked",
    "url.<base>.pushInsteadOf": "as insteadOf",
    "protocol.<name>.allow": "GIT_ALLOW_PROTOCOL overrides every one",
    "include.path": "the overrides beat every included file",
    "includeIf.<condition>.path": "as include.path",
    "submodule.<name>.update": "the tool never updates submodules (push and fetch: no recursion)",
    "uploadpack.packObjectsHook": "git reads it only from the user's own configuration, never a repository's",
    "receive.procReceiveRefs": "runs the proc-receive hook; hooks are off",
    "core.gitProxy": "GIT_PROXY_COMMAND is set",
    "trailer.<token>.command": "the tool never runs interpret-trailers or commit --trailer",
    "trailer.<token>.cmd": "as trailer.<token>.command",
    "difftool.<tool>.cmd": "the tool never runs difftool",
    "mergetool.<tool>.cmd": "the tool never runs mergetool",
    "guitool.<name>.cmd": "the tool never runs git gui",
    "browser.<tool>.cmd": "the tool never runs web--browse or help",
    "man.<tool>.cmd": "the tool never runs help",
    "gitcvs.dbDriver": "the tool never runs cvsserver",
}

# What a local repository's receive-pack or upload-pack must not run: its hooks, fsmonitor, alternates command,
# a checkout through its filters, signature checks.
_SERVICE_CONFIG = ("core.hooksPath", "core.fsmonitor", "core.alternateRefsCommand", "receive.denyCurrentBranch",
                   "receive.autogc", "gpg.program", "gpg.openpgp.program", "gpg.x509.program", "gpg.ssh.program")
# The repository's configuration a push may use: data only, never a program.
_PUSH_DATA = re.compile(r"^(?:url\..*\.(?:insteadof|pushinsteadof)|http\.(?:.*\.)?extraheader)$")
_PUSH_REMOTE = "lambda-rewriter"


class UnsafeURL(Exception):
    """A remote URL or path the tool refuses; the message names it."""


def check_remote_url(url: str) -> None:
    """Refuse what would make git run a transport helper or read an option: ext::, fd::, foo://, -x."""
    if not url or url.startswith("-") or any(ord(c) < 32 for c in url):
        raise UnsafeURL(f"remote {url!r}: not an acceptable URL or path")
    if re.match(r"^[A-Za-z0-9+.-]+::", url):
        raise UnsafeURL(f"remote {url!r}: transport helpers (<transport>::<address>) are refused")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme and scheme.group(1).lower() not in PROTOCOLS:
        raise UnsafeURL(f"remote {url!r}: protocol {scheme.group(1)} is refused (allowed: {', '.join(PROTOCOLS)})")


def safe_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables to add: GIT_CONFIG_* entries after any the caller already has, so they win over every file."""
    environ = dict(os.environ if environ is None else environ)
    try:
        count = int(environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    entries = [*OVERRIDES, *_user_entries(environ)]
    extra = {name: environ.get(name, value) if name == "GIT_PROXY_COMMAND" else value
             for name, value in ENVIRONMENT.items()}
    extra["GIT_CONFIG_COUNT"] = str(count + len(entries))
    for index, (key, value) in enumerate(entries, start=count):
        extra[f"GIT_CONFIG_KEY_{index}"] = key
        extra[f"GIT_CONFIG_VALUE_{index}"] = value
    return extra


def _user_entries(environ: dict[str, str]) -> list[tuple[str, str]]:
    """The user's own settings (global file, then their GIT_CONFIG_* entries) for the transport keys."""
    own = [*_global_config(environ.get("GIT_CONFIG_GLOBAL"), environ.get("HOME"), environ.get("XDG_CONFIG_HOME")),
           *_environment_config(environ)]
    values = dict(own)  # the last value of each key, as git takes it
    entries = []
    for key, neutral in USER_KEYS:
        value = values.get(key.lower(), neutral)
        if key == "core.sshCommand" and key.lower() not in values and environ.get("GIT_SSH"):
            value = shlex.quote(environ["GIT_SSH"])  # core.sshCommand would beat the user's GIT_SSH
        entries.append((key, value))
    entries.append(("credential.helper", ""))
    entries += [(key, value) for key, value in own if re.fullmatch(r"credential\.(?:.+\.)?helper", key)]
    return entries


def _environment_config(environ: dict[str, str]) -> list[tuple[str, str]]:
    try:
        count = int(environ.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        return []
    pairs = []
    for index in range(count):
        key = environ.get(f"GIT_CONFIG_KEY_{index}", "")
        section, _, rest = key.partition(".")
        middle, _, name = rest.rpartition(".")
        pairs.append((".".join(filter(None, (section.lower(), middle, name.lower()))),
                      environ.get(f"GIT_CONFIG_VALUE_{index}", "")))
    return pairs


@functools.lru_cache(maxsize=8)
def _global_config(path: str | None, home: str | None, xdg: str | None) -> tuple[tuple[str, str], ...]:
    """The user's own global configuration (with its includes), as (key, value) in order; read once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({k: v for k, v in (("GIT_CONFIG_GLOBAL", path), ("HOME", home), ("XDG_CONFIG_HOME", xdg)) if v})
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        out = subprocess.run(["git", "config", "--global", "--includes", "--null", "--list"], cwd=tempfile.gettempdir(),
                             env=env, capture_output=True, check=False, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    pairs = []
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            pairs.append((key, value))
    return tuple(pairs)


def is_local(url: str) -> bool:
    """Whether git reaches ``url`` by running the other side here: a path or file:// (git's own rule: a
    colon before the first slash, as in host:path, means ssh)."""
    if url.lower().startswith("file://"):
        return True
    return not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) and not re.match(r"^[^/]*:", url)


def service_command(url: str, name: str) -> str:
    """The command git runs for the other side of a transfer (receive-pack, upload-pack): always git's
    own, never one a config sets. For a local repository git runs it here, with that repository's
    configuration and without the GIT_CONFIG_* overrides (they are meant for this side): the overrides
    go on its command line. Servers reached over ssh take only the plain name."""
    if is_local(url):
        values = dict(OVERRIDES)
        options = " ".join(f"-c {key}={shlex.quote(values[key])}" for key in _SERVICE_CONFIG)
        return f"git {options} {name}"
    return f"git-{name}"


def fetch_url(runner: git.Git, url: str) -> str:
    """The URL git will fetch from once the configuration's url.<base>.insteadOf is applied, checked."""
    check_remote_url(url)
    final = str(runner.ls_remote("--get-url", "--end-of-options", url)).strip()
    check_remote_url(final)
    return final


class PushRepository:
    """A temporary bare repository that pushes the commits of ``repo`` without reading its configuration."""

    def __init__(self, repo: git.Repo, folder: Path) -> None:
        self.folder = folder
        common = Path(repo.common_dir)
        fmt = repo.git.rev_parse("--show-object-format")
        runner = git.Git(str(folder))
        runner.update_environment(**safe_environment())
        runner.init("-q", "--bare", "--template=", f"--object-format={fmt}", str(folder))
        (folder / "objects" / "info" / "alternates").write_text(f"{(common / 'objects').resolve()}\n")
        if (common / "shallow").is_file():  # the same history cut as the repository's, or the walk would fail
            (folder / "shallow").write_bytes((common / "shallow").read_bytes())
        # Run where the repository's own git commands run, so that a relative path to a remote means the same.
        self.git = git.Git(repo.working_tree_dir or repo.git_dir)
        self.git.update_environment(**safe_environment(), GIT_DIR=str(folder))
        self.data = _push_data(repo)

    def configure(self, remote: str, urls: list[str], push_urls: list[str]) -> list[tuple[str, str]]:
        """One remote here per push URL of ``remote`` (its url or pushurl values, or ``remote`` itself when it is
        not a remote's name), so that each gets the receive-pack its own place needs: (its name, the URL git will
        push to once the url.<base> rewriting applies, checked)."""
        values = push_urls or urls or [remote]
        for url in values:
            check_remote_url(url)
        sections = []
        for key, value in self.data:
            base, _, option = key.rpartition(".")
            section, _, subsection = base.partition(".")
            sections.append((section, subsection, option, value))
        names = [f"{_PUSH_REMOTE}-{index}" for index in range(len(values))]
        for name, url in zip(names, values, strict=True):
            sections.append(("remote", name, "url", url))
            if push_urls:  # a pushurl is not rewritten by pushInsteadOf, a url may be
                sections.append(("remote", name, "pushurl", url))
        config = self.folder / "config"
        config.write_text(config.read_text() + _config_text(sections))
        targets = []
        for name in names:
            for url in self.git.remote("get-url", "--push", "--all", name).splitlines():
                check_remote_url(url)
                targets.append((name, url))
        return targets

    def push(self, name: str, url: str, options: list[str], refspec: str) -> None:
        self.git.push(*options, f"--receive-pack={service_command(url, 'receive-pack')}", "--end-of-options", name,
                      refspec)


def _push_data(repo: git.Repo) -> list[tuple[str, str]]:
    """The repository's url rewriting and extra HTTP headers, from its own configuration and what it includes."""
    try:
        out = repo.git.config("--local", "--includes", "--null", "--get-regexp", r"^(url|http)\.",
                              stdout_as_string=False)
    except git.GitCommandError:  # none
        return []
    pairs = []
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        if _PUSH_DATA.match(key) and not any(ord(c) < 32 for c in key + value):
            pairs.append((key, value))
    return pairs


def remote_urls(repo: git.Repo, remote: str) -> tuple[list[str], list[str]] | None:
    """(url values, pushurl values) of the remote named ``remote`` as git sees it, or None: no such remote."""
    try:
        out = repo.git.config("--includes", "--null", "--get-regexp", r"^remote\.", stdout_as_string=False)
    except git.GitCommandError:
        return None
    urls: tuple[list[str], list[str]] = ([], [])
    found = False
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        _, _, rest = key.partition(".")  # remote.<name>.<option>: the caller asked for remote.* only
        name, _, option = rest.rpartition(".")
        if name == remote:
            found = True
            if option in ("url", "pushurl"):
                urls[option == "pushurl"].append(value)
    return urls if found else None


def _config_text(sections: list[tuple[str, str, str, str]]) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "".join(f"[{section}{' ' + quoted(subsection) if subsection else ''}]\n\t{option} = {quoted(value)}\n"
                   for section, subsection, option, value in sections)
