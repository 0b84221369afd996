"""The code a reconnect guard is made of, and how to recognise one that is already there."""
from __future__ import annotations

import libcst as cst

from codemods._base import NO_OPTIONS, Options
from codemods.catalog import Liveness, drivers
from codemods.python._facts import FunctionFacts


def guard_source(
    variable: str,
    helper: str,
    recipe: Liveness,
    error: str,
    build: list[str],
    indent: str = "    ",
    configure: tuple[str, ...] = (),
) -> str:
    """``variable = None`` and the helper that returns a live connection in it, as source text.

    ``build`` is the code that makes a new connection, each piece starting at column 0: statements,
    then the expression that builds it. ``configure``: statements run on each new connection, after it is made.
    """
    check = [line for statement in recipe.check for line in statement.format(conn=variable).split("\n")]
    *setup, value = build
    setup = [line for statement in setup for line in statement.split("\n")]
    first, *rest = value.split("\n")
    lines = [
        f"{variable} = None",
        "",
        "",
        "# One connection per execution environment: made on first use, checked at the start of each",
        "# invocation, and made again when the server has dropped it (idle timeout, failover, SnapStart).",
        f"def {helper}():",
        f"{indent}global {variable}",
        f"{indent}if {variable} is not None:",
        f"{indent * 2}try:",
        *(f"{indent * 3}{line}" for line in check),
        f"{indent * 2}except {error}:",
        f"{indent * 3}{variable} = None",
        f"{indent}if {variable} is None:",
        *(f"{indent * 2}{line}" if line.strip() else "" for line in setup),
        f"{indent * 2}{variable} = {first}",
        *(f"{indent * 2}{line}" if line.strip() else "" for line in rest),
        *(f"{indent * 2}{line}" for statement in configure for line in statement.split("\n")),
        f"{indent}return {variable}",
    ]
    return "\n".join(lines) + "\n"


def guard_of(fn: cst.FunctionDef, qualname, options: Options = NO_OPTIONS) -> tuple[str, Liveness] | None:
    """(global, recipe) when ``fn`` keeps a driver's connection in a global: a guard, ours or by hand."""
    facts = FunctionFacts.read(fn)
    for name in sorted(facts.globals):
        for binding in facts.bindings.get(name, []):
            value = binding.value
            recipe = driver_of(qualname(value.func), options) if isinstance(value, cst.Call) else None
            if recipe is not None:
                return name, recipe
    return None


def checks_like(fn: cst.FunctionDef, variable: str, recipe: Liveness, module: cst.Module) -> bool:
    """Whether a guard runs the catalogue's check, the one proved against real servers."""
    code = module.code_for_node(fn)
    return all(line.strip() in code for step in recipe.check for line in step.format(conn=variable).split("\n"))


def driver_of(qualname: str | None, options: Options = NO_OPTIONS) -> Liveness | None:
    return drivers(options).get(qualname or "")
