"""What targeted-imports and hoist-clients save a Node function: bundle size and the time to load it.

    python benchmarks/bundle_size.py [--runs N] [--json FILE]

For each handler of the Node samples (samples/*/behaviour.node.json): bundle it with esbuild
(`--bundle --minify --platform=node`, the way `sam build` and serverless-esbuild ship a function),
before and after `lambda-rewriter apply`, and time `require()` of the bundle in a fresh node (median of
N runs). Needs node and `npm ci --prefix tests/js` (the same packages the tests use).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
JS = REPO / "tests" / "js"
NODE_MODULES = JS / "node_modules"
SAMPLES = JS.parent.parent / "samples"
ESBUILD = NODE_MODULES / ".bin" / "esbuild"

_LOAD = (
    "const start = process.hrtime.bigint(); require(process.argv[1]);"
    " process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));"
)


def bundle(folder: Path, module: str, out: Path) -> int:
    subprocess.run(
        [
            str(ESBUILD),
            str(folder / module),
            "--bundle",
            "--minify",
            "--platform=node",
            "--format=cjs",
            "--log-level=error",
            f"--outfile={out}",
        ],
        check=True,
        cwd=folder,
    )
    return out.stat().st_size


def load_ms(path: Path, runs: int) -> float:
    node = shutil.which("node")
    times = [
        float(
            subprocess.run(
                [node, "-e", _LOAD, str(path)],
                check=True,
                capture_output=True,
                env={"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1", "AWS_REGION": "us-east-1"},
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


def rewritten_copy(app: Path, target: Path) -> None:
    shutil.copytree(app, target)
    done = subprocess.run(
        [sys.executable, "-m", "rewriter.cli", "apply", "-j", "1", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"lambda-rewriter apply failed on {app.name}:\n{done.stderr}")


def measure(runs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec_path in sorted(SAMPLES.glob("*/behaviour.node.json")):
            app = spec_path.parent
            before, after = Path(tmp) / app.name / "before", Path(tmp) / app.name / "after"
            shutil.copytree(app, before)
            rewritten_copy(app, after)
            for copy in (before, after):
                (copy / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
            for entry in json.loads(spec_path.read_text())["handlers"]:
                row = {"app": app.name, "module": entry["module"]}
                for label, folder in (("before", before), ("after", after)):
                    out = folder / "bundle" / (Path(entry["module"]).stem + ".cjs")
                    row[f"{label}_bytes"] = bundle(folder, entry["module"], out)
                    row[f"{label}_load_ms"] = round(load_ms(out, runs), 1)
                row["ratio"] = round(row["before_bytes"] / row["after_bytes"], 1)
                rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="loads of each bundle to take the median of")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)
    if shutil.which("node") is None or not ESBUILD.exists():
        print("needs node and tests/js/node_modules: npm ci --prefix tests/js", file=sys.stderr)
        return 2
    rows = measure(args.runs)
    print(f"{'function':<40} {'bytes before':>13} {'bytes after':>12} {'x':>6} {'load ms before':>15} {'after':>7}")
    for row in rows:
        print(
            f"{row['app'] + '/' + row['module']:<40} {row['before_bytes']:>13,} {row['after_bytes']:>12,} "
            f"{row['ratio']:>6} {row['before_load_ms']:>15} {row['after_load_ms']:>7}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
