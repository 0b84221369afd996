"""hoist-clients for Java: SDK clients built in a Lambda handler become `private static final` fields.

In a class implementing `RequestHandler`/`RequestStreamHandler` (or whose method a template names as the
handler), a local built by `AmazonS3ClientBuilder.defaultClient()`, `XClientBuilder.standard()...build()`,
`new AmazonXClient(...)`, v2 `XClient.create()` / `XClient.builder()...build()`, `new DynamoDBMapper(...)` or
`DynamoDbEnhancedClient...` inside `handleRequest` (or a method it calls) moves to a static field, when what it
reads is constant: literals, `System.getenv`, static final fields, types, other hoisted clients. One that reads
final instance fields becomes a final instance field instead (Lambda builds the handler object once per execution
environment), set in the constructor when the fields it reads are. A JDBC `Connection` from
`DriverManager.getConnection` (declared, or assigned to a `Connection conn = null;` local) becomes a static field
behind a reconnect guard, and its `close()` goes. Anything else stays, with a note saying why.
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from codemods._base import Codemod, FileContext
from codemods.java._handlers import base_name as _base_name
from codemods.java._handlers import handler_methods
from codemods._text import Edit, apply, indent_at, line_end, line_start, newline
from rewriter.languages import SourceTree

if TYPE_CHECKING:
    from tree_sitter import Node

# Calls whose result differs from one call to the next: a client built from them is not constant.
PER_CALL = frozenset({"now", "randomUUID", "currentTimeMillis", "nanoTime", "random", "nextInt", "nextLong",
                      "nextDouble", "getRemainingTimeInMillis", "getAwsRequestId"})
CONSTANT_CALLS = frozenset({"getenv", "getProperty"})
# Variables the Lambda runtime sets in every execution environment: reading one at class init cannot fail.
LAMBDA_SETS = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
                         "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
                         "AWS_LAMBDA_LOG_STREAM_NAME", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"})
CLOSERS = frozenset({"close", "shutdown", "shutdownNow"})
# v1 clients are mutable: a per-invocation change to a shared client would leak into the next invocation.
MUTATORS = frozenset({"setRegion", "setEndpoint", "setS3ClientOptions", "addRequestHandler", "setSignerRegionOverride",
                      "setTimeOffset", "setServiceNameIntern"})
# Objects built on a client (`new DynamoDB(client)`): as cheap to keep, and they move with the client they wrap.
WRAPPERS = frozenset({"DynamoDBMapper", "DynamoDB"})
_V1_CONSTRUCTED = re.compile(r"^(?:Amazon|AWS)\w*Client$")
VALID_TIMEOUT_SECONDS = 2
LOOPS = ("for_statement", "enhanced_for_statement", "while_statement", "do_statement")


class _Left(Exception):
    """A construction stays where it is; the message says why. ``source`` names what varies ("`input`, a parameter
    of the handler: ..."), so that a local set from it can say where its value comes from."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


# Expressions that need no parentheses when a constant local's initialiser replaces its name.
_PRIMARY = frozenset({"identifier", "field_access", "scoped_identifier", "method_invocation", "object_creation_expression",
                      "string_literal", "decimal_integer_literal", "decimal_floating_point_literal", "true", "false",
                      "character_literal", "null_literal", "parenthesized_expression", "array_access"})
# Where a name stands for a whole expression: its replacement needs no parentheses either.
_WHOLE = frozenset({"argument_list", "parenthesized_expression", "variable_declarator"})


def _text(data: bytes, node) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _walk(node):
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _line(node) -> int:
    return node.start_point[0] + 1


def _chain(node) -> list:
    """`A.b().c().d()` -> [A, b(), c(), d()] as (root, invocations...) nodes, innermost first."""
    calls = []
    while node is not None and node.type == "method_invocation":
        calls.append(node)
        node = node.child_by_field_name("object")
    return [node, *reversed(calls)]


def construction_kind(data: bytes, value) -> str | None:
    """"client", "connection" or None for the value of a local declaration."""
    if value is None:
        return None
    if value.type == "object_creation_expression":
        name = _base_name(data, value.child_by_field_name("type"))
        return "client" if name in WRAPPERS or _V1_CONSTRUCTED.match(name) else None
    if value.type != "method_invocation":
        return None
    root, *calls = _chain(value)
    if root is None or root.type not in ("identifier", "scoped_identifier", "field_access") or not calls:
        return None
    owner = _text(data, root).rsplit(".", 1)[-1]
    first = _text(data, calls[0].child_by_field_name("name"))
    last = _text(data, calls[-1].child_by_field_name("name"))
    if owner == "DriverManager" and first == "getConnection" and len(calls) == 1:
        return "connection"
    if owner.endswith("ClientBuilder") and ((first == "defaultClient" and len(calls) == 1)
                                            or (first == "standard" and last == "build")):
        return "client"
    if owner.endswith("Client") and ((first == "create" and len(calls) == 1) or (first == "builder" and last == "build")):
        return "client"
    return None


@dataclasses.dataclass
class _Hoist:
    statement: Node
    method: Node
    name: str
    type: str
    value: Node
    kind: str
    comments: list[Node]
    declaration: Node | None = None  # `Connection conn = null;` when the construction is an assignment to it
    inlined: dict = dataclasses.field(default_factory=dict)  # constant locals it reads -> their initialisers
    lazy: str | None = None  # the variable that may be unset: built by the first invocation, not at class init
    static: bool = True  # False: it reads final instance fields, so it becomes one too (set when the handler is built)
    in_constructor: bool = False  # it reads a final field the constructor sets, so the constructor sets it too


class HoistClients(Codemod[SourceTree]):
    NAME = "hoist-clients"
    DESCRIPTION = "Build SDK clients, HTTP sessions and connections once per execution environment, not per invocation"
    LANGUAGES = ("java",)
    MARKERS = (b"ClientBuilder", b"Client.create", b"Client.builder", b"Client(", b"DynamoDBMapper",
               b"DriverManager.getConnection")

    def transform(self, tree: SourceTree, ctx: FileContext) -> SourceTree:
        data = tree.data
        edits: list[Edit] = []
        classes = {node.start_byte: _Class(data, node, ctx) for node in _walk(tree.tree.root_node)
                   if node.type == "class_declaration"}
        entries = {key: handler_methods(data, c.node, ctx.entry_points) for key, c in classes.items()}
        handlers = {key for key, entry in entries.items() if entry}
        by_name: dict[str, list[_Class]] = {}
        for c in classes.values():
            by_name.setdefault(c._name(c.node), []).append(c)
        # Helper classes of the same file whose methods a handler calls per invocation: reached from it as well.
        todo = list(handlers)
        while todo:
            key = todo.pop()
            for name, methods in classes[key].helper_calls(entries[key]).items():
                if len(by_name.get(name, ())) != 1:
                    continue
                helper = by_name[name][0].node.start_byte
                if not methods <= entries[helper]:
                    entries[helper] = entries[helper] | methods
                    todo.append(helper)
        for key, c in classes.items():
            if entries[key]:
                c.helper = key not in handlers
                edits += c.run(entries[key])
        return tree.replaced(apply(data, edits)) if edits else tree


class _Class:
    def __init__(self, data: bytes, node, ctx: FileContext) -> None:
        self.data, self.node, self.ctx = data, node, ctx
        self.body = node.child_by_field_name("body")
        self.members = list(self.body.named_children) if self.body is not None else []
        self.methods = [m for m in self.members if m.type == "method_declaration"]
        self.fields = [m for m in self.members if m.type == "field_declaration"]
        self.nl = newline(data)
        self.unwrap: list = []  # `try` statements left with nothing but their body
        self.helper = False  # a class the handler uses, not the handler: its objects may be built per invocation

    def _name(self, node) -> str:
        found = node.child_by_field_name("name")
        return _text(self.data, found) if found is not None else ""

    def _reached(self, entry: set[str]) -> list:
        """Handler methods and the methods of this class they call, transitively, in source order."""
        names, todo = set(entry), list(entry)
        while todo:
            name = todo.pop()
            for method in (m for m in self.methods if self._name(m) == name):
                for call in _walk(method):
                    if call.type != "method_invocation":
                        continue
                    target = call.child_by_field_name("object")
                    called = self._name(call)
                    if (target is None or target.type == "this") and called not in names and any(
                            self._name(m) == called for m in self.methods):
                        names.add(called)
                        todo.append(called)
        return [m for m in self.methods if self._name(m) in names]

    def _static_fields(self) -> set[str]:
        names = set()
        for field in self.fields:
            modifiers = next((c for c in field.children if c.type == "modifiers"), None)
            words = _text(self.data, modifiers).split() if modifiers is not None else []
            if "static" in words and "final" in words:
                names |= {self._name(d) for d in field.children_by_field_name("declarator")}
        return names

    def _instance_finals(self, blank: bool = False) -> set[str]:
        """Final instance fields (with ``blank``: only those without an initialiser, which a constructor sets)."""
        names = set()
        for field in self.fields:
            modifiers = next((c for c in field.children if c.type == "modifiers"), None)
            words = _text(self.data, modifiers).split() if modifiers is not None else []
            if "static" not in words and "final" in words:
                names |= {self._name(d) for d in field.children_by_field_name("declarator")
                          if not blank or d.child_by_field_name("value") is None}
        return names

    def _constructor(self):
        constructors = [m for m in self.members if m.type == "constructor_declaration"]
        return constructors[0] if len(constructors) == 1 else None

    def _all_fields(self) -> set[str]:
        return {self._name(d) for f in self.fields for d in f.children_by_field_name("declarator")}

    def helper_calls(self, entry: set[str]) -> dict[str, set[str]]:
        """Methods of other classes that the methods ``entry`` reaches call: `Helper.m()`, `new Helper().m()`, and
        `h.m()` on a local, parameter or field declared as `Helper`; by class name."""
        found: dict[str, set[str]] = {}
        for method in self._reached(entry):
            declared = {}
            for node in _walk(method):
                if node.type in ("local_variable_declaration", "formal_parameter"):
                    kind = node.child_by_field_name("type")
                    names = node.children_by_field_name("declarator") if node.type != "formal_parameter" else [node]
                    for declarator in names:
                        if kind is not None:
                            declared[self._name(declarator)] = _base_name(self.data, kind)
            for field in self.fields:
                kind = field.child_by_field_name("type")
                for declarator in field.children_by_field_name("declarator"):
                    declared.setdefault(self._name(declarator), _base_name(self.data, kind))
            for call in _walk(method):
                if call.type != "method_invocation":
                    continue
                target = call.child_by_field_name("object")
                if target is None:
                    continue
                owner: str | None
                if target.type == "object_creation_expression":
                    owner = _base_name(self.data, target.child_by_field_name("type"))
                elif target.type == "identifier":
                    name = _text(self.data, target)
                    owner = declared.get(name, name if name[:1].isupper() else None)
                else:
                    continue
                if owner and owner != self._name(self.node):
                    found.setdefault(owner, set()).add(self._name(call))
        return found

    def _constructor_notes(self) -> None:
        """A client a handler's constructor builds is built once per execution environment already."""
        for constructor in (m for m in self.members if m.type == "constructor_declaration"):
            for node in _walk(constructor):
                name, value = None, None
                if node.type == "local_variable_declaration":
                    declarators = node.children_by_field_name("declarator")
                    if len(declarators) == 1:
                        name, value = self._name(declarators[0]), declarators[0].child_by_field_name("value")
                elif node.type == "assignment_expression":
                    name = _text(self.data, node.child_by_field_name("left")).removeprefix("this.")
                    value = node.child_by_field_name("right")
                kind = construction_kind(self.data, value) if name else None
                if kind:
                    stale = (": the template enables SnapStart, so it is opened before the snapshot and is stale after "
                             "a restore; check it with `isValid()` before use") if (
                        kind == "connection" and self.ctx.traits.snap_start) else ""
                    self.ctx.note(_line(node), f"left `{name}` in the constructor: Lambda builds the handler once "
                                  f"per execution environment, so it is built once already{stale}")

    def run(self, entry: set[str]) -> list[Edit]:
        if self.body is None:
            return []
        if not self.helper:
            self._constructor_notes()
        constants = self._static_fields()
        taken = self._all_fields()
        hoisted: dict[str, str] = {}  # name -> value text
        lazy: dict[str, str] = {}  # hoisted names built by the first invocation -> the variable that may be unset
        instance = self._instance_finals()  # final instance fields, and clients hoisted to instance fields
        set_by_constructor = self._instance_finals(blank=True)
        plans: list[_Hoist] = []
        for method in self._reached(entry):
            body = method.child_by_field_name("body")
            if body is None:
                continue
            for statement in _walk(body):
                if statement.type == "resource" and construction_kind(self.data, statement.child_by_field_name("value")):
                    self.ctx.note(_line(statement), f"left `{self._name(statement)}` in {self._name(method)}: "
                                  "try-with-resources closes it at the end of the block")
                declaration = None
                kind: str | None
                if statement.type == "expression_statement":
                    name, value, declaration = self._assigned_connection(body, statement)
                    if declaration is None:
                        continue
                    kind = "connection"
                elif statement.type == "local_variable_declaration":
                    declarators = statement.children_by_field_name("declarator")
                    if len(declarators) != 1:
                        continue
                    value = declarators[0].child_by_field_name("value")
                    kind = construction_kind(self.data, value)
                    if kind is None:
                        continue
                    name = self._name(declarators[0])
                else:
                    continue
                try:
                    plan = self._plan(method, body, statement, name, value, kind, constants | set(hoisted), instance)
                    wrapped = next((lazy[n] for n in self._reads(plan) if n in lazy), None)
                    if wrapped and not plan.static:
                        raise _Left("it is built on a client that the first invocation builds")
                    if wrapped and kind == "client":
                        plan.lazy = plan.lazy or wrapped  # a field initialiser would see it still null
                    if not plan.static and any(n.type == "identifier" and _text(self.data, n) in set_by_constructor
                                               for n in _walk(value)):
                        if self._constructor() is None:
                            raise _Left("it reads a final field set by a constructor, and the class has not exactly "
                                        "one constructor to set it in")
                        plan.in_constructor = True
                    plan.declaration = declaration
                    if name in taken and name not in hoisted:
                        raise _Left(f"the class already has a field named `{name}`")
                    if name in hoisted and hoisted[name] != _text(self.data, value):
                        raise _Left(f"another `{name}` with a different construction is already hoisted")
                except _Left as left:
                    self.ctx.note(_line(statement), f"left `{name}` in {self._name(method)}: {left}")
                    continue
                if name not in hoisted:
                    plan.comments = self._comments_above(statement)
                plans.append(plan)
                hoisted[name] = _text(self.data, value)
                if not plan.static:
                    instance.add(name)
                if plan.lazy:
                    lazy[name] = plan.lazy
                if plan.in_constructor:
                    set_by_constructor.add(name)
        return self._edits(plans) if plans else []

    def _assigned_connection(self, body, statement):
        """(name, value, declaration) for `conn = DriverManager.getConnection(...);` where the method declared
        `Connection conn = null;` (or without a value) directly in its body; else (None, None, None)."""
        assignment = statement.named_children[0] if statement.named_children else None
        if assignment is None or assignment.type != "assignment_expression":
            return None, None, None
        left, value = assignment.child_by_field_name("left"), assignment.child_by_field_name("right")
        if left is None or left.type != "identifier" or construction_kind(self.data, value) != "connection":
            return None, None, None
        name = _text(self.data, left)
        for declaration in body.named_children:
            if declaration.type != "local_variable_declaration":
                continue
            declarators = declaration.children_by_field_name("declarator")
            if len(declarators) == 1 and self._name(declarators[0]) == name:
                initial = declarators[0].child_by_field_name("value")
                if initial is None or initial.type == "null_literal":
                    return name, value, declaration
        return None, None, None

    def _plan(self, method, body, statement, name: str, value, kind: str, constants: set[str],
              instance: set[str]) -> _Hoist:
        parent = statement.parent
        while parent is not None and parent != body:
            # A connection's guard stays where the construction was: only a client moves out of blocks.
            if kind == "client" and parent.type in ("try_statement", "catch_clause", "finally_clause"):
                raise _Left("built inside a try block: moving it changes which errors the handler catches")
            if kind == "client" and parent.type in ("if_statement", "switch_expression", "switch_block"):
                raise _Left("built only on some paths (inside a conditional)")
            if parent.type in ("lambda_expression", "class_body"):
                raise _Left("built inside a lambda or a local class")
            if parent.type in LOOPS and kind == "connection":
                raise _Left("a connection opened in a loop")
            parent = parent.parent
        if kind == "connection" and self.ctx.traits.managed_instances:
            raise _Left("the template runs this function on Lambda Managed Instances, where one execution "
                        "environment serves requests concurrently: they would share one connection")
        declared = statement if statement.type == "local_variable_declaration" else self._assigned_connection(
            body, statement)[2]
        type_text = _text(self.data, declared.child_by_field_name("type"))
        if type_text == "var":
            raise _Left("declared with `var`: a field needs its type written out")
        parameters = {self._name(p) for p in method.child_by_field_name("parameters").named_children}
        inlined: dict = {}
        reads_instance = self._check_constant(value, constants - instance, parameters, instance,
                                              _Scope(self, method, statement, inlined))
        if reads_instance and self.helper:
            raise _Left(f"it reads fields of `{self._name(self.node)}`, which the handler may build per invocation")
        if reads_instance:
            modifiers = next((c for c in method.children if c.type == "modifiers"), None)
            if kind != "client" or (modifiers is not None and "static" in _text(self.data, modifiers).split()):
                raise _Left("it reads instance fields, which a static field or method cannot")
        for node in _walk(body):
            if node.type == "assignment_expression" and node.parent != statement:
                left = node.child_by_field_name("left")
                if left is not None and _text(self.data, left) in (name, "this." + name):
                    raise _Left(f"`{name}` is assigned again in {self._name(method)}")
            if node.type == "method_invocation" and kind == "client":
                target = node.child_by_field_name("object")
                if target is not None and _text(self.data, target) == name and self._name(node) in CLOSERS:
                    raise _Left(f"closed per invocation (`{name}.{self._name(node)}()`): a shared client would be "
                                "closed after the first one")
                if target is not None and _text(self.data, target) == name and self._name(node) in MUTATORS:
                    raise _Left(f"changed per invocation (`{name}.{self._name(node)}(...)`): the change would carry "
                                "over to the next invocation")
        lazy = self._may_be_unset(value, inlined) if kind == "client" and not reads_instance else None
        return _Hoist(statement, method, name, type_text, value, kind, [], static=not reads_instance, inlined=inlined,
                      lazy=lazy)

    def _reads(self, plan: _Hoist) -> set[str]:
        nodes = [plan.value, *plan.inlined.values()]
        return {_text(self.data, n) for node in nodes for n in _walk(node) if n.type == "identifier" and _is_reference(n)}

    def _may_be_unset(self, value, inlined: dict, seen: frozenset[str] = frozenset()) -> str | None:
        """A variable of the environment (or system property) the construction reads, directly or through a
        constant, that Lambda does not set itself: when it is unset the construction may throw, and at class
        initialisation that would fail the class, where it now fails one invocation."""
        initialisers = self._static_initialisers()
        for node in _walk(value):
            if node.type == "method_invocation" and self._name(node) in CONSTANT_CALLS:
                arguments = node.child_by_field_name("arguments").named_children
                variable = _text(self.data, arguments[0]).strip('"') if arguments else ""
                if not (self._name(node) == "getenv" and variable in LAMBDA_SETS):
                    return variable or _text(self.data, node)
            elif node.type == "identifier" and _is_reference(node):
                name = _text(self.data, node)
                source = inlined.get(name) if name in inlined else initialisers.get(name)
                if source is not None and name not in seen:
                    found = self._may_be_unset(source, inlined, seen | {name})
                    if found:
                        return found
        return None

    def _static_initialisers(self) -> dict:
        found = {}
        for field in self.fields:
            modifiers = next((c for c in field.children if c.type == "modifiers"), None)
            if modifiers is not None and {"static", "final"} <= set(_text(self.data, modifiers).split()):
                for declarator in field.children_by_field_name("declarator"):
                    if declarator.child_by_field_name("value") is not None:
                        found[self._name(declarator)] = declarator.child_by_field_name("value")
        return found

    def _check_constant(self, value, constants: set[str], parameters: set[str], instance: set[str],
                        scope: _Scope) -> bool:
        """Raise _Left unless ``value`` is the same on every invocation; True when it reads final instance fields
        (the handler object is built once per execution environment, so those are constant too). A local of the
        method set once from constants counts as one: it is recorded in ``scope.inlined``."""
        reads_instance = False
        for node in _walk(value):
            if node.type in ("this", "super"):
                raise _Left(f"reads `{node.type}`", f"`{node.type}`")
            if node.type in ("lambda_expression", "method_reference"):
                raise _Left("takes a lambda or method reference", "a lambda or method reference")
            if node.type == "method_invocation" and self._name(node) in PER_CALL:
                raise _Left(f"calls `{self._name(node)}()`, which differs per call",
                            f"`{self._name(node)}()`, which differs per call")
            if node.type != "identifier" or not _is_reference(node):
                continue
            parent = node.parent
            role = _role(node)
            name = _text(self.data, node)
            if name in constants or (name[:1].isupper() and role == "object"):
                continue
            if name in instance:
                reads_instance = True
                continue
            if name[:1].isupper() and parent.type in ("scoped_identifier", "field_access"):
                continue
            if name in parameters:
                source = f"`{name}`, a parameter of the handler: it differs per invocation"
                raise _Left("reads " + source, source)
            initialiser = scope.constant_local(name)
            if initialiser is not None:
                try:
                    reads_instance |= self._check_constant(initialiser, constants, parameters, instance,
                                                           scope.inside(name))
                except _Left as left:
                    if left.source is None:
                        raise _Left(f"`{name}` is set from a value that is not constant: {left}") from None
                    raise _Left(f"`{name}` comes from {left.source}", left.source) from None
                scope.inlined[name] = initialiser
                continue
            why = " (a field that is not `final`: an invocation may change it)" if name in self._all_fields() else ""
            source = f"`{name}`, which is not a constant{why}"
            raise _Left("reads " + source, source)
        return reads_instance

    def _render(self, node, inlined: dict) -> str:
        """The text of ``node`` with each constant local it reads replaced by that local's initialiser."""
        parts, at = [], node.start_byte
        for found in _walk(node):
            if found.type != "identifier" or not _is_reference(found) or _text(self.data, found) not in inlined:
                continue
            initialiser = inlined[_text(self.data, found)]
            text = self._render(initialiser, inlined)
            parts += [self.data[at:found.start_byte].decode("utf-8", "replace"),
                      text if initialiser.type in _PRIMARY or found.parent.type in _WHOLE else f"({text})"]
            at = found.end_byte
        return "".join(parts) + self.data[at:node.end_byte].decode("utf-8", "replace")

    def _comments_above(self, statement) -> list:
        comments: list[Node] = []
        node = statement.prev_named_sibling
        expected = statement.start_point[0] - 1
        while node is not None and node.type in ("line_comment", "block_comment") and node.end_point[0] == expected:
            comments.insert(0, node)
            expected = node.start_point[0] - 1
            node = node.prev_named_sibling
        return comments

    def _member_indent(self) -> bytes:
        if self.members:
            return indent_at(self.data, self.members[0].start_byte)
        return indent_at(self.data, self.node.start_byte) + b"    "

    def _edits(self, plans: list[_Hoist]) -> list[Edit]:
        data, nl = self.data, self.nl
        indent = self._member_indent()
        unit = indent[len(indent_at(data, self.node.start_byte)):] or b"    "
        fields: list[bytes] = []
        edits: list[Edit] = []
        done: set[str] = set()
        closes: list[tuple[str, Node]] = []
        assignments: list[_Hoist] = []

        def guarded(plan: _Hoist, condition: bytes) -> Edit:
            """The statement becomes `if (condition) { field = value; }`: a field built where the local was."""
            statement_indent = indent_at(data, plan.statement.start_byte)
            value = self._reindent(_text(self.data, plan.value).encode(), statement_indent, statement_indent + unit)
            guard = (statement_indent + b"if (" + condition + b") {" + nl
                     + statement_indent + unit + plan.name.encode() + b" = " + value + b";" + nl
                     + statement_indent + b"}" + nl)
            return Edit(line_start(data, plan.statement.start_byte), line_end(data, plan.statement.end_byte), guard)

        for plan in plans:
            first = plan.comments[0] if plan.comments else plan.statement
            start, end = line_start(data, first.start_byte), line_end(data, plan.statement.end_byte)
            if data[start:first.start_byte].strip() or data[plan.statement.end_byte:end].strip():
                start, end = first.start_byte, plan.statement.end_byte
            statement_indent = indent_at(data, plan.statement.start_byte)
            value = self._reindent(self._render(plan.value, plan.inlined).encode(), statement_indent, indent)
            where = f"in {self._name(self.node) + '.' if self.helper else ''}{self._name(plan.method)}"
            if plan.lazy:
                edits.append(guarded(plan, b"%s == null" % plan.name.encode()))
                if plan.name not in done:
                    # volatile: under Managed Instances concurrent requests read it from other threads
                    fields.append(indent + b"private static volatile " + plan.type.encode() + b" " + plan.name.encode()
                                  + b";" + nl)
                self.ctx.change(_line(plan.statement), f"`{plan.name}` ({plan.type}) is now a static field built "
                                f"once, on first use (was built per invocation {where}): it reads `{plan.lazy}`, which "
                                "may be unset; built at class initialisation, a failure would fail every invocation")
            elif plan.kind == "connection":
                edits.append(guarded(plan, b"%s == null || !%s.isValid(%d)" % (
                    plan.name.encode(), plan.name.encode(), VALID_TIMEOUT_SECONDS)))
                if plan.name not in done:
                    fields.append(indent + b"private static " + plan.type.encode() + b" " + plan.name.encode() + b";"
                                  + nl)
                closes.append((plan.name, plan.method))
                if plan.declaration is not None:
                    declaration = plan.declaration
                    edits.append(Edit(line_start(data, declaration.start_byte), line_end(data, declaration.end_byte), b""))
                self.ctx.change(_line(plan.statement), f"`{plan.name}` ({plan.type}) is now a static field opened "
                                f"once and reopened when `isValid()` fails (was opened per invocation {where})")
                if self.ctx.traits.snap_start:
                    self.ctx.note(_line(plan.statement), f"the template enables SnapStart: `{plan.name}` is opened by "
                                  "the first invocation, not during init, so no snapshot holds it; after a restore "
                                  "`isValid()` reopens one that went stale")
            else:
                edits.append(Edit(start, end, b""))
                if plan.name not in done:
                    moved = b"".join(self._reindent(data[c.start_byte:c.end_byte].rstrip(b"\r"), statement_indent, indent)
                                     .join([indent, nl]) for c in plan.comments)
                    modifiers = b"private static final " if plan.static else b"private final "
                    declared = moved + indent + modifiers + plan.type.encode() + b" " + plan.name.encode()
                    if plan.in_constructor:
                        fields.append(declared + b";" + nl)
                        assignments.append(plan)
                    else:
                        fields.append(declared + b" = " + value + b";" + nl)
                what = "a static final field" if plan.static else "a final field (it reads instance fields; Lambda " \
                                                                 "builds the handler once per execution environment)"
                self.ctx.change(_line(plan.statement), f"moved `{plan.name}` ({plan.type}) to {what}: built once per "
                                f"execution environment, not per invocation ({where})")
            done.add(plan.name)
        edits += self._close_edits(closes)
        for declaration, name in self._unread_locals(plans):
            edits.append(self._removal(declaration))
            self.ctx.change(_line(declaration), f"removed the local `{name}`: its value is now written where the "
                                                "hoisted client is built")
        if assignments:
            edits.append(self._constructor_assignments(assignments, unit))
        at = self._field_position(plans)
        edits.append(Edit(at, at, b"".join(fields)))
        for statement, clause in self.unwrap:
            edits = self._unwrapped(statement, clause, edits, unit)
        return edits

    def _unwrapped(self, statement, clause, edits: list[Edit], unit: bytes) -> list[Edit]:
        """A `try { ... } finally { conn.close(); }` without catches becomes its body, one level less indented,
        with the edits made inside it."""
        body = statement.child_by_field_name("body")
        inner_start = line_end(self.data, body.children[0].end_byte)
        inner_end = line_start(self.data, body.children[-1].start_byte)
        start, end = line_start(self.data, statement.start_byte), line_end(self.data, statement.end_byte)
        inside = [e for e in edits if inner_start <= e.start and e.end <= inner_end]
        if any(e not in inside and e.start < end and e.end > start for e in edits) or inner_end <= inner_start:
            # Shared with another edit: the try stays, and only what its finally did goes.
            block = clause.named_children[-1]
            return edits + [Edit(line_end(self.data, block.children[0].end_byte),
                                 line_start(self.data, block.children[-1].start_byte), b"")]
        text = apply(self.data[inner_start:inner_end],
                     [Edit(e.start - inner_start, e.end - inner_start, e.text) for e in inside])
        outer = indent_at(self.data, statement.start_byte)
        lines = text.split(b"\n")
        text = b"\n".join(line[len(unit):] if line.startswith(outer + unit) else line for line in lines)
        return [e for e in edits if e not in inside] + [Edit(start, end, text)]

    def _unread_locals(self, plans: list[_Hoist]) -> list[tuple[Node, str]]:
        """Constant locals that only hoisted clients read: once their value is written into the fields, they go."""
        moved = [plan for plan in plans if plan.kind == "client" and not plan.lazy]
        gone = [(plan.statement.start_byte, plan.statement.end_byte) for plan in moved]
        candidates = {}
        for plan in moved:
            for name, initialiser in plan.inlined.items():
                declaration = initialiser.parent.parent
                if len(declaration.children_by_field_name("declarator")) == 1:
                    candidates[declaration.start_byte] = (declaration, name, plan.method)
        dropped: list[tuple[Node, str]] = []
        changed = True
        while changed:
            changed = False
            for key, (declaration, name, method) in list(candidates.items()):
                read = any(n.type == "identifier" and _is_reference(n) and _text(self.data, n) == name
                           and not (declaration.start_byte <= n.start_byte < declaration.end_byte)
                           and not any(a <= n.start_byte < b for a, b in gone) for n in _walk(method))
                if not read:
                    dropped.append((declaration, name))
                    gone.append((declaration.start_byte, declaration.end_byte))
                    del candidates[key]
                    changed = True
        return dropped

    def _removal(self, node) -> Edit:
        start, end = line_start(self.data, node.start_byte), line_end(self.data, node.end_byte)
        if self.data[start:node.start_byte].strip() or self.data[node.end_byte:end].strip():
            start, end = node.start_byte, node.end_byte
        return Edit(start, end, b"")

    def _close_edits(self, closes: list[tuple[str, Node]]) -> list[Edit]:
        """Remove `conn.close()` from the method that opened `conn`, with an `if`/`try` left empty by it."""
        edits = []
        for name, method in closes:
            for node in _walk(method):
                if node.type != "expression_statement" or not node.named_children:
                    continue
                call = node.named_children[0]
                if call.type != "method_invocation" or self._name(call) != "close":
                    continue
                target = call.child_by_field_name("object")
                if target is None or _text(self.data, target) != name:
                    continue
                doomed = _emptied(node)
                if doomed.type == "finally_clause":
                    holder = doomed.parent
                    if any(c.type in ("catch_clause", "resource_specification") for c in holder.children):
                        # `} finally {}` goes from the end of what precedes it: the `try` keeps its catches.
                        edits.append(Edit(doomed.prev_sibling.end_byte, doomed.end_byte, b""))
                    else:
                        self.unwrap.append((holder, doomed))  # done last: it takes in the edits made inside the `try`
                    self.ctx.change(_line(node), f"removed `{_text(self.data, call)}` and the `finally` it was "
                                                 "alone in: the connection is kept for the next invocation")
                    continue
                start, end = line_start(self.data, doomed.start_byte), line_end(self.data, doomed.end_byte)
                if self.data[start:doomed.start_byte].strip() or self.data[doomed.end_byte:end].strip():
                    start, end = doomed.start_byte, doomed.end_byte
                edits.append(Edit(start, end, b""))
                self.ctx.change(_line(node), f"removed `{_text(self.data, call)}`: the connection is kept for the "
                                             "next invocation")
        return edits

    def _constructor_assignments(self, plans: list[_Hoist], unit: bytes) -> Edit:
        """`this.name = value;` at the end of the one constructor, after it has set the fields the values read."""
        body = self._constructor().child_by_field_name("body")
        closing = body.children[-1]
        statements = body.named_children
        inner = indent_at(self.data, statements[0].start_byte) if statements else indent_at(
            self.data, body.start_byte) + unit
        lines = b""
        for plan in plans:
            value = self._reindent(self._render(plan.value, plan.inlined).encode(),
                                   indent_at(self.data, plan.statement.start_byte),
                                   inner)
            lines += inner + b"this." + plan.name.encode() + b" = " + value + b";" + self.nl
        at = line_start(self.data, closing.start_byte)
        if self.data[at:closing.start_byte].strip():  # `}` shares its line: put the assignments before it
            return Edit(closing.start_byte, closing.start_byte, self.nl + lines)
        return Edit(at, at, lines)

    def _field_position(self, plans: list[_Hoist]) -> int:
        """After the fields that open the class body (else at its start), and after every field a hoisted value
        reads: a static initialiser may not read a field declared below it."""
        read = {_text(self.data, n) for plan in plans for n in _walk(plan.value) if n.type == "identifier"}
        after = []
        for member in self.members:
            if member.type != "field_declaration":
                break
            after.append(member)
        after += [f for f in self.fields if read & {self._name(d) for d in f.children_by_field_name("declarator")}]
        if after:
            return line_end(self.data, max(member.end_byte for member in after))
        brace = self.body.children[0]
        return line_end(self.data, brace.end_byte)

    @staticmethod
    def _reindent(text: bytes, old: bytes, new: bytes) -> bytes:
        lines = text.split(b"\n")
        return b"\n".join([lines[0]] + [new + line[len(old):] if line.startswith(old) else line for line in lines[1:]])


def _role(node) -> str | None:
    parent = node.parent
    return next((parent.field_name_for_child(i) for i, c in enumerate(parent.children) if c == node), None)


def _is_reference(identifier) -> bool:
    """Whether an identifier names a variable (not a called method or a field selected from an object)."""
    parent, role = identifier.parent, _role(identifier)
    return not ((parent.type == "method_invocation" and role == "name") or (parent.type == "field_access" and role == "field"))


class _Scope:
    """The locals a construction in ``method`` may read as constants: declared once, before it, in a block around
    it, with an initialiser, and never assigned again."""

    def __init__(self, owner: _Class, method, statement, inlined: dict, reading: frozenset[str] = frozenset()) -> None:
        self.owner, self.method, self.statement, self.inlined, self.reading = owner, method, statement, inlined, reading

    def inside(self, name: str) -> _Scope:
        return _Scope(self.owner, self.method, self.statement, self.inlined, self.reading | {name})

    def constant_local(self, name: str):
        """The initialiser of local ``name`` when it counts as constant; None when ``name`` is no local here."""
        data, where = self.owner.data, self.owner._name(self.method)
        body = self.method.child_by_field_name("body")
        bindings = [n for n in _walk(body) if n.type in ("variable_declarator", "enhanced_for_statement",
                                                          "catch_formal_parameter", "resource", "inferred_parameters",
                                                          "formal_parameter")
                    and (self.owner._name(n) == name or (n.type == "inferred_parameters"
                         and name in {_text(data, c) for c in n.named_children}))]
        if not bindings:
            return None
        if name in self.reading:
            raise _Left(f"`{name}` is set from itself")
        if len(bindings) > 1:
            raise _Left(f"`{name}` is declared more than once in {where}")
        binding = bindings[0]
        if binding.type == "enhanced_for_statement":
            raise _Left(f"`{name}` changes with each pass of a loop", f"`{name}`, which changes with each pass of a loop")
        value = binding.child_by_field_name("value")
        if binding.type != "variable_declarator" or binding.parent.type != "local_variable_declaration":
            raise _Left(f"reads `{name}`, which is not a constant", f"`{name}`, which is not a constant")
        if value is None:
            raise _Left(f"`{name}` is set by an assignment in {where}, not where it is declared")
        if construction_kind(data, value):
            # Its own note says why it stays; a copy of it in the field would be a second client.
            raise _Left(f"it is built on `{name}`, which stays in {where}")
        for node in _walk(body):
            target = None
            if node.type == "assignment_expression":
                target = node.child_by_field_name("left")
            elif node.type == "update_expression":
                target = node.named_children[0] if node.named_children else None
            if target is not None and _text(data, target) == name:
                raise _Left(f"`{name}` is assigned again in {where}")
        block = binding.parent.parent
        ancestor = self.statement.parent
        while ancestor is not None and ancestor != block:
            ancestor = ancestor.parent
        if ancestor is None or binding.end_byte > self.statement.start_byte:
            raise _Left(f"reads `{name}`, which is not a constant", f"`{name}`, which is not a constant")
        return value


def _emptied(statement):
    """The statement to remove with ``statement``: the `if (conn != null)` or catch-only `try` it would leave empty
    (a `try { conn.close(); } catch (SQLException e) {}` without its one statement no longer compiles)."""
    doomed = statement
    while doomed.parent is not None:
        parent = doomed.parent
        if parent.type == "block" and len(parent.named_children) == 1 and parent.parent is not None:
            holder = parent.parent
            if holder.type == "try_statement" and holder.child_by_field_name("body") == parent and not any(
                    c.type == "finally_clause" for c in holder.children):
                doomed = holder
                continue
            if holder.type == "if_statement" and holder.child_by_field_name("consequence") == parent and \
                    holder.child_by_field_name("alternative") is None:
                doomed = holder
                continue
        if parent.type == "block" and len(parent.named_children) == 1 and parent.parent is not None and \
                parent.parent.type == "finally_clause":
            return parent.parent
        if parent.type == "if_statement" and parent.child_by_field_name("consequence") == doomed and \
                parent.child_by_field_name("alternative") is None:
            doomed = parent
            continue
        return doomed
    return doomed
