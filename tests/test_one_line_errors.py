"""Bad input ends in a one-line error and exit status 2 (usage, configuration) or 3 (could not be done), never a
traceback. Run as users run it: the installed entry point's ``main``, in a process of its own."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, run, write

from rewriter import cli

DEEP_TOML = "a = " + "[" * 5000 + "]" * 5000 + "\n"


def _main(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", "import sys; from rewriter.cli import main; sys.exit(main())", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def _one_line_error(out: subprocess.CompletedProcess, status: int, says: str) -> None:
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == status, out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], out.stderr


@pytest.mark.parametrize(("line", "says"), [
    pytest.param("x" * 5000, "... (5000 characters): not a usable path (File name too long)", id="5000-characters"),
    pytest.param("~nosuchuser/x", "~nosuchuser names no user with a home folder", id="no-such-user"),
])
def test_a_manifest_line_git_cannot_use(tmp_path: Path, line: str, says: str) -> None:
    (tmp_path / "repos.txt").write_text(f"{line}\n")
    out = _main(["batch", "repos.txt", "--workspace", "ws"], tmp_path)
    _one_line_error(out, 2, says)
    assert len(out.stderr) < 1000
    assert not (tmp_path / "ws").exists()


def test_an_scp_location_too_long_for_a_path_is_still_an_scp_location(tmp_path: Path) -> None:
    from rewriter import manifest

    (tmp_path / "repos.txt").write_text("git@example.com:" + "x" * 5000 + "\n")
    [repo] = manifest.load(tmp_path / "repos.txt")
    assert repo.url.startswith("git@example.com:")


def test_a_manifest_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "repos.toml").write_text(f'[[repository]]\nurl = "{tmp_path}"\n{DEEP_TOML}')
    _one_line_error(_main(["batch", "repos.toml", "--workspace", "ws"], tmp_path), 2, "nested too deeply")


def test_a_pyproject_nested_too_deeply(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"pyproject.toml": f"[tool.lambda-rewriter]\n{DEEP_TOML}", "app.py": HANDLER})
    _one_line_error(_main(["check", "."], tmp_path), 2, "pyproject.toml: not valid TOML: arrays or tables nested")


def test_a_template_nested_too_deeply_is_named_and_the_rest_is_done(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"template.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n", "app.py": HANDLER})
    out = _main(["check", "."], tmp_path)
    _one_line_error(out, 3, "template.yaml: cannot read template: nested too deeply")
    assert "app.py:5:" in out.stdout


def _committed(repo: Path, files: dict[str, str]) -> Path:
    write(git_init(repo), files)
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "base"], repo)
    return repo


def test_branch_on_a_base_holding_a_path_longer_than_path_max(tmp_path: Path) -> None:
    repo = _committed(tmp_path / "repo", {"app.py": HANDLER})
    blob = run(["git", "hash-object", "-w", "app.py"], repo).stdout.decode().strip()
    deep = "/".join(["d" * 200] * 25) + "/app.py"  # 5,031 characters: git keeps it, no file system takes it
    run(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{deep}"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "deep"], repo)
    out = _main(["branch", ".", "--author", "Bot <bot@example.com>"], repo)
    _one_line_error(out, 3, "File name too long")
    assert "characters); nothing was changed" in out.stderr
    assert run(["git", "branch", "--list", "lambda-rewriter/*"], repo).stdout == b""


def test_branch_with_a_full_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    """No disk to fill here: the scratch folder is refused as a full $TMPDIR refuses it (ENOSPC)."""
    repo = _committed(tmp_path / "repo", {"app.py": HANDLER})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "tmp" / "lambda-rewriter-x"))

    monkeypatch.setattr(tempfile, "TemporaryDirectory", full)
    monkeypatch.chdir(repo)
    assert cli.main(["branch", ".", "--author", "Bot <bot@example.com>"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"error: No space left on device: {tmp_path}/tmp/lambda-rewriter-x; nothing "
                                        "was changed"]


def test_an_os_error_anywhere_else_is_one_line_with_exit_3(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    from rewriter import plan

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/cache/" + "c" * 4000)

    monkeypatch.setattr(plan, "discover", full)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", "."]) == 3
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: No space left on device: /cache/ccc") and line.endswith("(4007 characters)")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 and later read PEP 701 f-strings")
def test_a_newer_python_f_string_names_the_python_that_read_it(tmp_path: Path) -> None:
    """`f"{event["key"]}"` is valid on the python3.12 runtime; on an older Python running the tool the error says
    which Python read it and what to do, rather than telling the user to fix a file that is not wrong."""
    write(tmp_path, {"app.py": HANDLER.replace("return s3", 'key = f"{event["key"]}"\n    return s3')})
    out = _main(["check", "."], tmp_path)
    _one_line_error(out, 3, "f-string: unmatched '[' (Python 3.11 runs lambda-rewriter here; Python 3.12 and "
                            "later accept this f-string: run lambda-rewriter on Python 3.12 or later)"
                    .replace("3.11", f"{sys.version_info[0]}.{sys.version_info[1]}"))
    assert "fix the syntax error" not in out.stderr
