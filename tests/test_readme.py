"""The README is a newcomer's path: install, run on a project, undo; the internals live in docs/, linked."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from cli_support import HANDLER, git_init, run, write

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, re.M)


def test_install_comes_first_then_the_project_then_undo() -> None:
    names = headings(README.read_text())
    assert names[:3] == ["Install", "On your project", "Undo"], names


def test_the_users_path_is_short_and_the_internals_are_linked() -> None:
    text = README.read_text()
    path = text.split("\n## What it rewrites", 1)[0]
    assert len(path.splitlines()) < 250
    assert len(text.splitlines()) < 320
    for doc in ("codemods.md", "safety.md", "cache.md", "findings.md", "configuration.md", "batch.md"):
        assert f"(docs/{doc}" in text, doc


def test_install_names_the_package_and_what_the_code_needs() -> None:
    install = README.read_text().split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "`lambda-rewriter`" in install and "pipx install" in install and "pip install" in install
    assert "git+" in install  # not published: from the repository
    assert "Python 3.10+" in install
    requires = re.search(r'requires-python = ">=(\d+\.\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert requires == "3.10"
    from codemods.javascript import _aws_sdk_js_codemod

    assert "Node.js 18+" in install and _aws_sdk_js_codemod.INSTALL.split(" --prefix")[0] in install
    assert f"aws-sdk-js-codemod@{_aws_sdk_js_codemod.VERSION}" in install


def test_every_link_of_the_readme_and_docs_reaches_a_file_and_a_heading() -> None:
    for page in (README, *DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            name, _, anchor = target.partition("#")
            linked = (page.parent / name).resolve() if name else page
            assert linked.exists(), f"{page.name}: {target}"
            if anchor and linked.suffix == ".md":
                slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-")
                         for h in re.findall(r"^#+ (.+)$", linked.read_text(), re.M)}
                assert anchor in slugs, f"{page.name}: {target}"


def test_the_finding_table_is_in_one_place() -> None:
    rows = [line for page in (README, *DOCS.glob("*.md")) for line in page.read_text().splitlines()
            if re.match(r"\| `LR\d{3}` \|", line)]
    table = [line for line in (DOCS / "findings.md").read_text().splitlines() if re.match(r"\| `LR\d{3}` \|", line)]
    assert rows == table and len(table) > 30


def test_hoisting_says_it_moves_work_to_import_time_and_what_tests_do() -> None:
    section = README.read_text().split("### Hoisting moves work to import time", 1)[1].split("\n## ", 1)[0]
    for said in ('init = "auto"', 'init = "eager"', 'init = "lazy"', "cache_clear()", "monkeypatch", "import"):
        assert said in section, said


def test_ci_examples_install_from_git_not_from_pypi() -> None:
    for workflow in sorted((ROOT / "samples" / "ci").glob("*.yml")):
        steps = next(iter(yaml.safe_load(workflow.read_text())["jobs"].values()))["steps"]
        installs = [step["run"] for step in steps if "pip install" in step.get("run", "")]
        assert installs, workflow.name
        for command in installs:
            assert not re.search(r"pip install\s+['\"]?lambda-rewriter\b", command), command
            assert "git+" in command, command


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_installs_the_tool_alone_and_shows_check(tmp_path: Path) -> None:
    planned = subprocess.run(["make", "-n", "-B", "demo", f"VENV={tmp_path}/venv"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    installs = [line for line in planned.splitlines() if "pip install" in line and "--upgrade pip" not in line]
    assert installs and all("[test]" not in line for line in installs), installs
    commands = [line.split("lambda-rewriter ", 1)[1] for line in planned.splitlines() if "/lambda-rewriter " in line]
    assert [c.split()[0] for c in commands] == ["check", "diff"]


@pytest.mark.slow
def test_a_fresh_venv_installs_the_tool_from_the_clone_as_the_readme_says(tmp_path: Path) -> None:
    """`pip install <clone>` into a new venv, then the newcomer's path on a project outside the clone:
    check, suppress one finding inline, apply, undo with git. Needs no network: the registry mirrors
    of this machine (pip's configured indexes) hold the build and runtime dependencies."""
    clone = tmp_path / "clone"  # a copy, so that the build leaves nothing in this checkout
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".git", "node_modules", ".venv", "build", "*.egg-info",
                                                                "__pycache__", ".pytest_cache"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = Path(sysconfig.get_path("scripts", vars={"base": str(venv)}))
    pip = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", str(clone)], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if pip.returncode != 0 and "No matching distribution" in pip.stderr:
        pytest.skip(f"no package index here: {pip.stderr.strip().splitlines()[-1]}")
    assert pip.returncode == 0, pip.stderr
    tool = str(bin_dir / "lambda-rewriter")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["LAMBDA_REWRITER_CACHE_DIR"] = str(tmp_path / "cache")
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("lambda-rewriter, version "), version

    project = git_init(tmp_path / "project")
    second = HANDLER.replace("def handler", "def other").replace('client("s3")', 'client("sqs")  # lambda-rewriter: ignore')
    write(project, {"app.py": HANDLER, "other.py": second})
    run(["git", "add", "."], project)
    run(["git", "commit", "-qm", "init"], project)
    check = subprocess.run([tool, "check"], capture_output=True, text=True, env=env, cwd=project)
    assert check.returncode == 1, check
    assert "app.py:5:5: LR004" in check.stdout and "other.py" not in check.stdout
    applied = subprocess.run([tool, "apply"], capture_output=True, text=True, env=env, cwd=project)
    assert applied.returncode == 0, applied
    assert (project / "other.py").read_text() == second and (project / "app.py").read_text() != HANDLER
    run(["git", "restore", "."], project)  # the README's undo
    assert (project / "app.py").read_text() == HANDLER
