"""The pre-commit hooks, run by pre-commit itself (from PyPI) on a sample repository."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from cli_support import _GIT_ENV, HANDLER, LIBRARY, git_init, run, write

ROOT = Path(__file__).resolve().parent.parent
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
# What `pip install .` of the project needs: the hook repository is this project, as committed.
_PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
PACKAGE = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", *sorted({p.split(".")[0] for p in _PACKAGES})]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The working tree's package files committed in a repository of their own (never a git command on ours)."""
    repo = git_init(tmp_path_factory.mktemp("hook-repo"))
    for name in PACKAGE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo / name)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "hooks under test"], repo)
    return repo, run(["git", "rev-parse", "HEAD"], repo).stdout.decode().strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: pre-commit builds the hook's virtualenv once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("LAMBDA_REWRITER_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=cwd, env={**env, **_GIT_ENV}, capture_output=True, text=True,
    )


def test_hooks_file_names_both_hooks_on_the_files_the_tool_reads() -> None:
    hooks = {hook["id"]: hook for hook in HOOKS}
    assert set(hooks) == {"lambda-rewriter-check", "lambda-rewriter-fix"}
    assert hooks["lambda-rewriter-check"]["entry"].split()[:2] == ["lambda-rewriter", "check"]
    assert hooks["lambda-rewriter-fix"]["entry"].split()[:2] == ["lambda-rewriter", "apply"]
    files = re.compile(hooks["lambda-rewriter-check"]["files"])
    for name in ["app.py", "src/h/index.js", "src/a.ts", "src/b.tsx", "Main.java", "pom.xml", "svc/requirements.txt",
                 "package.json", "build.gradle.kts"]:
        assert files.search(name), name
    for name in ["README.md", "template.yaml", "samples/ci/github-actions-check.yml", "notpom.xml.bak"]:
        assert not files.search(name), name


def test_check_fails_on_a_client_in_the_handler_and_passes_after_the_fix(
    tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path
) -> None:
    path, sha = hook_repo
    sample = git_init(tmp_path / "sample")
    config = (
        f"repos:\n  - repo: {path}\n    rev: {sha}\n    hooks:\n"
        "      - id: lambda-rewriter-check\n      - id: lambda-rewriter-fix\n        stages: [manual]\n"
    )
    write(sample, {".pre-commit-config.yaml": config, "src/app.py": HANDLER, "src/lib.py": LIBRARY, "README.md": "# x\n"})
    run(["git", "add", "-A"], sample)

    check = pre_commit(["run", "lambda-rewriter-check", "--all-files"], sample, pre_commit_home)
    assert check.returncode == 1, check.stdout + check.stderr
    assert 'src/app.py:5:5: LR004 `handler` builds `boto3.client("s3")` once, on first use' in check.stdout

    fix = pre_commit(["run", "lambda-rewriter-fix", "--all-files", "--hook-stage", "manual"], sample, pre_commit_home)
    assert fix.returncode == 1 and "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert (sample / "src" / "app.py").read_text().startswith('import functools\n\nimport boto3\n\n\n@functools.lru_cache(maxsize=None)\n')
    assert (sample / "src" / "lib.py").read_text() == LIBRARY

    run(["git", "add", "-A"], sample)
    again = pre_commit(["run", "lambda-rewriter-check", "--all-files"], sample, pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Passed" in again.stdout
