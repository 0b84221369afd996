"""reconnect-guards: reuse database connections across invocations, behind a liveness check.

A connection a handler opens per invocation moves behind a small module-level helper named after it:
the first invocation connects, later ones check the connection against the server (the per-driver
recipe in ``catalog.LIVENESS``) and connect again when it is dead. A module-level connection with no
guard gets the same helper. SQLAlchemy engines are pools: they get ``pool_pre_ping=True`` instead.
"""
from __future__ import annotations

import dataclasses
import functools
import keyword
import re
from collections.abc import Callable
from typing import cast

import libcst as cst

from codemods._base import FileContext
from codemods.catalog import (
    CLOSE_METHODS,
    CONNECTION_STATE_ATTRIBUTES,
    CONNECTION_STATE_METHODS,
    ENGINE_CONSTRUCTORS,
    ENGINE_PRE_PING,
    GUARD_MARKERS,
    RECONNECTS_BY_ITSELF_NOTE,
    Liveness,
    WithExit,
    constructors,
)
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
from codemods.python._guards import checks_like, driver_of, guard_of, guard_source
from codemods.python._import_time import Substitute, env_read, read_setup, risky_reads
from codemods.python._lambda import LambdaCodemod, entry_points
from codemods.python._test_patches import patch_for

# The rule for "the same in every invocation" is shared with hoist-clients: both codemods must agree on it.
from codemods.python._constancy import Constancy, Function


MARKERS = tuple(sorted(GUARD_MARKERS))


class ReconnectGuards(LambdaCodemod):
    NAME = "reconnect-guards"
    DESCRIPTION = "Reuse database connections across invocations, behind a liveness check that reconnects dead ones"
    LANGUAGES = ("python",)
    MARKERS = MARKERS

    def transform(self, tree: cst.Module, ctx: FileContext) -> cst.Module:
        return _Guarder(tree, ctx).run()


@dataclasses.dataclass
class _Guard:
    variable: str
    helper: str
    source: str


class _Guarder:
    def __init__(self, module: cst.Module, ctx: FileContext) -> None:
        self.module = module
        self.ctx = ctx
        self.facts = ModuleFacts.read(module)
        self._positions: LineIndex | None = None
        self._constants: Constancy | None = None
        self.taken: set[str] = set()
        self.guards: dict[str, _Guard] = {}  # source of what the guard builds -> the guard
        self.inserts: dict[int, list[Statement]] = {}  # module body index -> statements before it
        self.imports: list[str] = []
        self.replace_stmt: dict[int, Callable[[cst.CSTNode], list[Statement]]] = {}
        self.replace_call: dict[int, Callable[[cst.Call], cst.BaseExpression]] = {}
        self.removals: set[int] = set()
        self.prologues: dict[int, list[str]] = {}
        self.planned_helpers: set[str] = set()

    # -- entry ----------------------------------------------------------------------------------

    def run(self) -> cst.Module:
        handlers = self._handlers()
        if not handlers:
            return self.module
        for index, stmt in enumerate(self.module.body):
            self._module_statement(index, stmt, handlers)
        for index, stmt in enumerate(self.module.body):
            if not isinstance(stmt, cst.FunctionDef):
                continue
            guard = guard_of(stmt, self.facts.qualname, self.ctx.options)
            if guard is not None:
                self._existing_guard(stmt, *guard)
            elif stmt in handlers:
                self._handler(index, stmt)
            else:
                self._note_calls(stmt, f"left in `{stmt.name.value}`: only handlers are rewritten")
        if not (self.inserts or self.replace_stmt or self.replace_call or self.removals or self.prologues):
            return self.module
        edited = [*self.removals, *self.replace_stmt, *self.replace_call, *self.prologues]
        return self.module.visit(pruned(_Editor(self), self.module, edited))

    def _existing_guard(self, fn: cst.FunctionDef, variable: str, recipe: Liveness) -> None:
        if not checks_like(fn, variable, recipe, self.module):
            check = "; ".join(step.format(conn=variable).replace("\n   ", "") for step in recipe.check)
            self.ctx.note(
                self.line(fn),
                f"left as it is: `{fn.name.value}` keeps `{variable}` with checks of its own; a flag the client keeps"
                f" (`open`, `closed`) is not a liveness check; this driver's proved check is `{check}`",
            )

    def _handlers(self) -> list[cst.FunctionDef]:
        return entry_points(self.facts, self.ctx)

    def line(self, node: cst.CSTNode) -> int:
        if self._positions is None:
            self._positions = lines_of(self.module, self.ctx)
        return self._positions[node]

    def code(self, node: cst.CSTNode) -> str:
        text = re.sub(r"\s*\n\s*", " ", self.module.code_for_node(node).strip())
        return text if len(text) <= 72 else text[:69] + "..."

    def callee(self, call: cst.Call) -> str:
        return f"`{dotted(call.func) or self.code(call.func)}(...)`"

    def _free(self, base: str) -> str:
        for name in [base] + [f"{base}_{n}" for n in range(2, 100)]:
            if (
                name.isidentifier()
                and not keyword.iskeyword(name)
                and name not in self.facts.bindings
                and name not in self.facts.reads
                and name not in BUILTIN_NAMES
                and name not in self.taken
            ):
                self.taken.add(name)
                return name
        raise ValueError(f"no free module-level name for {base}")

    def _kind(self, call: cst.Call, local_imports: dict[str, str] | None = None) -> tuple[str, Liveness | None]:
        qualname = self.facts.qualname(call.func, local_imports)
        if qualname in ENGINE_CONSTRUCTORS:
            return "engine", None
        recipe = driver_of(qualname, self.ctx.options)
        if recipe is not None:
            return "dbapi", recipe
        ctor = constructors(self.ctx.options).get(qualname or "")
        if ctor is not None and ctor.reconnects_by_itself:
            return ctor.produces, None
        return "", None

    def _error_name(self, recipe: Liveness) -> str:
        for local, qualname in self.facts.imports.items():
            if qualname == recipe.module or recipe.module.startswith(qualname + "."):
                return f"{local}{recipe.module[len(qualname):]}.{recipe.error}"
        if recipe.module not in self.imports:
            self.imports.append(recipe.module)
        return f"{recipe.module}.{recipe.error}"

    def _source(self, node: cst.CSTNode) -> str:
        """The code of ``node`` as it reads at column 0 (LibCST keeps indentation relative)."""
        if isinstance(node, cst.SimpleStatementLine):
            node = node.with_changes(leading_lines=[])
        return self.module.code_for_node(node).strip("\n")

    def _guard(
        self, local: str, recipe: Liveness, build: list[str], variable: str | None = None, configure: tuple[str, ...] = ()
    ) -> _Guard:
        key = "\n".join([*build, *configure])
        if key in self.guards and variable is None:
            return self.guards[key]
        base = re.sub(r"^_+", "", local) or "connection"
        variable = variable or self._free(f"_{base}")
        helper = self._free(f"get_{base}")
        source = guard_source(
            variable, helper, recipe, self._error_name(recipe), build, self.module.default_indent, configure
        )
        guard = _Guard(variable, helper, source)
        self.guards[key] = guard
        return guard

    def _statements(self, source: str) -> list[Statement]:
        source = source.replace("\r\n", "\n").replace("\n", self.module.default_newline)
        return list(cst.parse_module(source, config=self.module.config_for_parsing).body)

    # -- module level ---------------------------------------------------------------------------

    def _module_statement(self, index: int, stmt: cst.CSTNode, handlers: list[cst.FunctionDef]) -> None:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return
        single = (
            isinstance(stmt, cst.SimpleStatementLine)
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Assign)
            and len(stmt.body[0].targets) == 1
            and isinstance(stmt.body[0].targets[0].target, cst.Name)
            and isinstance(stmt.body[0].value, cst.Call)
        )
        for call in _calls_in(stmt):
            kind, recipe = self._kind(call)
            if kind == "engine":
                self._pre_ping(call)
            elif kind in RECONNECTS_BY_ITSELF_NOTE:
                self.ctx.note(self.line(call), f"{self.callee(call)}: {RECONNECTS_BY_ITSELF_NOTE[kind]}")
            elif recipe is not None:
                line = cast(cst.SimpleStatementLine, stmt)  # when single
                if single and cast(cst.Assign, line.body[0]).value is call:
                    self._module_connection(index, line, call, recipe, handlers)
                else:
                    self.ctx.note(
                        self.line(call),
                        f"left as it is: {self.callee(call)} at module level is not a plain `name = ...`; "
                        "it has no reconnect guard",
                    )

    def _pre_ping(self, call: cst.Call) -> bool:
        keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
        if ENGINE_PRE_PING in keywords:
            return True
        if any(arg.star for arg in call.args):
            self.ctx.note(self.line(call), f"{self.callee(call)} takes `**` arguments: `{ENGINE_PRE_PING}` not added")
            return False
        if not call.args:
            return False
        self.replace_call[id(call)] = _with_pre_ping
        self.ctx.change(
            self.line(call),
            f"{self.callee(call)} now tests each pooled connection before use (`{ENGINE_PRE_PING}=True`)"
            " and replaces a dead one",
        )
        return True

    def _module_connection(
        self, index: int, stmt: cst.SimpleStatementLine, call: cst.Call, recipe: Liveness, handlers: list
    ) -> None:
        name = cst.ensure_type(cst.ensure_type(stmt.body[0], cst.Assign).targets[0].target, cst.Name).value
        if _multiline_string(call):
            self.ctx.note(self.line(call), f"left as it is: a string spanning lines in {self.callee(call)}")
            return
        if name in self.facts.rebound or len(self.facts.bindings.get(name, [])) != 1:
            self.ctx.note(self.line(call), f"left as it is: `{name}` is bound more than once; it has no reconnect guard")
            return
        elsewhere = [
            other
            for other in self.module.body
            if other is not stmt and not isinstance(other, cst.FunctionDef) and name in _names(other)
        ]
        configure = self._configuration(index, name)
        elsewhere = [other for other in elsewhere if other not in configure]
        if elsewhere:
            self.ctx.note(
                self.line(call),
                f"left as it is: `{name}` is read outside the module's functions (line {self.line(elsewhere[0])});"
                " it has no reconnect guard",
            )
            return
        self.taken.add(name)
        guard = self._guard(
            name, recipe, [self._source(call)], variable=name, configure=tuple(self._source(line) for line in configure)
        )
        self.removals.update(id(line) for line in configure)
        statements = self._statements(guard.source)
        statements[0] = statements[0].with_changes(leading_lines=stmt.leading_lines)
        self.replace_stmt[id(stmt)] = functools.partial(_always, statements)
        # Each handler asks the guard once, at its start, and other functions read the global it keeps.
        # A second check inside the same invocation would roll back the handler's uncommitted work.
        def own(fn: cst.FunctionDef) -> bool:
            facts = FunctionFacts.read(fn)
            return name in facts.names and name not in facts.params and (
                name in facts.globals or name not in facts.bindings
            )

        helpers_read = any(own(fn) for fn in self.facts.functions if fn not in handlers)
        for fn in handlers:
            if own(fn):
                self.prologues.setdefault(id(fn), []).append(f"{name} = {guard.helper}()")
            elif helpers_read:
                self.prologues.setdefault(id(fn), []).append(f"{guard.helper}()")
        self.ctx.change(
            self.line(call),
            f"module-level `{name}`{', with the statements below it that configure it,' if configure else ''} now"
            f" connects on first use and reconnects when dead, through `{guard.helper}()`",
        )

    def _configuration(self, index: int, name: str) -> list[cst.SimpleStatementLine]:
        """The statements right below a module-level connection that configure it (``conn.autocommit = True``,
        ``conn.set_session(readonly=True)``) from constants and imports: each new connection needs them too."""
        found = []
        for stmt in self.module.body[index + 1 :]:
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
                break
            small = stmt.body[0]
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target, value = small.targets[0].target, small.value
                changes = isinstance(target, cst.Attribute) and _is_name(target.value, name)
                reads = [value]
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                changes = isinstance(func, cst.Attribute) and _is_name(func.value, name)
                reads = [arg.value for arg in small.value.args]
            else:
                break
            read = set().union(*(_names(part) for part in reads)) if reads else set()
            if not changes or not read <= set(self.facts.imports) | _CONSTANT_NAMES:
                break
            found.append(stmt)
        return found

    # -- handlers -------------------------------------------------------------------------------

    def _handler(self, index: int, node: cst.FunctionDef) -> None:
        facts = FunctionFacts.read(node)
        local_imports: dict[str, str] = {}
        for bindings in facts.bindings.values():
            for binding in bindings:
                if isinstance(binding.node, (cst.Import, cst.ImportFrom)):
                    local_imports.update(import_bindings(binding.node))
        fn = Function(node, facts, local_imports)
        for call, parents in _calls_with_parents(node):
            kind, recipe = self._kind(call, local_imports)
            if kind == "engine" or recipe is not None:
                self._handler_call(index, fn, call, parents, kind, recipe)

    def _handler_call(
        self, index: int, fn: Function, call: cst.Call, parents: list[cst.CSTNode], kind: str, recipe: Liveness | None
    ) -> None:
        where = f"left in `{fn.name}`: {self.callee(call)}"
        parent = parents[-1]
        statement = next((p for p in reversed(parents) if isinstance(p, cst.BaseStatement)), None)
        if any(isinstance(p, (cst.For, cst.While)) for p in parents):
            self.ctx.note(self.line(call), f"{where} is built in a loop")
            return
        patch = patch_for(self.ctx, root_name(call.func), self.facts.qualname(call.func, fn.local_imports))
        if patch is not None:
            self.ctx.note(self.line(call), f"{where}: the tests patch `{patch[0]}` ({patch[1]}); reused, the "
                                           "connection would outlive each test's patch")
            return
        with_item = isinstance(parent, cst.WithItem) and parent.item is call
        assigned = (
            isinstance(parent, cst.Assign)
            and parent.value is call
            and len(parent.targets) == 1
            and isinstance(parent.targets[0].target, cst.Name)
            and isinstance(statement, cst.SimpleStatementLine)
            and len(statement.body) == 1
        )
        if with_item:
            with_node, item = cst.ensure_type(parents[-2], cst.With), cst.ensure_type(parent, cst.WithItem)
            if len(with_node.items) != 1 or item.asname is None or not isinstance(item.asname.name, cst.Name):
                self.ctx.note(self.line(call), f"{where} opens a `with` block of another shape")
                return
            local = item.asname.name.value
        elif assigned:
            local = cst.ensure_type(cst.ensure_type(parent, cst.Assign).targets[0].target, cst.Name).value
        else:
            self.ctx.note(self.line(call), f"{where} is not assigned to a name of its own")
            return
        if local in fn.facts.globals:
            self.ctx.note(self.line(call), f"{where}: `{local}` is a global that `{fn.name}` rebinds")
            return
        others = [
            b
            for b in fn.facts.bindings.get(local, [])
            if b.node is not parent and b.node is not (parents[-2] if with_item else parent)
            and not (isinstance(b.value, cst.Name) and b.value.value == "None")
        ]
        if others:
            self.ctx.note(self.line(call), f"{where}: `{local}` is bound more than once in `{fn.name}`")
            return
        if self.facts.qualname(call.func) is None:
            self.ctx.note(self.line(call), f"{where}: the driver is imported inside `{fn.name}`")
            return
        if _multiline_string(call):
            self.ctx.note(self.line(call), f"{where}: a string spanning lines cannot be moved without changing it")
            return
        deps: list[cst.SimpleStatementLine] = []
        why = self._constant(fn).variant(call.func, fn, deps)
        label = ""
        for position, arg in enumerate(call.args):
            if why:
                break
            why = self._constant(fn).variant(arg.value, fn, deps)
            label = f"`{arg.keyword.value}`" if arg.keyword is not None else f"argument {position + 1}"
        if why:
            self.ctx.note(self.line(call), f"{where}: {label or 'the driver'} {why}; a new connection per invocation")
            return
        if kind == "engine":
            self._handler_engine(index, fn, call, statement, local, deps, with_item)
            return
        changed = self._state_change(fn, local)
        if changed:
            self.ctx.note(
                self.line(call),
                f"{where}: `{changed}` changes the connection for the rest of its life; a shared one would carry it"
                " into the next invocation (another tenant's rows); a new connection per invocation",
            )
            return
        assert recipe is not None
        if with_item and recipe.with_exit is WithExit.UNSURE:
            self.ctx.note(
                self.line(call),
                f"{where}: its `with` block commits and closes the connection at the end; reuse needs a person to "
                "decide where the transaction ends",
            )
            return
        build = [self._source(dep) for dep in deps] + [self._source(call)]
        guard = self._guard(local, recipe, build)
        if guard.helper not in self.planned_helpers:
            self.planned_helpers.add(guard.helper)
            self.inserts.setdefault(index, []).extend(self._statements(guard.source))
        self.replace_call[id(call)] = functools.partial(_call_to, guard.helper)
        if with_item and recipe.with_exit is WithExit.CLOSES:
            self.replace_stmt[id(parents[-2])] = functools.partial(_with_unwrapped, local, guard.helper)
            how = "its `with` block, which only closed it, is gone"
        elif with_item:
            how = "its `with` block still ends the transaction"
        else:
            how = ""
        self.ctx.change(
            self.line(call),
            f"`{fn.name}` reuses one connection through `{guard.helper}()`, which checks it and reconnects when dead"
            + (f"; {how}" if how else ""),
        )
        self._closes(fn, local, CLOSE_METHODS["dbapi"], recipe.with_exit, "connection")

    def _handler_engine(
        self,
        index: int,
        fn: Function,
        call: cst.Call,
        statement: cst.BaseStatement | None,
        local: str,
        deps: list[cst.SimpleStatementLine],
        with_item: bool,
    ) -> None:
        where = f"left in `{fn.name}`: {self.callee(call)}"
        if with_item or deps:
            self.ctx.note(self.line(call), f"{where} reads values set in `{fn.name}`" if deps else f"{where} opens a `with` block")
            return
        # The engine is built at import, just above the handler: what it reads must be bound by then.
        late = sorted(n for n in _names(call) if any(i >= index for i in self.facts.bindings.get(n, [])))
        if late:
            self.ctx.note(self.line(call), f"{where} reads `{late[0]}`, which the module binds below `{fn.name}`")
            return
        risky = risky_reads(call, self.facts, read_setup(self.facts), fn.local_imports)
        if risky and self.ctx.options.init != "eager":
            self._lazy_engine(index, fn, call, risky)
            return
        name = local if local not in self.facts.bindings and local not in self.taken else self._free(local)
        self.taken.add(name)
        keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
        value = call
        if ENGINE_PRE_PING not in keywords and not any(arg.star for arg in call.args) and call.args:
            value = _with_pre_ping(call)
        self.inserts.setdefault(index, []).append(
            cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])
        )
        if name == local:
            self.removals.add(id(statement))
        else:
            self.replace_call[id(call)] = functools.partial(_name_instead, name)
        self.ctx.change(
            self.line(call),
            f"`{fn.name}` reuses one engine, `{name}`, built at module scope with `{ENGINE_PRE_PING}=True`,"
            " which replaces dead pooled connections",
        )
        self._closes(fn, local, CLOSE_METHODS["engine"], WithExit.TRANSACTION, "engine")

    def _lazy_engine(self, index: int, fn: Function, call: cst.Call, risky: list[cst.BaseExpression]) -> None:
        """An engine whose URL comes from the environment: built on first use, once per URL, so that a module
        imported before its settings exist (a test suite) imports cleanly."""
        params: dict[int, str] = {}
        args: dict[str, cst.BaseExpression] = {}
        for read in risky:
            key = (env_read(read, self.facts, fn.local_imports) or (None,))[0] or "value"
            param = re.sub(r"\W+", "_", key).strip("_").lower() or "value"
            while param in args and self.module.code_for_node(args[param]) != self.module.code_for_node(read):
                param += "_"
            params[id(read)] = param
            args.setdefault(param, read)
        keywords = {arg.keyword.value for arg in call.args if arg.keyword is not None}
        built = cast(cst.Call, call.visit(Substitute(params)))  # substituting names keeps the call a call
        if ENGINE_PRE_PING not in keywords and not any(arg.star for arg in call.args):
            built = _with_pre_ping(built)
        factory = self._free("engine_for")
        if "functools" not in self.facts.imports.values() and "functools" not in self.imports:
            self.imports.append("functools")
        cache = next((f"{local}.lru_cache" for local, q in self.facts.imports.items() if q == "functools"), "functools.lru_cache")
        source = (
            f"@{cache}(maxsize=32)\ndef {factory}({', '.join(args)}):\n"
            f"    return {self.module.code_for_node(built)}\n"
        )
        self.inserts.setdefault(index, []).extend(self._statements(source))
        self.replace_call[id(call)] = lambda updated: cst.Call(
            cst.Name(factory),
            args=[
                cst.Arg(value, keyword=cst.Name(param), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
                for param, value in args.items()
            ],
        )
        self.ctx.change(
            self.line(call),
            f"`{fn.name}` reuses one engine per {', '.join(f'`{p}`' for p in args)} through `{factory}()`, built on first"
            f" use with `{ENGINE_PRE_PING}=True` (not at import: `{self.code(risky[0])}` fails where the variable is not set yet)",
        )
        self._closes(fn, _assigned_local(call, fn) or "", CLOSE_METHODS["engine"], WithExit.TRANSACTION, "engine")

    def _state_change(self, fn: Function, local: str) -> str:
        """A call or assignment in ``fn`` that changes what ``local`` is connected to, per invocation."""
        guarder = self
        found: list[str] = []

        class _Finder(cst.CSTVisitor):
            def visit_Call(self, node: cst.Call) -> None:
                func = node.func
                if (
                    isinstance(func, cst.Attribute)
                    and isinstance(func.value, cst.Name)
                    and func.value.value == local
                    and func.attr.value in CONNECTION_STATE_METHODS
                    and guarder._varies(node.args, fn)
                ):
                    found.append(guarder.code(node))

            def visit_Assign(self, node: cst.Assign) -> None:
                for target in node.targets:
                    t = target.target
                    if (
                        isinstance(t, cst.Attribute)
                        and isinstance(t.value, cst.Name)
                        and t.value.value == local
                        and t.attr.value in CONNECTION_STATE_ATTRIBUTES
                        and guarder._varies([cst.Arg(node.value)], fn)
                    ):
                        found.append(guarder.code(node))

        walk(fn.node, _Finder())
        return found[0] if found else ""

    def _varies(self, args, fn: Function) -> bool:
        return any(self._constant(fn).variant(arg.value, fn, []) for arg in args)

    def _constant(self, fn: Function) -> Constancy:
        if self._constants is None:
            ctx = FileContext(self.ctx.path, self.ctx.entry_points, options=self.ctx.options)
            self._constants = Constancy(self.module, ctx)
        return self._constants

    def _closes(self, fn: Function, local: str, methods: frozenset[str], with_exit: WithExit, what: str) -> None:
        """Remove what closes the reused connection at the end of the handler; note the rest."""
        guarder = self
        body = fn.node.body

        class _Finder(cst.CSTVisitor):
            def __init__(self) -> None:
                self.finally_depth = 0

            def visit_Finally(self, node: cst.Finally) -> None:
                self.finally_depth += 1

            def leave_Finally(self, original_node: cst.Finally) -> None:
                self.finally_depth -= 1

            def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
                return node is fn.node

            def visit_If(self, node: cst.If) -> bool:
                if self.finally_depth and node.orelse is None and _only_names(node.test) <= {local, "None"}:
                    lines = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
                    if lines and all(_closing(line, local, methods) for line in lines):
                        guarder.removals.add(id(node))
                        guarder.ctx.change(
                            guarder.line(node), f"removed `{guarder.code(lines[0])}` from `finally`: the {what} is reused"
                        )
                        return False
                return True

            def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
                if not _closing(node, local, methods):
                    return
                if self.finally_depth or any(node is stmt for stmt in body.body):
                    guarder.removals.add(id(node))
                    place = " from `finally`" if self.finally_depth else ""
                    guarder.ctx.change(
                        guarder.line(node), f"removed `{guarder.code(node)}`{place}: the {what} is reused"
                    )
                else:
                    guarder.ctx.note(
                        guarder.line(node),
                        f"`{guarder.code(node)}` stays: it closes the reused {what}, so the next invocation reconnects",
                    )

            def visit_WithItem(self, node: cst.WithItem) -> None:
                if isinstance(node.item, cst.Name) and node.item.value == local and with_exit is not WithExit.TRANSACTION:
                    guarder.ctx.note(
                        guarder.line(node),
                        f"`with {local}` stays: it closes the reused connection, so the next invocation reconnects",
                    )

        walk(fn.node, _Finder())

    def _note_calls(self, scope: cst.CSTNode, message: str) -> None:
        for call in _calls_in(scope):
            kind, recipe = self._kind(call)
            if kind == "engine" or recipe is not None:
                self.ctx.note(self.line(call), message)


def _multiline_string(node: cst.CSTNode) -> bool:
    found = False

    class _Strings(cst.CSTVisitor):
        def visit_SimpleString(self, n: cst.SimpleString) -> None:
            nonlocal found
            found = found or "\n" in n.value

        def visit_FormattedString(self, n: cst.FormattedString) -> None:
            nonlocal found
            found = found or "\n" in cst.Module([]).code_for_node(n)

    walk(node, _Strings())
    return found


def _with_pre_ping(call: cst.Call) -> cst.Call:
    args = list(call.args)
    new = cst.Arg(
        cst.Name("True"),
        keyword=cst.Name(ENGINE_PRE_PING),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the call is laid out one argument a line, and so is the new one.
        before = args[-2].comma if len(args) > 1 else cst.Comma(whitespace_after=call.whitespace_before_args)
        args[-1] = last.with_changes(comma=before)
        new = new.with_changes(comma=last.comma)
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, new])


def _closing(line: cst.BaseStatement, local: str, methods: frozenset[str]) -> bool:
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 or not isinstance(line.body[0], cst.Expr):
        return False
    call = line.body[0].value
    return (
        isinstance(call, cst.Call)
        and not call.args
        and isinstance(call.func, cst.Attribute)
        and isinstance(call.func.value, cst.Name)
        and call.func.value.value == local
        and call.func.attr.value in methods
    )


def _only_names(expr: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

        def visit_Call(self, node: cst.Call) -> None:
            names.add("<call>")

    walk(expr, _Names())
    return names


_CONSTANT_NAMES = frozenset({"True", "False", "None"})


def _is_name(node: cst.BaseExpression, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

        def visit_Attribute(self, n: cst.Attribute) -> bool:
            walk(n.value, self)
            return False

    walk(node, _Names())
    return names


def _calls_in(scope: cst.CSTNode) -> list[cst.Call]:
    return [call for call, _ in _calls_with_parents(scope)]


def _calls_with_parents(scope: cst.CSTNode) -> list[tuple[cst.Call, list[cst.CSTNode]]]:
    """Every call in a scope, outermost first, with its ancestors; nested scopes are not entered."""
    found: list[tuple[cst.Call, list[cst.CSTNode]]] = []

    def walk(node: cst.CSTNode, parents: list[cst.CSTNode]) -> None:
        if not contains(node, "Call"):
            return
        if parents and isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        if isinstance(node, cst.Call):
            found.append((node, parents))
        for child in children(node):
            walk(child, [*parents, node])

    walk(scope, [])
    return found


class _Editor(cst.CSTTransformer):
    def __init__(self, plan: _Guarder) -> None:
        self.plan = plan

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        replace = self.plan.replace_call.get(id(original_node))
        return replace(updated_node) if replace else updated_node

    def _statement(self, original_node, updated_node):
        if id(original_node) in self.plan.removals:
            return cst.RemoveFromParent()
        replace = self.plan.replace_stmt.get(id(original_node))
        if replace is None:
            return updated_node
        return cst.FlattenSentinel(replace(updated_node))

    leave_SimpleStatementLine = _statement
    leave_If = _statement
    leave_With = _statement

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try):
        final = original_node.finalbody
        if final is None or not all(id(stmt) in self.plan.removals for stmt in final.body.body):
            return updated_node
        if updated_node.handlers:
            return updated_node.with_changes(finalbody=None)
        body = cast(list[Statement], list(updated_node.body.body))
        body[0] = body[0].with_changes(leading_lines=[*original_node.leading_lines, *body[0].leading_lines])
        return cst.FlattenSentinel(body)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock):
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        prologue = self.plan.prologues.get(id(original_node))
        if not prologue or not isinstance(updated_node.body, cst.IndentedBlock):
            return updated_node
        body = list(updated_node.body.body)
        at = 1 if body and _is_docstring(body[0]) else 0
        new = [stmt for line in prologue for stmt in self.plan._statements(line + "\n")]
        return updated_node.with_changes(body=updated_node.body.with_changes(body=[*body[:at], *new, *body[at:]]))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = list(updated_node.body)
        # Indices are those of the original body; statements replaced by several shift them.
        mapping = _index_map(original_node, self.plan)
        for index in sorted(self.plan.inserts, reverse=True):
            statements = list(self.plan.inserts[index])
            statements[0] = statements[0].with_changes(
                leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *statements[0].leading_lines]
            )
            at = mapping[index]
            body[at:at] = statements
        if self.plan.imports:
            at = mapping[self.plan.facts.import_end]
            body[at:at] = [stmt for m in self.plan.imports for stmt in self.plan._statements(f"import {m}\n")]
        return updated_node.with_changes(body=body)


def _always(statements: list[Statement], updated: cst.CSTNode) -> list[Statement]:
    return statements


def _call_to(helper: str, updated: cst.Call) -> cst.BaseExpression:
    return cst.Call(cst.Name(helper))


def _name_instead(name: str, updated: cst.Call) -> cst.BaseExpression:
    return cst.Name(name)


def _with_unwrapped(local: str, helper: str, updated: cst.CSTNode) -> list[Statement]:
    """A `with` block that only closed the connection: ``local = helper()``, then the block's statements."""
    block = cst.ensure_type(updated, cst.With)
    assign = cst.Assign([cst.AssignTarget(cst.Name(local))], cst.Call(cst.Name(helper)))
    return [cst.SimpleStatementLine([assign], leading_lines=block.leading_lines), *cast(list[Statement], block.body.body)]


def _index_map(module: cst.Module, plan: _Guarder) -> dict[int, int]:
    """Original module body index -> index in the edited body."""
    mapping: dict[int, int] = {}
    at = 0
    for index, stmt in enumerate(module.body):
        mapping[index] = at
        replace = plan.replace_stmt.get(id(stmt))
        if id(stmt) in plan.removals:
            continue
        at += len(replace(stmt)) if replace else 1
    mapping[len(module.body)] = at
    return mapping


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _assigned_local(call: cst.Call, fn: Function) -> str | None:
    for name, bindings in fn.facts.bindings.items():
        if any(b.value is call for b in bindings):
            return name
    return None
