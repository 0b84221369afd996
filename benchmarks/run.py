"""Run the benchmarks and print the tables (Markdown), side by side in one run.

    .venv/bin/python benchmarks/run.py [--quick] [--only speed|treesitter|payoff|memory] [--memory] [--fleet N] [--json FILE]

The machine is shared and noisy: read the ratios between rows of one run, not absolute times
across runs. See benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus, payoff, speed, treesitter  # noqa: E402


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        mem_kb = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    versions = {name: _version(name) for name in ("lambda-rewriter", "libcst", "boto3", "botocore", "moto")}
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "load_avg": os.getloadavg(),
        "python": platform.python_version(),
        "versions": versions,
    }


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 in 20 real files, 10 repositories, fewer repetitions")
    parser.add_argument("--only", choices=("speed", "treesitter", "payoff", "memory"))
    parser.add_argument("--memory", action="store_true",
                        help="also: peak memory of check -j2 on 1 in 4 real files and on all of them (10+ minutes)")
    parser.add_argument("--fleet", type=int, default=None, help="repositories in the synthetic fleet (default 50, quick 10)")
    parser.add_argument("--corpus-stride", type=int, default=None,
                        help="run the tool over 1 in N files of the real corpus (default 4, quick 20; 1: all)")
    parser.add_argument("--workdir", type=Path, default=corpus.DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)

    started = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    result = {"machine": machine(), "quick": args.quick}
    m = result["machine"]
    lines = [
        f"## lambda-rewriter benchmarks{' (quick)' if args.quick else ''}",
        "",
        f"{m['date']}; {m['nproc']} CPUs ({m['cpu']}), {m['memory_gb']} GB; load average at start "
        f"{m['load_avg'][0]:.2f}; Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "",
    ]
    parts = []
    if args.only in (None, "speed"):
        fleet = args.fleet or (10 if args.quick else 50)
        options = speed.Options(args.quick, args.workdir, fleet, args.corpus_stride)
        parts.append(("speed", "1. The tool's own speed", lambda: speed.run(options, say), speed.render))
    if args.only in (None, "treesitter"):
        options_ts = treesitter.Options(args.quick, args.workdir)
        parts.append(("treesitter", "1b. JavaScript, TypeScript and Java (tree-sitter)",
                      lambda: treesitter.run(options_ts, say), treesitter.render))
    if args.only in (None, "payoff"):
        options_payoff = payoff.Options(args.quick, args.workdir)
        parts.append(("payoff", "2. What the rewrite saves", lambda: payoff.run(options_payoff, say), payoff.render))
    if args.memory or args.only == "memory":
        options_memory = speed.Options(args.quick, args.workdir, 0)
        parts.append(("memory", "Peak memory as the corpus grows", lambda: speed.memory(options_memory, say),
                      speed.render_memory))
    failed = False
    for key, title, measure, render in parts:
        # One part failing (the tree under test changes while others work on it) must not lose the others.
        try:
            result[key] = measure()
        except Exception:  # noqa: BLE001
            failed = True
            say(f"{key} failed:\n{traceback.format_exc()}")
            lines += [f"### {title}", "", "(failed: see stderr)", ""]
            continue
        lines += [f"### {title}", ""] + render(result[key]) + [""]
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    result["seconds"] = time.perf_counter() - started
    lines.append(f"(benchmark ran for {result['seconds']:.0f} s; load average at the end {os.getloadavg()[0]:.2f})")
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
