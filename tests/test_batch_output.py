"""What batch shows: repository names without `..`, a header that counts the rows, findings with codes and
columns in the JSON report, and a progress line that names what is in flight and turns red only on a failure."""
from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import HANDLER, invoke, run, write
from rich.console import Console

from rewriter import batch
from rewriter.manifest import Repository


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def remote(root: Path, name: str, files: dict[str, str]) -> Path:
    work = root / "work" / name
    write(work, files)
    run(["git", "init", "-q", "-b", "main", "."], work)
    run(["git", "add", "-A"], work)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"], work)
    bare = root / "fleet" / f"{name}.git"
    run(["git", "clone", "-q", "--bare", str(work), str(bare)], root)
    return bare


def test_names_normalised_and_findings_with_code_and_column(tmp_path: Path) -> None:
    remote(tmp_path, "orders", {"src/app.py": HANDLER})
    remote(tmp_path, "docs", {"README.md": "# docs\n"})
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "repos.txt").write_text("../fleet/orders.git\n../fleet/docs.git\n")
    result = invoke(["batch", "repos.txt", "--report", "report.json", "--author", "Bot <bot@example.com>"],
                    tmp_path / "ws")
    assert result.exit_code == 0, result.output
    assert "/../" not in result.output and f"{tmp_path}/fleet/orders.git" in result.stdout
    report = json.loads((tmp_path / "ws" / "report.json").read_text())
    assert [r["repository"] for r in report["repositories"]] == [f"{tmp_path}/fleet/orders.git",
                                                                 f"{tmp_path}/fleet/docs.git"]
    (change,) = report["repositories"][0]["changes"]
    assert (change["path"], change["line"], change["column"], change["code"]) == ("src/app.py", 5, 5, "LR004")


def test_the_header_counts_every_row_under_the_word_it_shows() -> None:
    outcomes = ["pushed", "patched", "unchanged", "skipped", "tests-failed", "failed", "running"]
    entries = [{"key": o, "repository": o, "outcome": o, "branch": "b", "reason": "why", "failed_stage": "clone"}
               for o in outcomes]
    options = batch.Options("ws", True, (), None, None, None, 600)
    text = batch.markdown(entries, options)
    header = text.splitlines()[0]
    counts = {word: int(n) for n, word in re.findall(r"(\d+) ([A-Za-z-]+(?: finished)?)", header)}
    assert counts == {"OK": 2, "unchanged": 1, "skipped": 1, "tests-failed": 1, "errored": 1, "not finished": 1}
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| repository", "| ---"))]
    assert sum(counts.values()) == len(rows) == len(outcomes)


def display() -> tuple[batch.Display, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    return batch.Display(3, console, jobs=2), out


def test_the_progress_names_the_repositories_in_flight() -> None:
    shown, _ = display()
    shown.started(Repository("https://github.com/acme/orders-service.git", "a", 1))
    shown.started(Repository("/work/fleet/reports.git", "b", 2))
    assert shown._text() == "done 0, failed 0, in flight 2: orders-service, reports"
    shown.finished({"key": "a", "repository": "https://github.com/acme/orders-service.git", "outcome": "patched"})
    assert shown._text() == "done 1, failed 0, in flight 1: reports"


def test_the_bar_is_green_until_a_repository_fails() -> None:
    shown, _ = display()
    assert shown.bar.complete_style == "green"
    shown.started(Repository("/work/fleet/a.git", "a", 1))
    shown.finished({"key": "a", "repository": "/work/fleet/a.git", "outcome": "unchanged"})
    assert shown.bar.complete_style == "green"
    shown.started(Repository("/work/fleet/b.git", "b", 2))
    shown.finished({"key": "b", "repository": "/work/fleet/b.git", "outcome": "failed", "failed_stage": "clone",
                    "reason": "refused"})
    assert shown.bar.complete_style == "red"


def on_a_terminal(args: list[str], cwd: Path) -> bytes:
    """What the command writes to stdout when stdout is a terminal (a pseudo-terminal here)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "rewriter.cli", *args], cwd=cwd, stdout=follower,
                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    out = b""
    while select.select([leader], [], [], 120)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    process.wait(120)
    os.close(leader)
    return out


def test_the_markdown_summary_is_rendered_on_a_terminal_and_raw_when_piped(tmp_path: Path) -> None:
    remote(tmp_path, "orders", {"src/app.py": HANDLER})
    (tmp_path / "repos.txt").write_text("fleet/orders.git\n")
    args = ["batch", "repos.txt", "--author", "Bot <bot@example.com>"]
    piped = subprocess.run([sys.executable, "-m", "rewriter.cli", *args], cwd=tmp_path, capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert piped.stdout.startswith("### lambda-rewriter batch: 1 OK") and "| --- |" in piped.stdout
    shown = on_a_terminal([*args, "--resume"], tmp_path).decode("utf-8", "replace")
    assert "lambda-rewriter batch: 1 OK" in shown
    assert "### " not in shown and "| --- |" not in shown  # rich drew the heading and the table
