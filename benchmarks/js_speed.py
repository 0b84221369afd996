"""JavaScript/TypeScript speed (issue 22): the tool's `check` against jscodeshift's parse-and-print, same files.

    .venv/bin/python -m benchmarks.js_speed [--files 300] [--repeat 3] [--workdir DIR] [--profile]

Corpus: benchmarks/js_corpus.py (300 generated handler modules: CommonJS, ES modules, TypeScript; v2 and v3 SDK).
Rows, interleaved and repeated (median by CPU):

- the tool: `check --no-cache -j2` with every JavaScript codemod (sdk-v3, hoist-clients, targeted-imports). sdk-v3's
  v2-to-v3 translation is aws-sdk-js-codemod's, a separate program: the tool row runs without it (the v2 files
  get a note), and one more row runs with it (LAMBDA_REWRITER_NODE_MODULES=tests/js/node_modules);
- jscodeshift 17 (npm, installed into benchmarks/js/node_modules by `npm ci --prefix benchmarks/js`): a transform
  that parses each file and prints it (`benchmarks/js/print.cjs`), once with `--parser=babel` over the .js/.mjs
  files and once with `--parser=ts` over the .ts files; the row is the sum of the two commands.

`--profile` also prints where the tool's CPU goes, in-process (cProfile, the top functions by own time) and the
CPU of its Node processes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import js_corpus  # noqa: E402
from benchmarks.corpus import DEFAULT_WORKDIR, REPO  # noqa: E402
from benchmarks.timing import CLI, fmt_seconds, run_command  # noqa: E402

HERE = Path(__file__).resolve().parent / "js"
JSCODESHIFT = HERE / "node_modules" / ".bin" / "jscodeshift"
CODEMODS = ("sdk-v3", "hoist-clients", "targeted-imports")
TRANSLATOR = REPO / "tests" / "js" / "node_modules"


def corpus(workdir: Path, files: int) -> Path:
    root = workdir / f"js-handlers-{files}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        js_corpus.make(root, files)
        (root / ".complete").touch()
    return root


def install() -> None:
    if not JSCODESHIFT.exists():
        subprocess.run(["npm", "ci", "--prefix", str(HERE), "--ignore-scripts", "--no-audit", "--no-fund"], check=True)


def _tool(folder: Path, translator: bool):
    env = {**os.environ, "LAMBDA_REWRITER_NODE_MODULES": str(TRANSLATOR if translator else folder / "none")}
    argv = [CLI, "check", "--no-cache", "-j2", "--format", "json", *(a for c in CODEMODS for a in ("-c", c)), str(folder)]
    return run_command(argv, cwd=folder, env=env)


def _jscodeshift(folder: Path) -> tuple[float, float, float]:
    """(wall, CPU, peak MB) of parse-and-print of every file, the JavaScript and the TypeScript ones."""
    runs = [run_command([str(JSCODESHIFT), "-t", str(HERE / "print.cjs"), "--dry", "--silent", f"--extensions={ext}",
                         f"--parser={parser}", str(folder)], cwd=folder)
            for ext, parser in (("js,mjs,cjs", "babel"), ("ts", "ts"))]
    for run in runs:
        if run.returncode != 0:
            raise RuntimeError(f"jscodeshift failed: {run.stderr.decode(errors='replace')[-500:]}")
    return sum(r.seconds for r in runs), sum(r.cpu_seconds for r in runs), max(r.peak_mb for r in runs)


def measure(workdir: Path, files: int, repeat: int, translator: bool, say) -> dict:
    install()
    folder = corpus(workdir, files)
    tool, jsc, translated = [], [], []
    changed = 0
    for round_ in range(repeat):
        say(f"js: round {round_ + 1} of {repeat}")
        run = _tool(folder, translator=False)
        tool.append((run.seconds, run.cpu_seconds, run.peak_mb))
        changed = sum(1 for f in json.loads(run.stdout)["files"] if f["status"] == "changed")
        jsc.append(_jscodeshift(folder))
    if translator and (TRANSLATOR / "aws-sdk-js-codemod").is_dir():
        say("js: with aws-sdk-js-codemod")
        run = _tool(folder, translator=True)
        translated.append((run.seconds, run.cpu_seconds, run.peak_mb))

    def median(rows):
        return sorted(rows, key=lambda r: r[1])[len(rows) // 2] if rows else None

    return {"files": files, "changed": changed, "tool": median(tool), "jscodeshift": median(jsc),
            "tool_with_translator": median(translated), "tool_all": tool, "jscodeshift_all": jsc}


def render(result: dict) -> list[str]:
    files = result["files"]
    lines = [
        f"{files} generated JS/TS handler files (benchmarks/js_corpus.py); CPU is user + system of the command and its "
        f"children (workers, Node), median of the rounds by CPU.",
        "",
        "| what | wall | CPU | CPU per file | peak RSS | vs jscodeshift (CPU) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    base = result["jscodeshift"][1]
    rows = [("jscodeshift 17.4 parse + print (babel for JS, ts for TS)", result["jscodeshift"]),
            (f"`check --no-cache -j2 -c {' -c '.join(CODEMODS)}` ({result['changed']} would change)", result["tool"])]
    if result["tool_with_translator"]:
        rows.append(("the same, with aws-sdk-js-codemod installed (sdk-v3 translates the v2 files)",
                     result["tool_with_translator"]))
    for name, (wall, cpu, peak) in rows:
        lines.append(f"| {name} | {fmt_seconds(wall)} | {fmt_seconds(cpu)} | {fmt_seconds(cpu / files)} | "
                     f"{peak:.0f} MB | {cpu / base:.2f}x |")
    return lines


def profile(workdir: Path, files: int) -> list[str]:
    """Where the tool's CPU goes on the corpus: every file in this process, under cProfile."""
    import cProfile
    import io
    import pstats
    import resource

    from rewriter import engine, node_syntax
    from rewriter.discovery import discover

    folder = corpus(workdir, files)
    found = discover([folder])
    jobs = [engine.FileJob(str(p), str(p.relative_to(found.root)), str(found.root), found.entry_points.get(p))
            for p in found.files]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    profiler = cProfile.Profile()
    profiler.enable()
    for job in jobs:
        engine.process_file(job, CODEMODS)
    profiler.disable()
    node_syntax._close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    node = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return ["```", out.getvalue().strip(), "```", f"Node processes (the syntax check): {fmt_seconds(node)} of CPU"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--no-translator", action="store_true", help="skip the row with aws-sdk-js-codemod (slow)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = measure(args.workdir, args.files, args.repeat, not args.no_translator,
                     lambda message: print(message, file=sys.stderr, flush=True))
    lines = render(result)
    if args.profile:
        lines += ["", *profile(args.workdir, args.files)]
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
