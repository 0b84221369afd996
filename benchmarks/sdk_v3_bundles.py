"""What the move to v3 does to a Node function's package: bundle size and load time, and the peer suite's count.

    python benchmarks/sdk_v3_bundles.py [--runs N] [--json FILE] [--no-peer-suite]

For each handler of the Node samples (samples/*/behaviour.node.json), three versions of its app, each bundled with
esbuild (`--bundle --minify --platform=node`, the SDK inside the bundle, as `sam build` with esbuild ships it) and
loaded with `require()` in a fresh node (median of N):

- v2 whole: the sample as it is (`import AWS from 'aws-sdk'`);
- v2 clients: `lambda-rewriter apply -c targeted-imports` (`aws-sdk/clients/<service>`, still v2);
- v3: `lambda-rewriter apply -c sdk-v3` (`@aws-sdk/client-*`; a file sdk-v3 leaves on v2 stays v2, said below).

Loads alternate between the three versions (one of each in turn, N rounds), so a busy moment costs all alike.

Then aws-sdk-js-codemod's own fixture suite through sdk-v3, counted as tests/test_sdk_v3_peer_suite.py judges it.
Needs node and `npm ci --prefix tests/js` (aws-sdk 2, the @aws-sdk clients, esbuild, aws-sdk-js-codemod 3.0.2).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bundle_size import ESBUILD, NODE_MODULES, REPO, SAMPLES, bundle  # noqa: E402

VERSIONS = (("v2 whole", None), ("v2 clients", "targeted-imports"), ("v3", "sdk-v3"))
PEER = REPO / "tests" / "data" / "aws-sdk-js-codemod" / "fixtures"
# Wall and CPU time of `require()` of the bundle: the CPU time hardly moves when other users load the machine.
_LOAD = (
    "const wall = process.hrtime.bigint(); const cpu = process.cpuUsage(); require(process.argv[1]);"
    " const used = process.cpuUsage(cpu);"
    " process.stdout.write(JSON.stringify([Number(process.hrtime.bigint() - wall) / 1e6,"
    " (used.user + used.system) / 1000]));"
)


def load(path: Path) -> tuple[float, float]:
    done = subprocess.run(
        [shutil.which("node"), "-e", _LOAD, str(path)], check=True, capture_output=True,
        env={"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1", "AWS_REGION": "us-east-1"},
    )
    wall, cpu = json.loads(done.stdout)
    return wall, cpu


def rewritten(app: Path, target: Path, codemod: str | None) -> None:
    shutil.copytree(app, target)
    if codemod is None:
        return
    env = {**os.environ, "LAMBDA_REWRITER_NODE_MODULES": str(NODE_MODULES)}
    done = subprocess.run(
        [sys.executable, "-m", "rewriter.cli", "apply", "--no-cache", "-j", "1", "-c", codemod, str(target)],
        cwd=REPO, capture_output=True, text=True, env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"lambda-rewriter apply -c {codemod} failed on {app.name}:\n{done.stderr}")


def measure(runs: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec_path in sorted(SAMPLES.glob("*/behaviour.node.json")):
            app = spec_path.parent
            copies = {}
            for label, codemod in VERSIONS:
                folder = Path(tmp) / app.name / label.replace(" ", "-")
                rewritten(app, folder, codemod)
                (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
                copies[label] = folder
            for entry in json.loads(spec_path.read_text())["handlers"]:
                row = {"app": app.name, "module": entry["module"]}
                bundles = {}
                for label, folder in copies.items():
                    bundles[label] = folder / "bundle" / (Path(entry["module"]).stem + ".cjs")
                    row[f"{label} bytes"] = bundle(folder, entry["module"], bundles[label])
                # One load of each version in turn, N times: a busy moment of the machine costs every version alike.
                times: dict[str, list[tuple[float, float]]] = {label: [] for label in bundles}
                for _ in range(runs):
                    for label, out in bundles.items():
                        times[label].append(load(out))
                for label, taken in times.items():
                    row[f"{label} load ms"] = round(statistics.median(t[0] for t in taken), 1)
                    row[f"{label} load cpu ms"] = round(statistics.median(t[1] for t in taken), 1)
                row["v3 keeps v2"] = "aws-sdk" in _imports(copies["v3"] / entry["module"])
                rows.append(row)
    return rows


def _imports(path: Path) -> set[str]:
    from codemods.manifests._scan import _JS_MODULE

    return {m.decode().split("/")[0] for m in _JS_MODULE.findall(path.read_bytes())}


def peer_suite() -> dict[str, int]:
    """Each case of aws-sdk-js-codemod's fixture suite, as sdk-v3 gives it: its expected output (tree-sitter tokens),
    left whole on purpose (the expected output is itself half translated, or there is no v2 import), not given by
    the tool 3.0.2 itself either, or different (a failure)."""
    os.environ["LAMBDA_REWRITER_NODE_MODULES"] = str(NODE_MODULES)
    sys.path.insert(0, str(REPO / "tests"))
    from codemods._base import FileContext
    from codemods.javascript import _aws_sdk_js_codemod
    from codemods.javascript.sdk_v3 import V2_IMPORT, SdkV3
    from rewriter.languages import language_for
    from sdk_v3_support import tokens

    cases = sorted(PEER.glob("*/*.input.*"))
    wanted = [(c.read_text().replace("\r\n", "\n"), c.suffix) for c in cases if V2_IMPORT.search(c.read_bytes())]
    _aws_sdk_js_codemod.TIMEOUT = 3600  # a count, not a run's bound: a busy machine must not turn it into "different"
    _aws_sdk_js_codemod.translate_many(wanted)
    counts = {"cases": len(cases), "reproduced": 0, "left whole on purpose": 0, "not given by the tool either": 0,
              "different": 0}
    for case in cases:
        source = case.read_bytes()
        expected = case.with_name(case.name.replace(".input.", ".output.")).read_bytes()
        name = "input" + case.suffix
        language = language_for(name)
        result = language.render(SdkV3().transform(language.parse(source), FileContext(name, codemod="sdk-v3")))
        half = any(m in expected.decode() for m in _aws_sdk_js_codemod.UNTRANSLATED) or V2_IMPORT.search(expected)
        if V2_IMPORT.search(source) is None or half:
            counts["left whole on purpose" if result == source else "different"] += 1
        elif tokens(name, result) == tokens(name, expected):
            counts["reproduced"] += 1
        else:
            raw = _aws_sdk_js_codemod.translate(source.decode().replace("\r\n", "\n"), case.suffix)
            same = tokens(name, raw.encode()) == tokens(name, expected)
            counts["different" if same else "not given by the tool either"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="loads of each bundle to take the median of")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--no-peer-suite", action="store_true", help="bundles only")
    parser.add_argument("--peer-suite-only", action="store_true", help="the peer suite's count only")
    args = parser.parse_args(argv)
    if args.peer_suite_only:
        counts = peer_suite()
        print(", ".join(f"{key}: {value}" for key, value in counts.items()))
        return 0
    if shutil.which("node") is None or not ESBUILD.exists():
        print("needs node and tests/js/node_modules: npm ci --prefix tests/js", file=sys.stderr)
        return 2
    rows = measure(args.runs)
    labels = [label for label, _ in VERSIONS]
    print(f"load average {os.getloadavg()[0]:.1f}; load: median of {args.runs}, CPU ms (wall ms)")
    print()
    print("| function | " + " | ".join(f"{label} bytes" for label in labels) + " | " + " | ".join(
        f"{label} load" for label in labels) + " |")
    print("|---|" + "---:|" * (2 * len(labels)))
    for row in rows:
        mark = " (stays v2)" if row["v3 keeps v2"] else ""
        print(f"| {row['app']}/{row['module']}{mark} | " + " | ".join(f"{row[label + ' bytes']:,}" for label in labels)
              + " | " + " | ".join(f"{row[label + ' load cpu ms']} ({row[label + ' load ms']})" for label in labels) + " |")
    figures = {"bundles": rows}
    if not args.no_peer_suite:
        figures["peer suite"] = counts = peer_suite()
        print()
        print(", ".join(f"{key}: {value}" for key, value in counts.items()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
