"""Where the time goes for one file, stage by stage, as ``rewriter.engine._process`` runs them.

The stages are re-run here with the engine's own functions (parse, codemods, render, verify), so the
split can be read next to the whole-command figures. ``verify`` is split into its two LibCST
passes: ``check`` (parse + ``compile()``) and the idempotence re-run (parse + codemods + print).
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

from codemods import Codemod, FileContext
from rewriter.engine import _run_codemods
from rewriter.languages import PYTHON, ParseFailure

STAGES = (
    "parse (LibCST)",
    "codemods, first pass",
    "print + round-trip check",
    "verify: parse + compile()",
    "verify: second pass (codemods + print on the checked tree)",
)


def time_file(data: bytes, display: str, entry_points: frozenset[str] | None, codemods: list[Codemod]) -> dict[str, float]:
    codemods = [c for c in codemods if c.wants(data)]
    times = dict.fromkeys(STAGES, 0.0)
    if not codemods:
        return times
    clock = time.process_time  # CPU time: what the machine's other users inflate least
    start = clock()
    try:
        tree = PYTHON.parse(data)
    except ParseFailure:
        return times  # the engine reports it and stops there too
    times[STAGES[0]] = clock() - start
    ctx = FileContext(display, entry_points)
    start = clock()
    new_tree = _run_codemods(tree, codemods, ctx)
    times[STAGES[1]] = clock() - start
    if new_tree is tree or not ctx.changes:
        return times
    start = clock()
    PYTHON.render(tree)
    after = PYTHON.render(new_tree)
    times[STAGES[2]] = clock() - start
    start = clock()
    checked = PYTHON.check(after, display)
    times[STAGES[3]] = clock() - start
    start = clock()
    PYTHON.render(_run_codemods(checked, codemods, FileContext(display, entry_points)))  # as verify does
    times[STAGES[4]] = clock() - start
    return times


def run(files: list[tuple[Path, frozenset[str] | None]], repeat: int, codemods: list[Codemod]) -> dict[str, float]:
    """Median over ``repeat`` rounds of the summed seconds per stage over ``files``."""
    rounds = []
    for _ in range(repeat):
        total = dict.fromkeys(STAGES, 0.0)
        for path, entry_points in files:
            for stage, seconds in time_file(path.read_bytes(), path.name, entry_points, codemods).items():
                total[stage] += seconds
        rounds.append(total)
    return {stage: statistics.median(r[stage] for r in rounds) for stage in STAGES}
