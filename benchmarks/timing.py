"""Wall time, CPU time and peak memory of a command, and how to print a duration."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CLI = str(VENV_BIN / "lambda-rewriter")


@dataclasses.dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system, the process and its workers
    peak_mb: float  # the largest resident set of the process tree (the parent or one worker)
    returncode: int
    stdout: bytes
    stderr: bytes


def run_command(argv: list[str], cwd: Path | None = None, env: dict | None = None) -> Run:
    """Run a command to its end, through measure.py for its wall time and peak RSS (workers included)."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"lrb-{os.getpid()}"
    out_path, err_path, figures = (base.with_suffix(s) for s in (".out", ".err", ".json"))
    launcher = [sys.executable, "-S", str(Path(__file__).with_name("measure.py")), str(figures), "--"]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        subprocess.run(launcher + argv, cwd=cwd, env=env, stdout=out, stderr=err, check=False)
    try:
        measured = json.loads(figures.read_text())
    except (OSError, ValueError):
        raise RuntimeError(f"could not run {argv[0]}: {err_path.read_text(errors='replace')[-2000:]}") from None
    run = Run(measured["seconds"], measured["cpu_seconds"], measured["peak_kb"] / 1024, measured["returncode"],
              out_path.read_bytes(), err_path.read_bytes())
    for path in (out_path, err_path, figures):
        path.unlink()
    return run


def fmt_seconds(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"
