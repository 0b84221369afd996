"""Start-up: `--version` and `--help` import click and nothing heavy; each command imports what it needs.

Measured, not timed here (no timed unit tests): benchmarks/README.md, "Start-up", has the figures."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("libcst", "rich", "tree_sitter", "git", "yaml", "multiprocessing", "rewriter.engine", "rewriter.config",
         "codemods")


def modules_after(args: list[str]) -> list[str]:
    code = ("import sys, json\n"
            "from rewriter.cli import main\n"
            "try:\n"
            f"    main({args!r})\n"
            "finally:\n"
            "    print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["--help"], ["check", "--help"], ["batch", "--help"]])
def test_version_and_help_import_nothing_heavy(args: list[str]) -> None:
    loaded = modules_after(args)
    assert "click" in loaded
    # A command's --help runs the group's callback first, which sets up SIGTERM handling (rewriter.pool).
    allowed = ("multiprocessing",) if len(args) > 1 else ()
    heavy = [m for m in loaded if (m.split(".")[0] in HEAVY or m in HEAVY) and m.split(".")[0] not in allowed]
    assert heavy == [], heavy


def test_a_command_still_gets_what_it_needs() -> None:
    loaded = modules_after(["list"])
    assert "codemods.python.hoist_clients" in loaded and "libcst" in loaded


def test_the_option_defaults_are_the_engines() -> None:
    from rewriter import cli, engine, gate

    assert cli._TIME_LIMIT == engine.DEFAULT_TIME_LIMIT
    assert cli._TEST_TIMEOUT == gate.DEFAULT_TIMEOUT
