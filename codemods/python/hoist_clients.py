"""hoist-clients: build clients, sessions and connections once per execution environment.

A construction leaves a function of a Lambda module when everything it reads is the same for every
invocation. It moves to module scope when building it there cannot fail at import; otherwise (boto3 clients,
settings read from the environment) it goes behind a module-level ``functools.lru_cache`` factory that the
function calls where it built it, with every read that can fail left in place as an argument. Where only a
cache key (the region) varies, the same factory is keyed by it. Everything else stays, with a note naming
the reason.
"""
from __future__ import annotations

import dataclasses
import functools
import keyword
import re
import sys
from collections.abc import Callable
from typing import TypeVar, cast

import libcst as cst

from codemods._base import FileContext
from codemods.catalog import (
    CLOSING_CALLS,
    HOIST_MARKERS,
    MUTABLE_STATE,
    MUTATING_ATTRIBUTES,
    SHARED_STATE_KINDS,
    VARIABLE_SUFFIX,
    Constructor,
    Reuse,
)
from codemods.python._constancy import Constancy, Function, names_in
from codemods.python._facts import (
    BUILTIN_NAMES,
    FunctionFacts,
    LineIndex,
    ModuleFacts,
    Statement,
    children,
    contains,
    dotted,
    import_bindings,
    lines_of,
    pruned,
    root_name,
    walk,
)
from codemods.python._guards import guard_of
from codemods.python._import_time import Substitute, build_risk, env_read, read_setup, risky_reads, sets_region
from codemods.python._lambda import LambdaCodemod, entry_points, note_not_lambda
from codemods.python._test_patches import patch_for

_Node = TypeVar("_Node", bound=cst.CSTNode)

MARKERS = tuple(sorted(HOIST_MARKERS))


# A cache keyed by region holds a few dozen clients at most; the bound keeps a stream of odd keys
# from growing it without end.
CACHE_SIZE = 32


class HoistClients(LambdaCodemod):
    NAME = "hoist-clients"
    DESCRIPTION = "Build SDK clients, HTTP sessions and connections once per execution environment, not per invocation"
    LANGUAGES = ("python",)
    MARKERS = MARKERS

    def transform(self, tree: cst.Module, ctx: FileContext) -> cst.Module:
        return _Hoister(tree, ctx).run()


class _Refused(Exception):
    """A group of statements cannot move; the message says why."""


@dataclasses.dataclass
class _Walk:
    block: cst.IndentedBlock | None = None
    line: cst.SimpleStatementLine | None = None
    in_try: bool = False
    # The `try` holds nothing but constructions: it is there for their errors, which stay its to catch.
    try_for_construction: bool = False
    with_item: bool = False


@dataclasses.dataclass
class _Insert:
    index: int
    is_import: bool
    build: Callable[[], Statement]


class _Hoister(Constancy):
    def __init__(self, module: cst.Module, ctx: FileContext) -> None:
        super().__init__(module, ctx)
        self._positions: LineIndex | None = None
        self.removals: set[int] = set()
        self.replacements: dict[int, Callable[[cst.Call], cst.BaseExpression]] = {}
        self.renames: dict[int, dict[str, str]] = {}
        self.inserts: list[_Insert] = []
        self.planned: dict[str, str] = {}  # module-level name -> code of the value it will hold
        self.placed_at: dict[str, int] = {}  # module-level name -> where it is inserted
        self.lru_cache: str | None = None
        self.setup = read_setup(self.facts)
        self.init = ctx.options.init
        self.feeds: set[str] = set()
        self.deferred: list[tuple[cst.Call, Constructor, _Walk]] = []

    # -- entry ----------------------------------------------------------------------------------

    def run(self) -> cst.Module:
        handlers = self._handlers()
        if not handlers:
            return self.module
        for fn in self.facts.functions:
            if not _is_cache(fn, self.facts):
                self._plan_function(fn)
        for stmt in self.module.body:
            if isinstance(stmt, cst.ClassDef):
                self._note_constructions(stmt, f"left in class `{stmt.name.value}`: only module-level functions are rewritten")
        if not (self.removals or self.replacements or self.inserts):
            return self.module
        edited = [*self.removals, *self.replacements, *(key for key, names in self.renames.items() if names)]
        return self.module.visit(pruned(_Editor(self), self.module, edited))

    def _handlers(self) -> list[cst.FunctionDef]:
        if self.ctx.entry_points is not None:
            defined = {fn.name.value for fn in self.facts.functions}
            for missing in sorted(self.ctx.entry_points - defined):
                self.ctx.note(1, f"the template names handler `{missing}`, which is not a top-level function here")
        found = entry_points(self.facts, self.ctx)
        if not found:
            note_not_lambda(self.ctx)
        return found

    def line(self, node: cst.CSTNode) -> int:
        if self._positions is None:
            self._positions = lines_of(self.module, self.ctx)
        return self._positions[node]

    # -- reading a function -------------------------------------------------------------------

    def _plan_function(self, node: cst.FunctionDef) -> None:
        facts = FunctionFacts.read(node)
        local_imports: dict[str, str] = {}
        for bindings in facts.bindings.values():
            for binding in bindings:
                if isinstance(binding.node, (cst.Import, cst.ImportFrom)):
                    local_imports.update(import_bindings(binding.node))
        fn = Function(node, facts, local_imports)
        if not isinstance(node.body, cst.IndentedBlock):
            return
        self.feeds = _feeds_only_constructions(self, fn) if self.init != "eager" else set()
        self.deferred = []
        self._walk(node.body, fn, _Walk(block=node.body))
        # A session or resource built only to build clients from goes inside their factories; when none
        # took it, it is planned on its own.
        self.feeds = set()
        for call, ctor, state in self.deferred:
            if id(state.line) not in self.removals:
                self._consider(call, ctor, fn, state)

    def _walk(self, node: cst.CSTNode, fn: Function, state: _Walk) -> None:
        if not contains(node, "Call"):
            return  # every decision below is about a call
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            kind = "nested function" if isinstance(node, cst.FunctionDef) else "class"
            self._note_constructions(
                node, f"left in {kind} `{node.name.value}` inside `{fn.name}`: only module-level functions are rewritten", fn
            )
            return
        if isinstance(node, cst.Lambda):
            return
        if isinstance(node, cst.Call):
            ctor = self.constructor_of(node, fn)
            if ctor is not None and self._consider(node, ctor, fn, state):
                return
        if isinstance(node, (cst.Try, cst.TryStar)):
            alone = all(self._builds_only(cast(Statement, stmt), fn) for stmt in node.body.body)  # a try's block
            self._walk(node.body, fn, dataclasses.replace(state, in_try=True, try_for_construction=alone))
            for child in (*node.handlers, node.orelse, node.finalbody):
                if child is not None:
                    self._walk(child, fn, state)
            return
        if isinstance(node, cst.IndentedBlock):
            state = dataclasses.replace(state, block=node)
        elif isinstance(node, cst.SimpleStatementLine):
            state = dataclasses.replace(state, line=node if len(node.body) == 1 else None)
        elif isinstance(node, cst.BaseCompoundStatement):
            state = dataclasses.replace(state, line=None)
        elif isinstance(node, cst.WithItem):
            self._walk(node.item, fn, dataclasses.replace(state, with_item=True))
            if node.asname is not None:
                self._walk(node.asname, fn, state)
            return
        elif isinstance(node, cst.BaseExpression) and state.with_item:
            # Only the with item itself is closed by the with statement, not what it is built from.
            state = dataclasses.replace(state, with_item=False) if not isinstance(node, cst.Call) else state
        for child in children(node):
            self._walk(child, fn, state)

    def _note_constructions(self, scope: cst.CSTNode, message: str, fn: Function | None = None) -> None:
        hoister = self

        class _Finder(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> bool:
                if hoister.constructor_of(node, fn) is not None:
                    hoister.ctx.note(hoister.line(node), message)
                    return False
                return True

        walk(scope, _Finder())

    # -- what a call builds ---------------------------------------------------------------------

    # -- deciding one construction -----------------------------------------------------------

    def _consider(self, call: cst.Call, ctor: Constructor, fn: Function, state: _Walk) -> bool:
        """Plan or note one construction; False lets the walk look inside it for smaller ones."""
        callee = dotted(call.func) or self.code(call.func)
        shown = f"`{callee}(...)`"
        where = f"left in `{fn.name}`"
        if ctor.reuse is Reuse.NEVER:
            self.ctx.note(self.line(call), f"{where}: {shown}: {ctor.why}")
            return True
        if ctor.reuse is Reuse.GUARD:
            # Not about a guard's own connect() (it is the reused one), nor when reconnect-guards runs too.
            guarded = guard_of(fn.node, self.facts.qualname, self.ctx.options) is not None
            if not guarded and "reconnect-guards" not in self.ctx.running:
                self.ctx.note(self.line(call), f"{where}: {shown}: {ctor.why}")
            return True
        if state.with_item:
            self.ctx.note(self.line(call), f"{where}: {shown} opens a `with` block, which closes it at the end")
            return True
        patch = self._patched_by_tests(call, ctor, fn)
        if patch is not None:
            patched, at = patch
            self.ctx.note(self.line(call), f"{where}: {shown}: the tests patch `{patched}` ({at}); built once, it would "
                                           "outlive each test's patch")
            self._refuse(self._assigned_name(call, state), fn)
            return True

        target = self._assigned_name(call, state)
        if target is not None and target in self.feeds:
            self.deferred.append((call, ctor, state))
            return True
        deps: list[cst.SimpleStatementLine] = []
        why_object = self.variant(call.func, fn, deps)
        if why_object:
            if not isinstance(call.func, cst.Attribute) or not isinstance(call.func.value, cst.Call):
                self.ctx.note(self.line(call), f"{where}: {shown}: `{root_name(call.func)}` {why_object}")
            self._refuse(target, fn)
            return False
        varying = []
        for position, arg in enumerate(call.args):
            why = self.variant(arg.value, fn, deps)
            if why:
                varying.append((position, arg, why))
        if varying:
            keys = [name for _, arg, _ in varying if (name := _keyword_of(arg, call, ctor)) is not None]
            if (
                len(keys) == len(varying)
                and set(keys) <= ctor.cache_keys
                and not any(_unbounded(why) for _, _, why in varying)
            ):
                try:
                    self._plan_lazy(call, ctor, fn, deps, target, state, keys)
                except _Refused as refused:
                    self.ctx.note(self.line(call), f"{where}: {refused}")
                    self._refuse(target, fn)
                return True
            position, arg, why = varying[0]
            label = f"`{arg.keyword.value}`" if arg.keyword is not None else f"argument {position + 1}"
            self.ctx.note(self.line(call), f"{where}: {shown}: {label} {why}")
            self._refuse(target, fn)
            return False
        # In a `try` that also runs what uses it, the construction may move: as a factory, called where it was
        # built, its errors still reach the `except`; at module scope only when building it cannot fail.
        if state.in_try and (
            state.try_for_construction or (self.init == "eager" and self._import_risk(call, fn, deps))
        ):
            self.ctx.note(
                self.line(call),
                f"{where}: {shown} is inside `try`; at module scope its errors would no longer reach the handler",
            )
            self._refuse(target, fn)
            return True
        region_setter = sets_region(self.facts)
        if ctor.at_import and region_setter is not None and "region_name" not in {_keyword_of(a, call, ctor) for a in call.args}:
            self.ctx.note(
                self.line(call),
                f"{where}: {shown} finds its region in the environment, which `{region_setter}` changes when it runs",
            )
            self._refuse(target, fn)
            return True
        try:
            mutations = self._check_uses(target, fn, ctor) if target is not None else []
            if self._lazy_reason(call, fn, [*deps, *mutations]):
                self._plan_lazy(call, ctor, fn, deps, target, state, [])
            elif target is not None:
                assert state.line is not None  # a construction assigned to a target is a statement's
                self._hoist(fn, [*deps, state.line, *mutations], primary=state.line)
            else:
                self._hoist_inline(fn, call, ctor, deps)
        except _Refused as refused:
            self.ctx.note(self.line(call), f"{where}: {refused}")
            self._refuse(target, fn)
        return True

    def _patched_by_tests(self, call: cst.Call, ctor: Constructor, fn: Function) -> tuple[str, str] | None:
        return patch_for(self.ctx, root_name(call.func), self.facts.qualname(call.func, fn.local_imports) or ctor.qualname)

    def _builds_only(self, stmt: cst.BaseStatement, fn: Function) -> bool:
        """``name = <construction>``, a line that only builds a client."""
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
            return False
        small = stmt.body[0]
        return (
            isinstance(small, cst.Assign)
            and isinstance(small.value, cst.Call)
            and self.constructor_of(small.value, fn) is not None
        )

    def _assigned_name(self, call: cst.Call, state: _Walk) -> str | None:
        """The local name when the construction is a whole statement ``name = <call>`` that can move."""
        line = state.line
        if line is None or state.block is None or line not in state.block.body:
            return None
        small = line.body[0]
        if (
            isinstance(small, cst.Assign)
            and small.value is call
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
        ):
            return small.targets[0].target.value
        return None

    def _refuse(self, name: str | None, fn: Function) -> None:
        if name is not None:
            fn.refused.add(name)

    def _check_uses(self, name: str, fn: Function, ctor: Constructor | None = None) -> list[cst.SimpleStatementLine]:
        """Raise _Refused when reusing ``name`` across invocations is unsafe; return mutations to move too."""
        facts = fn.facts
        if name in facts.globals:
            raise _Refused(f"`{name}` is built once through `global {name}`: it is already reused")
        if len(facts.bindings.get(name, ())) != 1:
            raise _Refused(f"`{name}` is assigned more than once in `{fn.name}`")
        uses = _Uses(name, self.facts, fn.local_imports, shared_state=ctor is not None and ctor.produces in SHARED_STATE_KINDS)
        walk(fn.node, uses)
        if uses.closes:
            raise _Refused(f"`{name}` {uses.closes}; a reused client must stay open")
        if uses.escapes:
            raise _Refused(
                f"`{name}` {uses.escapes}, which can change it or close it; a shared one would carry that into the"
                " next invocation"
            )
        moves = []
        for line, mutation in uses.mutations:
            deps: list[cst.SimpleStatementLine] = []
            why = None
            for part in _mutation_inputs(mutation):
                why = why or self.variant(part, fn, deps, allow=frozenset({name}))
            if line is None or id(line) not in facts.body_lines or why or deps:
                reason = f" (its input {why})" if why else ""
                raise _Refused(f"`{self.code(mutation)}` changes `{name}` on every invocation{reason}")
            moves.append(line)
        return moves

    # -- planning moves ------------------------------------------------------------------------

    def _hoist(
        self, fn: Function, lines: list[cst.SimpleStatementLine], primary: cst.SimpleStatementLine | None
    ) -> None:
        """Move whole statements of ``fn`` to module scope (all or none)."""
        plan: list[tuple[cst.SimpleStatementLine, str | None, str, bool]] = []  # line, module name, code, reuse
        chosen: str | None
        renames = dict(self.renames.get(id(fn.node), {}))
        new_names: dict[str, str] = {}
        for line in lines:
            small = line.body[0]
            if isinstance(small, (cst.Import, cst.ImportFrom)):
                for local, qualname in import_bindings(small).items():
                    if self.facts.imports.get(local) not in (None, qualname) or (
                        local not in self.facts.imports and (local in self.facts.bindings or local in self.planned)
                    ):
                        raise _Refused(f"`{self.code(small)}` would clash with the module-level `{local}`")
                reuse = all(self.facts.imports.get(local) == q for local, q in import_bindings(small).items())
                plan.append((line, None, self.code(small), reuse))
                continue
            if isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name) and len(small.targets) == 1:
                local = _assigned_name(small)
                value_code = self.module.code_for_node(_renamed(small.value, {**renames, **new_names}))
                chosen, reuse = self._module_name(local, value_code, fn, base=local, alternate=self._alternate(small.value, fn))
                if chosen != local:
                    new_names[local] = chosen
                plan.append((line, chosen, value_code, reuse))
                continue
            plan.append((line, None, self.code(small), False))  # a mutation: it moves with its object
        for line in lines:
            small = line.body[0]
            if line is not primary and isinstance(small, cst.Assign) and _mutable(small.value, self.facts):
                local = _assigned_name(small)
                escapes = _Escapes(local, {id(moved) for moved in lines})
                walk(fn.node, escapes)
                if escapes.how:
                    raise _Refused(
                        f"`{local}` holds a mutable value that `{fn.name}` {escapes.how}; "
                        "at module scope it would be shared between invocations"
                    )
        renames.update(new_names)
        self.renames[id(fn.node)] = renames
        index = self._placement(lines, fn)
        for line, chosen, code, reuse in plan:
            self.removals.add(id(line))
            small = line.body[0]
            if isinstance(small, cst.Assign):
                fn.hoisted.add(_assigned_name(small))
                if chosen:
                    self.placed_at.setdefault(chosen, index)
                    if not reuse:
                        self.planned[chosen] = code
            elif isinstance(small, (cst.Import, cst.ImportFrom)):
                fn.hoisted.update(import_bindings(small))
            if reuse:
                self.ctx.change(
                    self.line(line), f"`{fn.name}` reuses the module-level `{chosen or self.code(small)}` instead of building its own"
                )
                continue
            is_import = isinstance(small, (cst.Import, cst.ImportFrom))
            self.inserts.append(
                _Insert(
                    self.facts.import_end if is_import else index,
                    is_import,
                    functools.partial(self._moved_renamed, line, fn),
                )
            )
            text = self.code(_renamed(line.body[0], renames))
            if line is primary:
                self.ctx.change(self.line(line), f"hoisted `{text}` from `{fn.name}` to module scope")
            else:
                self.ctx.change(self.line(line), f"hoisted `{text}` from `{fn.name}` with it")

    def _moved_renamed(self, line: cst.SimpleStatementLine, fn: Function) -> cst.SimpleStatementLine:
        """``line`` at module scope, with the names chosen by then (each planned after it is too)."""
        return _moved(_renamed(line, self.renames.get(id(fn.node), {})))

    def _hoist_inline(
        self, fn: Function, call: cst.Call, ctor: Constructor, deps: list[cst.SimpleStatementLine]
    ) -> None:
        if deps:
            self._hoist(fn, deps, primary=None)
        renames = self.renames.get(id(fn.node), {})
        value_code = self.module.code_for_node(_renamed(call, renames))
        chosen, reuse = self._module_name(None, value_code, fn, base=self._base_name(call, ctor))
        self.replacements[id(call)] = functools.partial(_by_name, chosen)
        if reuse:
            self.ctx.change(self.line(call), f"`{fn.name}` reuses the module-level `{chosen}` instead of building its own")
            return
        self.planned[chosen] = value_code
        index = self._placement([], fn, extra_reads=names_in(call))
        self.placed_at[chosen] = index
        def statement() -> cst.SimpleStatementLine:
            value = _renamed(call, self.renames.get(id(fn.node), {}))
            return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(chosen))], value)])

        self.inserts.append(_Insert(index, False, statement))
        self.ctx.change(self.line(call), f"hoisted `{self.code(call)}` from `{fn.name}` to module scope as `{chosen}`")

    # -- built on first use ----------------------------------------------------------------------

    def _lazy_reason(self, call: cst.Call, fn: Function, lines: list[cst.SimpleStatementLine]) -> str:
        """Why this construction, with the statements that move with it, must not run at import ("": it can)."""
        if self.init == "eager":
            return ""
        if self.init == "lazy":
            return '`init = "lazy"` is set'
        return self._import_risk(call, fn, lines)

    def _import_risk(self, call: cst.Call, fn: Function, lines: list[cst.SimpleStatementLine]) -> str:
        """Why building it at import could fail, whatever the `init` setting ("": it cannot)."""
        values = [call, *(_value(line) for line in lines)]
        for value in values:
            reads = risky_reads(value, self.facts, self.setup, fn.local_imports)
            if reads:
                return f"`{self.code(reads[0])}` fails where the variable is not set yet"
        for value in values:
            for inner in _calls(value):
                ctor = self.constructor_of(inner, fn)
                why = build_risk(inner, ctor, self.setup) if ctor is not None else ""
                if why:
                    return why
        return ""

    def _plan_lazy(
        self,
        call: cst.Call,
        ctor: Constructor,
        fn: Function,
        deps: list[cst.SimpleStatementLine],
        target: str | None,
        state: _Walk,
        region_keys: list[str],
    ) -> None:
        """A module-level factory, cached, that builds the value on first use; the handler calls it.

        Every read that can fail (``os.environ["TABLE"]``) stays in the handler, as the factory's argument:
        it fails where it failed before, and a value that changes (a test's monkeypatch) gets its own value.
        """
        mutations = self._check_uses(target, fn, ctor) if target is not None else []
        locals_of = {_bound_local(line): line for line in deps}
        kept: set[str] = set()
        while True:  # a dependency read elsewhere stays in the handler, and so do those it reads
            moving = [line for local, line in locals_of.items() if local not in kept]
            excluded = [call, *moving, *mutations]
            more = {local for local in locals_of if local not in kept and _read_outside(local, fn.node, excluded)}
            if not more:
                break
            kept |= more
        risky: set[str] = set()
        for line in deps:
            value = _value(line)
            if risky_reads(value, self.facts, self.setup, fn.local_imports) or names_in(value) & risky:
                risky.add(_bound_local(line))
        body_deps = [line for line in deps if _bound_local(line) not in (kept & risky)]
        stays_risky = kept & risky
        for line in body_deps:
            local = _bound_local(line)
            if isinstance(line.body[0], cst.Assign) and _mutable(line.body[0].value, self.facts):
                escapes = _Escapes(local, {id(dep) for dep in [*body_deps, *mutations, state.line] if dep is not None})
                walk(fn.node, escapes)
                if escapes.how:
                    raise _Refused(
                        f"`{local}` holds a mutable value that `{fn.name}` {escapes.how}; a value built once from it"
                        " would not see that"
                    )

        keyed: dict[int, str] = {}  # id of a node in the built code -> the factory parameter it becomes
        handler_args: dict[str, cst.BaseExpression] = {}
        region_nodes: set[int] = set()
        for arg in call.args:
            key = _keyword_of(arg, call, ctor)
            if key is not None and key in region_keys:
                keyed[id(arg.value)] = key
                handler_args[key] = arg.value
                region_nodes |= {id(n) for n in _subtree(arg.value)}
        built = [call, *(_value(line) for line in body_deps), *mutations]
        taken = set(handler_args)
        for node in built:
            taken |= names_in(node)
        for node in built:
            for name in _read_names(node):
                if name.value in stays_risky and id(name) not in region_nodes:
                    keyed[id(name)] = name.value
                    handler_args.setdefault(name.value, name)
            for read in risky_reads(node, self.facts, self.setup, fn.local_imports):
                if id(read) in region_nodes:
                    continue
                code = self.module.code_for_node(read)
                param = next((p for p, e in handler_args.items() if self.module.code_for_node(e) == code), None)
                if param is None:
                    param = _param_name(read, self.facts, fn.local_imports, taken)
                    taken.add(param)
                    handler_args[param] = read
                keyed[id(read)] = param
        params = list(handler_args)

        renames = self.renames.get(id(fn.node), {})
        substitute = functools.partial(_substituted, keyed, renames)
        statements: list[cst.BaseStatement] = [_moved(substitute(line)) for line in body_deps]
        if mutations:
            assert target is not None  # only a named construction has mutations
            statements.append(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(target))], substitute(call))]))
            statements.extend(_moved(substitute(line)) for line in mutations)
            statements.append(cst.SimpleStatementLine([cst.Return(cst.Name(target))]))
        else:
            statements.append(cst.SimpleStatementLine([cst.Return(substitute(call))]))
        cache = self._lru_cache()
        nl = self.module.default_newline
        skeleton = cst.ensure_type(cst.parse_statement(
            f"@{cache}(maxsize={CACHE_SIZE if params else None}){nl}def FACTORY({', '.join(params)}):{nl}"
            f"{self.module.default_indent}pass{nl}",
            config=self.module.config_for_parsing,
        ), cst.FunctionDef)
        definition = skeleton.with_changes(body=skeleton.body.with_changes(body=statements))
        source = self.module.code_for_node(definition)
        base = self._base_name(call, ctor)
        factory, reuse = self._module_name(None, source, fn, base=f"{base}_for" if params else f"get_{base}")
        if not reuse:
            self.planned[factory] = source
            definition = definition.with_changes(
                name=cst.Name(factory), leading_lines=[cst.EmptyLine(), cst.EmptyLine()]
            )
            reads = set()
            for node in built:
                reads |= names_in(node)
            reads = (reads - set(params) - {_bound_local(line) for line in body_deps} - {target}) | {cache.split(".")[0]}
            index = self._placement([], fn, extra_reads=reads)
            self.placed_at[factory] = index
            self.inserts.append(_Insert(index, False, functools.partial(_same, definition)))
        for line in [*body_deps, *mutations]:
            if _bound_local(line) not in kept:
                self.removals.add(id(line))

        def replace(updated: cst.Call) -> cst.Call:
            names = self.renames.get(id(fn.node), {})
            return cst.Call(
                cst.Name(factory),
                args=[
                    cst.Arg(
                        _renamed(handler_args[param], names),
                        keyword=cst.Name(param),
                        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if i < len(params) - 1 else cst.MaybeSentinel.DEFAULT,
                    )
                    for i, param in enumerate(params)
                ],
            )

        self.replacements[id(call)] = replace
        if region_keys and set(params) == set(region_keys) and not body_deps and not mutations and self.init != "lazy":
            self.ctx.change(
                self.line(call),
                f"`{fn.name}` now reuses one `{self.code(call.func)}(...)` per {' and '.join(f'`{k}`' for k in region_keys)}"
                f" through the cached factory `{factory}`",
            )
            return
        why = self._lazy_reason(call, fn, [*deps, *mutations]) or "its arguments vary per invocation"
        per = f", one per {' and '.join(f'`{p}`' for p in params)}" if params else ""
        self.ctx.change(
            self.line(call),
            f"`{fn.name}` builds `{self.code(call)}` once, on first use, through the cached factory `{factory}`{per}"
            f" (not at import: {why})",
        )

    def _lru_cache(self) -> str:
        if self.lru_cache is None:
            for local, qualname in self.facts.imports.items():
                if qualname == "functools.lru_cache":
                    self.lru_cache = local
                elif qualname == "functools":
                    self.lru_cache = f"{local}.lru_cache"
            if self.lru_cache is None:
                self.lru_cache = "functools.lru_cache"
                self.inserts.append(
                    _Insert(self._stdlib_slot("functools"), True, lambda: cst.parse_statement("import functools"))
                )
        return self.lru_cache

    # -- names and places ----------------------------------------------------------------------

    def _stdlib_slot(self, module: str) -> int:
        """Where ``import <module>`` goes: in order among the leading standard-library imports."""
        last_stdlib = None
        for index, stmt in enumerate(self.module.body[: self.facts.import_end]):
            if not (isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))):
                continue
            small = stmt.body[0]
            if isinstance(small, cst.ImportFrom):
                name = "." if small.relative else dotted(small.module) or ""
            else:
                name = dotted(small.names[0].name) or ""
            top = name.split(".")[0]
            if top == "__future__":
                last_stdlib = index
                continue
            if top not in sys.stdlib_module_names:
                break
            if name > module:
                return index
            last_stdlib = index
        if last_stdlib is not None:
            return last_stdlib + 1
        first = next(
            (
                i
                for i, stmt in enumerate(self.module.body[: self.facts.import_end])
                if isinstance(stmt, cst.SimpleStatementLine) and isinstance(stmt.body[0], (cst.Import, cst.ImportFrom))
            ),
            None,
        )
        return first if first is not None else self.facts.import_end

    def _base_name(self, call: cst.Call, ctor: Constructor) -> str:
        if ctor.produces == "boto3.subresource" and isinstance(call.func, cst.Attribute):
            return re.sub(r"(?<!^)(?=[A-Z])", "_", call.func.attr.value).lower()
        suffix = VARIABLE_SUFFIX.get(ctor.produces, "client")
        service = None
        if ctor.service_arg is not None:
            position, keyword_name = ctor.service_arg
            for i, arg in enumerate(call.args):
                if (arg.keyword is None and i == position) or (arg.keyword and arg.keyword.value == keyword_name):
                    if isinstance(arg.value, cst.SimpleString) and isinstance(arg.value.evaluated_value, str):
                        service = re.sub(r"\W", "_", arg.value.evaluated_value)
        return f"{service}_{suffix}" if service else suffix

    def _alternate(self, value: cst.BaseExpression, fn: Function) -> str | None:
        if isinstance(value, cst.Call):
            ctor = self.constructor_of(value, fn)
            if ctor is not None:
                return self._base_name(value, ctor)
        return None

    def _module_name(
        self, local: str | None, code: str, fn: Function, base: str, alternate: str | None = None
    ) -> tuple[str, bool]:
        """A module-level name for ``code``: (name, True) when one already holds exactly this value."""
        for name, planned in self.planned.items():
            if planned == code and (local is None or name == local or name not in fn.facts.names):
                return name, True
        if local is not None:
            existing = self.facts.simple_values.get(local)
            if existing is not None and self.module.code_for_node(existing) == code and local not in self.facts.rebound:
                return local, True
        stem = alternate if alternate and alternate != base else base
        candidates = [base, stem] + [f"{stem}_{n}" for n in range(2, 100)]
        for name in candidates:
            if (
                name.isidentifier()
                and not keyword.iskeyword(name)
                and name not in self.facts.bindings
                and name not in self.facts.rebound
                and name not in self.planned
                and name not in BUILTIN_NAMES
                and (name == local or name not in fn.facts.names)
            ):
                return name, False
        raise _Refused(f"no free module-level name for `{base}`")

    def _placement(
        self, lines: list[cst.SimpleStatementLine], fn: Function, extra_reads: frozenset[str] | set[str] = frozenset()
    ) -> int:
        """After the imports, after every module-level statement that binds a name it reads, and after the
        module's own setup of what clients read (``os.environ.setdefault(...)``, ``boto3.setup_default_session()``)."""
        index = max(self.facts.import_end, self.setup.after)
        reads = set(extra_reads)
        for line in lines:
            reads |= names_in(line)
        for name in reads:
            if name in fn.facts.bindings and name not in fn.hoisted and not any(name in _bound_by(moved) for moved in lines):
                continue
            module_name = self.renames.get(id(fn.node), {}).get(name, name)
            if module_name in self.placed_at:
                index = max(index, self.placed_at[module_name])
            elif name not in fn.facts.bindings and name in self.facts.bindings and name not in self.facts.main_only:
                index = max(index, max(self.facts.bindings[name]) + 1)
        return index


# Attributes that hold what other code can change on a shared object: an alias to one escapes it.
_STATE_ATTRIBUTES = MUTABLE_STATE | {"adapters", "meta"}


class _Uses(cst.CSTVisitor):
    """How a function uses one name: what closes it, what changes it, and where it escapes to."""

    def __init__(
        self, name: str, facts: ModuleFacts, local_imports: dict[str, str], shared_state: bool = False
    ) -> None:
        self.name = name
        self.facts = facts
        self.local_imports = local_imports
        self.shared_state = shared_state
        self.closes = ""
        self.escapes = ""
        self.mutations: list[tuple[cst.SimpleStatementLine | None, cst.CSTNode]] = []
        self._line: cst.SimpleStatementLine | None = None

    def _is_it(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node if len(node.body) == 1 else None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._line = None

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if isinstance(node.item, cst.Name) and node.item.value == self.name:
            self.closes = "is used as a `with` block, which closes it at the end"

    def visit_Call(self, node: cst.Call) -> None:
        if any(self._is_it(arg.value) for arg in node.args):
            callee = self.facts.qualname(node.func, self.local_imports) or dotted(node.func) or "..."
            if callee in CLOSING_CALLS:
                self.closes = f"is closed by `{callee}({self.name})`"
            elif self.shared_state and not self.escapes:
                self.escapes = f"is handed to `{callee}(...)`"
        path = dotted(node.func)
        if not path or root_name(node.func) != self.name or "." not in path:
            return
        attrs = path.split(".")[1:]
        if attrs[-1] == "close":
            self.closes = f"is closed by `{path}()`"
        elif attrs[-1] in MUTATING_ATTRIBUTES and (
            attrs[-1] != "update" or any(attr in MUTABLE_STATE for attr in attrs[:-1])
        ):
            self.mutations.append((self._line, node))

    def _target(self, target: cst.BaseExpression, node: cst.CSTNode) -> None:
        if isinstance(target, (cst.Attribute, cst.Subscript)) and root_name(target) == self.name:
            self.mutations.append((self._line, node))

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target, node)
        value = node.value
        alias = self._is_it(value) or (
            isinstance(value, cst.Attribute)
            and root_name(value) == self.name
            and bool(set((dotted(value) or "").split(".")[1:]) & _STATE_ATTRIBUTES)
        )
        if alias and not self.escapes:
            self.escapes = f"is handed to another name (`{self._code(node)}`)"

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target, node)

    def _code(self, node: cst.CSTNode) -> str:
        return re.sub(r"\s+", " ", cst.Module([]).code_for_node(node)).strip()


_MUTABLE_LITERALS = (cst.Dict, cst.List, cst.Set, cst.DictComp, cst.ListComp, cst.SetComp)
_MUTABLE_CALLS = frozenset({"dict", "list", "set", "bytearray", "collections.defaultdict", "collections.OrderedDict"})
_READING_METHODS = frozenset({"get", "keys", "values", "items", "copy", "count", "index"})


def _mutable(value: cst.BaseExpression, facts: ModuleFacts) -> bool:
    if isinstance(value, _MUTABLE_LITERALS):
        return True
    return isinstance(value, cst.Call) and facts.qualname(value.func) in _MUTABLE_CALLS


class _Escapes(cst.CSTVisitor):
    """Whether a function changes a value, or hands it to code that might, outside the given lines."""

    def __init__(self, name: str, skip: set[int]) -> None:
        self.name = name
        self.skip = skip
        self.how = ""

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return id(node) not in self.skip

    def _is_it(self, node: cst.CSTNode) -> bool:
        return isinstance(node, cst.Name) and node.value == self.name

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and self._is_it(func.value) and func.attr.value not in _READING_METHODS:
            self.how = self.how or f"changes with `.{func.attr.value}()`"
        if any(self._is_it(arg.value) for arg in node.args):
            self.how = self.how or "passes to other code"

    def _target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Subscript, cst.Attribute)) and root_name(target) == self.name:
            self.how = self.how or "changes by assignment"

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._target(target.target)
        if self._is_it(node.value):
            self.how = self.how or "hands to another name"

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and self._is_it(node.value):
            self.how = self.how or "returns to its caller"


class _Renamer(cst.CSTTransformer):
    def __init__(self, renames: dict[str, str]) -> None:
        self.renames = renames

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.renames.get(updated_node.value)
        return updated_node.with_changes(value=new) if new else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return updated_node.with_changes(keyword=original_node.keyword)


class _Editor(_Renamer):
    """Applies a plan: removes moved statements, replaces calls, renames, inserts at module scope."""

    def __init__(self, plan: _Hoister) -> None:
        super().__init__({})
        self.plan = plan
        self.stack: list[dict[str, str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(self.plan.renames.get(id(node), self.renames))
        self.renames = self.stack[-1]

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.stack.pop()
        self.renames = self.stack[-1] if self.stack else {}
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        replace = self.plan.replacements.get(id(original_node))
        return replace(updated_node) if replace else updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        if id(original_node) in self.plan.removals:
            return cst.RemoveFromParent()
        return updated_node

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        if original_node.body and id(original_node.body[0]) in self.plan.removals:
            first = cast(Statement, updated_node.body[0])  # a block holds statements
            lines = list(first.leading_lines)
            while lines and lines[0].comment is None:
                lines.pop(0)
            return updated_node.with_changes(body=[first.with_changes(leading_lines=lines), *updated_node.body[1:]])
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        by_index: dict[int, list[_Insert]] = {}
        for insert in self.plan.inserts:
            by_index.setdefault(insert.index, []).append(insert)
        for index in sorted(by_index, reverse=True):
            # Imports first, then assignments, then factory definitions (which read the assignments
            # only when called); blank lines as PEP 8 has them.
            group = sorted(by_index[index], key=lambda i: not i.is_import)
            built = [(insert.is_import, insert.build()) for insert in group]
            built.sort(key=lambda pair: (not pair[0], isinstance(pair[1], cst.FunctionDef)))
            statements: list[Statement] = []
            previous: Statement | None = body[index - 1] if index > 0 else None
            for is_import, stmt in built:
                if previous is not None and not is_import:
                    stmt = _space_after(previous, stmt)
                statements.append(stmt)
                previous = stmt
            if index < len(body) and statements:
                body[index] = _space_after(statements[-1], body[index])
            body[index:index] = statements
        return updated_node.with_changes(body=body)


def _unbounded(why: str) -> bool:
    """Values from calls (time, random, credentials) would make a cache key that never repeats."""
    return "calls `" in why or "credentials" in why


def _without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if args and args[-1].comma is not cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return args


def _is_cache(fn: cst.FunctionDef, facts: ModuleFacts) -> bool:
    """A memoised factory (``@functools.lru_cache``) already builds each value once."""
    for decorator in fn.decorators:
        target = decorator.decorator.func if isinstance(decorator.decorator, cst.Call) else decorator.decorator
        if facts.qualname(target) in ("functools.lru_cache", "functools.cache"):
            return True
    return False


def _mutation_inputs(node: cst.CSTNode) -> list[cst.BaseExpression]:
    """What a mutating statement reads besides the object it changes."""
    if isinstance(node, cst.Call):
        return [arg.value for arg in node.args]
    if isinstance(node, (cst.Assign, cst.AugAssign)):
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        slices = [
            element.slice.value
            for target in targets
            if isinstance(target, cst.Subscript)
            for element in target.slice
            if isinstance(element.slice, cst.Index)
        ]
        return [node.value, *slices]
    return []


def _is_stdlib_import(small: cst.BaseSmallStatement) -> bool:
    if isinstance(small, cst.ImportFrom):
        name = "" if small.relative else dotted(small.module) if small.module else ""
    elif isinstance(small, cst.Import):
        name = dotted(small.names[0].name)
    else:
        return False
    return name is not None and name.split(".")[0] in sys.stdlib_module_names


def _space_after(previous: Statement, stmt: Statement) -> Statement:
    """At least the blank lines PEP 8 asks for between two module-level statements, never fewer than now."""
    compound = (cst.FunctionDef, cst.ClassDef)
    previous_is_import = isinstance(previous, cst.SimpleStatementLine) and isinstance(
        previous.body[0], (cst.Import, cst.ImportFrom)
    )
    if isinstance(previous, compound) or isinstance(stmt, compound):
        wanted = 2
    elif previous_is_import and isinstance(stmt, cst.SimpleStatementLine) and isinstance(
        stmt.body[0], (cst.Import, cst.ImportFrom)
    ):
        # Standard library first, then a blank line, then the rest (isort's sections).
        wanted = int(_is_stdlib_import(cast(cst.SimpleStatementLine, previous).body[0]) and not _is_stdlib_import(stmt.body[0]))
    elif previous_is_import:
        wanted = 1
    else:
        return stmt
    lines = list(stmt.leading_lines)
    blank = 0
    while blank < len(lines) and lines[blank].comment is None:
        blank += 1
    if blank >= wanted:
        return stmt
    return stmt.with_changes(leading_lines=[cst.EmptyLine()] * (wanted - blank) + lines)


def _by_name(name: str, updated: cst.Call) -> cst.BaseExpression:
    return cst.Name(name)


def _same(node: Statement) -> Statement:
    return node


def _substituted(keyed: dict[int, str], renames: dict[str, str], node: _Node) -> _Node:
    """``node`` with the handler's values it reads replaced by the factory's parameters, then renamed."""
    return _renamed(cast(_Node, node.visit(Substitute(keyed))), renames)


def _renamed(node: _Node, renames: dict[str, str]) -> _Node:
    """``node`` with the local names in ``renames`` renamed (renaming never removes or splits a node)."""
    return cast(_Node, node.visit(_Renamer(renames)))


def _assigned_name(small: cst.Assign) -> str:
    """The name of ``name = ...`` (the callers checked the target is a name)."""
    return cst.ensure_type(small.targets[0].target, cst.Name).value


def _moved(line: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """The statement as it stands at module scope: its comments come along, its blank lines do not."""
    return line.with_changes(leading_lines=[line for line in line.leading_lines if line.comment is not None])


def _bound_by(line: cst.SimpleStatementLine) -> set[str]:
    small = line.body[0]
    if isinstance(small, cst.Assign):
        return {t.target.value for t in small.targets if isinstance(t.target, cst.Name)}
    if isinstance(small, (cst.Import, cst.ImportFrom)):
        return set(import_bindings(small))
    return set()


def _value(line: cst.SimpleStatementLine) -> cst.CSTNode:
    small = line.body[0]
    return small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None else small


def _bound_local(line: cst.SimpleStatementLine) -> str:
    return next(iter(sorted(_bound_by(line))), "")


def _keyword_of(arg: cst.Arg, call: cst.Call, ctor: Constructor) -> str | None:
    """The keyword an argument is, or stands for by its position (None: a positional one the row does not name)."""
    if arg.keyword is not None:
        return arg.keyword.value
    if arg.star:
        return None
    position = next(i for i, a in enumerate(call.args) if a is arg)
    return ctor.positional[position] if position < len(ctor.positional) else None


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    found: list[cst.Call] = []

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, n: cst.Call) -> None:
            found.append(n)

        def visit_Lambda(self, n: cst.Lambda) -> bool:
            return False

    walk(node, _Finder())
    return found


def _subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class _All(cst.CSTVisitor):
        def on_visit(self, n: cst.CSTNode) -> bool:
            found.append(n)
            return True

    walk(node, _All())
    return found


def _read_names(node: cst.CSTNode) -> list[cst.Name]:
    """The names ``node`` reads: not attribute names, keywords, parameters or plain assignment targets."""
    found: list[cst.Name] = []

    class _Reads(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            found.append(n)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            walk(n.value, self)
            return False

        def visit_Arg(self, n: cst.Arg) -> bool:
            walk(n.value, self)
            return False

        def visit_AssignTarget(self, n: cst.AssignTarget) -> bool:
            return not isinstance(n.target, cst.Name)

        def visit_Param(self, n: cst.Param) -> bool:
            return False

    walk(node, _Reads())
    return found


def _read_outside(name: str, fn: cst.FunctionDef, excluded: list[cst.CSTNode]) -> bool:
    """Whether ``fn`` reads ``name`` anywhere but inside the ``excluded`` nodes."""
    inside = {id(n) for node in excluded for n in _read_names(node)}
    body = fn.body
    return any(n.value == name and id(n) not in inside for n in _read_names(body))


def _param_name(read: cst.BaseExpression, facts: ModuleFacts, local_imports: dict[str, str], taken: set[str]) -> str:
    found = env_read(read, facts, local_imports)
    stem = re.sub(r"\W+", "_", (found[0] or "") if found else "").strip("_").lower() or "value"
    if stem[0].isdigit():
        stem = f"value_{stem}"
    for name in [stem] + [f"{stem}_{n}" for n in range(2, 100)]:
        if name.isidentifier() and not keyword.iskeyword(name) and name not in taken and name not in BUILTIN_NAMES:
            return name
    raise _Refused(f"no free parameter name for `{stem}`")


def _feeds_only_constructions(hoister: _Hoister, fn: Function) -> set[str]:
    """Locals built once and read only to build other things from (``dynamodb`` in ``dynamodb.Table(...)``)."""
    receivers: dict[str, int] = {}

    class _Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            func = node.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
                if hoister.constructor_of(node, fn) is not None:
                    receivers[func.value.value] = receivers.get(func.value.value, 0) + 1

    walk(fn.node, _Finder())
    reads: dict[str, int] = {}
    for name in _read_names(fn.node.body):
        reads[name.value] = reads.get(name.value, 0) + 1
    return {
        name
        for name, count in receivers.items()
        if reads.get(name) == count and len(fn.facts.bindings.get(name, ())) == 1
    }
