"""No credential of a repository URL in any output: logs, Markdown, ledger, report, errors, repr()."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, invoke, run, write

from rewriter import manifest
from rewriter.redaction import redact, redacted

TOKEN = "ghp_S3cretT0ken"

# Every way an URL can carry a credential, and what stays readable of it.
CARRIERS = [
    pytest.param(f"https://bot:{TOKEN}@example.com/acme/x.git", "https://***@example.com/acme/x.git", id="user-password"),
    pytest.param(f"https://{TOKEN}@example.com/acme/x.git", "https://***@example.com/acme/x.git", id="token-as-user"),
    pytest.param(f"https://x-access-token:{TOKEN}@github.com/a/b", "https://***@github.com/a/b", id="github-app"),
    pytest.param(f"http://oauth2:{TOKEN}@gitlab.local:8080/a/b.git", "http://***@gitlab.local:8080/a/b.git",
                 id="port"),
    pytest.param(f"ssh://git:{TOKEN}@example.com/acme/x.git", "ssh://git:***@example.com/acme/x.git", id="ssh"),
    pytest.param(f"git+ssh://git:{TOKEN}@example.com/x", "git+ssh://git:***@example.com/x", id="git+ssh"),
    pytest.param(f"ssh://git%3A{TOKEN}@example.com/x", "ssh://git:***@example.com/x", id="ssh-percent-colon"),
    pytest.param(f"https://bot:{TOKEN}%40x@example.com/x", "https://***@example.com/x", id="percent-at"),
    pytest.param(f"https://bot:p%40ss%2F{TOKEN}@example.com/x", "https://***@example.com/x", id="percent-encoded"),
    pytest.param(f"https://bot:{TOKEN}@[::1]:8443/x", "https://***@[::1]:8443/x", id="ipv6"),
    pytest.param(f"bot:{TOKEN}@example.com/acme/x.git", "bot:***@example.com/acme/x.git", id="no-scheme"),
    pytest.param(f"bot:{TOKEN}@example.com:acme/x.git", "bot:***@example.com:acme/x.git", id="scp-like-password"),
    pytest.param(f"https://example.com/x.git?access_token={TOKEN}", "https://example.com/x.git?access_token=***",
                 id="access-token"),
    pytest.param(f"https://example.com/x.git?ref=main&private_token={TOKEN}",
                 "https://example.com/x.git?ref=main&private_token=***", id="private-token"),
    pytest.param(f"https://bucket.s3.amazonaws.com/x?X-Amz-Signature={TOKEN}&y=1",
                 "https://bucket.s3.amazonaws.com/x?X-Amz-Signature=***&y=1", id="presigned"),
    pytest.param(f"HTTPS://Bot:{TOKEN}@Example.com/x", "HTTPS://***@Example.com/x", id="upper-case"),
]


@pytest.mark.parametrize(("url", "shown"), CARRIERS)
def test_every_way_an_url_carries_a_credential_is_hidden(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(shown) == shown  # a second pass changes nothing
    assert TOKEN not in redact(f"fatal: could not read from '{url}': no route")  # inside any text
    assert TOKEN not in redact(f"error: {url!r}\n")  # quoted
    assert TOKEN not in redact(f"remote {url + chr(1)!r}: not an acceptable URL")  # with a control character, by repr


@pytest.mark.parametrize("text", [
    "git@github.com:acme/orders.git", "ssh://git@example.com/x.git", "https://example.com/a/b.git",
    "/srv/git/a@b/repo.git", "file:///srv/git/repo", "see https://example.com/x?ref=main#top", "a: b@c",
])
def test_what_holds_no_credential_stays_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_the_secrets_of_a_known_url_go_however_the_text_spells_it() -> None:
    url = f"https://bot:{TOKEN}@example.com/acme/x.git"
    gitpython = f"Cmd('git') failed due to: exit code(128)\n  cmdline: git ls-remote --end-of-options {url} HEAD"
    assert TOKEN not in redact(gitpython, url)
    assert TOKEN not in redact(f"password {TOKEN} refused for example.com", url)  # git's words, no URL around it
    assert TOKEN not in redact(f"bot:{TOKEN.replace('_', '%5F')} refused", url.replace("_", "%5F"))
    assert redact("git ls-remote failed", "https://git@example.com/x") == "git ls-remote failed"  # "git" is no secret
    nested = redacted({"reason": [f"for {url}"], url: 1})
    assert TOKEN not in repr(nested)


def _batch(manifest_text: str, tmp_path: Path):
    (tmp_path / "repos.txt").write_text(manifest_text)
    return invoke(["batch", "repos.txt", "--workspace", "ws", "--report", "report.json", "--author",
                   "Bot <bot@example.com>"], tmp_path)


def _everything_written(tmp_path: Path, result) -> list[str]:
    written = [p.read_text() for p in (tmp_path / "ws").rglob("*.json")]
    report = tmp_path / "report.json"
    return [result.stdout, result.stderr, *written, *([report.read_text()] if report.exists() else [])]


@pytest.mark.parametrize(("url", "shown"), [p for p in CARRIERS if p.id not in ("no-scheme", "scp-like-password")])
def test_a_failed_clone_shows_no_credential_in_log_markdown_ledger_or_report(tmp_path: Path, url: str,
                                                                             shown: str) -> None:
    """Nothing listens on port 1: git fails, and its message, the log line, the table and the ledger name the URL."""
    url = url.replace("example.com", "127.0.0.1:1").replace("github.com", "127.0.0.1:1").replace(
        "gitlab.local:8080", "127.0.0.1:1").replace("[::1]:8443", "127.0.0.1:1").replace(
        "bucket.s3.amazonaws.com", "127.0.0.1:1").replace("Example.com", "127.0.0.1:1")
    env = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_SSH_COMMAND": "ssh -o BatchMode=yes "
           "-o ConnectTimeout=5 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        result = _batch(f"{url}\n", tmp_path)
    assert result.exit_code in (2, 3), result.output  # 2: a protocol refused before git runs (git+ssh)
    assert "failed" in result.stdout or "refused" in result.stderr
    for text in _everything_written(tmp_path, result):
        assert TOKEN not in text and TOKEN.replace("_", "%5F") not in text


def test_an_entry_with_a_control_character_is_refused_without_its_token(tmp_path: Path) -> None:
    result = _batch(f"https://bot:{TOKEN}@example.com/x.git\x01\n", tmp_path)
    assert result.exit_code == 2
    assert "control characters are refused" in result.stderr and "https://***@example.com/x.git" in result.stderr
    assert TOKEN not in result.output


def test_credentials_without_a_scheme_are_refused_not_taken_for_a_host(tmp_path: Path) -> None:
    """git reads `bot:TOKEN@host/path` as host "bot": the entry is refused, and the message hides the token."""
    result = _batch(f"bot:{TOKEN}@example.com/acme/x.git\n", tmp_path)
    assert result.exit_code == 2
    assert "bot:***@example.com/acme/x.git: credentials without a scheme" in result.stderr
    assert TOKEN not in result.output
    assert not (tmp_path / "ws").exists()


def test_a_push_remote_with_credentials_is_not_echoed(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-qm", "base"], repo)
    for remote in (f"https://bot:{TOKEN}@127.0.0.1:1/x.git", f"https://bot:{TOKEN}@127.0.0.1:1/x.git\x01"):
        result = invoke(["branch", ".", "--push", remote, "--author", "Bot <bot@example.com>"], repo)
        assert result.exit_code in (2, 3), result.output
        assert TOKEN not in result.output


def test_manifest_redact_is_the_one_function() -> None:
    assert manifest.redact is redact
