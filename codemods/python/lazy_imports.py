"""lazy-imports (opt-in): a heavy import used only on a rare path moves into that path.

A rare path is a branch of a function (``if``/``else``, ``except``, ``case``) or a helper that the
module calls only from such branches. The import then costs nothing at cold start, and the first
invocation that takes the path pays for it instead: a trade of warm latency on that path for init
time, which is why this codemod runs only when asked for (``-c lazy-imports``).
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from codemods._base import FileContext
from codemods.catalog import HEAVY_IMPORTS
from codemods.python._facts import FunctionFacts, ModuleFacts, dotted, import_bindings
from codemods.python._lambda import LambdaCodemod, entry_points, note_not_lambda
from codemods.python.targeted_imports import Scan, side_effect_of, top_package, without

MARKERS = tuple(sorted(name.encode() for name in HEAVY_IMPORTS))


class LazyImports(LambdaCodemod):
    NAME = "lazy-imports"
    DESCRIPTION = "Opt-in: move heavy imports used only on a rare path (a branch, an error handler, a rarely called helper) into it"
    LANGUAGES = ("python",)
    MARKERS = MARKERS
    OPT_IN = True

    def transform(self, tree: cst.Module, ctx: FileContext) -> cst.Module:
        return _Lazy(tree, ctx).run()


@dataclasses.dataclass
class _Use:
    name: str
    node: cst.Name
    function: cst.FunctionDef | None  # the top-level function it is in, None at module level
    block: cst.IndentedBlock | None  # the outermost branch of that function it is in
    kind: str  # "if", "except", "case" for a branch
    in_class: str | None


class _Uses(cst.CSTVisitor):
    """Where each of some names is read: module level, class, or which function and which branch of it."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.uses: list[_Use] = []
        self.function: cst.FunctionDef | None = None
        self.block: cst.IndentedBlock | None = None
        self.kind = ""
        self.in_class: str | None = None

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.names:
            self.uses.append(_Use(node.value, node, self.function, self.block, self.kind, self.in_class))

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        if self.function is None and self.in_class is None:
            self.in_class = node.name.value
            for child in node.children:
                child.visit(self)
            self.in_class = None
            return False
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if self.function is not None or self.in_class is not None:
            return True
        # Decorators, defaults and annotations run when the module is imported.
        for decorator in node.decorators:
            decorator.visit(self)
        node.params.visit(self)
        if node.returns is not None:
            node.returns.visit(self)
        self.function = node
        node.body.visit(self)
        self.function = None
        return False

    def _branch(self, body: cst.BaseSuite, kind: str) -> None:
        if self.function is not None and self.block is None and isinstance(body, cst.IndentedBlock):
            self.block, self.kind = body, kind
            body.visit(self)
            self.block, self.kind = None, ""
        else:
            body.visit(self)

    def visit_If(self, node: cst.If) -> bool:
        node.test.visit(self)
        self._branch(node.body, "if")
        if node.orelse is not None:
            node.orelse.visit(self)
        return False

    def visit_Else(self, node: cst.Else) -> bool:
        self._branch(node.body, "if")
        return False

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> bool:
        if node.type is not None:
            node.type.visit(self)
        self._branch(node.body, "except")
        return False

    def visit_MatchCase(self, node: cst.MatchCase) -> bool:
        node.pattern.visit(self)
        if node.guard is not None:
            node.guard.visit(self)
        self._branch(node.body, "case")
        return False


@dataclasses.dataclass
class _Candidate:
    line: cst.SimpleStatementLine
    stmt: cst.Import | cst.ImportFrom
    locals: set[str]
    package: str
    # Where it goes: a function body (a rare helper) or a branch, with words for the message.
    targets: dict[int, tuple[cst.IndentedBlock, str]] = dataclasses.field(default_factory=dict)


class _Lazy:
    def __init__(self, module: cst.Module, ctx: FileContext) -> None:
        self.module = module
        self.ctx = ctx
        self.facts = ModuleFacts.read(module)
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None

    def line(self, node: cst.CSTNode) -> int:
        if self._positions is None:
            self._positions = MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)
        return self._positions[node].start.line

    def run(self) -> cst.Module:
        candidates = self._candidates()
        if not candidates:
            return self.module
        handlers = entry_points(self.facts, self.ctx)
        if not handlers:
            note_not_lambda(self.ctx)
            return self.module
        scan = Scan()
        self.module.visit(scan)
        if scan.dynamic:
            node, how = scan.dynamic[0]
            self.ctx.note(self.line(node), f"left every import in place: the module reaches names dynamically (`{how}`)")
            return self.module
        functions = {fn.name.value: fn for fn in self.facts.functions}
        walker = _Uses({name for c in candidates for name in c.locals} | set(functions))
        self.module.visit(walker)
        rare = self._rare_helpers(walker.uses, functions, {id(fn) for fn in handlers})
        placed = [c for c in candidates if self._place(c, walker.uses, rare, scan)]
        placed = self._still_loaded(placed)
        if not placed:
            return self.module
        unseen = self._unseen(placed)
        for candidate in placed:
            where = ", ".join(words for _, words in candidate.targets.values())
            if unseen:
                self.ctx.note(
                    self.line(candidate.stmt),
                    f"{', '.join(f'`{m}`' for m in unseen)} may load `{candidate.package}` at cold start all the same: "
                    "the tool cannot see what they import",
                )
            self.ctx.change(
                self.line(candidate.stmt),
                f"moved `{self.module.code_for_node(candidate.stmt).strip()}` into {where}: used only there, it no longer "
                "loads at cold start; the first invocation that takes that path pays for it",
            )
        return self.module.visit(_Editor(placed))

    def _candidates(self) -> list[_Candidate]:
        found = []
        for stmt in self.module.body:
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
                continue
            small = stmt.body[0]
            if not isinstance(small, (cst.Import, cst.ImportFrom)) or (
                isinstance(small, cst.ImportFrom) and (isinstance(small.names, cst.ImportStar) or small.relative)
            ):
                continue
            modules = [dotted(a.name) or "" for a in small.names] if isinstance(small, cst.Import) else [dotted(small.module) or ""]
            packages = {top_package(m) for m in modules}
            if len(packages) != 1 or not packages <= set(HEAVY_IMPORTS) or any(side_effect_of(m) for m in modules):
                continue
            found.append(_Candidate(stmt, small, set(import_bindings(small)), packages.pop()))
        return found

    def _rare_helpers(self, uses: list[_Use], functions: dict[str, cst.FunctionDef], handlers: set[int]) -> set[str]:
        """Helpers the module calls only from branches (or not at all): not entry points."""
        rare = {name for name, fn in functions.items() if id(fn) not in handlers}
        for use in uses:
            if use.name not in functions or use.function is functions[use.name]:
                continue
            if use.function is None or use.block is None:
                rare.discard(use.name)
        return rare

    def _place(self, candidate: _Candidate, uses: list[_Use], rare: set[str], scan: Scan) -> bool:
        mine = [use for use in uses if use.name in candidate.locals]
        text = self.module.code_for_node(candidate.stmt).strip()
        if not mine or any(use.function is None for use in mine) or any(scan.string_reads[n] for n in candidate.locals):
            return False  # unused (targeted-imports' business) or needed at import time
        at = self.line(candidate.stmt)
        for use in mine:
            fn = use.function
            assert fn is not None  # tested above
            name = fn.name.value
            facts = FunctionFacts.read(fn)
            if use.name in facts.bindings or use.name in facts.params or use.name in facts.globals:
                self.ctx.note(at, f"left `{text}`: `{name}` also binds `{use.name}` itself")
                return False
            if name in rare:
                if not isinstance(fn.body, cst.IndentedBlock):
                    return False
                candidate.targets[id(fn.body)] = (fn.body, f"`{name}` (line {self.line(fn)}), a helper called only from branches")
            elif use.block is not None:
                branch = {"if": "a branch", "except": "an `except` branch", "case": "a `case`"}[use.kind]
                candidate.targets.setdefault(
                    id(use.block), (use.block, f"{branch} of `{name}` (line {self.line(use.block.body[0])})")
                )
            else:
                self.ctx.note(at, f"left `{text}`: `{use.name}` is used on the common path of `{name}` (line {self.line(use.node)})")
                return False
        # A function-wide import covers the branches of that function.
        functions = {id(fn.body) for fn in self.facts.functions if id(fn.body) in candidate.targets}
        for key, (block, _) in list(candidate.targets.items()):
            if key not in functions and any(_contains(fn, block) for fn in self.facts.functions if id(fn.body) in functions):
                del candidate.targets[key]
        return True

    def _unseen(self, placed: list[_Candidate]) -> list[str]:
        """Modules that stay imported at module level and whose own imports the tool cannot see."""
        found = []
        for stmt in self.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and not any(c.line is stmt for c in placed):
                for small in stmt.body:
                    if isinstance(small, cst.ImportFrom) and small.relative:
                        found.append("." * len(small.relative) + (dotted(small.module) or "" if small.module else ""))
                    elif isinstance(small, (cst.Import, cst.ImportFrom)):
                        known = sys.stdlib_module_names | set(HEAVY_IMPORTS) | {"__future__"}
                        found += [m for m in _modules(small) if top_package(m) not in known]
        return found

    def _still_loaded(self, placed: list[_Candidate]) -> list[_Candidate]:
        """Drop the moves that save nothing: another import that stays loads the package anyway."""
        moving = list(placed)
        while True:
            staying = {
                top_package(m)
                for stmt in self.module.body
                if isinstance(stmt, cst.SimpleStatementLine) and not any(c.line is stmt for c in moving)
                for small in stmt.body
                if isinstance(small, (cst.Import, cst.ImportFrom))
                for m in _modules(small)
            }
            loaded = staying | {p for package in staying for p in (HEAVY_IMPORTS[package].pulls_in if package in HEAVY_IMPORTS else ())}
            blocked = [c for c in moving if c.package in loaded]
            if not blocked:
                return moving
            for candidate in blocked:
                by = sorted(p for p in staying if p == candidate.package or candidate.package in _pulls(p))
                self.ctx.note(
                    self.line(candidate.stmt),
                    f"left `{self.module.code_for_node(candidate.stmt).strip()}`: `{candidate.package}` still loads at "
                    f"cold start through `import {by[0]}`",
                )
                moving.remove(candidate)


def _pulls(package: str) -> tuple[str, ...]:
    return HEAVY_IMPORTS[package].pulls_in if package in HEAVY_IMPORTS else ()


def _modules(stmt: cst.Import | cst.ImportFrom) -> list[str]:
    if isinstance(stmt, cst.Import):
        return [dotted(a.name) or "" for a in stmt.names]
    return [dotted(stmt.module) or ""] if stmt.module is not None and not stmt.relative else []


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    found = False

    class _Find(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            nonlocal found
            if node is inner:
                found = True
            return not found

    outer.visit(_Find())
    return found


class _Editor(cst.CSTTransformer):
    def __init__(self, placed: list[_Candidate]) -> None:
        self.removed = {id(c.line) for c in placed}
        self.inserts: dict[int, list[cst.SimpleStatementLine]] = {}
        self.functions: set[int] = set()
        for candidate in placed:
            moved = cst.SimpleStatementLine(body=[candidate.stmt.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
            for key in candidate.targets:
                self.inserts.setdefault(key, []).append(moved.deep_clone())
        self.markers: set[int] = set()

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        lines = self.inserts.get(id(original_node))
        if not lines:
            return updated_node
        body = list(updated_node.body)
        at = 1 if body and _is_docstring(body[0]) else 0
        return updated_node.with_changes(body=[*body[:at], *lines, *body[at:]])

    def leave_SimpleStatementLine(self, original_node, updated_node):
        if id(original_node) in self.removed:
            marker = updated_node.with_changes(body=[cst.Pass()])
            self.markers.add(id(marker))
            return marker
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=without(updated_node.body, self.markers))


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )
