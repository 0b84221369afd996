"""Part 2: what hoist-clients saves the functions it rewrites, measured on samples/."""
from __future__ import annotations

import dataclasses
import json
import statistics
import sys
from pathlib import Path

from benchmarks import corpus
from benchmarks.payoff_worker import handler_env, handlers
from benchmarks.timing import CLI, REPO, fmt_seconds, run_command

WORKER = [sys.executable, str(REPO / "benchmarks" / "payoff_worker.py")]


@dataclasses.dataclass
class Options:
    quick: bool
    workdir: Path


def _worker(*args: str) -> dict:
    run = run_command(WORKER + list(args))
    if run.returncode != 0:
        raise RuntimeError(f"payoff worker {args[0]} failed: {run.stderr.decode()[-3000:]}")
    return json.loads(run.stdout)


def _fresh(args: tuple[str, ...], repeat: int) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each figure the worker reports, over ``repeat`` fresh processes."""
    runs = [_worker(*args) for _ in range(repeat)]
    return {
        name: {kind: statistics.median(r[name][kind] for r in runs) for kind in ("wall", "cpu")} for name in runs[0]
    }


def run(options: Options, say) -> dict:
    before = corpus.fresh_samples(options.workdir, "payoff-before")
    after = corpus.fresh_samples(options.workdir, "payoff-after")
    rewrite = run_command([CLI, "apply", str(after), "-j", "1"], cwd=options.workdir)
    if rewrite.returncode != 0:
        raise RuntimeError(f"lambda-rewriter apply failed ({rewrite.returncode}): {rewrite.stderr.decode()[-2000:]}")
    say(f"rewrote a copy of samples/: {rewrite.stderr.decode().strip().splitlines()[-1]}")

    invocations, rounds = (40, 4) if options.quick else (200, 10)
    say(f"warm invocations: {invocations} per handler and version, under moto, in one process")
    warm = _worker("warm", str(before), str(after), str(invocations), str(rounds))["handlers"]

    say("client construction, in-process")
    construct = _worker("construct", "3" if options.quick else "7")

    repeat = 3 if options.quick else 7
    say(f"cold costs: {repeat} fresh processes each")
    cold = _fresh(("cold-import",), repeat) | _fresh(("cold-client",), repeat)
    init_repeat = 1 if options.quick else 3
    say(f"init (module import, fresh process) before/after: {init_repeat} per module and version")
    inits = []
    for app, handler in handlers(before):
        env = json.dumps(handler_env(handler))
        row = {"app": app, "function": handler["function"]}
        for label, root in (("before", before), ("after", after)):
            row[label] = _fresh(("init", str(root / app / handler["module"]), env), init_repeat)["init"]
        inits.append(row)
    return {"warm": warm, "construct": construct, "cold": cold, "init": inits,
            "invocations": invocations}


def render(result: dict) -> list[str]:
    out = [
        f"Warm invocations of each sample handler, before and after `lambda-rewriter apply` (median of "
        f"{result['invocations']} invocations per version, alternating in blocks, one warm process, AWS calls served "
        "in-process by moto; CPU time of the invocation, wall time in brackets):",
        "",
        "| function | module | before | after | saved per invocation | speed-up |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for h in result["warm"]:
        out.append(
            f"| {h['function']} | {h['app']}/{h['module']} | {h['before_cpu_ms']:.2f} ms ({h['before_ms']:.2f}) | "
            f"{h['after_cpu_ms']:.2f} ms ({h['after_ms']:.2f}) | {h['before_cpu_ms'] - h['after_cpu_ms']:.2f} ms "
            f"({h['before_ms'] - h['after_ms']:.2f}) | {h['before_cpu_ms'] / h['after_cpu_ms']:.2f}x |"
        )
    out += ["", "One construction (no network; median per call in a warm process; CPU, wall in brackets):", "",
            "| construction | per call | vs a reused module-level client |", "| --- | ---: | ---: |"]
    reused = next(iter(result["construct"].values()))["cpu"]
    for name, t in result["construct"].items():
        out.append(f"| {name} | {fmt_seconds(t['cpu'])} ({fmt_seconds(t['wall'])}) | {t['cpu'] / reused:,.0f}x |")
    out += ["", "Cold costs (a fresh process each time, median; CPU, wall in brackets):", "",
            "| what | time |", "| --- | ---: |"]
    for name, t in result["cold"].items():
        out.append(f"| {name} | {fmt_seconds(t['cpu'])} ({fmt_seconds(t['wall'])}) |")
    out += ["", "Init phase: importing the handler module in a fresh process (CPU, wall in brackets). The rewrite "
            "moves construction here, where it is paid once per execution environment; before the rewrite the "
            "first invocation pays it instead:", "",
            "| function | before | after | difference |", "| --- | ---: | ---: | ---: |"]
    for row in result["init"]:
        b, a = row["before"], row["after"]
        out.append(f"| {row['function']} | {fmt_seconds(b['cpu'])} ({fmt_seconds(b['wall'])}) | "
                   f"{fmt_seconds(a['cpu'])} ({fmt_seconds(a['wall'])}) | {(a['cpu'] - b['cpu']) * 1e3:+.1f} ms |")
    return out
