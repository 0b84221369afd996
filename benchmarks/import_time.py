"""What targeted-imports and lazy-imports save at cold start: module import time, before and after.

Each handler module is imported in fresh processes under ``python -X importtime``; the figure is the
cumulative time of the handler's own import line (everything it imports included), median of the
runs. Cases: every sample handler that the codemods change (after hoist-clients, as the tool runs
them), and every fixture pair of tests/fixtures/targeted-imports and tests/fixtures/lazy-imports.

    python -m benchmarks.import_time [--repeat N] [--json FILE]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
CODEMODS = ("targeted-imports", "lazy-imports")

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclasses.dataclass
class Case:
    name: str
    codemod: str
    before: bytes
    after: bytes
    env: dict[str, str] = dataclasses.field(default_factory=dict)


def import_ms(folder: Path, env: dict[str, str]) -> float:
    """Cumulative import time of ``handler`` in one fresh process, in milliseconds."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import handler"],
        cwd=folder, env={**_base_env(), **ENV, **env}, capture_output=True, text=True, timeout=120, check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"importing {folder}/handler.py failed: {run.stderr[-2000:]}")
    for line in run.stderr.splitlines():
        match = _LINE.match(line)
        if match and match.group(4) == "handler" and len(match.group(3)) == 1:  # top level: not nested
            return int(match.group(2)) / 1000
    raise RuntimeError(f"no importtime line for handler in {folder}")


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


def medians_ms(case: Case, repeat: int, workdir: Path) -> tuple[float, float]:
    """Median import time of the version before and after; the runs alternate (and so does which
    goes first), so drift on a shared machine weighs on both alike."""
    folders = []
    for source in (case.before, case.after):
        folder = Path(tempfile.mkdtemp(dir=workdir))
        (folder / "handler.py").write_bytes(source)
        import_ms(folder, case.env)  # untimed: writes the bytecode cache and warms the file cache
        folders.append(folder)
    times: tuple[list[float], list[float]] = ([], [])
    for n in range(repeat):
        order = [0, 1] if n % 2 == 0 else [1, 0]  # neither version always runs first
        for which in order:
            times[which].append(import_ms(folders[which], case.env))
    return statistics.median(times[0]), statistics.median(times[1])


def fixture_cases() -> list[Case]:
    cases = []
    for codemod in CODEMODS:
        for source in sorted((FIXTURES / codemod).glob("*.in.py")):
            expected = source.with_name(source.name.replace(".in.py", ".out.py"))
            if expected.exists():
                name = source.name.removesuffix(".in.py")
                env = {}
                events = source.with_name(f"{name}.events.json")
                if events.exists():
                    env = {k: v for k, v in json.loads(events.read_text()).get("env", {}).items() if "{" not in v}
                cases.append(Case(f"fixtures/{codemod}/{name}", codemod, source.read_bytes(), expected.read_bytes(), env))
    return cases


def sample_cases() -> list[Case]:
    """Sample handlers each codemod changes, on the tree hoist-clients leaves (as `lambda-rewriter` runs them)."""
    sys.path.insert(0, str(REPO))
    from rewriter.engine import FileJob, process_file

    cases = []
    for behaviour in sorted((REPO / "samples").glob("*/behaviour.json")):
        app = behaviour.parent
        for handler in json.loads(behaviour.read_text())["handlers"]:
            path = app / handler["module"]
            job = FileJob(str(path), handler["module"], str(app))
            hoisted = process_file(job, ("hoist-clients",))
            before = hoisted.after or path.read_bytes()
            for codemod in CODEMODS:
                result = process_file(job, ("hoist-clients", codemod))
                if any(c.codemod == codemod for c in result.changes):
                    env = {k: v for k, v in handler.get("env", {}).items() if "{" not in v}
                    cases.append(Case(f"samples/{app.name}/{handler['module']}", codemod, before, result.after, env))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="fresh processes per module and version")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    samples = sample_cases()
    cases = samples + fixture_cases()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            before, after = medians_ms(case, args.repeat, Path(tmp))
            rows.append({"case": case.name, "codemod": case.codemod, "before_ms": round(before, 1),
                         "after_ms": round(after, 1), "saved_ms": round(before - after, 1)})
            print(f"{case.name}: {before:.1f} ms -> {after:.1f} ms", file=sys.stderr)
    print(f"Module import time (`python -X importtime`, cumulative for the handler module), median of "
          f"{args.repeat} fresh processes; Python {sys.version.split()[0]}.")
    if not samples:
        print("No sample handler is changed by " + " or ".join(CODEMODS) + ": the cases are the fixture pairs.")
    print()
    print("| case | codemod | before (ms) | after (ms) | saved (ms) | saved |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        share = f"{row['saved_ms'] / row['before_ms']:.0%}" if row["before_ms"] else "-"
        print(f"| {row['case']} | {row['codemod']} | {row['before_ms']} | {row['after_ms']} | {row['saved_ms']} | {share} |")
    if args.json:
        args.json.write_text(json.dumps({"repeat": args.repeat, "python": sys.version.split()[0], "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
