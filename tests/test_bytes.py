"""A rewritten file keeps its bytes' conventions: endings, BOM, encoding, tabs, final newline, form feeds.

Each case is the same module dressed in one convention. The plain LF/UTF-8 version is rewritten first;
the dressed version must come out as exactly the plain result in the same dress, inserted lines
included. Then the result compiles, a second run changes nothing, and `git apply` / `patch -p1`
take the diff and produce the same bytes as `apply`.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import HANDLER, age, git_init, invoke, invoke_json, run, snapshot, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter.engine import FileJob, Status, process_file
from rewriter.languages import PYTHON
from rewriter.verify import VerificationFailed, verify

SOURCE = (
    "import os\n"
    "import boto3\n"
    "\n"
    "\n"
    "def handler(event, context):\n"
    "    # the bucket client\n"
    '    s3 = boto3.client("s3")  # {word}\n'
    '    sqs = boto3.client("sqs", region_name=event["region"])\n'
    '    if event.get("list"):\n'
    "        return s3.list_buckets()\n"
    "    return sqs.list_queues()\n"
    "\n"
    "\n"
    "def label():\n"
    '    return "{word}"\n'
)
WORD = "caf\u00e9"
COOKIE = b"# -*- coding: latin-1 -*-\n"
BOM = b"\xef\xbb\xbf"

Dress = Callable[[bytes], bytes]


def _crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def _tabs(data: bytes) -> bytes:
    return re.sub(rb"(?m)^((?:    )+)", lambda m: b"\t" * (len(m.group(1)) // 4), data)


def _no_final_newline(data: bytes) -> bytes:
    assert data.endswith(b"\n")
    return data[:-1]


def _form_feed(data: bytes) -> bytes:
    # An Emacs-style page break on its own line before the second function.
    return data.replace(b"\n\n\ndef label", b"\n\x0c\n\ndef label")


def _latin1(data: bytes) -> bytes:
    return COOKIE + data.decode("utf-8").encode("latin-1")


def _mostly_crlf(data: bytes) -> bytes:
    # A CRLF file with the last function saved with LF by some other editor.
    head, tail = data.split(b"def label", 1)
    return _crlf(head) + b"def label" + tail


def _mostly_lf(data: bytes) -> bytes:
    # An LF file with one stray CRLF line in the handler.
    return data.replace(b'if event.get("list"):\n', b'if event.get("list"):\r\n')


def _compose(*dresses: Dress) -> Dress:
    def dress(data: bytes) -> bytes:
        for one in dresses:
            data = one(data)
        return data

    return dress


CASES = [
    pytest.param(_crlf, id="crlf"),
    pytest.param(lambda d: BOM + d, id="utf8-bom"),
    pytest.param(_latin1, id="latin1-cookie"),
    pytest.param(_tabs, id="tabs"),
    pytest.param(_no_final_newline, id="no-final-newline"),
    pytest.param(_form_feed, id="form-feed"),
    pytest.param(_mostly_crlf, id="mixed-mostly-crlf"),
    pytest.param(_mostly_lf, id="mixed-mostly-lf"),
    pytest.param(_compose(_tabs, _no_final_newline, _crlf, lambda d: BOM + d), id="bom-crlf-tabs-no-final-newline"),
    pytest.param(_compose(_form_feed, _latin1, _crlf), id="latin1-crlf-form-feed"),
]


def _rewrite(tmp_path: Path, data: bytes) -> bytes:
    path = tmp_path / "plain" / "app.py"
    write(path.parent, {"app.py": data})
    result = process_file(FileJob(str(path), "app.py", str(path.parent)), ())
    assert result.status is Status.CHANGED, result.reason
    return result.after


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    before = SOURCE.format(word=WORD).encode()
    after = _rewrite(tmp_path_factory.mktemp("plain"), before)
    # The cases only mean something if the rewrite changes lines and inserts indented ones.
    assert b'\n    s3 = get_s3_client()  # caf\xc3\xa9\n' in after
    assert b'\n    return boto3.client("s3")\n' in after
    assert re.search(rb"\n    return boto3\.client\(\"sqs\"", after), after
    return before, after


@pytest.mark.parametrize("dress", CASES)
def test_apply_keeps_the_file_conventions(tmp_path: Path, plain: tuple[bytes, bytes], dress: Dress) -> None:
    before, after = dress(plain[0]), dress(plain[1])
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": before})
    result = invoke(["apply"], repo)
    assert result.exit_code == 0, result.output
    written = (repo / "app.py").read_bytes()
    assert written == after
    compile(written, "app.py", "exec", dont_inherit=True)
    age(repo)
    once = snapshot(repo)
    assert invoke(["check"], repo).exit_code == 0, "a second run would change the file again"
    assert invoke(["apply"], repo).exit_code == 0
    assert snapshot(repo) == once


@pytest.mark.parametrize("dress", CASES)
def test_diff_applies_with_git_and_patch(tmp_path: Path, plain: tuple[bytes, bytes], dress: Dress) -> None:
    before, after = dress(plain[0]), dress(plain[1])
    repo = git_init(tmp_path / "repo")
    write(repo, {"src/app.py": before})
    result = invoke(["diff"], repo / "src")
    assert result.exit_code == 0, result.output
    patch = result.stdout_bytes
    assert patch.startswith(b"--- a/src/app.py\n+++ b/src/app.py\n")
    assert (repo / "src" / "app.py").read_bytes() == before, "diff wrote to the file"
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy)
    run(["git", "apply", "--check"], repo, patch)
    run(["patch", "-p1", "--dry-run"], repo, patch)
    run(["git", "apply"], repo, patch)
    assert (repo / "src" / "app.py").read_bytes() == after
    run(["patch", "-p1", "--no-backup-if-mismatch"], copy, patch)
    assert (copy / "src" / "app.py").read_bytes() == after


def test_cr_only_line_endings_are_left_untouched(tmp_path: Path) -> None:
    data = SOURCE.format(word=WORD).encode().replace(b"\n", b"\r")
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": data})
    age(repo)
    before = snapshot(repo)
    result, report = invoke_json(["check"], repo)
    [entry] = report["files"]
    assert entry["status"] in ("skipped", "unchanged", "changed")
    if entry["status"] == "skipped":
        assert entry["reason"]
        assert invoke(["apply"], repo).exit_code == 0
        assert snapshot(repo) == before
    else:
        # Handled: then the result must keep CR endings and compile.
        invoke(["apply"], repo)
        written = (repo / "app.py").read_bytes()
        assert b"\n" not in written
        compile(written, "app.py", "exec", dont_inherit=True)


@pytest.mark.parametrize(
    "name, data, settings, reason",
    [
        pytest.param("blob.py", b"import boto3\0\0\x01" + HANDLER.encode(), "", "binary file", id="binary"),
        pytest.param(
            "big.py",
            HANDLER.encode() + b"# padding\n" * 20,
            "[tool.lambda-rewriter]\nmax-file-bytes = 200\n",
            "larger than the size limit",
            id="over-size-limit",
        ),
    ],
)
def test_files_the_tool_will_not_read_are_skipped_with_a_reason(
    tmp_path: Path, name: str, data: bytes, settings: str, reason: str
) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {name: data, "app.py": HANDLER, **({"pyproject.toml": settings} if settings else {})})
    age(repo)
    result, report = invoke_json(["check"], repo)
    files = {f["path"]: f for f in report["files"]}
    assert files[name]["status"] == "skipped"
    assert reason in files[name]["reason"]
    assert report["summary"]["skipped"] == 1
    text = invoke(["check"], repo)
    assert f"{name}:1:1: LR990 skipped: " in text.stdout
    assert "1 skipped" in text.stderr
    kept = snapshot(repo)[name]
    assert invoke(["apply"], repo).exit_code == 0
    assert snapshot(repo)[name] == kept


@pytest.mark.parametrize(
    "original, result, words",
    [
        pytest.param(b"x = 1\r\n", b"x = 1\r\ny = 2\n", "line endings", id="lf-into-crlf"),
        pytest.param(b"x = 1\r\ny = 1\n", b"x = 1\r\ny = 1\rz = 1\n", "line endings", id="cr-into-mixed"),
        pytest.param(b"\xef\xbb\xbfx = 1\n", b"x = 1\n", "byte order mark", id="bom-lost"),
        pytest.param(b"# coding: latin-1\nx = 1\n", b"x = 1\n", "coding declaration", id="cookie-lost"),
        pytest.param(b"x = 1\n", b"x = 1", "final newline", id="final-newline-lost"),
        pytest.param(b"x = 1\n", b"x = (\n", "does not parse", id="syntax-error"),
        pytest.param(b"x = 1\n", b"def f():\n    nonlocal x\n", "does not parse", id="compile-error"),
    ],
)
def test_verification_refuses_a_result_that_breaks_the_file(original: bytes, result: bytes, words: str) -> None:
    with pytest.raises(VerificationFailed, match=words):
        verify("app.py", original, result, PYTHON, lambda again, tree: again)


def test_verification_refuses_a_result_a_second_run_would_change() -> None:
    with pytest.raises(VerificationFailed, match="second run"):
        verify("app.py", b"x = 1\n", b"x = 2\n", PYTHON, lambda again, tree: again + b"y = 3\n")


@pytest.mark.parametrize(
    "original, result",
    [
        pytest.param(b"x = 1", b"y = 2\nx = 1", id="one-line-file-gains-a-line"),
        pytest.param(b"x = 1\r\ny = 1\n", b"z = 0\r\nx = 1\r\ny = 1\n", id="mixed-stays-mixed"),
        pytest.param(b"x = 1\ny = 1", b"y = 1", id="two-lines-become-one-without-a-break"),
        pytest.param(b"x = 1\r\ny = 1", b"y = 1", id="crlf-lines-become-one-without-a-break"),
    ],
)
def test_verification_accepts_a_result_in_the_file_conventions(original: bytes, result: bytes) -> None:
    verify("app.py", original, result, PYTHON, lambda again, tree: again)


def test_a_fifo_named_like_code_is_skipped_not_read(tmp_path: Path) -> None:
    # Opening a FIFO blocks until someone writes to it: the engine must not even try.
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    os.mkfifo(repo / "pipe.py")
    result, report = invoke_json(["check"], repo)
    files = {f["path"]: f for f in report["files"]}
    assert files["pipe.py"]["status"] == "skipped" and "not a regular file" in files["pipe.py"]["reason"]
    assert result.exit_code == 1


def test_a_file_gone_since_discovery_is_skipped_not_a_crash(tmp_path: Path) -> None:
    result = process_file(FileJob(str(tmp_path / "gone.py"), "gone.py", str(tmp_path)), ())
    assert result.status is Status.SKIPPED and "not a regular file" in result.reason
