"""Part 1: the tool's own speed on real Python, side by side with parsers and LibCST's own runner."""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import libcst as cst

from benchmarks import corpus, stages, traversal
from benchmarks.prefilter import handler_candidate, has_handler
from benchmarks.timing import CLI, REPO, Run, fmt_seconds, run_command
from codemods import select
from codemods.python.hoist_clients import HoistClients
from rewriter.discovery import discover

PY = sys.executable
ANCHOR = [PY, "-m", "libcst.tool", "codemod", "-x", "benchmarks.anchor.HoistClientsCommand", "--no-format", "--hide-progress", "-u", "3"]
PROTO = [PY, str(REPO / "benchmarks" / "proto_cli.py")]


@dataclasses.dataclass
class Options:
    quick: bool
    workdir: Path
    fleet_size: int
    corpus_stride: int | None = None  # overrides the plan's (1: every file)


@dataclasses.dataclass
class Row:
    what: str
    files: int
    lines: int
    seconds: float  # wall
    cpu_seconds: float  # user + system, workers included
    peak_mb: float | None = None
    note: str = ""

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else float("inf")

    @property
    def files_per_cpu_s(self) -> float:
        return self.files / self.cpu_seconds if self.cpu_seconds else float("inf")

    @property
    def lines_per_cpu_s(self) -> float:
        return self.lines / self.cpu_seconds if self.cpu_seconds else float("inf")


class _Clock:
    """Wall and CPU time of a block run in this process."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def _row(what: str, files: int, lines: int, run: Run, note: str = "") -> Row:
    return Row(what, files, lines, run.seconds, run.cpu_seconds, run.peak_mb, note)


def _files(root: Path) -> list[Path]:
    return discover([root]).files


def _lines(datas: list[bytes]) -> int:
    return sum(d.count(b"\n") for d in datas)


def _sample_folder(workdir: Path, name: str, files: list[Path], base: Path, stride: int, extra: list[Path] = ()) -> Path:
    """Every ``stride``-th file of ``files`` (paths kept), plus ``extra`` folders copied whole."""
    target = workdir / name
    stamp = target / ".complete"
    if stamp.exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    for path in files[::stride]:
        dest = target / path.relative_to(base)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    for folder in extra:
        shutil.copytree(folder, target / folder.name)
    stamp.touch()
    return target


def _tool(
    root: Path, jobs: int, cwd: Path, proto: bool = False, codemods: tuple[str, ...] = (), cache: Path | None = None,
    snapshot: Path | None = None,
) -> Run:
    """`check` on ``root``; without the result cache unless a ``cache`` folder is given.

    With a ``snapshot`` (a copy of rewriter/ and codemods/), that copy runs instead of the working tree.
    """
    argv = PROTO if proto else [CLI]
    if snapshot is not None:
        argv = [PY, "-c", "import sys; from rewriter.cli import main; sys.exit(main(sys.argv[1:]))"]
    argv = argv + ["check", str(root), "-j", str(jobs), "--format", "json"]
    for name in codemods:
        argv += ["-c", name]
    if cache is None:
        argv.append("--no-cache")
    env = {**os.environ, "LAMBDA_REWRITER_CACHE_DIR": str(cache)} if cache is not None else None
    if snapshot is not None:
        env = {**(env or os.environ), "PYTHONPATH": str(snapshot)}
    run = run_command(argv, cwd=cwd, env=env)
    # 3: some files could not be processed; the report still holds the rest (their count goes in the note).
    if run.returncode not in (0, 1, 3):
        raise RuntimeError(f"lambda-rewriter failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    return run


def _changed(run: Run) -> dict[str, list]:
    report = json.loads(run.stdout)
    return {f["path"]: f["changes"] for f in report["files"] if f["status"] == "changed"}


def _outcome(run: Run) -> str:
    report = json.loads(run.stdout)
    failed = sum(1 for f in report["files"] if f["status"] == "error") + len(report["summary"].get("problems", []))
    changed = sum(1 for f in report["files"] if f["status"] == "changed")
    return f"{changed} would change" + (f", {failed} failed" if failed else "")


def _anchor(root: Path, jobs: int, cwd: Path) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = run_command(ANCHOR + ["-j", str(jobs), str(root)], cwd=cwd, env=env)
    # 1 with "Finished": some file failed (LibCST cannot parse it); the run itself went through.
    if run.returncode not in (0, 1) or b"Finished codemodding" not in run.stderr:
        raise RuntimeError(f"libcst.tool codemod failed ({run.returncode}): {run.stderr.decode()[-2000:]}")
    return run


def _marked(data: bytes, markers: tuple[bytes, ...]) -> bool:
    return any(marker in data for marker in markers)


def _in_process(what: str, datas: list[bytes], fn) -> Row:
    failures = 0
    with _Clock() as clock:
        for data in datas:
            try:
                fn(data)
            except Exception:  # noqa: BLE001 - a file that does not parse still costs its time
                failures += 1
    return Row(what, len(datas), _lines(datas), clock.wall, clock.cpu, note=f"{failures} did not parse" if failures else "")


@dataclasses.dataclass(frozen=True)
class Plan:
    corpus_stride: int  # the tool runs over 1 in this many files of the real corpus
    libcst_stride: int  # LibCST parse-only over 1 in this many of those files
    anchor_stride: int  # the anchor comparison reads 1 in this many real files,
    anchor_repos: int  # and, apart, this many copies of samples/
    stage_rounds: int
    cache_stride: int  # the result cache runs read 1 in this many real files,
    cache_repos: int  # seeded with this many Lambda repositories (11 Python files each, unique bytes)


# FULL's result cache corpus is the corpus (a): every real file and a few hundred handler modules.
FULL = Plan(corpus_stride=4, libcst_stride=4, anchor_stride=16, anchor_repos=10, stage_rounds=5, cache_stride=1,
            cache_repos=27)
QUICK = Plan(corpus_stride=20, libcst_stride=4, anchor_stride=80, anchor_repos=3, stage_rounds=2, cache_stride=20,
             cache_repos=3)
HOIST = ("hoist-clients",)


def run(options: Options, say) -> dict:
    plan = QUICK if options.quick else FULL
    if options.corpus_stride:
        plan = dataclasses.replace(plan, corpus_stride=options.corpus_stride)
    workdir = options.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    say(f"building the corpus (copied once into {workdir})")
    full = corpus.real_corpus(workdir)
    full_files = _files(full)
    if plan.corpus_stride > 1:
        root = _sample_folder(workdir, f"corpus-1in{plan.corpus_stride}", full_files, full, plan.corpus_stride)
    else:
        root = full
    start = time.perf_counter()
    files = _files(root)
    discovery_s = time.perf_counter() - start
    datas = [p.read_bytes() for p in files]
    lines = _lines(datas)
    total_bytes = sum(len(d) for d in datas)
    say(f"corpus: {len(files)} files, {lines} lines, {total_bytes / 1e6:.1f} MB ({root})")

    rows: list[Row] = []
    python_codemods = [impl for impl in select(()) if "python" in impl.LANGUAGES]
    markers = tuple({m for impl in python_codemods for m in impl.MARKERS})
    with _Clock() as clock:
        kept = [p for p in files if _marked(p.read_bytes(), markers)]
    rows.append(Row(f"prefilter today: read + text markers of {len(python_codemods)} Python codemods", len(files),
                    lines, clock.wall, clock.cpu, note=f"keeps {len(kept)} of {len(files)}"))
    kept_datas = [p.read_bytes() for p in kept]
    with _Clock() as clock:
        candidates = [d for d in kept_datas if handler_candidate(d)]
    rows.append(Row("prototype: + handler regex on the kept files", len(kept), _lines(kept_datas), clock.wall,
                    clock.cpu, note=f"keeps {len(candidates)}"))
    with _Clock() as clock:
        confirmed = [d for d in candidates if has_handler(d)]
    rows.append(Row("prototype: + `ast` confirmation of a handler", len(candidates), _lines(candidates), clock.wall,
                    clock.cpu, note=f"keeps {len(confirmed)}"))

    say("ast.parse over every file")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows.append(_in_process("`ast.parse`, every file", datas, ast.parse))
    say(f"LibCST parse over 1 in {plan.libcst_stride} files, and over the files the markers keep")
    rows.append(_in_process(f"LibCST `parse_module`, 1 in {plan.libcst_stride} files", datas[:: plan.libcst_stride],
                            cst.parse_module))
    kept_stride = max(1, len(kept_datas) // 60)
    rows.append(_in_process(f"LibCST `parse_module`, files the markers keep (1 in {kept_stride})",
                            kept_datas[::kept_stride], cst.parse_module))

    checks = {}
    for jobs in (1, 2):
        say(f"lambda-rewriter check -j{jobs} over the corpus")
        checks[jobs] = _tool(root, jobs, workdir)
        rows.append(_row(f"`lambda-rewriter check -j{jobs}`", len(files), lines, checks[jobs],
                         note=_outcome(checks[jobs])))
    say("prototype prefilter (markers + handler regex) -j2 over the corpus")
    proto = _tool(root, 2, workdir, proto=True)
    rows.append(_row("prototype `check -j2` (markers + handler regex)", len(files), lines, proto,
                     note="same changes" if _changed(proto) == _changed(checks[2]) else "CHANGES DIFFER"))

    say(f"fleet: {options.fleet_size} copies of samples/, check -j2 in one run")
    fleet = corpus.fleet(workdir, options.fleet_size)
    fleet_files = _files(fleet)
    fleet_lines = _lines([p.read_bytes() for p in fleet_files])
    fleet_run = _tool(fleet, 2, workdir)
    rows.append(_row(f"fleet of {options.fleet_size} repositories (copies of the Python samples), `check -j2`", len(fleet_files),
                     fleet_lines, fleet_run, note=_outcome(fleet_run)))
    one = sorted(fleet.glob("repo-*"))[0]
    one_files = _files(one)
    single = sorted((_tool(one, 2, workdir) for _ in range(3)), key=lambda r: r.seconds)[1]
    rows.append(_row("one repository per command (median of 3, start-up included)", len(one_files),
                     _lines([p.read_bytes() for p in one_files]), single))
    startup = sorted((run_command([CLI, "--version"]) for _ in range(3)), key=lambda r: r.seconds)[1]

    # The anchor: LibCST's runner with our transform, on the same files, same -j, hoist-clients only.
    seeds = sorted(fleet.glob("repo-*"))[: plan.anchor_repos]
    real = _sample_folder(workdir, f"real-1in{plan.anchor_stride}", full_files, full, plan.anchor_stride)
    matching = _sample_folder(workdir, f"matching-{len(seeds)}repos-{fleet.name.rsplit('-', 1)[1]}", [], full, 1, seeds)
    anchor_rows = []
    for kind, label, folder in (("real", f"real files alone (1 in {plan.anchor_stride})", real),
                                ("lambda", f"{len(seeds)} Lambda repositories alone (copies of samples/)", matching)):
        folder_files = _files(folder)
        say(f"anchor vs tool, -j2, {label}: {len(folder_files)} files")
        anchor = _anchor(folder, 2, workdir)
        ours = _tool(folder, 2, workdir, codemods=HOIST)
        ours_proto = _tool(folder, 2, workdir, proto=True, codemods=HOIST)
        anchor_rows.append({
            "kind": kind,
            "corpus": label,
            "files": len(folder_files),
            "lines": _lines([p.read_bytes() for p in folder_files]),
            "anchor_s": anchor.seconds,
            "anchor_cpu": anchor.cpu_seconds,
            "anchor_mb": anchor.peak_mb,
            "anchor_changed": sum(1 for line in anchor.stdout.splitlines() if line.startswith(b"+++ ")),
            "tool_s": ours.seconds,
            "tool_cpu": ours.cpu_seconds,
            "tool_mb": ours.peak_mb,
            "tool_changed": len(_changed(ours)),
            "proto_s": ours_proto.seconds,
            "proto_cpu": ours_proto.cpu_seconds,
            "proto_mb": ours_proto.peak_mb,
        })

    say("start-up of each command: one tiny file, -j2, median of 3")
    tiny = workdir / "one-tiny-file"
    tiny.mkdir(exist_ok=True)
    (tiny / "tiny.py").write_text("x = 1\n")
    startup_costs = {
        "anchor_cpu": _median_cpu(lambda: _anchor(tiny, 2, workdir)),
        "tool_cpu": _median_cpu(lambda: _tool(tiny, 2, workdir, codemods=HOIST)),
        "proto_cpu": _median_cpu(lambda: _tool(tiny, 2, workdir, proto=True, codemods=HOIST)),
    }

    cache_rows = _cache_runs(workdir, plan, full_files, full, say)

    say("stages, in-process, on the Lambda files of one repository (hoist-clients)")
    found = discover([one])
    lambda_files = [(p, found.entry_points.get(p)) for p in found.files if p.suffix == ".py"]
    stage_times = stages.run(lambda_files, plan.stage_rounds, [HoistClients()])
    walks = traversal.run([p for p, _ in lambda_files], plan.stage_rounds)

    return {
        "corpus": {"root": str(root), "files": len(files), "lines": lines, "bytes": total_bytes,
                   "discovery_s": discovery_s, "sample_stride": plan.corpus_stride, "full_files": len(full_files)},
        "codemods": [impl.NAME for impl in python_codemods],
        "rows": [dataclasses.asdict(r) | {"files_per_s": r.files_per_s, "files_per_cpu_s": r.files_per_cpu_s,
                                          "lines_per_cpu_s": r.lines_per_cpu_s} for r in rows],
        "anchor": anchor_rows,
        "startup": startup_costs,
        "fleet": {"repositories": options.fleet_size, "seconds": fleet_run.seconds, "cpu_seconds": fleet_run.cpu_seconds,
                  "single_repository_s": single.seconds, "single_repository_cpu": single.cpu_seconds,
                  "cli_startup_s": startup.seconds, "cli_startup_cpu": startup.cpu_seconds},
        "cache": cache_rows,
        "stages": {"files": len(lambda_files), "seconds": stage_times},
        "traversal": walks,
    }


def _cache_runs(workdir: Path, plan: Plan, full_files: list[Path], full: Path, say) -> list[dict]:
    """`check -j2` without the cache, then a first run into an empty cache, then a second run from it.

    The Lambda repositories are copies of samples/ that differ by a comment, so the first run has no
    hits of its own making. The cache key holds a digest of the tool's source, and other people edit the
    working tree while this runs: the three runs use one copy of rewriter/ and codemods/ taken before them.
    """
    lambdas = corpus.fleet(workdir, plan.cache_repos, unique=True)
    repos = sorted(lambdas.glob("repo-*"))
    seeded = _sample_folder(workdir, f"seeded-1in{plan.cache_stride}-{lambdas.name}", full_files, full,
                            plan.cache_stride, repos)
    snapshot = workdir / "tool-snapshot"
    shutil.rmtree(snapshot, ignore_errors=True)
    for package in ("rewriter", "codemods"):
        shutil.copytree(REPO / package, snapshot / package, ignore=shutil.ignore_patterns("__pycache__"))
    real = "every real file" if plan.cache_stride == 1 else f"1 in {plan.cache_stride} real files"
    rows = []
    for label, folder in ((f"{real} + {len(repos)} Lambda repositories", seeded),
                          (f"{len(repos)} Lambda repositories alone", lambdas)):
        files = _files(folder)
        cache = workdir / f"result-cache-{folder.name}"
        shutil.rmtree(cache, ignore_errors=True)
        say(f"result cache, -j2, {label}: {len(files)} files")
        plain = _tool(folder, 2, workdir, snapshot=snapshot)
        first = _tool(folder, 2, workdir, cache=cache, snapshot=snapshot)
        # The second run: the median of three by CPU (the machine is shared; each is as warm as the last).
        seconds = sorted((_tool(folder, 2, workdir, cache=cache, snapshot=snapshot) for _ in range(3)),
                         key=lambda r: r.cpu_seconds)
        second = seconds[1]
        same = _changed(plain) == _changed(first) == _changed(second) and plain.stdout == second.stdout
        entries = [p for p in (cache / "v1").rglob("*") if p.is_file()]
        indexes = [p for p in cache.rglob("*") if p.is_file() and p.parent.name in ("index-v1", "templates-v1")]
        rows.append({
            "corpus": label, "files": len(files),
            "lines": _lines([p.read_bytes() for p in files]),
            "entries": len(entries), "cache_bytes": sum(p.stat().st_size for p in entries),
            "index_bytes": sum(p.stat().st_size for p in indexes),
            "same_results": same, "outcome": _outcome(second),
            **{f"{name}_{key}": getattr(run, attr) for name, run in (("plain", plain), ("first", first), ("second", second))
               for key, attr in (("s", "seconds"), ("cpu", "cpu_seconds"), ("mb", "peak_mb"))},
        })
    return rows


def _median_cpu(measure) -> float:
    return sorted(measure().cpu_seconds for _ in range(3))[1]


def project(result: dict, lambda_files: int = 300) -> dict | None:
    """CPU seconds on the full real corpus plus ``lambda_files`` handler files, from the per-file rates measured.

    Each command's start-up (measured on one tiny file) is paid once, not once per measured folder's files.
    """
    by_kind = {a["kind"]: a for a in result["anchor"]}
    if set(by_kind) != {"real", "lambda"}:
        return None
    real, lam = by_kind["real"], by_kind["lambda"]
    n = result["corpus"]["full_files"]
    startup = result.get("startup") or {}
    figures = {"real": n, "lambda": lambda_files, "startup": startup}
    for key in ("anchor_cpu", "tool_cpu", "proto_cpu"):
        fixed = startup.get(key, 0.0)
        per_real = max(real[key] - fixed, 0.0) / real["files"]
        per_lambda = max(lam[key] - fixed, 0.0) / lam["files"]
        figures[key] = fixed + per_real * n + per_lambda * lambda_files
        figures[key.replace("_cpu", "_per_lambda_file")] = per_lambda
    return figures


def render(result: dict) -> list[str]:
    c = result["corpus"]
    sampled = "" if c["sample_stride"] == 1 else f", 1 in {c['sample_stride']}"
    out = [
        f"Corpus: {c['files']} Python files, {c['lines']:,} lines, {c['bytes'] / 1e6:.1f} MB "
        f"(standard library without tests + site-packages{sampled}); discovery {fmt_seconds(c['discovery_s'])}. "
        f"`check` runs every Python codemod: {', '.join(result['codemods'])}. Throughput per CPU second "
        "(user + system, workers included) is what the machine's other users inflate least.",
        "",
        "| what | files | wall | CPU | files/s (wall) | files per CPU s | lines per CPU s | peak RSS | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in result["rows"]:
        peak = f"{r['peak_mb']:.0f} MB" if r["peak_mb"] else ""
        out.append(f"| {r['what']} | {r['files']} | {fmt_seconds(r['seconds'])} | {fmt_seconds(r['cpu_seconds'])} | "
                   f"{r['files_per_s']:,.0f} | {r['files_per_cpu_s']:,.0f} | {r['lines_per_cpu_s']:,.0f} | {peak} | "
                   f"{r['note']} |")
    out += [
        "",
        "Against the anchor, `python -m libcst.tool codemod` running the same hoist-clients transform "
        "(benchmarks/anchor.py), and `lambda-rewriter check -c hoist-clients`, both -j2 on the same folder:",
        "",
        "| corpus | files | anchor wall / CPU | tool wall / CPU | speed-up (wall / CPU) | prototype prefilter wall / CPU | "
        "speed-up (wall / CPU) | changed files (anchor / tool) | peak RSS (anchor / tool) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for a in result["anchor"]:
        out.append(
            f"| {a['corpus']} | {a['files']} | {fmt_seconds(a['anchor_s'])} / {fmt_seconds(a['anchor_cpu'])} | "
            f"{fmt_seconds(a['tool_s'])} / {fmt_seconds(a['tool_cpu'])} | "
            f"{a['anchor_s'] / a['tool_s']:.2f}x / {a['anchor_cpu'] / a['tool_cpu']:.2f}x | "
            f"{fmt_seconds(a['proto_s'])} / {fmt_seconds(a['proto_cpu'])} | "
            f"{a['anchor_s'] / a['proto_s']:.2f}x / {a['anchor_cpu'] / a['proto_cpu']:.2f}x | "
            f"{a['anchor_changed']} / {a['tool_changed']} | {a['anchor_mb']:.0f} / {a['tool_mb']:.0f} MB |"
        )
    projected = project(result)
    if projected:
        p = projected
        out += [
            "",
            f"Projected, from the CPU seconds per file above, onto the issue's corpus (a): {p['real']:,} real files + "
            f"{p['lambda']} Lambda handler files: anchor {fmt_seconds(p['anchor_cpu'])} CPU, tool "
            f"{fmt_seconds(p['tool_cpu'])} ({p['anchor_cpu'] / p['tool_cpu']:.1f}x less), prototype prefilter "
            f"{fmt_seconds(p['proto_cpu'])} ({p['anchor_cpu'] / p['proto_cpu']:.1f}x less). Each command's start-up "
            "is counted once (one tiny file, -j2, median of 3: anchor "
            f"{fmt_seconds(p['startup'].get('anchor_cpu', 0))}, tool {fmt_seconds(p['startup'].get('tool_cpu', 0))} "
            "of CPU); the rest of each measured run is spread over its files.",
            "",
            f"Per Lambda file, start-up taken out: anchor {fmt_seconds(p['anchor_per_lambda_file'])} of CPU, tool "
            f"{fmt_seconds(p['tool_per_lambda_file'])} ({p['anchor_per_lambda_file'] / max(p['tool_per_lambda_file'], 1e-9):.2f}x "
            "the anchor's speed). The tool also verifies every changed file (a parse, `compile()` and a second pass "
            "of the codemods), which the anchor does not.",
        ]
    if result.get("cache"):
        out += [""] + render_cache(result["cache"])
    st = result["stages"]
    total = sum(st["seconds"].values())
    out += [
        "",
        f"Where the CPU time goes on Lambda files ({st['files']} files of one sample repository, hoist-clients, "
        "in-process, stage by stage as the engine runs them):",
        "",
        "| stage | per file | share |",
        "| --- | ---: | ---: |",
    ]
    for stage, seconds in st["seconds"].items():
        out.append(f"| {stage} | {fmt_seconds(seconds / st['files'])} | {seconds / total:.0%} |")
    walks = result["traversal"]
    scale = next(iter(walks.values()))
    out += ["", "Walking the same files' trees (prototype, benchmarks/traversal.py; CPU, all files):", "",
            "| walk | time | vs one LibCST parse |", "| --- | ---: | ---: |"]
    for name, seconds in walks.items():
        out.append(f"| {name} | {fmt_seconds(seconds)} | {seconds / scale:.2f}x |")
    f = result["fleet"]
    n = f["repositories"]
    out += [
        "",
        f"Fleet: {n} repositories in one `check -j2`: {fmt_seconds(f['seconds'])} wall, "
        f"{fmt_seconds(f['seconds'] / n)} per repository ({fmt_seconds(f['cpu_seconds'] / n)} CPU). "
        f"One repository per command: {fmt_seconds(f['single_repository_s'])} wall "
        f"({fmt_seconds(f['single_repository_cpu'])} CPU), of which start-up (`--version`) "
        f"{fmt_seconds(f['cli_startup_s'])} ({fmt_seconds(f['cli_startup_cpu'])} CPU).",
    ]
    return out


def render_cache(rows: list[dict]) -> list[str]:
    out = [
        "Result cache: `check -j2` (every Python codemod) without the cache (`--no-cache`), then a first run "
        "into an empty cache folder, then a second run over the same unchanged files (median of 3 by CPU):",
        "",
        "| corpus | files | no cache wall / CPU | first run wall / CPU | second run wall / CPU | "
        "second vs first (wall / CPU) | entries (stat index) | results |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for c in rows:
        out.append(
            f"| {c['corpus']} | {c['files']} | {fmt_seconds(c['plain_s'])} / {fmt_seconds(c['plain_cpu'])} | "
            f"{fmt_seconds(c['first_s'])} / {fmt_seconds(c['first_cpu'])} | "
            f"{fmt_seconds(c['second_s'])} / {fmt_seconds(c['second_cpu'])} | "
            f"{c['first_s'] / c['second_s']:.1f}x / {c['first_cpu'] / c['second_cpu']:.1f}x | "
            f"{c['entries']} ({c['cache_bytes'] / 1024:.0f} kB; {c.get('index_bytes', 0) / 1024:.0f} kB) | "
            f"{'identical' if c['same_results'] else 'DIFFER'}; {c['outcome']} |"
        )
    return out


def cache_only(quick: bool, workdir: Path, say) -> list[dict]:
    """Just the result cache rows (corpus (a), or the quick plan's): `python -m benchmarks.speed --cache-only`."""
    plan = QUICK if quick else FULL
    full = corpus.real_corpus(workdir)
    return _cache_runs(workdir, plan, _files(full), full, say)


def memory(options: Options, say) -> dict:
    """Peak RSS of `check -j2` (engine and prototype) on 1 in 4 of the real files, then on all of them (4x)."""
    full = corpus.real_corpus(options.workdir)
    full_files = _files(full)
    quarter = _sample_folder(options.workdir, "corpus-1in4", full_files, full, 4)
    rows = []
    for label, root in (("1x (1 in 4 files)", quarter), ("4x (every file)", full)):
        files = _files(root)
        lines = _lines([p.read_bytes() for p in files])
        for proto in (True, False):
            say(f"memory: {'prototype' if proto else 'check'} -j2 on the corpus {label}")
            run = _tool(root, 2, options.workdir, proto=proto)
            rows.append(_row(f"{'prototype ' if proto else ''}`check -j2`, corpus {label}", len(files), lines, run))
    return {"rows": [dataclasses.asdict(r) for r in rows]}


def render_memory(result: dict) -> list[str]:
    out = ["| run | files | wall | CPU | peak RSS |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in result["rows"]:
        out.append(f"| {r['what']} | {r['files']} | {fmt_seconds(r['seconds'])} | {fmt_seconds(r['cpu_seconds'])} | "
                   f"{r['peak_mb']:.0f} MB |")
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Part 1's result cache rows alone.")
    parser.add_argument("--cache-only", action="store_true", required=True)
    parser.add_argument("--quick", action="store_true", help="1 in 20 real files and 3 Lambda repositories")
    parser.add_argument("--workdir", type=Path, default=corpus.DEFAULT_WORKDIR)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = cache_only(args.quick, args.workdir, lambda m: print(f"[{time.perf_counter() - started:6.1f} s] {m}",
                                                                     file=sys.stderr, flush=True))
    print("\n".join(render_cache(figures)))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
