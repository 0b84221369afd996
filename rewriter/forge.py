"""Where a branch's pull request goes, the token that opens it, and the pace that keeps a forge answering.

Nothing here talks to a forge: ``forge_github`` (PyGithub) and ``forge_gitlab`` (python-gitlab) do. What is here decides which API an
URL belongs to (``target_for``), reads the token (``read_token``: from the environment or a command the user
names, never from the repository), and paces the calls (``Pacer``: ``Retry-After`` and ``x-ratelimit-reset``
honoured, bounded exponential backoff with jitter, a minimum interval between creations, a cap per run).
Every message leaving this module and its callers goes through ``hide`` so that the token never shows.
"""
from __future__ import annotations

import dataclasses
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Mapping

from rewriter.redaction import redact

KINDS = ("github", "gitlab")
TOKEN_VARIABLES = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}
MARKER = "<!-- lambda-rewriter:pull-request {key} -->"  # the tool's own pull requests carry it in their body


class ForgeError(Exception):
    """One pull request could not be opened or read; the message names why (the token hidden)."""


class TokenRefused(ForgeError):
    """401: every further call would fail the same way, so the run stops asking."""


class RateLimited(ForgeError):
    """403/429 for a rate limit; ``wait``: seconds the forge asked for (None: it did not say)."""

    def __init__(self, message: str, wait: float | None) -> None:
        super().__init__(message)
        self.wait = wait


class LimitReached(ForgeError):
    """``--max-prs`` pull requests were opened in this run; the rest wait for the next one."""


@dataclasses.dataclass(frozen=True)
class Target:
    kind: str  # "github" or "gitlab"
    api_url: str  # https://api.github.com, https://ghe.example.com/api/v3, https://gitlab.com/api/v4
    full_name: str  # owner/name (GitLab: group/subgroup/name)


_SCP = re.compile(r"^(?:[^@/:\s]+@)?(?P<host>[A-Za-z0-9.-]+):(?!//)(?P<path>.+)$")
_URL = re.compile(r"^(?P<scheme>https?|ssh|git)://(?:[^/@]*@)?(?P<host>[^/:]+)(?::\d+)?/(?P<path>.+)$", re.I)


def parse_location(url: str) -> tuple[str, str] | None:
    """(host, owner/name) of a remote URL, or None for a local path or an URL without both parts."""
    match = _URL.match(url) or (None if url.startswith("/") else _SCP.match(url))
    if match is None:
        return None
    path = match["path"].strip("/").removesuffix(".git").strip("/")
    if path.count("/") < 1 or any(part in ("", ".", "..") for part in path.split("/")):
        return None
    return match["host"].lower(), path


def target_for(url: str, *, kind: str | None = None, api_url: str | None = None,
               full_name: str | None = None) -> Target:
    """The API a remote URL's pull requests live on: github.com and gitlab.com are known; another host needs
    ``kind`` (GitHub Enterprise Server: ``https://HOST/api/v3``); ``api_url`` and ``full_name`` override."""
    location = parse_location(url)
    host, path = location if location else (None, None)
    name = full_name or path
    if name is None:
        raise ForgeError(f"{redact(url)}: cannot tell which repository on the forge this is (a local path?): name it "
                         "with pr-repository = \"OWNER/NAME\" in the manifest")
    if kind is None:
        if host == "github.com" or (api_url or "").rstrip("/").endswith(("api.github.com", "/api/v3")):
            kind = "github"
        elif host == "gitlab.com" or (host or "").startswith("gitlab.") or (api_url or "").rstrip("/").endswith("/api/v4"):
            kind = "gitlab"
        else:
            raise ForgeError(f"{redact(url)}: cannot tell whether {host or 'this host'} is GitHub or GitLab: pass "
                             "--forge github|gitlab (and --api-url for a server of your own)")
    if kind not in KINDS:
        raise ForgeError(f"forge {kind!r}: expected one of {', '.join(KINDS)}")
    if api_url is None:
        if host is None:
            raise ForgeError(f"{redact(url)}: no host to reach the API at: pass --api-url")
        api_url = {"github": "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3",
                   "gitlab": f"https://{host}/api/v4"}[kind]
    if not re.match(r"^https?://[^/\s]+", api_url):
        raise ForgeError(f"--api-url {redact(api_url)!r}: expected an http(s) URL")
    return Target(kind, api_url.rstrip("/"), name)


def read_token(kind: str, command: str | None = None, environ: Mapping[str, str] | None = None,
               timeout: float = 60) -> str:
    """The token: printed by ``command`` (run with /bin/sh -c, no standard input; its first line), else the
    forge's variable. The token itself never goes into an error."""
    environ = os.environ if environ is None else environ
    variable = TOKEN_VARIABLES[kind]
    if command:
        try:
            done = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ForgeError(f"--token-command did not finish in {timeout:g} s") from None
        except OSError as error:
            raise ForgeError(f"--token-command could not start: {error.strerror or error}") from None
        if done.returncode != 0:
            raise ForgeError(f"--token-command failed (exit {done.returncode}); its output is not shown, it may hold "
                             "the token")
        token = done.stdout.decode("utf-8", "replace").strip().split("\n", 1)[0].strip()
        if not token:
            raise ForgeError("--token-command printed nothing")
        return token
    token = (environ.get(variable) or "").strip()
    if not token:
        raise ForgeError(f"no token to open pull requests with: set {variable}, or pass --token-command CMD")
    return token


def hide(text: str, token: str | None) -> str:
    """``text`` with the token and every URL credential hidden."""
    if token:
        text = text.replace(token, "***")
    return redact(text)


def marker(key: str) -> str:
    return MARKER.format(key=key)


def is_marked(body: str | None, key: str) -> bool:
    return marker(key) in (body or "")


@dataclasses.dataclass
class Pacer:
    """One per run, in the process that opens the pull requests (batch's parent), so that the pace is the
    run's, whatever the number of workers. Secondary rate limits come from creating content quickly: GitHub
    asks for at least a second between writes, and a ``Retry-After`` when it objects."""

    interval: float = 1.0  # seconds between two creations (--pr-interval)
    max_prs: int | None = None  # creations per run (--max-prs)
    attempts: int = 6  # tries of one call through rate limits before the repository fails
    base_delay: float = 2.0  # first backoff when the forge names no wait; doubles each time
    max_delay: float = 300.0  # no single wait longer (a reset an hour away fails the call instead of hanging)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random
    created: int = 0
    _last: float | None = None

    def before_create(self) -> None:
        if self.max_prs is not None and self.created >= self.max_prs:
            raise LimitReached(f"--max-prs {self.max_prs}: this run opened as many pull requests as allowed; run again "
                               "(with --resume) for the rest")
        if self._last is not None:
            wait = self._last + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)

    def did_create(self) -> None:
        self.created += 1
        self._last = self.clock()

    def call(self, action: Callable[[], object]) -> object:
        """``action()``, again after each rate limit: the forge's own wait, else backoff with jitter, bounded."""
        for attempt in range(self.attempts):
            try:
                return action()
            except RateLimited as limited:
                if attempt == self.attempts - 1:
                    raise
                delay = limited.wait if limited.wait is not None else self.base_delay * 2 ** attempt
                if delay > self.max_delay:
                    raise RateLimited(f"{limited}; the limit resets in {delay:.0f} s, more than the "
                                      f"{self.max_delay:.0f} s this run waits: run again later", delay) from None
                # Jitter spreads the retries of parallel runs that hit the limit together.
                self.sleep(max(0.0, delay) + self.jitter() * min(1.0, delay / 4 + 0.25))
        raise AssertionError("unreachable")


def rate_limit_wait(status: int, headers: Mapping[str, str], message: str, now: float | None = None) -> float | None:
    """How long a 403/429 asks to wait, or None when it is no rate limit; -1 means "a limit, wait unsaid"."""
    lower = {k.lower(): v for k, v in headers.items()}
    if status not in (403, 429):
        return None
    retry_after = lower.get("retry-after", "")
    if retry_after.strip().isdigit():
        return float(retry_after)
    if lower.get("x-ratelimit-remaining") == "0" and lower.get("x-ratelimit-reset", "").isdigit():
        return max(0.0, float(lower["x-ratelimit-reset"]) - (time.time() if now is None else now))
    if status == 429 or "rate limit" in message.lower():
        return -1.0
    return None
