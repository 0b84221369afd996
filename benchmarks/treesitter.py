"""JavaScript, TypeScript and Java: tree-sitter's parse speed and the tool's, reported as for Python.

Corpora, copied once into the work folder as plain folders (discovery skips `node_modules`):

- JavaScript: every `.js` file of tests/js/node_modules (the v2 and v3 AWS SDKs, esbuild, ...) and the
  JS samples;
- TypeScript: the same `.js` files named `.ts` (node_modules holds hardly any TypeScript source, only
  declarations, which the tool does not read) and the TS samples;
- Java: 1 in ``java_stride`` files of the JDK's own sources (`lib/src.zip` of an installed JDK) and
  the Java sample.

Each gets two rows: tree-sitter's parse of every file in this process (the floor), and
`lambda-rewriter check --no-cache` over the folder with -j1 and -j2 (every codemod of the language:
markers, parse, codemods, verification of what changes).
"""
from __future__ import annotations

import dataclasses
import glob
import json
import shutil
import time
import zipfile
from pathlib import Path

from benchmarks.corpus import REPO, SAMPLES
from benchmarks.timing import CLI, Run, fmt_seconds, run_command
from rewriter.languages import JAVA, JAVASCRIPT, TYPESCRIPT, language_for

NODE_MODULES = REPO / "tests" / "js" / "node_modules"
JS_SAMPLES = ("node-orders",)
TS_SAMPLES = ("ts-reports",)
JAVA_SAMPLES = ("java-orders",)


@dataclasses.dataclass(frozen=True)
class Options:
    quick: bool
    workdir: Path

    @property
    def java_stride(self) -> int:
        return 40 if self.quick else 8


def _jdk_sources() -> Path | None:
    found = sorted(glob.glob("/usr/lib/jvm/*/lib/src.zip"))
    return Path(found[-1]) if found else None


def _copy_node_files(target: Path, suffix: str, samples: tuple[str, ...]) -> None:
    """The `.js` files of node_modules, named ``*suffix`` (JavaScript is TypeScript syntax too: node_modules
    has hardly any TypeScript source, only declaration files, which hold no code and the tool does not read)."""
    for source in sorted(NODE_MODULES.rglob("*.js")):
        if not source.is_file():
            continue
        relative = Path(*("nm" if part == "node_modules" else part for part in source.relative_to(NODE_MODULES).parts))
        relative = relative.with_suffix(suffix)
        (target / "nm" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / "nm" / relative)
    for app in samples:
        shutil.copytree(SAMPLES / app, target / app, ignore=shutil.ignore_patterns("node_modules", "dist"))


def corpora(options: Options) -> dict[str, Path]:
    """language -> its folder, made once per work folder (and per Java stride)."""
    root = options.workdir / "treesitter"
    made: dict[str, Path] = {}
    for name, suffix, samples in (("javascript", ".js", JS_SAMPLES), ("typescript", ".ts", TS_SAMPLES)):
        folder = root / name
        if not (folder / ".complete").exists() and NODE_MODULES.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
            _copy_node_files(folder, suffix, samples)
            (folder / ".complete").touch()
        if (folder / ".complete").exists():
            made[name] = folder
    sources = _jdk_sources()
    folder = root / f"java-1-in-{options.java_stride}"
    if not (folder / ".complete").exists() and sources is not None:
        shutil.rmtree(folder, ignore_errors=True)
        with zipfile.ZipFile(sources) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".java"))[:: options.java_stride]
            for name in names:
                (folder / "jdk" / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / "jdk" / name).write_bytes(archive.read(name))
        for app in JAVA_SAMPLES:
            shutil.copytree(SAMPLES / app, folder / app)
        (folder / ".complete").touch()
    if (folder / ".complete").exists():
        made["java"] = folder
    return made


_LANGUAGES = {"javascript": (JAVASCRIPT, (".js",)), "typescript": (TYPESCRIPT, (".ts",)), "java": (JAVA, (".java",))}


def _parse_all(language, datas: list[bytes]) -> tuple[float, float, int]:
    """Wall and CPU seconds to parse every file, and how many did not parse."""
    failed = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for data in datas:
        try:
            language.parse(data)
        except Exception:  # noqa: BLE001  (a declaration file the grammar does not take: counted)
            failed += 1
    return time.perf_counter() - wall, time.process_time() - cpu, failed


def _check(folder: Path, jobs: int) -> Run:
    run = run_command([CLI, "check", str(folder), "-j", str(jobs), "--format", "json", "--no-cache"], cwd=folder)
    if run.returncode not in (0, 1, 3):
        raise RuntimeError(f"lambda-rewriter failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    return run


def run(options: Options, say) -> dict:
    rows = []
    for name, folder in corpora(options).items():
        language, suffixes = _LANGUAGES[name]
        files = sorted(p for p in folder.rglob("*") if p.suffix in suffixes and p.is_file())
        datas = [p.read_bytes() for p in files]
        lines = sum(d.count(b"\n") for d in datas)
        say(f"tree-sitter {name}: {len(files)} files")
        wall, cpu, failed = _parse_all(language, datas)
        read = [d for p, d in zip(files, datas, strict=True) if language_for(str(p)) is not None]  # not .d.ts declarations
        row = {"language": name, "files": len(files), "lines": lines, "megabytes": sum(map(len, datas)) / 1e6,
               "parse": {"wall": wall, "cpu": cpu, "failed": failed},
               "read": len(read), "read_lines": sum(d.count(b"\n") for d in read)}
        for jobs in (1, 2):
            say(f"check -j{jobs} over {name}")
            measured = _check(folder, jobs)
            summary = json.loads(measured.stdout)["summary"]
            row[f"check_j{jobs}"] = {"wall": measured.seconds, "cpu": measured.cpu_seconds, "peak_mb": measured.peak_mb,
                                     "changed": summary.get("changed", 0), "errors": summary.get("error", 0)}
        rows.append(row)
    return {"rows": rows, "java_stride": options.java_stride}


def render(result: dict) -> list[str]:
    if not result["rows"]:
        return ["(no corpus: tests/js/node_modules and a JDK's lib/src.zip are both missing)"]
    lines = [
        f"JavaScript: the `.js` files of tests/js/node_modules (the AWS SDKs, esbuild, ...) and the JS sample; "
        f"TypeScript: the same files named `.ts` and the TS sample; "
        f"Java: 1 in {result['java_stride']} files of the JDK's sources and the Java sample. "
        "Throughput per CPU second, as for Python above.",
        "",
        "| language | files | lines | what | wall | CPU | files per CPU s | lines per CPU s | peak RSS | note |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result["rows"]:
        files, lines_ = row["files"], row["lines"]
        parse = row["parse"]
        note = f"{parse['failed']} did not parse" if parse["failed"] else ""
        lines.append(
            f"| {row['language']} | {files:,} | {lines_:,} | tree-sitter parse, in-process | {fmt_seconds(parse['wall'])} "
            f"| {fmt_seconds(parse['cpu'])} | {files / parse['cpu']:,.0f} | {lines_ / parse['cpu']:,.0f} |  | {note} |"
        )
        files, lines_ = row["read"], row["read_lines"]
        for jobs in (1, 2):
            check = row[f"check_j{jobs}"]
            note = f"{check['changed']} would change" + (f", {check['errors']} errors" if check["errors"] else "")
            if row["read"] < row["files"]:
                note += f"; {row['files'] - row['read']} declaration files (.d.ts) not read"
            lines.append(
                f"| {row['language']} | {files:,} | {lines_:,} | `check -j{jobs} --no-cache` | {fmt_seconds(check['wall'])} "
                f"| {fmt_seconds(check['cpu'])} | {files / check['cpu']:,.0f} | {lines_ / check['cpu']:,.0f} "
                f"| {check['peak_mb']:.0f} MB | {note} |"
            )
    return lines


if __name__ == "__main__":
    import sys

    from benchmarks.corpus import DEFAULT_WORKDIR

    started = time.perf_counter()
    measured = run(Options("--quick" in sys.argv, DEFAULT_WORKDIR),
                   lambda message: print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr))
    print("\n".join(render(measured)))
