"""The scale series (issue 22): `check -j2` over 1,000 / 5,000 / 20,000 files of which 1% are Lambda handlers.

    .venv/bin/python -m benchmarks.scale_series [--sizes 1000,5000,20000] [--repeat 3] [--workdir DIR]

The files that are not Lambda code are real Python (this Python's standard library without its tests, taken in
turn, each copy under its own folder), the Lambda files copies of the handlers of samples/ (each made unique by a
comment, as the result cache keys by content). Each size gets: cold CPU (`--no-cache`), the first run with the
result cache, the warm second run (median of ``repeat``), and the peak RSS of each (the largest process of the
tree). The corpus is made once per size in the work folder.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.corpus import DEFAULT_WORKDIR, SAMPLES, stdlib_files  # noqa: E402
from benchmarks.timing import CLI, fmt_seconds, run_command  # noqa: E402

HANDLERS = ("sam-orders/src/create_order/app.py", "sam-orders/src/get_order/app.py",
            "sam-orders/src/order_worker/worker.py", "sam-orders/src/report/app.py",
            "serverless-notify/src/handlers/notify.py", "serverless-notify/src/handlers/digest.py")


def corpus(workdir: Path, files: int) -> Path:
    """``files`` Python files, one in a hundred a Lambda handler, 50 files per folder."""
    root = workdir / f"scale-{files}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    real = stdlib_files()
    lambdas = max(1, files // 100)
    for index in range(files):
        folder = root / f"pkg{index // 50:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        if index % 100 == 0 and index // 100 < lambdas:
            source = SAMPLES / HANDLERS[(index // 100) % len(HANDLERS)]
            (folder / f"handler_{index}.py").write_bytes(source.read_bytes() + f"# copy {index}\n".encode())
        else:
            source = real[index % len(real)]
            (folder / f"m{index}_{source.name}").write_bytes(source.read_bytes())
    (root / ".complete").touch()
    return root


def _check(folder: Path, *extra: str, env: dict | None = None):
    return run_command([CLI, "check", "-j2", "--format", "json", *extra, str(folder)], cwd=folder, env=env)


def measure(workdir: Path, sizes: list[int], repeat: int, say) -> list[dict]:
    import os

    rows = []
    for size in sizes:
        folder = corpus(workdir, size)
        say(f"scale: {size} files")
        cold = _check(folder, "--no-cache")
        with tempfile.TemporaryDirectory(prefix="lrb-cache-") as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache, "LAMBDA_REWRITER_CACHE_DIR": cache}
            first = _check(folder, env=env)
            warm = sorted((_check(folder, env=env) for _ in range(repeat)), key=lambda run: run.cpu_seconds)
        middle = warm[len(warm) // 2]
        changed = sum(1 for f in json.loads(cold.stdout).get("files", []) if f.get("status") == "changed")
        rows.append({
            "files": size, "changed": changed,
            "cold_seconds": cold.seconds, "cold_cpu": cold.cpu_seconds, "cold_peak_mb": cold.peak_mb,
            "first_cpu": first.cpu_seconds, "first_peak_mb": first.peak_mb,
            "warm_seconds": middle.seconds, "warm_cpu": middle.cpu_seconds,
            "warm_peak_mb": max(run.peak_mb for run in warm),
            "warm_all_cpu": statistics.median(run.cpu_seconds for run in warm),
        })
    return rows


def render(rows: list[dict]) -> list[str]:
    lines = [
        "| files (1% Lambda) | changed | cold wall / CPU | cold peak RSS | first cached run CPU / peak "
        "| warm wall / CPU (median) | warm peak RSS | cold CPU per file |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['files']:,} | {r['changed']} | {fmt_seconds(r['cold_seconds'])} / {fmt_seconds(r['cold_cpu'])} | "
            f"{r['cold_peak_mb']:.0f} MB | {fmt_seconds(r['first_cpu'])} / {r['first_peak_mb']:.0f} MB | "
            f"{fmt_seconds(r['warm_seconds'])} / {fmt_seconds(r['warm_cpu'])} | {r['warm_peak_mb']:.0f} MB | "
            f"{fmt_seconds(r['cold_cpu'] / r['files'])} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows = measure(args.workdir, [int(s) for s in args.sizes.split(",")], args.repeat,
                   lambda message: print(message, file=sys.stderr, flush=True))
    print("\n".join(render(rows)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
