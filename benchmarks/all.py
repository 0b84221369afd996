"""Run benchmark scripts one after the other and write what they print into benchmarks/README.md.

    .venv/bin/python benchmarks/all.py SCRIPT [SCRIPT...] [--readme FILE] [--dry-run]

``make bench`` names the scripts (the Makefile's BENCHMARKS list: add yours there). Each script prints Markdown
on stdout and its progress on stderr; a script that fails gets a line saying so and the others still run. The
section between the two ``bench:`` markers of the README is replaced by this run's: machine, date, load, and
each script's output under its name. ``--dry-run`` prints the section and leaves the README alone.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- bench:begin (written by `make bench`: benchmarks/all.py) -->"
END = "<!-- bench:end -->"


def machine() -> str:
    cpu, memory = "unknown CPU", ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        memory = f", {kb / 1024 / 1024:.1f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{len(os.sched_getaffinity(0))} CPUs ({cpu}){memory}; Python {platform.python_version()}"


def run(script: str) -> tuple[str, float, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, script], cwd=HERE.parent, stdout=subprocess.PIPE, check=False)
    return done.stdout.decode("utf-8", "replace").strip(), time.perf_counter() - started, done.returncode


def section(scripts: list[str]) -> str:
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [BEGIN, f"## Latest `make bench`: {when}", "",
             f"{machine()}; load average at the start {os.getloadavg()[0]:.2f}.", ""]
    for script in scripts:
        print(f"== {script}", file=sys.stderr, flush=True)
        out, seconds, code = run(script)
        lines += [f"### `{script}`", ""]
        if code != 0:
            lines += [f"(exit status {code}: see its stderr; what it printed follows)", ""]
        lines += [out or "(nothing printed)", "", f"({seconds:.0f} s)", ""]
    lines += [f"Load average at the end {os.getloadavg()[0]:.2f}.", END]
    return "\n".join(lines)


def write(readme: Path, text: str) -> None:
    old = readme.read_text()
    if BEGIN in old and END in old:
        head, _, rest = old.partition(BEGIN)
        _, _, tail = rest.partition(END)
        new = head + text + tail
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    readme.write_text(new)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scripts", nargs="+")
    parser.add_argument("--readme", type=Path, default=HERE / "README.md")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    text = section(args.scripts)
    print(text)
    if not args.dry_run:
        write(args.readme, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
