"""Whether a value is the same for every invocation: the rule hoist-clients moves code by, and that
reconnect-guards reads too (a connection whose arguments vary per invocation cannot be shared)."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import cast

import libcst as cst

from codemods._base import FileContext
from codemods.catalog import (
    CONSTANT_NAMES,
    CREDENTIAL_CALLS,
    METHOD_FACTORIES,
    PURE_CALLS,
    PURE_METHODS,
    SUBRESOURCE_OF,
    Constructor,
    Reuse,
    constructors,
)
from codemods.python._facts import BUILTIN_NAMES, FunctionFacts, ModuleFacts, dotted, walk
from codemods.python._import_time import env_read


@dataclasses.dataclass
class Function:
    """What the planner knows about the function it is reading."""

    node: cst.FunctionDef
    facts: FunctionFacts
    local_imports: dict[str, str]
    hoisted: set[str] = dataclasses.field(default_factory=set)  # local names now at module scope
    refused: set[str] = dataclasses.field(default_factory=set)  # local names that stay

    @property
    def name(self) -> str:
        return self.node.name.value


class Constancy:
    """Reads a module: what builds a client, and which values every invocation shares."""

    def __init__(self, module: cst.Module, ctx: FileContext) -> None:
        self.module = module
        self.ctx = ctx
        self.facts = ModuleFacts.read(module)

    def code(self, node: cst.CSTNode) -> str:
        text = self.module.code_for_node(node).strip()
        text = re.sub(r"\s*\n\s*", " ", text)
        return text if len(text) <= 72 else text[:69] + "..."

    def constructor_of(self, call: cst.Call, fn: Function | None, depth: int = 0) -> Constructor | None:
        qualname = self.facts.qualname(call.func, fn.local_imports if fn else None)
        known = constructors(self.ctx.options)
        if qualname in known:
            return known[qualname]
        if isinstance(call.func, cst.Attribute):
            kind = self.kind_of(call.func.value, fn, depth + 1)
            method = call.func.attr.value
            if kind in METHOD_FACTORIES and method in METHOD_FACTORIES[kind]:
                return METHOD_FACTORIES[kind][method]
            if kind == SUBRESOURCE_OF and method[:1].isupper():
                return Constructor(method, "boto3.subresource")
        return None

    def kind_of(self, expr: cst.BaseExpression, fn: Function | None, depth: int = 0) -> str | None:
        if depth > 8:
            return None
        if isinstance(expr, cst.Call):
            ctor = self.constructor_of(expr, fn, depth + 1)
            return ctor.produces if ctor else None
        if isinstance(expr, cst.Name):
            if fn is not None and expr.value in fn.facts.bindings:
                bindings = fn.facts.bindings[expr.value]
                if len(bindings) == 1 and bindings[0].value is not None:
                    return self.kind_of(bindings[0].value, fn, depth + 1)
                return None
            value = self.facts.simple_values.get(expr.value)
            if value is not None:
                return self.kind_of(value, None, depth + 1)
        return None

    # -- is it the same for every invocation? -----------------------------------------------

    def variant(
        self,
        expr: cst.CSTNode,
        fn: Function,
        deps: list[cst.SimpleStatementLine],
        allow: frozenset[str] = frozenset(),
        seen: frozenset[str] = frozenset(),
    ) -> str | None:
        """None when ``expr`` is the same for every invocation, else why not.

        Local variables it reads that are set once, at the top of the function, from constant
        values are constant too: their statements are appended to ``deps`` to move along.
        """
        again = lambda e: self.variant(e, fn, deps, allow, seen)  # noqa: E731
        read = env_read(expr, self.facts, fn.local_imports)
        if read is not None:
            setter = self.facts.env_changed.get(read[0]) or self.facts.env_changed.get(None)
            if setter is not None:
                return f"reads `{self.code(expr)}`, which `{setter}` sets when it runs"
        if isinstance(expr, cst.Name):
            return self._variant_name(expr.value, fn, deps, allow, seen)
        if isinstance(
            expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary, cst.Ellipsis)
        ):
            return None
        if isinstance(expr, cst.ConcatenatedString):
            return again(expr.left) or again(expr.right)
        if isinstance(expr, cst.FormattedString):
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringExpression):
                    why = again(part.expression)
                    if why:
                        return why
            return None
        if isinstance(expr, cst.Attribute):
            return again(expr.value)
        if isinstance(expr, cst.Subscript):
            why = again(expr.value)
            for element in expr.slice:
                if why:
                    break
                inner = element.slice
                if isinstance(inner, cst.Index):
                    why = again(inner.value)
                else:
                    bounds = cast(cst.Slice, inner)  # the only other kind of slice
                    why = next((w for w in map(again, (bounds.lower, bounds.upper, bounds.step)) if w and inner), None)
            return why
        if isinstance(expr, cst.Call):
            return self._variant_call(expr, fn, again)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return next((w for w in (again(e.value) for e in expr.elements) if w), None)
        if isinstance(expr, cst.Dict):
            for item in expr.elements:
                parts = (item.key, item.value) if isinstance(item, cst.DictElement) else (item.value,)
                why = next((w for w in map(again, parts) if w), None)
                if why:
                    return why
            return None
        if isinstance(expr, (cst.BinaryOperation, cst.BooleanOperation)):
            return again(expr.left) or again(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return again(expr.expression)
        if isinstance(expr, cst.Comparison):
            return again(expr.left) or next((w for w in (again(c.comparator) for c in expr.comparisons) if w), None)
        if isinstance(expr, cst.Lambda):
            params = {p.name.value for p in (*expr.params.params, *expr.params.kwonly_params, *expr.params.posonly_params)}
            for star in (expr.params.star_arg, expr.params.star_kwarg):
                if isinstance(star, cst.Param):
                    params.add(star.name.value)
            # The body runs later, on each call: only the outside names it closes over matter here.
            for name in sorted(names_in(expr.body) - params):
                why = self._variant_name(name, fn, deps, allow, seen)
                if why:
                    return why
            return None
        if isinstance(expr, cst.IfExp):
            return again(expr.test) or again(expr.body) or again(expr.orelse)
        return f"uses `{self.code(expr)}`, which the tool cannot prove constant"

    def _variant_name(
        self,
        name: str,
        fn: Function,
        deps: list[cst.SimpleStatementLine],
        allow: frozenset[str],
        seen: frozenset[str],
    ) -> str | None:
        facts = fn.facts
        if name in allow or name in CONSTANT_NAMES:
            return None
        if name in facts.params:
            return f"comes from `{name}`"
        if name in facts.globals:
            return f"reads `{name}`, a global that `{fn.name}` rebinds"
        if name in facts.bindings:
            if name in fn.hoisted:
                return None
            if name in fn.refused or name in seen:
                return f"reads `{name}`, which stays in `{fn.name}`"
            bindings = facts.bindings[name]
            if len(bindings) != 1:
                return f"reads `{name}`, which `{fn.name}` assigns more than once"
            binding = bindings[0]
            if isinstance(binding.node, cst.For):
                return f"reads `{name}`, a loop variable"
            if binding.line is None or id(binding.line) not in facts.body_lines:
                return f"reads `{name}`, which is not set once at the top of `{fn.name}`"
            if binding.value is not None:
                why = self.variant(binding.value, fn, deps, allow, seen | {name})
                if why:
                    return f"reads `{name}`, which {why}"
            if binding.line not in deps:
                deps.append(binding.line)
            return None
        if name in self.facts.bindings:
            if name in self.facts.rebound:
                return f"reads `{name}`, which `{self.facts.rebound[name]}` rebinds with `global`"
            if name in self.facts.main_only:
                return f'reads `{name}`, which the module binds only under `if __name__ == "__main__":`'
            if name in self.facts.changed:
                return f"reads `{name}`, whose contents `{self.facts.changed[name]}` changes when it runs"
            return None
        if name in BUILTIN_NAMES:
            return None
        return f"reads `{name}`, which is not a constant"

    def _variant_call(self, call: cst.Call, fn: Function, again: Callable) -> str | None:
        func = call.func
        qualname = self.facts.qualname(func, fn.local_imports)
        ctor = self.constructor_of(call, fn)
        pure = (
            (ctor is not None and ctor.reuse is Reuse.HOIST)
            or qualname in PURE_CALLS
            or (isinstance(func, cst.Attribute) and func.attr.value in PURE_METHODS)
        )
        if not pure:
            shown = qualname or dotted(func) or self.code(func)
            if isinstance(func, cst.Attribute) and func.attr.value in CREDENTIAL_CALLS:
                return f"holds credentials obtained per invocation (`{shown}()`)"
            return f"calls `{shown}()`, which may give another result per invocation"
        why = again(func)
        for arg in call.args:
            why = why or again(arg.value)
        return why


def names_in(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            walk(n.value, self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            walk(n.value, self)
            return False

    walk(node, _Names())
    return names
