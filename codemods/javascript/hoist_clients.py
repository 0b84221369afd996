"""hoist-clients for JavaScript and TypeScript: SDK clients built in a handler move to module scope.

A `const s3 = new AWS.S3(...)` (v2), `new S3Client({...})` (v3) or `DynamoDBDocumentClient.from(...)`
that reads only constants, `process.env` and module-level names moves above the handler, with the
constant locals it reads. Anything read from the event, the context or other per-call values keeps it
where it is, with a note; so does a database connection (its reuse needs care this rewrite does not give).
"""

from __future__ import annotations

import dataclasses
import functools

from codemods._base import Codemod, FileContext
from codemods.catalog import JS_CONSTRUCTORS, JS_MARKERS, JsConstructor, Reuse
from codemods._lambda_code import JS_EVENT_PARAMETERS, JS_HANDLER_NAMES, NOT_LAMBDA_JS
from codemods.javascript._project import project_of
from codemods.javascript._services import SERVICES
from codemods.javascript._tree import (
    DECLARATIONS,
    FUNCTIONS,
    NAME_LEAVES,
    Edit,
    Node,
    apply,
    indent_at,
    is_declaration_site,
    line,
    line_end,
    line_start,
    newline,
    required_module,
    string_value,
    text,
    walk,
)
from rewriter.languages import SourceTree

# Where a handler is recognised without a template naming it.
# The shared rule for which exported functions are handlers when no template names one.
HANDLER_NAMES, EVENT_PARAMETERS = JS_HANDLER_NAMES, JS_EVENT_PARAMETERS
# Clients and connections besides the AWS SDK's: (module, path below its export, built with `new`) -> the row.
_ROWS = {(row.module, row.path, row.new): row for row in JS_CONSTRUCTORS}
GLOBAL_SDK = ("aws-sdk", "aws-sdk/global")
SDK_MODULES = ("aws-sdk", "@aws-sdk/")
# Calls whose result depends only on their (constant) arguments.
PURE_CALLS = frozenset({"Number", "String", "Boolean", "parseInt", "parseFloat", "JSON.parse"})
CONSTANT_LEAVES = frozenset(
    {
        "string",
        "number",
        "true",
        "false",
        "null",
        "undefined",
        "regex",
        "comment",
        "template_string",
        "string_fragment",
        "escape_sequence",
        "property_identifier",
    }
)
CONSTANT_SHAPES = frozenset(
    {
        "object",
        "array",
        "pair",
        "spread_element",
        "parenthesized_expression",
        "binary_expression",
        "unary_expression",
        "ternary_expression",
        "template_substitution",
        "as_expression",
        "satisfies_expression",
        "non_null_expression",
        "computed_property_name",
    }
)
# Methods that change a client for the calls after them, or end it.
MUTATORS = frozenset({"on", "addListener", "middlewareStack", "destroy", "end", "close", "quit", "disconnect"})


class _Left(Exception):
    """A construction stays in the handler; the message says why."""


@dataclasses.dataclass
class _Handler:
    name: str
    function: Node
    statement: Node  # the top-level statement it is defined by, where hoisted code goes above


@dataclasses.dataclass
class _Local:
    statement: Node
    name: str
    depends: list[str]
    # The `process.env` reads it depends on (its own and its locals'), in order, as written.
    env: tuple[str, ...] = ()
    # Whether it must stay in the function: it reads the environment, calls something (`require`,
    # `JSON.parse`: either may throw), or is a client built behind the per-invocation cache.
    stays: bool = False


@dataclasses.dataclass
class _Reads:
    """What ``_constant`` saw in a value besides names: environment reads and calls."""

    env: list[str] = dataclasses.field(default_factory=list)
    calls: bool = False


@dataclasses.dataclass(frozen=True)
class _Write:
    """An assignment to, or change of, a name (or of `process.env`) somewhere in the module."""

    line: int
    function: str | None  # the function it is in; None at module level
    start: int  # where the statement holding it starts, at module level
    assigned: bool  # the name itself is assigned (else: something it holds is changed)


class HoistClients(Codemod[SourceTree]):
    NAME = "hoist-clients"
    DESCRIPTION = "Build SDK clients, HTTP sessions and connections once per execution environment, not per invocation"
    LANGUAGES = ("javascript", "typescript", "tsx")
    MARKERS = tuple(sorted({b"aws-sdk", b"@aws-sdk/", *JS_MARKERS}))

    def transform(self, tree: SourceTree, ctx: FileContext) -> SourceTree:
        return _Hoister(tree, ctx).run()


class _Hoister:
    def __init__(self, tree, ctx: FileContext) -> None:
        self.tree, self.ctx = tree, ctx
        self.data, self.root = tree.data, tree.tree.root_node
        self.exports: dict[str, str] = {}  # local name -> what it is of its module: "*", "default" or an export
        self.bindings = self._bindings()
        self.module_names = self._module_names()
        self.hoisted_names: set[str] = set()
        self.declared: dict[int, set[str]] = {}  # function -> the names declared in it
        self.writes = self._writes()
        self.inserts: dict[int, list[bytes]] = {}  # byte -> blocks to insert there, in order
        self.cached: list[_Handler] = []  # functions with a client behind the per-invocation cache
        self.cache_names: tuple[str, ...] | None = None  # (the cache, the function that reads it)
        self.cache_keys: set[str] = set()

    def run(self):
        handlers = self._handlers()
        if not handlers:
            if any(self._construction(n) for n in walk(self.root)):
                self.ctx.note(1, NOT_LAMBDA_JS)
            return self.tree
        edits: list[Edit] = []
        for handler in handlers:
            edits += self._hoist_from(handler)
        if self.cached:
            first = min(self.cached, key=lambda h: h.statement.start_byte)
            anchor = _leading_comments_start(self.data, first.statement)
            self.inserts.setdefault(anchor, []).insert(0, self._cache_helper(first))
        edits += [Edit(at, at, b"".join(blocks)) for at, blocks in self.inserts.items()]
        return apply(self.tree, edits)

    # What the module binds.

    def _bindings(self) -> dict[str, str]:
        """Local name -> the module it was imported or required from, anywhere in the file."""
        found: dict[str, str] = {}
        for node in walk(self.root):
            if node.type == "import_statement":
                source = string_value(self.data, node.child_by_field_name("source"))
                for leaf in walk(node):
                    if leaf.type == "identifier" and is_declaration_site(leaf) and source:
                        found[text(self.data, leaf)] = source
                        self.exports[text(self.data, leaf)] = _imported_as(self.data, leaf)
                for clause in node.named_children:
                    if clause.type == "import_require_clause":
                        found[text(self.data, clause.named_children[0])] = (
                            string_value(self.data, clause.child_by_field_name("source")) or ""
                        )
            elif node.type == "variable_declarator":
                module = required_module(self.data, node.child_by_field_name("value"))
                if module is None:
                    continue
                for leaf in walk(node.child_by_field_name("name")):
                    if leaf.type in ("identifier", "shorthand_property_identifier_pattern") and is_declaration_site(
                        leaf
                    ):
                        found[text(self.data, leaf)] = module
                        self.exports[text(self.data, leaf)] = _required_as(self.data, leaf)
        return found

    def _module_names(self) -> dict[str, int]:
        """Names declared at module scope -> the byte where their declaration starts."""
        names: dict[str, int] = {}
        for statement in self.root.named_children:
            inner = statement
            if statement.type == "export_statement":
                inner = statement.child_by_field_name("declaration") or statement
            if inner.type in ("function_declaration", "generator_function_declaration"):
                names[text(self.data, inner.child_by_field_name("name"))] = -1  # hoisted by the language
                continue
            for leaf in walk(inner):
                if (
                    leaf.type in ("identifier", "shorthand_property_identifier_pattern", "type_identifier")
                    and is_declaration_site(leaf)
                    and _scope_of(leaf) is None
                ):
                    names.setdefault(text(self.data, leaf), statement.start_byte)
        return names

    def _writes(self) -> dict[str, list[_Write]]:
        """Name -> where the module assigns it or changes what it holds (`x = ...`, `x.y = ...`, `x++`,
        `delete x.y`, `Object.assign(x, ...)`); "process.env" for writes to the environment. A function that
        declares a name of its own is not counted for the module's name."""
        found: dict[str, list[_Write]] = {}
        for node in walk(self.root):
            target = None
            if node.type in ("assignment_expression", "augmented_assignment_expression"):
                target = node.child_by_field_name("left")
            elif node.type == "update_expression":
                target = node.child_by_field_name("argument")
            elif node.type == "unary_expression" and node.children[0].type == "delete":
                target = node.child_by_field_name("argument")
            elif node.type == "call_expression" and text(self.data, node.child_by_field_name("function")).replace(
                " ", ""
            ) in ("Object.assign", "Object.defineProperty", "Object.defineProperties"):
                args = node.child_by_field_name("arguments").named_children
                target = args[0] if args else None
            if target is None:
                continue
            root, chain = _root_of(self.data, target)
            if root is None:
                continue
            name = "process.env" if root == "process" and chain[1:2] == ["env"] else root
            if name == "process":
                continue
            function = _enclosing_function(node)
            if function is not None and name != "process.env" and self._shadowed(name, node):
                continue
            top = node
            while top.parent is not None and top.parent != self.root:
                top = top.parent
            found.setdefault(name, []).append(
                _Write(line(node), self._function_name(function), top.start_byte, target.type == "identifier")
            )
        return found

    def _shadowed(self, name: str, node: Node) -> bool:
        parent = node.parent
        while parent is not None:
            if parent.type in FUNCTIONS and self._defined_in(name, parent):
                return True
            parent = parent.parent
        return False

    def _function_name(self, function: Node | None) -> str | None:
        if function is None:
            return None
        named = function.child_by_field_name("name")
        if named is not None:
            return text(self.data, named)
        holder = function.parent
        while holder is not None and holder.type not in ("variable_declarator", "assignment_expression", "pair"):
            holder = holder.parent if holder.type in ("parenthesized_expression", "arguments") else None
        if holder is not None:
            key = holder.child_by_field_name("name") or holder.child_by_field_name("left") or holder.child_by_field_name(
                "key"
            )
            if key is not None:
                return text(self.data, key).split(".")[-1]
        return "a function"

    def _written_at_run_time(self, name: str, anchor: Node) -> _Write | None:
        """A write of ``name`` that may run after module code above ``anchor``: in a function, or at module
        level below it."""
        for write in self.writes.get(name, ()):
            if write.function is not None or write.start >= anchor.start_byte:
                return write
        return None

    # Handlers.

    def _handlers(self) -> list[_Handler]:
        exported: dict[str, tuple[Node | None, Node]] = {}  # name -> (function or None for a name, statement)
        functions: dict[str, tuple[Node, Node]] = {}
        for statement in self.root.named_children:
            for name, value, exported_here in self._definitions(statement):
                if value is not None and value.type in FUNCTIONS:
                    functions[name] = (value, statement)
                if exported_here:
                    exported[name] = (value, statement)
        handlers: list[_Handler] = []
        found: set[str] = set()
        wanted = self.ctx.entry_points
        for name, (value, statement) in exported.items():
            if value is not None and value.type in ("identifier", "shorthand_property_identifier"):
                value, statement = functions.get(text(self.data, value), (None, statement))
            elif value is None:
                value, statement = functions.get(name, (None, statement))
            if value is None or value.type not in FUNCTIONS:
                continue
            if wanted is not None and name not in wanted:
                continue
            if (
                wanted is None
                and name not in HANDLER_NAMES
                and _first_parameter(self.data, value) not in EVENT_PARAMETERS
            ):
                continue
            found.add(name)
            if all(h.function != value for h in handlers):  # one function exported under two names
                handlers.append(_Handler(name, value, statement))
        if wanted is not None:
            for missing in sorted(wanted - found):
                self.ctx.note(1, f"the template names handler `{missing}`, which is not an exported function here")
        self.entries = list(handlers)
        return handlers + self._helpers(handlers, functions)

    def _helpers(self, handlers: list[_Handler], functions: dict[str, tuple[Node, Node]]) -> list[_Handler]:
        """Top-level functions a handler calls by name, directly or through another helper: they run per
        invocation too. One that module code may call during init is left out: the client moved above its
        definition would not exist yet when a hoisted function declaration runs earlier in the file."""
        seen = {h.function.id for h in handlers}
        found: list[_Handler] = []
        pending = [h.function for h in handlers]
        while pending:
            caller = pending.pop()
            for node in walk(caller):
                callee = node.child_by_field_name("function") if node.type == "call_expression" else None
                if callee is None or callee.type != "identifier":
                    continue
                name = text(self.data, callee)
                value, statement = functions.get(name, (None, None))
                if value is None or value.id in seen or self._defined_in(name, caller):
                    continue
                seen.add(value.id)
                if self._used_during_init(name, statement):
                    if any(self._construction(n.child_by_field_name("value")) for n in walk(value)
                           if n.type == "variable_declarator"):
                        self.ctx.note(line(statement), f"left in `{name}`: module code above its definition calls "
                                      "it during init, before a client moved there would exist")
                    continue
                found.append(_Handler(name, value, statement))
                pending.append(value)
        return found

    def _used_during_init(self, name: str, statement: Node) -> bool:
        """Whether module code outside any function mentions ``name`` above its definition."""
        for node in walk(self.root):
            if node.start_byte >= statement.start_byte:
                break
            if node.type == "identifier" and text(self.data, node) == name and not _inside_function(node):
                return True
        return False

    def _definitions(self, statement: Node):
        """(name, value node, exported?) for what a top-level statement defines or exports."""
        data = self.data
        if statement.type == "export_statement":
            declaration = statement.child_by_field_name("declaration")
            if declaration is not None:
                for name, value, _ in self._definitions(declaration):
                    yield name, value, True
            for clause in statement.named_children:
                if clause.type == "export_clause":
                    for spec in clause.named_children:
                        name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                        yield text(data, alias or name), name, True
            return
        if statement.type in ("function_declaration", "generator_function_declaration"):
            yield text(data, statement.child_by_field_name("name")), statement, False
        elif statement.type in DECLARATIONS:
            for declarator in statement.named_children:
                name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
                if (
                    declarator.type == "variable_declarator"
                    and name is not None
                    and name.type == "identifier"
                    and value
                ):
                    yield text(data, name), value, False
        elif statement.type == "expression_statement" and statement.named_children[0].type == "assignment_expression":
            assignment = statement.named_children[0]
            left, right = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
            target = text(data, left).replace(" ", "")
            if target.startswith(("exports.", "module.exports.")) and left.type == "member_expression":
                yield text(data, left.child_by_field_name("property")), right, True
            elif target == "module.exports" and right.type == "object":
                for part in right.named_children:
                    if part.type == "shorthand_property_identifier":
                        yield text(data, part), part, True
                    elif part.type == "pair":
                        yield text(data, part.child_by_field_name("key")), part.child_by_field_name("value"), True

    # Constructions.

    def _construction(self, value: Node | None) -> str | JsConstructor | None:
        """ "client" for an AWS SDK client, the catalogue's row for another client or connection, else None."""
        if value is None:
            return None
        if value.type == "await_expression" and value.named_children:
            value = value.named_children[0]
        if value.type == "new_expression":
            parts = _dotted(self.data, value.child_by_field_name("constructor"))
        elif value.type == "call_expression":
            parts = _dotted(self.data, value.child_by_field_name("function"))
        else:
            return None
        if not parts or parts[0] not in self.bindings:
            return None
        module, rest = self.bindings[parts[0]], parts[1:]
        if value.type == "new_expression" and self._client_class(module, parts[0], rest):
            return "client"
        if value.type == "call_expression" and module == "@aws-sdk/lib-dynamodb" and rest == ["from"]:
            return "client"
        export = self.exports.get(parts[0], "*")
        path = tuple(rest) if export in ("*", "default") else (export, *rest)
        return _ROWS.get((module, path, value.type == "new_expression"))

    def _client_class(self, module: str, name: str, rest: list[str]) -> bool:
        if module in ("aws-sdk", "aws-sdk/global"):
            services = rest if rest and rest[0] in SERVICES else [name, *rest]  # `AWS.S3` or `{ S3 }`
            return services[0] in SERVICES and services[1:] in ([], ["DocumentClient"])
        if module.startswith("aws-sdk/clients/"):
            return rest in ([], ["DocumentClient"])
        if module.startswith("@aws-sdk/client-"):  # `S3Client`, or the aggregated `S3` that sdk-v3 writes
            return not rest and (name.endswith("Client") or name in SERVICES)
        return False

    def _hoist_from(self, handler: _Handler) -> list[Edit]:
        body = handler.function.child_by_field_name("body")
        if body is None or body.type != "statement_block":
            return []
        params = _parameters(self.data, handler.function)
        locals_: dict[str, _Local] = {}  # constant locals seen so far, which may move with a client
        moving: list[Node] = []
        edits: list[Edit] = []
        config_changed = self._config_changes_after(handler.statement)
        env_written = self._written_at_run_time("process.env", handler.statement)
        for statement in body.named_children:
            declared = _single_declaration(self.data, statement)
            if declared is None:
                self._note_nested(statement, handler)
                continue
            name, value = declared
            kind = self._construction(value)
            if kind is None:
                reads = _Reads()
                depends = self._constant(value, params, locals_, handler, reads=reads, construction=False)
                if (
                    depends is not None
                    and not self._reassigned(name, body, statement)
                    and not self._mutated(name, body)
                ):
                    locals_[name] = self._local(statement, name, depends, reads, locals_)
                continue
            shown = text(self.data, value).split("\n")[0][:60]
            try:
                if isinstance(kind, JsConstructor):
                    self._reusable_row(kind, name, value, handler)
                module = self._module_of(value)
                if module is not None and project_of(self.ctx).mocks(module):
                    raise _Left(
                        f"the project's tests mock `{module}` (aws-sdk-mock, jest.mock or __mocks__), which reaches "
                        "only a client built inside the function under test"
                    )
                if config_changed:
                    raise _Left(
                        "the client copies the global `config` when it is built, and the code changes that "
                        f"config on line {config_changed}, after the place the client would move to"
                    )
                if env_written is not None:
                    where = f" in `{env_written.function}`" if env_written.function else ""
                    raise _Left(
                        f"the code writes `process.env` on line {env_written.line}{where}, per invocation: a client "
                        "reads the environment when it is built and when it first sends"
                    )
                reads = _Reads()
                depends = self._constant(value, params, locals_, handler, explain=True, reads=reads)
                assert depends is not None  # explaining, it raises _Left where it would give None
                self._reusable(name, body, statement)
                local = self._local(statement, name, depends, reads, locals_)
                if isinstance(kind, JsConstructor) and kind.connects_when_built:
                    local = dataclasses.replace(local, stays=True)
                if local.stays:
                    if value.type == "await_expression":
                        raise _Left("it is built with `await`, and must stay where its settings are read")
                    edits.append(self._behind_cache(handler, name, value, local.env))
                    locals_[name] = dataclasses.replace(local, stays=True)
                    keys = ", ".join(f"`{read}`" for read in local.env)
                    again = f"and again only when {keys} changes" if keys else "and reused after"
                    self.ctx.change(
                        line(statement),
                        f"hoisted `{shown}` from `{handler.name}` behind a module-level cache: built at the first "
                        f"invocation, not at import, {again}",
                    )
                    continue
                group = [s for s in self._with_dependencies(depends, locals_) if s not in moving] + [statement]
                for moved in group:
                    moved_name = _declared_name(self.data, moved)
                    if moved_name in self.module_names or moved_name in self.hoisted_names:
                        raise _Left(f"`{moved_name}` is already a name at module scope")
                    _own_lines(self.data, moved)
            except _Left as left:
                self.ctx.note(line(statement), f"left in `{handler.name}`: `{shown}`: {left}")
                continue
            for moved in group:
                if moved not in moving:
                    moving.append(moved)
                    self.hoisted_names.add(_declared_name(self.data, moved))
            locals_[name] = local
            self.ctx.change(line(statement), f"hoisted `{shown}` from `{handler.name}` to module scope")
        if edits and handler not in self.cached:
            self.cached.append(handler)
        if not moving:
            return edits
        moving.sort(key=lambda n: n.start_byte)
        for dependency in moving:
            name, value = _declared(self.data, dependency)
            if self._construction(value) is None:
                self.ctx.change(
                    line(dependency), f"hoisted `{name}` from `{handler.name}` with the client that reads it"
                )
        return edits + self._move(moving, handler)

    def _reusable_row(self, row: JsConstructor, name: str, value: Node, handler: _Handler) -> None:
        """Raise _Left when a client or connection of the catalogue cannot be reused from module scope."""
        body = handler.function.child_by_field_name("body")
        # A helper may run under any handler of the file.
        waiting = [h.name for h in (self.entries if handler not in self.entries else [handler])
                   if not _waits_for_nothing(self.data, h.function)]
        if row.reuse is Reuse.NEVER:
            raise _Left(row.why)
        if value.type == "await_expression":
            raise _Left("it is built with `await`, which module scope of a CommonJS module cannot do")
        if row.holds_socket and waiting:
            raise _Left(
                f"it keeps a connection open, and `{waiting[0]}` is not async: its invocations would "
                "wait for the event loop to empty, until the timeout (`callbackWaitsForEmptyEventLoop`)"
            )
        for node in walk(body):
            if node.type == "member_expression" and text(self.data, node.child_by_field_name("object")) == name:
                member = text(self.data, node.child_by_field_name("property"))
                if member in row.once:
                    raise _Left(f"`{name}.{member}()` may run only once on a client, and the handler calls it each time")

    def _changes_global_config(self, node: Node) -> bool:
        """`AWS.config.update(...)`, `AWS.config.region = ...` (not a client's own `s3.config`)."""
        if not _is_config_update(self.data, node):
            return False
        if node.type == "call_expression":
            config = node.child_by_field_name("function").child_by_field_name("object")
        else:
            config = node.child_by_field_name("left").child_by_field_name("object")
        parts = _dotted(self.data, config)
        root = parts[:-1] or parts
        return bool(parts) and parts[-1] == "config" and len(root) == 1 and self.bindings.get(root[0]) in GLOBAL_SDK

    def _config_changes_after(self, anchor: Node) -> int | None:
        """The line of a change to the SDK's global config that runs after module code above ``anchor``
        (later at module level, or in any function), if there is one: a client built above it would miss it."""
        for statement, node in self._config_changes:
            if statement.start_byte >= anchor.start_byte or _scope_of(node) is not None:
                return line(node)
        return None

    @functools.cached_property
    def _config_changes(self) -> list[tuple[Node, Node]]:
        """(top-level statement, the change in it) of every change to the SDK's global config, in source order:
        found in one walk of the module, not one per client."""
        return [(statement, node) for statement in self.root.named_children for node in walk(statement)
                if self._changes_global_config(node)]

    def _with_dependencies(self, depends: list[str], locals_: dict[str, _Local]) -> list[Node]:
        found: list[Node] = []
        pending = list(depends)
        while pending:
            local = locals_[pending.pop()]
            if local.statement not in found:
                found.append(local.statement)
                pending.extend(local.depends)
        return sorted(found, key=lambda n: n.start_byte)

    def _local(
        self, statement: Node, name: str, depends: list[str], reads: _Reads, locals_: dict[str, _Local]
    ) -> _Local:
        env = list(reads.env)
        stays = reads.calls or bool(env)
        for dependency in depends:
            known = locals_[dependency]
            env += [read for read in known.env if read not in env]
            stays = stays or known.stays
        return _Local(statement, name, depends, tuple(env), stays)

    def _module_of(self, value: Node) -> str | None:
        if value.type == "await_expression" and value.named_children:
            value = value.named_children[0]
        callee = value.child_by_field_name("constructor" if value.type == "new_expression" else "function")
        parts = _dotted(self.data, callee)
        return self.bindings.get(parts[0]) if parts else None

    def _constant(
        self,
        value: Node,
        params: set[str],
        locals_: dict[str, _Local],
        handler: _Handler,
        explain: bool = False,
        reads: _Reads | None = None,
        construction: bool = True,
    ) -> list[str] | None:
        """The handler locals ``value`` reads, when it is the same for every invocation; else None (or _Left).
        ``reads`` collects the `process.env` reads and calls met on the way: the value is the same for every
        invocation, but not necessarily at import (a test sets the environment later; `require` may throw)."""
        depends: list[str] = []
        reads = reads if reads is not None else _Reads()
        built = _awaited(value) if construction else None  # the construction itself is no call to check
        # The class or factory it is built with is read from its module as it is: no getter runs.
        callee = built.child_by_field_name("constructor" if built.type == "new_expression" else "function") if built else None
        while callee is not None and callee.type == "member_expression":
            callee = callee.child_by_field_name("object")

        def refuse(node: Node, why: str):
            if explain:
                raise _Left(why)
            return None

        stack = [value]
        while stack:
            node = stack.pop()
            kind = node.type
            if kind in CONSTANT_LEAVES and kind != "template_string":
                continue
            if kind in ("template_string", "arguments", "new_expression", "call_expression") or kind in CONSTANT_SHAPES:
                if kind == "call_expression" and node != built and not self._pure_call(node):
                    return refuse(node, f"it calls `{text(self.data, node.child_by_field_name('function'))}()`")
                if kind in ("call_expression", "new_expression") and node != built:
                    reads.calls = True
                stack.extend(c for c in node.named_children if c.type != "type_arguments")
                continue
            if kind in ("member_expression", "subscript_expression"):
                if text(self.data, node.child_by_field_name("object")).replace(" ", "") == "process.env":
                    index = node.child_by_field_name("index")
                    if index is None or index.type == "string":
                        read = text(self.data, node).replace(" ", "")
                        if read not in reads.env:
                            reads.env.append(read)
                        continue
                elif text(self.data, node).replace(" ", "") == "process.env":
                    return refuse(node, "it reads the whole `process.env`")
                stack.extend(c for c in node.named_children if c.type != "property_identifier")
                continue
            if kind in ("identifier", "shorthand_property_identifier"):
                name = text(self.data, node)
                if name in params:
                    return refuse(node, f"it reads `{name}`, which comes with each invocation")
                if name in locals_:
                    depends.append(name)
                    continue
                if self._defined_in(name, handler.function):
                    return refuse(node, f"it reads `{name}`, which the handler computes per invocation")
                module = self.bindings.get(name)
                if module is not None and not module.startswith(SDK_MODULES) and node != callee:
                    # What another module exports may be read through a getter (`config.region` reading
                    # process.env when asked): read at import, it could differ, or throw.
                    reads.calls = True
                where = self.module_names.get(name)
                if where is not None and where > handler.statement.start_byte:
                    return refuse(node, f"it reads `{name}`, defined after the handler")
                write = self._written_at_run_time(name, handler.statement) if where is not None else None
                if write is not None:
                    how = "assigns" if write.assigned else "changes"
                    who = f"`{write.function}`" if write.function else "module code below the handler"
                    return refuse(
                        node,
                        f"it reads `{name}`, which {who} {how} on line {write.line}: a client built at import would "
                        "not see that",
                    )
                if where is None and name not in (
                    "undefined",
                    "process",
                    "require",
                    "Number",
                    "String",
                    "Boolean",
                    "parseInt",
                    "parseFloat",
                    "JSON",
                ):
                    return refuse(node, f"it reads `{name}`, which is not a module-level name")
                continue
            return refuse(node, f"`{text(self.data, node)[:40]}` may differ between invocations")
        return depends

    def _pure_call(self, call: Node) -> bool:
        function = call.child_by_field_name("function")
        if required_module(self.data, call) is not None:
            return True
        return text(self.data, function) in PURE_CALLS

    def _defined_in(self, name: str, function: Node) -> bool:
        if function.id not in self.declared:
            self.declared[function.id] = {
                text(self.data, leaf)
                for leaf in walk(function)
                if leaf.type in ("identifier", "shorthand_property_identifier_pattern") and is_declaration_site(leaf)
            }
        return name in self.declared[function.id]

    def _reassigned(self, name: str, body: Node, declaration: Node) -> bool:
        for node in walk(body):
            if node.type in ("assignment_expression", "augmented_assignment_expression", "update_expression"):
                target = node.child_by_field_name("left") or node.child_by_field_name("argument")
                if target is not None and target.type == "identifier" and text(self.data, target) == name:
                    return True
        return (
            sum(
                1
                for leaf in walk(body)
                if leaf.type == "identifier" and text(self.data, leaf) == name and is_declaration_site(leaf)
            )
            > 1
        )

    def _mutated(self, name: str, body: Node) -> bool:
        """Whether the handler changes what ``name`` holds (`opts.region = ...`, `Object.assign(opts, ...)`)."""
        for node in walk(body):
            if node.type in ("assignment_expression", "augmented_assignment_expression"):
                target = _dotted(self.data, node.child_by_field_name("left"))
                if len(target) > 1 and target[0] == name:
                    return True
            if (
                node.type == "call_expression"
                and text(self.data, node.child_by_field_name("function")) == "Object.assign"
            ):
                args = node.child_by_field_name("arguments").named_children
                if args and text(self.data, args[0]) == name:
                    return True
        return False

    def _reusable(self, name: str, body: Node, declaration: Node) -> None:
        if self._reassigned(name, body, declaration):
            raise _Left(f"`{name}` is assigned more than once")
        for node in walk(body):
            if node.type != "member_expression" or text(self.data, node.child_by_field_name("object")) != name:
                continue
            member = text(self.data, node.child_by_field_name("property"))
            parent = node.parent
            if parent.type == "assignment_expression" and parent.child_by_field_name("left") == node:
                raise _Left(f"`{name}.{member}` is assigned per invocation")
            if member in MUTATORS or (member == "config" and _is_config_update(self.data, parent.parent)):
                raise _Left(f"`{name}.{member}` changes or ends the client per invocation")

    def _note_nested(self, statement: Node, handler: _Handler) -> None:
        for node in walk(statement):
            if node.type == "variable_declarator" and self._construction(node.child_by_field_name("value")):
                where = _nearest_block(node, statement)
                shown = text(self.data, node.child_by_field_name("value")).split("\n")[0][:60]
                self.ctx.note(line(node), f"left in `{handler.name}`: `{shown}`: built inside {where}")
            elif node.type == "assignment_expression" and self._construction(node.child_by_field_name("right")):
                self._note_assigned(node, statement, handler)

    def _note_assigned(self, node: Node, statement: Node, handler: _Handler) -> None:
        """`s3 = new AWS.S3()`: what the name is decides, and each case stays as it is."""
        left = node.child_by_field_name("left")
        shown = text(self.data, node.child_by_field_name("right")).split("\n")[0][:60]
        name = text(self.data, left)
        if left.type != "identifier":
            why = f"it is stored in `{name[:40]}`, not in a variable of its own"
        elif self._defined_in(name, handler.function):
            why = f"`{name}` is declared apart from it, in `{handler.name}`"
        elif name in self.module_names:
            # `let s3; ... if (!s3) s3 = new S3()`: the code reuses it already, or means to rebuild it.
            why = f"`{name}` is a module-level variable that `{handler.name}` assigns: it decides itself when to build"
        else:
            # Sloppy-mode CommonJS makes it a property of the global object, which any module can read or replace
            # (an ES module throws ReferenceError here).
            why = f"`{name}` is not declared: an implicit global, which any module can read or replace"
        where = _nearest_block(node, statement) if node.parent is not statement else None
        inside = f" (inside {where})" if where and where != "a block" else ""
        self.ctx.note(line(node), f"left in `{handler.name}`: `{shown}`: {why}{inside}")

    def _move(self, moving: list[Node], handler: _Handler) -> list[Edit]:
        data, nl = self.data, newline(self.data)
        removed: list[tuple[int, int]] = []
        block: list[bytes] = []
        for statement in moving:
            start = _leading_comments_start(data, statement)
            end = line_end(data, statement.end_byte)
            indent = indent_at(data, statement.start_byte)
            lines = data[start:end].splitlines(keepends=True)
            block += [row[len(indent) :] if row.startswith(indent) else row.lstrip(b" \t") for row in lines]
            if removed and removed[-1][1] == start:
                removed[-1] = (removed[-1][0], end)
            else:
                removed.append((start, end))
        edits = [Edit(start, _blank_line_after(data, start, end), b"") for start, end in removed]
        if not block[-1].endswith((b"\n", b"\r")):
            block[-1] += nl
        anchor = _leading_comments_start(data, handler.statement)
        self.inserts.setdefault(anchor, []).append(b"".join(block) + nl)
        return edits

    # The per-invocation cache, for clients whose settings come from the environment.

    def _names_free(self, *wanted: str) -> tuple[str, ...]:
        taken = {text(self.data, n) for n in walk(self.root) if n.type in NAME_LEAVES}
        suffix = ""
        while any(f"{name}{suffix}" in taken for name in wanted):
            suffix = str(int(suffix or 1) + 1)
        return tuple(f"{name}{suffix}" for name in wanted)

    def _behind_cache(self, handler: _Handler, name: str, value: Node, env: tuple[str, ...]) -> Edit:
        if self.cache_names is None:
            self.cache_names = self._names_free("reusedClients", "reusedClient")
        key, count = name, 2
        while key in self.cache_keys:
            key, count = f"{name}{count}", count + 1
        self.cache_keys.add(key)
        quote = _quote(self.data, self.root)
        state = f"JSON.stringify([{', '.join(env)}])" if env else f"{quote}{quote}"
        wrapped = f"{self.cache_names[1]}({quote}{key}{quote}, {state}, () => {text(self.data, value)})"
        return Edit(value.start_byte, value.end_byte, wrapped.encode())

    def _cache_helper(self, first: _Handler) -> bytes:
        assert self.cache_names is not None  # a client went behind the cache
        cache, function = self.cache_names
        nl = newline(self.data).decode()
        body = first.function.child_by_field_name("body")
        inner = body.named_children[0] if body is not None and body.named_children else None
        unit = (indent_at(self.data, inner.start_byte) if inner is not None else b"").decode() or "  "
        unit = unit[: len(unit) - len(indent_at(self.data, first.statement.start_byte))] or "  "
        typed = self.tree.dialect != "javascript"
        lines = [
            "// Clients built at the first invocation, not at import (a test may set process.env after importing",
            "// this module, and a failure stays in the handler), then reused until an environment variable they",
            "// read changes: in Lambda, once per execution environment.",
            f"const {cache}: {{ [name: string]: {{ key: string; client: unknown }} }} = {{}};"
            if typed
            else f"const {cache} = {{}};",
            f"function {function}<T>(name: string, key: string, build: () => T): T {{"
            if typed
            else f"function {function}(name, key, build) {{",
            f"{unit}let held = {cache}[name];",
            f"{unit}if (held === undefined || held.key !== key) {{",
            f"{unit}{unit}held = {cache}[name] = {{ key, client: build() }};",
            f"{unit}}}",
            f"{unit}return held.client{' as T' if typed else ''};",
            "}",
        ]
        semicolons = b";\n" in self.data or b";\r\n" in self.data
        if not semicolons:
            lines = [row[:-1] if row.endswith(";") and not row.startswith("//") else row for row in lines]
        return (nl.join(lines) + nl + nl).encode()


def _awaited(value: Node) -> Node:
    return value.named_children[0] if value.type == "await_expression" and value.named_children else value


def _enclosing_function(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTIONS:
            return parent
        parent = parent.parent
    return None


def _root_of(data: bytes, target: Node) -> tuple[str | None, list[str]]:
    """(`opts`, [`opts`, `region`]) for `opts.region` or `opts['region']`; (None, []) for anything else."""
    chain: list[str] = []
    node = target
    while node is not None and node.type in ("member_expression", "subscript_expression", "parenthesized_expression"):
        if node.type == "member_expression":
            chain.append(text(data, node.child_by_field_name("property")))
            node = node.child_by_field_name("object")
        elif node.type == "subscript_expression":
            chain.append("[]")
            node = node.child_by_field_name("object")
        else:
            node = node.named_children[0] if node.named_children else None
    if node is None or node.type != "identifier":
        return None, []
    return text(data, node), [text(data, node), *reversed(chain)]


def _quote(data: bytes, root: Node) -> str:
    for node in walk(root):
        if node.type == "string":
            return text(data, node)[0]
    return "'"


def _inside_function(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTIONS:
            return True
        parent = parent.parent
    return False


def _scope_of(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTIONS or parent.type in ("statement_block", "class_body"):
            return parent
        parent = parent.parent
    return None


def _dotted(data: bytes, node: Node | None) -> list[str]:
    parts: list[str] = []
    while node is not None and node.type == "member_expression":
        prop = node.child_by_field_name("property")
        if prop.type != "property_identifier":
            return []
        parts.append(text(data, prop))
        node = node.child_by_field_name("object")
    if node is None or node.type != "identifier":
        return []
    return [text(data, node), *reversed(parts)]


def _first_parameter(data: bytes, function: Node) -> str | None:
    names = _parameter_list(data, function)
    return names[0] if names else None


def _parameter_list(data: bytes, function: Node) -> list[str]:
    single = function.child_by_field_name("parameter")
    if single is not None:
        return [text(data, single)]
    params = function.child_by_field_name("parameters")
    names = []
    for param in params.named_children if params is not None else []:
        pattern = param.child_by_field_name("pattern") if param.type.endswith("_parameter") else param
        names.append(text(data, pattern) if pattern is not None else "")
    return names


def _parameters(data: bytes, function: Node) -> set[str]:
    params = function.child_by_field_name("parameter") or function.child_by_field_name("parameters")
    if params is None:
        return set()
    return {
        text(data, leaf)
        for leaf in walk(params)
        if leaf.type in ("identifier", "shorthand_property_identifier_pattern") and is_declaration_site(leaf)
    }


def _single_declaration(data: bytes, statement: Node) -> tuple[str, Node] | None:
    if statement.type not in DECLARATIONS:
        return None
    declarators = [c for c in statement.named_children if c.type == "variable_declarator"]
    if len(declarators) != 1:
        return None
    name, value = declarators[0].child_by_field_name("name"), declarators[0].child_by_field_name("value")
    if name is None or name.type != "identifier" or value is None:
        return None
    return text(data, name), value


def _declared(data: bytes, statement: Node) -> tuple[str, Node]:
    """(name, value) of a statement that ``_single_declaration`` took (a hoisted one)."""
    found = _single_declaration(data, statement)
    assert found is not None
    return found


def _declared_name(data: bytes, statement: Node) -> str:
    return _declared(data, statement)[0]


def _is_config_update(data: bytes, node: Node | None) -> bool:
    """`AWS.config.update(...)` or `AWS.config.region = ...`."""
    if node is not None and node.type == "assignment_expression":
        left = node.child_by_field_name("left")
        return left.type == "member_expression" and text(data, left.child_by_field_name("object")).endswith("config")
    if node is None or node.type != "call_expression":
        return False
    return text(data, node.child_by_field_name("function")).replace(" ", "").endswith("config.update")


def _nearest_block(node: Node, top: Node) -> str:
    kinds = {
        "try_statement": "`try`",
        "if_statement": "`if`",
        "for_statement": "a loop",
        "for_in_statement": "a loop",
        "while_statement": "a loop",
        "switch_statement": "`switch`",
        "catch_clause": "`catch`",
    }
    parent = node.parent
    while parent is not None:
        if parent.type in FUNCTIONS:
            return "a nested function"
        if parent.type in kinds:
            return kinds[parent.type]
        if parent == top:
            break
        parent = parent.parent
    return "a block"


def _own_lines(data: bytes, statement: Node) -> None:
    before = data[line_start(data, statement.start_byte) : statement.start_byte]
    after = data[statement.end_byte : line_end(data, statement.end_byte)]
    if before.strip() or (after.strip() and not after.strip().startswith(b"//")):
        raise _Left("it shares a line with other code")


def _blank_line_after(data: bytes, start: int, end: int) -> int:
    """``end``, or past the blank line after it when the lines removed would leave a blank at the top of
    the block or two blank lines in a row."""
    after = line_end(data, end)
    if end >= len(data) or data[end:after].strip():
        return end
    before = data[line_start(data, start - 1) : start] if start else b""
    if before.rstrip().endswith(b"{") or not before.strip():
        return after
    return end


def _leading_comments_start(data: bytes, statement: Node) -> int:
    """Where the comment lines right above ``statement`` (no blank line between) start."""
    start = line_start(data, statement.start_byte)
    previous = statement.prev_sibling
    while previous is not None and previous.type == "comment":
        gap = data[previous.end_byte : start]
        if gap.count(b"\n") > 1 or data[line_start(data, previous.start_byte) : previous.start_byte].strip():
            break
        start = line_start(data, previous.start_byte)
        previous = previous.prev_sibling
    return start


def _imported_as(data: bytes, leaf: Node) -> str:
    """What an imported name is of its module: `import x from` "default", `import * as x` "*", `{ a as x }` "a"."""
    parent = leaf.parent
    if parent.type == "import_specifier":
        name = parent.child_by_field_name("name")
        return text(data, name) if name is not None else text(data, leaf)
    if parent.type == "import_clause":
        return "default"
    return "*"


def _required_as(data: bytes, leaf: Node) -> str:
    """What a required name is of its module: `const x = require()` "*", `const { a: x } = require()` "a"."""
    parent = leaf.parent
    if leaf.type == "shorthand_property_identifier_pattern":
        return text(data, leaf)
    if parent.type == "pair_pattern" and parent.parent is not None and parent.parent.type == "object_pattern":
        key = parent.child_by_field_name("key")
        return text(data, key) if key is not None else "*"
    return "*"


def _waits_for_nothing(data: bytes, function: Node) -> bool:
    """Whether an invocation of this handler ends when it answers, with sockets still open: an async handler
    (its promise settles), or one that sets `callbackWaitsForEmptyEventLoop = false`."""
    if any(child.type == "async" for child in function.children):
        return True
    return b"callbackWaitsForEmptyEventLoop = false" in data[function.start_byte : function.end_byte].replace(b"  ", b" ")
