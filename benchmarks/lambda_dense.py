"""Lambda-dense Python (issue 22): a repository where every file is a handler, the files the tool exists for.

    .venv/bin/python -m benchmarks.lambda_dense [--files 500] [--repeat 3] [--profile] [--workdir DIR]

Rows, measured in one run and interleaved round by round (medians by CPU time):

- one LibCST parse of every file (in-process), the unit the goal is written in;
- `lambda-rewriter diff -j2 --no-cache`, every default codemod and verification;
- the same with `-c hoist-clients` alone, next to LibCST's own runner (`python -m libcst.tool codemod`) running the
  same hoist-clients transform (`benchmarks.anchor`);
- `check -j2` into an empty result cache, then warm from it (every file a stored rewrite: `diff` would verify
  each before showing it; `check` shows no code and serves it on its key).

Then where the time goes, by stage, from the engine's own functions run in-process on every file: the time of
each stage excludes the stages it calls (verification's second pass is not counted in verification, a parse
inside verification is counted as parse). With ``--profile``, cProfile's top functions too.
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import libcst as cst  # noqa: E402

from benchmarks import corpus, lambda_corpus  # noqa: E402
from benchmarks.timing import CLI, REPO, Run, fmt_seconds, run_command  # noqa: E402

PY = sys.executable
ANCHOR = [PY, "-m", "libcst.tool", "codemod", "-x", "benchmarks.anchor.HoistClientsCommand", "--no-format",
          "--hide-progress", "-u", "3"]


@dataclasses.dataclass(frozen=True)
class Options:
    quick: bool
    workdir: Path
    files: int = 500
    repeat: int | None = None
    profile: bool = False
    stages: bool = True


def _tool(argv: list[str], root: Path, cache: Path | None = None) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if cache is not None:
        env["LAMBDA_REWRITER_CACHE_DIR"] = str(cache)
    run = run_command([CLI, *argv, str(root)] + ([] if cache is not None else ["--no-cache"]), cwd=root, env=env)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"lambda-rewriter {argv[0]} failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    return run


def _anchor(root: Path) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # The runner rewrites in place: it gets a copy of its own, made fresh each round.
    target = root.parent / (root.name + "-anchor")
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(root, target)
    run = run_command(ANCHOR + ["-j", "2", str(target)], cwd=target, env=env)
    if run.returncode not in (0, 1) or b"Finished codemodding" not in run.stderr:
        raise RuntimeError(f"libcst.tool codemod failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    return run


def _parse_all(files: list[Path]) -> tuple[float, float]:
    datas = [p.read_bytes() for p in files]
    wall, cpu = time.perf_counter(), time.process_time()
    for data in datas:
        cst.parse_module(data)
    return time.perf_counter() - wall, time.process_time() - cpu


def run(options: Options, say) -> dict:
    root = lambda_corpus.generate(options.workdir / f"lambda-dense-{options.files}", options.files)
    files = sorted((root / "src").rglob("*.py"))
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    repeat = options.repeat or (1 if options.quick else 3)
    rounds: dict[str, list[tuple[float, float]]] = {}

    def keep(what: str, wall: float, cpu: float) -> None:
        rounds.setdefault(what, []).append((wall, cpu))

    changed = None
    for number in range(repeat):
        say(f"lambda-dense round {number + 1}/{repeat}: {len(files)} files")
        keep("parse", *_parse_all(files))
        every = _tool(["diff", "-j", "2"], root)
        keep("diff", every.seconds, every.cpu_seconds)
        changed = every.stderr.decode().strip().splitlines()[-1:] or [""]
        hoist = _tool(["diff", "-j", "2", "-c", "hoist-clients"], root)
        keep("diff-hoist", hoist.seconds, hoist.cpu_seconds)
        anchor = _anchor(root)
        keep("anchor", anchor.seconds, anchor.cpu_seconds)
        cache = options.workdir / "lambda-dense-cache"
        shutil.rmtree(cache, ignore_errors=True)
        cold = _tool(["check", "-j", "2"], root, cache)
        keep("check-cold", cold.seconds, cold.cpu_seconds)
        warm = _tool(["check", "-j", "2"], root, cache)
        keep("check-warm", warm.seconds, warm.cpu_seconds)
        if warm.stdout != cold.stdout:
            raise RuntimeError("the warm check reported something else than the cold one")
    medians = {what: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for what, runs in rounds.items()}
    result = {"files": len(files), "lines": lines, "repeat": repeat, "medians": medians, "outcome": changed[0],
              "stages": {}}
    if options.stages:
        say("lambda-dense: stages, in-process")
        result["stages"] = stage_profile(root)
    if options.profile:
        say("lambda-dense: cProfile")
        result["profile"] = profile(root)
    return result


# ---- where the time goes

STAGES = {
    "parse": "LibCST parse",
    "syntax": "compile() / ast parse",
    "first": "codemods, first pass",
    "second": "verification: second pass (codemods)",
    "verify": "verification: other checks",
    "print": "printing (Module.code/bytes, code_for_node, line numbers)",
    "engine": "engine: read, select, cache key, diff (the rest)",
}


class _Stages:
    """Exclusive CPU time per stage: entering a stage stops the clock of the stage it was called from."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.stack: list[str] = []
        self.mark = 0.0

    def enter(self, stage: str) -> None:
        now = time.process_time()
        if self.stack:
            self.seconds[self.stack[-1]] += now - self.mark
        self.stack.append(stage)
        self.mark = now

    def leave(self) -> None:
        now = time.process_time()
        self.seconds[self.stack.pop()] += now - self.mark
        self.mark = now

    def wrap(self, stage, fn):
        def timed(*args, **kwargs):
            self.enter(stage(args) if callable(stage) else stage)
            try:
                return fn(*args, **kwargs)
            finally:
                self.leave()
        return timed


def _patched(stages: _Stages):
    """Each stage's functions wrapped in place; returns what undoes it."""
    from codemods.python import _facts
    from rewriter import engine, languages

    undo = []

    def patch(owner, name, stage, prop: bool = False) -> None:
        old = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        if prop:
            new = property(stages.wrap(stage, old.fget))
        else:
            new = stages.wrap(stage, old)
        setattr(owner, name, new)
        undo.append((owner, name, old))

    patch(languages, "_libcst", "parse")
    patch(languages, "_python_syntax", "syntax")
    patch(engine, "verify", "verify")
    patch(engine, "_run_codemods", lambda args: "second" if "verify" in stages.stack else "first")
    patch(cst.Module, "code", "print", prop=True)
    patch(cst.Module, "bytes", "print", prop=True)
    patch(cst.Module, "code_for_node", "print")
    patch(_facts.NodeLines, "__init__", "print")
    return undo


def stage_profile(root: Path) -> dict[str, float]:
    from rewriter.engine import process_file
    from rewriter.plan import plan

    jobs = plan([root]).jobs
    stages = _Stages()
    undo = _patched(stages)
    try:
        for job in jobs:
            stages.enter("engine")
            process_file(job, ())
            stages.leave()
    finally:
        for owner, name, old in reversed(undo):
            setattr(owner, name, old)
    return stages.seconds


def profile(root: Path, top: int = 15) -> str:
    from rewriter.engine import process_file
    from rewriter.plan import plan

    jobs = plan([root]).jobs
    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs:
        process_file(job, ())
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def render(result: dict) -> list[str]:
    m, files = result["medians"], result["files"]
    parse = m["parse"][1]

    def row(what: str, key: str, note: str = "") -> str:
        wall, cpu = m[key]
        return (f"| {what} | {fmt_seconds(wall)} | {fmt_seconds(cpu)} | {fmt_seconds(cpu / files)} | "
                f"{cpu / parse:.1f}x | {note} |")

    lines = [
        (f"{files} generated handler modules ({result['lines']:,} lines, `benchmarks/lambda_corpus.py`), "
         f"medians of {result['repeat']} interleaved rounds; `-j2` rows are whole commands (workers included)."),
        "",
        "| what | wall | CPU | CPU per file | CPU / parse | note |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        row("LibCST `parse_module`, every file, in-process", "parse"),
        row("`diff -j2 --no-cache`, every default codemod + verification", "diff", result["outcome"]),
        row("`diff -j2 --no-cache -c hoist-clients`", "diff-hoist"),
        row("LibCST's runner, hoist-clients (`libcst.tool codemod -j2`)", "anchor"),
        row("`check -j2`, empty result cache", "check-cold"),
        row("`check -j2`, warm (every file a cached rewrite)", "check-warm"),
        "",
        (f"- every default codemod + verification: **{m['diff'][1] / parse:.1f}x** the CPU of one LibCST parse "
         "(goal: at most 3x)"),
        f"- hoist-clients: LibCST's runner takes **{m['anchor'][1] / m['diff-hoist'][1]:.2f}x** the tool's CPU",
        f"- warm cache: **{m['check-cold'][1] / m['check-warm'][1]:.1f}x** less CPU than the cold run (goal: >= 10x)",
    ]
    if not result["stages"]:
        return lines
    lines += [
        "",
        "Where the time goes (every file in one process, each stage without the stages it calls):",
        "",
        "| stage | CPU | share |",
        "| --- | ---: | ---: |",
    ]
    total = sum(result["stages"].values())
    for key, seconds in sorted(result["stages"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {STAGES[key]} | {fmt_seconds(seconds)} | {100 * seconds / total:.0f}% |")
    lines.append(f"| total | {fmt_seconds(total)} | |")
    if result.get("profile"):
        lines += ["", "cProfile, top functions by own time:", "", "```", result["profile"].strip(), "```"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--profile", action="store_true", help="also cProfile's top functions (slower)")
    parser.add_argument("--stages-only", action="store_true", help="only the in-process stage table")
    parser.add_argument("--no-stages", action="store_true", help="the commands only, no in-process stage table")
    parser.add_argument("--workdir", type=Path, default=corpus.DEFAULT_WORKDIR)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    options = Options(args.quick, args.workdir, args.files, args.repeat, args.profile, not args.no_stages)
    if args.stages_only:
        root = lambda_corpus.generate(args.workdir / f"lambda-dense-{args.files}", args.files)
        seconds = stage_profile(root)
        total = sum(seconds.values())
        for key, value in sorted(seconds.items(), key=lambda kv: -kv[1]):
            print(f"{STAGES[key]:65} {fmt_seconds(value):>10} {100 * value / total:4.0f}%")
        if args.profile:
            print(profile(root))
        return 0
    print("\n".join(render(run(options, say))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
