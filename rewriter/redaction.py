"""Credentials out of every text the tool shows or stores: one function, applied before any formatting.

A repository URL can carry a secret in its user part (``https://TOKEN@host``,
``https://user:TOKEN@host``, ``ssh://user:TOKEN@host``, percent-encoded or not), in an scp-like
location without a scheme (``user:TOKEN@host:path``, which git would read as host ``user``), or
in its query (``?access_token=``, ``?private_token=``...). ``redact`` hides each of these wherever
it appears in a text, and also every secret of the URLs it is given, however git or ``repr()``
spelt the rest of the URL around it.
"""
from __future__ import annotations

import re
from typing import Any, overload
from urllib.parse import quote, unquote

HIDDEN = "***"
_SSH = ("ssh", "git+ssh", "ssh+git")
# Credentials in a query: the names GitHub, GitLab, Bitbucket, Azure DevOps and presigned S3 URLs use.
_QUERY = re.compile(
    r"([?&;](?:access[_-]?token|private[_-]?token|oauth[_-]?token|job[_-]?token|token|password|passwd|pwd|secret|"
    r"client[_-]?secret|api[_-]?key|apikey|key|auth|sig|signature|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token)=)([^&#\s'\"]*)",
    re.IGNORECASE,
)
# scheme://userinfo@ : the userinfo runs to the last "@" before the path ("%40" is how "@" may be written in it).
# A control character (a tab, a CR...) does not end it: such an URL is refused, but its message must not leak.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\n '\"<>]*)@")
# user:secret@host without a scheme: no scp-like location (`git@host:path`) has a ":" before its "@".
_SCHEMELESS = re.compile(r"(?<![\w/:@.%+-])(?P<user>[^\s/:@'\"]+):(?P<secret>[^\s/@'\"]+)@(?=[A-Za-z0-9\[])")
_SHORTEST = 6  # a shorter user name ("git", "oauth2" alone) is hidden only where it sits in an URL


def redact(text: str, *urls: str) -> str:
    """``text`` with every credential of an URL hidden; the secrets of ``urls`` are hidden wherever they occur."""
    for url in urls:
        for secret in sorted(secrets(url), key=len, reverse=True):
            text = text.replace(secret, HIDDEN)
    text = _USERINFO.sub(_userinfo, text)
    text = _SCHEMELESS.sub(lambda m: f"{m.group('user')}:{HIDDEN}@", text)
    return _QUERY.sub(lambda m: m.group(1) + (HIDDEN if m.group(2) else ""), text)


def _userinfo(match: re.Match) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if userinfo == HIDDEN:
        return match.group(0)
    if scheme.lower().rstrip(":/") in _SSH:
        # ssh: the user is the account (git), not a secret; a password after it is.
        user, colon, _ = unquote(userinfo).partition(":")
        if not colon and "%" not in userinfo:
            return match.group(0)
        return f"{scheme}{quote(user, safe='')}:{HIDDEN}@" if user and "%" not in user else f"{scheme}{HIDDEN}@"
    return f"{scheme}{HIDDEN}@"  # https: a token may be the user name itself


def secrets(url: str) -> set[str]:
    """The credentials in one URL, as written and percent-decoded, long enough to replace in any text."""
    found: set[str] = set()
    authority = url.split("://", 1)[1] if "://" in url else url
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if "@" in authority:
        userinfo = authority.rpartition("@")[0]
        user, colon, password = userinfo.partition(":")
        ssh = "://" not in url or url.split("://", 1)[0].lower() in _SSH
        found.update([password] if colon else [] if ssh else [user])
        if colon and not ssh:
            found.add(userinfo)
    found.update(m.group(2) for m in _QUERY.finditer(url))
    found |= {unquote(s) for s in found}
    return {s for s in found if len(s) >= _SHORTEST}


@overload
def redacted(value: str, *urls: str) -> str: ...
@overload
def redacted(value: dict[str, Any], *urls: str) -> dict[str, Any]: ...
@overload
def redacted(value: object, *urls: str) -> object: ...
def redacted(value: object, *urls: str) -> object:
    """``redact`` on every string in a JSON-like value (ledger entries, reports), keys included."""
    if isinstance(value, str):
        return redact(value, *urls)
    if isinstance(value, dict):
        return {redacted(k, *urls): redacted(v, *urls) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v, *urls) for v in value]
    return value
