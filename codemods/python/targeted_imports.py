"""targeted-imports: a Lambda module imports only the SDKs and heavy libraries it uses.

Every import is paid for at each cold start. Unused imports of the packages in
``catalog.HEAVY_IMPORTS`` go; ``from <sdk> import *`` becomes the names the module reads; the X-Ray
SDK's ``patch_all()``, which imports every library it can patch, becomes ``patch([...])`` with the
libraries the module imports. Imports that may act just by being imported stay, with a note.
"""
from __future__ import annotations

import collections
import dataclasses
import re
import sys
from collections.abc import Sequence

import libcst as cst

from codemods._base import FileContext
from codemods.catalog import (
    HEAVY_IMPORTS,
    SIDE_EFFECT_IMPORTS,
    STAR_EXPORTS,
    XRAY_NEUTRAL_IMPORTS,
    XRAY_PATCH_NAMES,
)
from codemods.python._facts import LineIndex, ModuleFacts, Statement, dotted, import_bindings, lines_of, walk
from codemods.python._lambda import LambdaCodemod, entry_points, note_not_lambda


PATCH_ALL = frozenset({"aws_xray_sdk.core.patch_all", "aws_xray_sdk.core.patcher.patch_all"})
XRAY_PATCH = frozenset({"aws_xray_sdk.core.patch", "aws_xray_sdk.core.patcher.patch"})

# Calls through which a module can reach its own names, or import modules, without naming them.
DYNAMIC_CALLS = frozenset({"globals", "locals", "vars", "eval", "exec", "__import__", "importlib.import_module"})

_CONSIDERED = frozenset(HEAVY_IMPORTS) | {prefix.split(".")[0] for prefix in SIDE_EFFECT_IMPORTS}
MARKERS = tuple(sorted(name.encode() for name in _CONSIDERED))

_WORD = re.compile(r"[A-Za-z_]\w*")
_LINE_LIMIT = 99


class TargetedImports(LambdaCodemod):
    NAME = "targeted-imports"
    DESCRIPTION = "Import only the SDKs and heavy libraries a function uses: unused and star imports go, patch_all() narrows"
    LANGUAGES = ("python",)
    MARKERS = MARKERS

    def transform(self, tree: cst.Module, ctx: FileContext) -> cst.Module:
        return _Targeter(tree, ctx).run()


def side_effect_of(module: str) -> str | None:
    """Why importing ``module`` may matter by itself, or None."""
    for prefix, why in SIDE_EFFECT_IMPORTS.items():
        if module == prefix or module.startswith(prefix + "."):
            return why
    return None


def top_package(module: str) -> str:
    return module.split(".")[0]


def module_of(stmt: cst.Import | cst.ImportFrom, alias: cst.ImportAlias | None = None) -> str:
    """The dotted module an import loads (for ``from a import b``: ``a``); relative ones start with dots."""
    if isinstance(stmt, cst.Import):
        return dotted(alias.name) or "" if alias is not None else ""
    base = dotted(stmt.module) if stmt.module is not None else ""
    return "." * len(stmt.relative) + (base or "")


class Scan(cst.CSTVisitor):
    """Every name the module reads (outside import statements), every import, every dynamic lookup."""

    def __init__(self) -> None:
        self.reads: collections.Counter[str] = collections.Counter()
        self.string_reads: collections.Counter[str] = collections.Counter()  # in annotations and ``__all__``
        self.imports: list[cst.Import | cst.ImportFrom] = []
        self.dynamic: list[tuple[cst.CSTNode, str]] = []
        self.calls: list[cst.Call] = []
        self._annotation = 0

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.append(node)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.append(node)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if dotted(node) == "sys.modules":
            self.dynamic.append((node, "sys.modules"))
        walk(node.value, self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.reads[node.value] += 1

    def visit_Call(self, node: cst.Call) -> None:
        name = dotted(node.func)
        if name in DYNAMIC_CALLS:
            self.dynamic.append((node, f"{name}()"))
        self.calls.append(node)

    def visit_Annotation(self, node: cst.Annotation) -> None:
        self._annotation += 1

    def leave_Annotation(self, original_node: cst.Annotation) -> None:
        self._annotation -= 1

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        if self._annotation:  # a forward reference such as "pd.DataFrame"
            value = node.evaluated_value
            words = _WORD.findall(value) if isinstance(value, str) else []
            self.reads.update(words)
            self.string_reads.update(words)

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(isinstance(t.target, cst.Name) and t.target.value == "__all__" for t in node.targets):
            for string in _strings(node.value):
                self.reads[string] += 1
                self.string_reads[string] += 1


def _strings(node: cst.CSTNode) -> list[str]:
    found: list[str] = []

    class _Strings(cst.CSTVisitor):
        def visit_SimpleString(self, n: cst.SimpleString) -> None:
            if isinstance(n.evaluated_value, str):
                found.append(n.evaluated_value)

    walk(node, _Strings())
    return found


@dataclasses.dataclass
class _Alias:
    line: cst.SimpleStatementLine
    stmt: cst.Import | cst.ImportFrom
    alias: cst.ImportAlias
    local: str
    module: str  # what it loads: ``a.b`` for ``import a.b`` and ``from a import b``


@dataclasses.dataclass
class _PatchPlan:
    call: cst.Call
    libraries: list[str]
    remove: bool  # nothing to patch: the statement goes


class _Targeter:
    def __init__(self, module: cst.Module, ctx: FileContext) -> None:
        self.module = module
        self.ctx = ctx
        self.facts = ModuleFacts.read(module)
        self.scan = Scan()
        walk(module, self.scan)
        self.reads = self.scan.reads
        self._positions: LineIndex | None = None
        self.drop: set[int] = set()  # ids of aliases to remove
        self.drop_lines: set[int] = set()  # ids of module-level lines to remove
        self.new_small: dict[int, cst.BaseSmallStatement] = {}  # id of an import -> its replacement
        self.new_calls: dict[int, cst.BaseExpression] = {}
        self.renames: dict[int, cst.ImportAlias | list[cst.ImportAlias]] = {}
        self.dropped: list[_Alias] = []
        self.decided: set[int] = set()  # aliases already dropped or noted
        self.changes: list[tuple[int, str]] = []
        self.notes: list[tuple[int, str]] = []
        # Names that star imports of catalogued modules bind: local name -> qualified name.
        self.star_bound: dict[str, str] = {}
        self.star_names: dict[int, set[str]] = {}  # id of a star import -> the names read from it

    def line(self, node: cst.CSTNode) -> int:
        if self._positions is None:
            self._positions = lines_of(self.module, self.ctx)
        return self._positions[node]

    def code(self, node: cst.CSTNode) -> str:
        return re.sub(r"\s*\n\s*", " ", self.module.code_for_node(node).strip())

    def run(self) -> cst.Module:
        if not self._candidates():
            return self.module
        if not entry_points(self.facts, self.ctx):
            note_not_lambda(self.ctx)
            return self.module
        top = self._top_level_imports()
        stars = [(line, stmt) for line, stmt in top if isinstance(stmt, cst.ImportFrom) and isinstance(stmt.names, cst.ImportStar)]
        aliases = [a for line, stmt in top for a in _aliases(line, stmt)]
        self._read_stars(stars)
        self._plan_unused(aliases)
        patches = self._plan_patch_all(aliases)
        self._plan_unused([a for a in aliases if id(a.alias) not in self.drop and id(a.alias) not in self.renames])
        self._plan_stars(stars, patches)
        self._record_removals(aliases)
        for at, message in sorted(self.changes):
            self.ctx.change(at, message)
        for at, message in sorted(self.notes):
            self.ctx.note(at, message)
        if not self.changes:
            return self.module
        return self.module.visit(_Editor(self))

    def _candidates(self) -> bool:
        return any(top_package(module_of(stmt, alias)) in _CONSIDERED for stmt in self.scan.imports for alias in _names_of(stmt))

    def _top_level_imports(self) -> list[tuple[cst.SimpleStatementLine, cst.Import | cst.ImportFrom]]:
        return [
            (stmt, small)
            for stmt in self.module.body
            if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body
            if isinstance(small, (cst.Import, cst.ImportFrom))
        ]

    # -- unused imports ---------------------------------------------------------------------------

    def _plan_unused(self, aliases: list[_Alias]) -> None:
        for item in aliases:
            if top_package(item.module) not in _CONSIDERED or self.reads[item.local] > 0 or id(item.alias) in self.drop:
                continue
            if id(item.alias) in self.decided:
                continue
            self.decided.add(id(item.alias))
            text = self._alias_code(item)
            at = self.line(item.alias)
            why = side_effect_of(item.module)
            if why:
                self.notes.append((at, f"left `{text}`, unused: importing `{item.module}` {why}, which the code may rely on"))
            elif _noqa(item.line):
                self.notes.append((at, f"left `{text}`, unused: the line is marked `# noqa`"))
            elif self.scan.dynamic:
                node, how = self.scan.dynamic[0]
                self.notes.append(
                    (at, f"left `{text}`, unused by name: the module reaches names dynamically (`{how}` on line {self.line(node)})")
                )
            elif top_package(item.module) in HEAVY_IMPORTS:
                self.drop.add(id(item.alias))
                self.dropped.append(item)

    def _record_removals(self, aliases: list[_Alias]) -> None:
        for item in self.dropped:
            message = f"removed `{self._alias_code(item)}`: the module never uses `{item.local}`"
            top = top_package(item.module)
            kept = {top_package(other.module) for other in aliases if id(other.alias) not in self.drop}
            if not any(top == package or top in _pulled_in_by(package) for package in kept):
                what = HEAVY_IMPORTS[top].what
                message += f" (importing {what} costs every cold start)"
            self.changes.append((self.line(item.alias), message))

    def _alias_code(self, item: _Alias) -> str:
        if isinstance(item.stmt, cst.Import):
            return "import " + self.code(item.alias).rstrip(",")
        return f"from {module_of(item.stmt)} import " + self.code(item.alias).rstrip(",")

    # -- star imports ------------------------------------------------------------------------------

    def _star_names(self, stars: list[tuple[cst.SimpleStatementLine, cst.ImportFrom]]) -> dict[int, set[str]]:
        """For each catalogued star import, the names the module reads from it (a later star wins a name)."""
        claimed: set[str] = set()
        found: dict[int, set[str]] = {}
        for _line, stmt in reversed(stars):
            exports = STAR_EXPORTS.get(module_of(stmt))
            if exports is None or stmt.relative:
                continue
            names = {
                name
                for name in exports
                if self.reads[name] > 0 and name not in self.facts.bindings and name not in claimed
            }
            claimed |= names
            found[id(stmt)] = names
        return found

    def _read_stars(self, stars: list[tuple[cst.SimpleStatementLine, cst.ImportFrom]]) -> None:
        self.star_names = self._star_names(stars)
        for _line, stmt in stars:
            for name in self.star_names.get(id(stmt), ()):
                self.star_bound[name] = f"{module_of(stmt)}.{name}"

    def _plan_stars(self, stars: list[tuple[cst.SimpleStatementLine, cst.ImportFrom]], patches: list[_PatchPlan]) -> None:
        for line, stmt in stars:
            module = module_of(stmt)
            if top_package(module) not in _CONSIDERED:
                continue
            at = self.line(stmt)
            if id(stmt) not in self.star_names:
                self.notes.append((at, f"left `from {module} import *`: the catalogue does not list the names it provides"))
                continue
            if self.scan.dynamic:
                node, how = self.scan.dynamic[0]
                self.notes.append(
                    (at, f"left `from {module} import *`: the module reaches names dynamically (`{how}` on line {self.line(node)})")
                )
                continue
            names = set(self.star_names[id(stmt)])
            if any(self._from_star(plan.call, module) and not plan.remove for plan in patches):
                names.add("patch")
            if "patch_all" in names and self.reads["patch_all"] <= 0:
                names.discard("patch_all")
            if not names:
                if side_effect_of(module):
                    continue
                self.drop.add(id(stmt))
                self.changes.append((at, f"removed `from {module} import *`: the module uses none of its names"))
                continue
            self.new_small[id(stmt)] = _from_import(module, sorted(names), len(self.code(line)) - len(self.code(stmt)))
            self.changes.append((at, f"`from {module} import *` -> the {len(names)} name(s) the module uses: {', '.join(sorted(names))}"))

    # -- X-Ray -----------------------------------------------------------------------------------

    def _from_star(self, call: cst.Call, module: str) -> bool:
        return (
            isinstance(call.func, cst.Name)
            and call.func.value not in self.facts.imports
            and self.star_bound.get(call.func.value) == f"{module}.{call.func.value}"
        )

    def _qualname(self, expr: cst.BaseExpression) -> str | None:
        text = dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        table = {**self.star_bound, **self.facts.imports}
        if head not in table:
            return None
        return f"{table[head]}.{rest}" if rest else table[head]

    def _plan_patch_all(self, aliases: list[_Alias]) -> list[_PatchPlan]:
        calls = [call for call in self.scan.calls if self._qualname(call.func) in PATCH_ALL]
        if not calls:
            return []
        plans: list[_PatchPlan] = []
        libraries, unseen = self._patch_targets()
        for call in calls:
            at = self.line(call)
            if call.args:
                self.notes.append((at, f"left `{self.code(call)}`: only `patch_all()` without arguments is narrowed"))
                continue
            if unseen:
                names = ", ".join(f"`{u}`" for u in unseen)
                self.notes.append(
                    (at, f"left `patch_all()`: the libraries to patch cannot be listed, the module imports {names}, "
                     "whose own imports the tool cannot see")
                )
                continue
            if not libraries and not self._alone_at_module_level(call):
                self.notes.append((at, "left `patch_all()`: the module imports no library X-Ray patches; it could go"))
                continue
            if isinstance(call.func, cst.Name) and not self._patch_name_free(aliases):
                self.notes.append((at, "left `patch_all()`: the name `patch` is taken in this module"))
                continue
            plans.append(_PatchPlan(call, libraries, remove=not libraries))
        for plan in plans:
            self._apply_patch_plan(plan, aliases)
        return plans

    def _patch_targets(self) -> tuple[list[str], list[str]]:
        """(names for ``patch()``, imported modules whose own imports may reach a patched library)."""
        libraries: set[str] = set()
        unseen: list[str] = []
        dropped = self.drop
        for stmt in self.scan.imports:
            for alias in _names_of(stmt):
                if alias is not None and id(alias) in dropped:
                    continue
                module = module_of(stmt, alias)
                top = top_package(module)
                if module.startswith(".") or not top:
                    unseen.append(module or ".")
                elif top in XRAY_PATCH_NAMES:
                    libraries.add(XRAY_PATCH_NAMES[top])
                elif top in sys.stdlib_module_names or top in XRAY_NEUTRAL_IMPORTS or top == "__future__":
                    continue
                else:
                    unseen.append(module)
        for node, how in self.scan.dynamic:
            if how in ("__import__()", "importlib.import_module()"):
                unseen.append(f"modules through `{how}` (line {self.line(node)})")
        return sorted(libraries), sorted(dict.fromkeys(unseen))

    def _alone_at_module_level(self, call: cst.Call) -> bool:
        return any(_is_alone(stmt, call) for stmt in self.module.body)

    def _patch_name_free(self, aliases: list[_Alias]) -> bool:
        if "patch" in self.facts.imports:
            return self.facts.imports["patch"] in XRAY_PATCH
        if self.star_bound.get("patch") in XRAY_PATCH:
            return True
        return "patch" not in self.reads and "patch" not in self.facts.bindings

    def _apply_patch_plan(self, plan: _PatchPlan, aliases: list[_Alias]) -> None:
        call, at = plan.call, self.line(plan.call)
        if isinstance(call.func, cst.Name):
            self.reads[call.func.value] -= 1
        if plan.remove:
            line = next(stmt for stmt in self.module.body if _is_alone(stmt, call))
            self.drop_lines.add(id(line))
            self.changes.append((at, "removed `patch_all()`: the module imports no library X-Ray patches"))
            return
        func = call.func.with_changes(attr=cst.Name("patch")) if isinstance(call.func, cst.Attribute) else cst.Name("patch")
        listed = ", ".join(f'"{name}"' for name in plan.libraries)
        self.new_calls[id(call)] = cst.Call(
            func=func,
            args=[
                cst.Arg(cst.parse_expression(f"[{listed}]")),
                cst.Arg(cst.Name("False"), keyword=cst.Name("raise_errors"), equal=cst.AssignEqual(
                    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))),
            ],
        )
        if isinstance(call.func, cst.Name):
            self.reads["patch"] += 1
            self._bind_patch(call.func.value, aliases)
        self.changes.append(
            (at, f"`patch_all()` -> `patch([{listed}])`: X-Ray patches the libraries this module imports, instead of "
             "importing every library it supports at cold start (errors are ignored, as `patch_all()` does)")
        )

    def _bind_patch(self, local: str, aliases: list[_Alias]) -> None:
        """Make ``patch`` name X-Ray's ``patch``: rename the ``patch_all`` import, or add ``patch`` beside it."""
        if self.facts.imports.get("patch") in XRAY_PATCH or local in self.star_bound:
            return
        for item in aliases:
            if item.local != local or id(item.alias) in self.renames:
                continue
            patch = cst.ImportAlias(cst.Name("patch"))
            if self.reads[local] <= 0:
                self.renames[id(item.alias)] = item.alias.with_changes(name=cst.Name("patch"), asname=None)
            else:
                comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
                self.renames[id(item.alias)] = [item.alias.with_changes(comma=comma), patch.with_changes(comma=item.alias.comma)]
            return


def _aliases(line: cst.SimpleStatementLine, stmt: cst.Import | cst.ImportFrom) -> list[_Alias]:
    names = stmt.names
    if isinstance(names, cst.ImportStar):
        return []
    found = []
    for alias in names:
        local = next(iter(import_bindings(stmt.with_changes(names=[alias.with_changes(comma=cst.MaybeSentinel.DEFAULT)]))))
        module = module_of(stmt, alias)
        if isinstance(stmt, cst.ImportFrom):
            module = f"{module}.{dotted(alias.name)}"  # ``from a import b`` may load ``a.b``
        found.append(_Alias(line, stmt, alias, local, module))
    return found


def _names_of(stmt: cst.Import | cst.ImportFrom) -> list[cst.ImportAlias | None]:
    names = stmt.names
    if isinstance(names, cst.ImportStar):
        return [None]
    return list(names)


def _is_alone(stmt: cst.CSTNode, call: cst.Call) -> bool:
    """``stmt`` is a line holding nothing but ``call``."""
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and stmt.body[0].value is call
    )


def _pulled_in_by(package: str) -> tuple[str, ...]:
    heavy = HEAVY_IMPORTS.get(package)
    return heavy.pulls_in if heavy else ()


def _noqa(line: cst.SimpleStatementLine) -> bool:
    comment = line.trailing_whitespace.comment
    return comment is not None and "noqa" in comment.value.lower()


def _from_import(module: str, names: list[str], indent_free: int) -> cst.ImportFrom:
    text = f"from {module} import {', '.join(names)}"
    if len(text) > _LINE_LIMIT - indent_free:
        inner = "".join(f"    {name},\n" for name in names)
        text = f"from {module} import (\n{inner})"
    line = cst.ensure_type(cst.parse_statement(text + "\n"), cst.SimpleStatementLine)
    return cst.ensure_type(line.body[0], cst.ImportFrom)


class _Editor(cst.CSTTransformer):
    def __init__(self, plan: _Targeter) -> None:
        self.plan = plan
        self.removed: set[int] = set()

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        return self.plan.new_calls.get(id(original_node), updated_node)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import | cst.RemovalSentinel:
        return self._names(original_node, updated_node)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom):
        if id(original_node) in self.plan.drop:
            return cst.RemoveFromParent()
        if id(original_node) in self.plan.new_small:
            return self.plan.new_small[id(original_node)]
        return self._names(original_node, updated_node)

    def _names(self, original_node, updated_node):
        if isinstance(original_node.names, cst.ImportStar):
            return updated_node
        names: list[cst.ImportAlias] = []
        for alias in original_node.names:
            if id(alias) in self.plan.drop:
                continue
            renamed = self.plan.renames.get(id(alias), alias)
            names.extend(renamed if isinstance(renamed, list) else [renamed])
        if not names:
            return cst.RemoveFromParent()
        if len(names) == len(original_node.names) and all(a is b for a, b in zip(names, original_node.names, strict=True)):
            return updated_node
        names[-1] = names[-1].with_changes(comma=original_node.names[-1].comma)
        return updated_node.with_changes(names=names)

    def leave_SimpleStatementLine(self, original_node, updated_node):
        if id(original_node) in self.plan.drop_lines or not updated_node.body:
            # LibCST would drop an empty line silently; keep a marker so that leave_Module can hand
            # its blank lines and comments on.
            marker = updated_node.with_changes(body=[cst.Pass()])
            self.removed.add(id(marker))
            return marker
        if len(updated_node.body) < len(original_node.body):
            last = updated_node.body[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            return updated_node.with_changes(body=[*updated_node.body[:-1], last])
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        return updated_node.with_changes(body=without(updated_node.body, self.removed))


def without(body: Sequence[Statement], removed: set[int]) -> list[Statement]:
    """``body`` less the statements whose ids are in ``removed``; each hands its blank lines and
    comments to the next statement that has none of its own, so import groups stay apart."""
    kept: list[Statement] = []
    pending: list[cst.EmptyLine] | None = None
    for stmt in body:
        if id(stmt) in removed:
            if pending is None:
                pending = list(stmt.leading_lines)
            continue
        if pending is not None:
            if not stmt.leading_lines:
                stmt = stmt.with_changes(leading_lines=pending)
            pending = None
        kept.append(stmt)
    return kept
