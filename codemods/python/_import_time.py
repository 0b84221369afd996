"""What a hoisted construction would do at import time, where the handler used to do it per invocation.

Test suites import the handler module first and set the environment (``setUp``, ``monkeypatch.setenv``,
a fixture) or start moto afterwards. A value computed at module scope must therefore raise nothing that
the handler did not raise in an environment with no AWS variables and none of the function's settings.
"""
from __future__ import annotations

import dataclasses
from typing import cast

import libcst as cst

from codemods.catalog import ENV_READS, REGION_VARIABLES, SETUP_CALLS, Constructor
from codemods.python._facts import ModuleFacts, env_key, walk


@dataclasses.dataclass
class Setup:
    """Module-level statements that prepare what clients read (``os.environ.setdefault(...)``,
    ``boto3.setup_default_session(...)``): a hoisted construction goes below the last of them."""

    after: int = 0  # index of the module statement after the last one (0: none)
    env: set[str] = dataclasses.field(default_factory=set)  # variables set at import, by name


def read_setup(facts: ModuleFacts) -> Setup:
    setup = Setup()
    for index, stmt in enumerate(facts.module.body):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            continue
        found = _SetupFinder(facts)
        walk(stmt, found)
        if found.any:
            setup.after = index + 1
            setup.env |= found.env
    return setup


class _SetupFinder(cst.CSTVisitor):
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.any = False
        self.env: set[str] = set()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Subscript) and self.facts.qualname(target.target.value) == "os.environ":
                self.any = True
                key = env_key(target.target)
                if key is not None:
                    self.env.add(key)

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.facts.qualname(node.func)
        if qualname not in SETUP_CALLS:
            return
        self.any = True
        if qualname in ("os.environ.setdefault", "os.putenv") and node.args:
            key = node.args[0].value
            if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
                self.env.add(key.evaluated_value)
        elif qualname == "os.environ.update" and len(node.args) == 1 and isinstance(node.args[0].value, cst.Dict):
            for element in node.args[0].value.elements:
                if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                    written = element.key.evaluated_value
                    if isinstance(written, str):
                        self.env.add(written)


def env_read(expr: cst.CSTNode, facts: ModuleFacts, local_imports: dict[str, str] | None = None) -> tuple[str | None, bool] | None:
    """(variable, has a default) when ``expr`` reads the environment: ``os.environ["X"]``, ``os.getenv("X", d)``."""
    if isinstance(expr, cst.Subscript) and facts.qualname(expr.value, local_imports) == "os.environ":
        return env_key(expr), False
    if isinstance(expr, cst.Call):
        default_at = ENV_READS.get(facts.qualname(expr.func, local_imports) or "")
        if default_at is None:
            return None
        key = expr.args[0].value if expr.args and expr.args[0].keyword is None else None
        value = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        name = value if isinstance(value, str) else None
        has_default = len(expr.args) > default_at or any(
            a.keyword is not None and a.keyword.value in ("default", "value") for a in expr.args
        )
        return name, has_default
    return None


def risky_reads(
    expr: cst.CSTNode, facts: ModuleFacts, setup: Setup, local_imports: dict[str, str] | None = None
) -> list[cst.BaseExpression]:
    """The reads in ``expr`` that fail (or give None) where the function's settings are missing.

    ``os.environ["X"]`` raises KeyError and ``os.environ.get("X")`` gives None (``Table(None)`` raises),
    unless the module sets ``X`` itself at import. ``.get("X", default)`` is safe. The bodies of lambdas
    run later, not when the value is computed.
    """
    found: list[cst.BaseExpression] = []

    class _Reads(cst.CSTVisitor):
        def visit_Lambda(self, node: cst.Lambda) -> bool:
            return False

        def on_visit(self, node: cst.CSTNode) -> bool:
            read = env_read(node, facts, local_imports)
            if read is None:
                return super().on_visit(node)
            name, has_default = read
            if not has_default and (name is None or name not in setup.env):
                found.append(cast(cst.BaseExpression, node))  # env_read answers for calls and subscripts only
            return False

    walk(expr, _Reads())
    return found


def build_risk(call: cst.Call, ctor: Constructor, setup: Setup) -> str:
    """Why building ``call`` at import can fail or go wrong where the handler did not ("": it cannot)."""
    present = {arg.keyword.value for arg in call.args if arg.keyword is not None}
    if any(arg.star for arg in call.args):
        return "its `**` arguments are unknown until it runs"
    risky = sorted(present & ctor.fails_without_setup)
    if risky:
        return f"`{risky[0]}` needs what only the function's environment has (its settings, its network)"
    return ctor.at_import


def sets_region(facts: ModuleFacts) -> str | None:
    """A function that changes where boto3 finds its default region."""
    for variable in sorted(REGION_VARIABLES):
        if variable in facts.env_changed:
            return facts.env_changed[variable]
    return facts.env_changed.get(None)


class Substitute(cst.CSTTransformer):
    """Replaces given nodes (by identity in the original tree) with names: the reads a factory takes as arguments."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):
        name = self.names.get(id(original_node))
        return cst.Name(name) if name is not None else updated_node
