"""The Python codemods under LibCST's own runner give the same files as `lambda-rewriter apply`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import SAMPLES, git_init, invoke
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from codemods import all_codemods
from codemods.python import libcst_commands

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
COMMANDS = {
    "hoist-clients": "HoistClientsCommand",
    "reconnect-guards": "ReconnectGuardsCommand",
    "targeted-imports": "TargetedImportsCommand",
    "lazy-imports": "LazyImportsCommand",
}


def python_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py")) if ".git" not in p.parts}


def test_every_python_codemod_has_a_command() -> None:
    python = {name for name, impls in all_codemods().items() if any("python" in impl.LANGUAGES for impl in impls)}
    assert python == set(COMMANDS)
    assert set(libcst_commands.__all__) == set(COMMANDS.values())


@pytest.mark.parametrize(("codemod", "command"), COMMANDS.items())
def test_libcst_tool_gives_the_same_files_as_apply(tmp_path: Path, codemod: str, command: str) -> None:
    theirs, ours = tmp_path / "libcst", tmp_path / "ours"
    for tree in (theirs, git_init(ours)):
        shutil.copytree(SAMPLES, tree, dirs_exist_ok=True)
        # The codemod's own fixture inputs too: the samples do not exercise every codemod in Python.
        for case in sorted((FIXTURES / codemod).glob("*.in.py")):
            shutil.copyfile(case, tree / f"fixture_{case.name.removesuffix('.in.py')}.py")
    before = python_files(theirs)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "libcst.tool", "codemod", "-x", f"codemods.python.libcst_commands.{command}",
         "--no-format", "--hide-progress", "-j", "1", "."],
        cwd=theirs, env=env, capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "Failed to codemod 0 files" in run.stderr
    result = invoke(["apply", "-q", "-c", codemod, "."], ours)
    assert result.exit_code == 0, result.stderr
    after = python_files(theirs)
    assert after == python_files(ours)
    assert after != before  # the codemod had something to do on the samples
