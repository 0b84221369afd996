"""What a Python module binds and imports, read straight off the LibCST tree.

LibCST's scope and qualified-name metadata cost ten times a parse; the facts a codemod needs
here (imports, which names a function binds, which globals it rebinds) are cheap to read directly.
"""
from __future__ import annotations

import bisect
import builtins
import contextlib
import dataclasses
import re
import weakref
from collections.abc import Callable, Iterable
from typing import cast

import libcst as cst
from libcst._nodes.internal import CodegenState

from codemods._lambda_code import python_handler
from codemods.catalog import ENV_WRITES

BUILTIN_NAMES = frozenset(dir(builtins))


# Reading a tree with ``node.visit(visitor)`` or ``node.children`` makes LibCST rebuild every node it passes,
# even for a visitor that only reads: about four times the cost of reading the same nodes' fields.
# ``walk`` and ``children`` below read the fields instead, in the order LibCST visits them, recorded once
# per node class by letting LibCST visit one level of a node with a visitor that writes down the fields.
_FIELD_ORDER: dict[type, tuple[str, ...]] = {}


class _FieldRecorder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_leave(self, original_node: cst.CSTNode) -> None:
        pass

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


def _field_order(node: cst.CSTNode) -> tuple[str, ...]:
    """The fields LibCST visits, in its order.

    LibCST skips some fields when they are None (``format_spec``), so one node need not show them all: the
    field names are also read, in source order, from the constants of the class's visiting method. The
    recorded order decides when the two disagree.
    """
    cls = type(node)
    order = _FIELD_ORDER.get(cls)
    if order is None:
        recorder = _FieldRecorder()
        node._visit_and_replace_children(recorder)
        recorded = tuple(dict.fromkeys(recorder.fields))
        names = {field.name for field in dataclasses.fields(cls)}
        constants = cls._visit_and_replace_children.__code__.co_consts
        static = tuple(dict.fromkeys(c for c in constants if isinstance(c, str) and c in names))
        agree = set(recorded) <= set(static) and tuple(f for f in static if f in recorded) == recorded
        order = _FIELD_ORDER[cls] = static if agree else recorded
    return order


_OTHER, _NODE, _SEQUENCE = 0, 1, 2
_KINDS: dict[type, int] = {}  # the class of a field's value -> what it is to a walk


def _kind(cls: type) -> int:
    # A field holds a node, a sequence of nodes, or something else (a string, None, MaybeSentinel).
    what = _KINDS[cls] = _NODE if issubclass(cls, cst.CSTNode) else _SEQUENCE if cls in (tuple, list) else _OTHER
    return what


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children``, without rebuilding ``node``."""
    index = _indexed(node)
    if index is not None:
        return index.children(node)
    found: list[cst.CSTNode] = []
    for field in _FIELD_ORDER.get(type(node)) or _field_order(node):
        value = getattr(node, field)
        if isinstance(value, cst.CSTNode):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            found.extend(item for item in value if isinstance(item, cst.CSTNode))
    return found


_PLAIN_VISITOR_HOOKS = tuple(
    getattr(cst.CSTVisitor, name) for name in ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute")
)
# Weak: codemods define visitor classes inside functions, a new class per call, whose methods hold trees.
_PLAIN_VISITORS: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()
# visitor class -> node class -> (visit_<Node>, leave_<Node>, fields in visiting order)
_HOOKS: weakref.WeakKeyDictionary[type, dict[type, tuple]] = weakref.WeakKeyDictionary()


def _own(cls: type, name: str):
    """The visitor's own method ``name``, or None where it is LibCST's do-nothing default."""
    method = getattr(cls, name, None)
    return None if method is None or method is getattr(cst.CSTVisitor, name, None) else method


# Codemods define visitor classes inside functions: one class per call, the same methods each time. What
# ``_plain`` and ``_named_hooks`` find depends only on the names each class defines, so they are kept by those.
_BY_SHAPE: dict[tuple, tuple[bool, frozenset[str]]] = {}


def _shape(cls: type) -> tuple:
    return cls.__module__, cls.__qualname__, cls.__bases__, tuple(vars(cls))


_LIBCST_ON_VISIT = cst.CSTVisitor.on_visit


def _visits_only(visitor: cst.CSTVisitor) -> bool:
    """A read-only visitor with its own ``on_visit`` and nothing to do on leaving a node (nor per field): a walk
    over the index can call ``on_visit`` on each node itself."""
    cls = type(visitor)
    known = _VISITS_ONLY.get(_shape(cls))
    if known is None:
        known = _VISITS_ONLY[_shape(cls)] = _visits_only_class(cls)
    return known and isinstance(visitor, cst.CSTVisitor)


_VISITS_ONLY: dict[tuple, bool] = {}


def _visits_only_class(cls: type) -> bool:
    hooks = tuple(getattr(cls, name) for name in ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute"))
    if hooks[0] is _LIBCST_ON_VISIT or hooks[1:] != _PLAIN_VISITOR_HOOKS[1:]:
        return False
    own = [name for klass in cls.__mro__ if klass.__module__.split(".")[0] != "libcst" for name in vars(klass)]
    return not any(name.startswith("leave_") or re.match(r"visit_[A-Za-z]+_\w+$", name) for name in own)


def _plain(visitor: cst.CSTVisitor) -> bool:
    """A visitor that only has ``visit_<Node>``/``leave_<Node>`` methods: ``walk`` can call them itself."""
    cls = type(visitor)
    plain = _PLAIN_VISITORS.get(cls)
    if plain is None:
        known = _BY_SHAPE.get(_shape(cls))
        if known is not None:
            plain = _PLAIN_VISITORS[cls] = known[0] and isinstance(visitor, cst.CSTVisitor)
            return plain
        hooks = tuple(getattr(cls, name) for name in ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute"))
        own = [name for klass in cls.__mro__ if klass.__module__.split(".")[0] != "libcst" for name in vars(klass)]
        attribute_hooks = any(re.match(r"(visit|leave)_[A-Za-z]+_\w+$", name) for name in own)
        plain = _PLAIN_VISITORS[cls] = (
            isinstance(visitor, cst.CSTVisitor) and hooks == _PLAIN_VISITOR_HOOKS and not attribute_hooks
        )
        names = frozenset(name.split("_", 1)[1] for name in own if name.startswith(("visit_", "leave_")))
        _BY_SHAPE[_shape(cls)] = (hooks == _PLAIN_VISITOR_HOOKS and not attribute_hooks, names)
    return plain


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads the tree, without LibCST rebuilding it."""
    if not _plain(visitor):
        index = _indexed(node) if _visits_only(visitor) else None
        if index is None:
            node.visit(visitor)
        else:
            index.visit_all(node, visitor)
        return
    index = _indexed(node)
    if index is not None:
        index.walk(node, visitor)
        return
    cls = type(visitor)
    visits = _HOOKS.get(cls)
    if visits is None:
        visits = _HOOKS[cls] = {}
    kinds = _KINDS

    def go(n: cst.CSTNode) -> None:
        kind = n.__class__
        hooks = visits.get(kind)
        if hooks is None:
            name = kind.__name__
            hooks = visits[kind] = (_own(cls, "visit_" + name), _own(cls, "leave_" + name), _field_order(n))
        enter, leave, order = hooks
        if enter is None or enter(visitor, n) is not False:
            for field in order:
                value = getattr(n, field)
                what = kinds.get(value.__class__)
                if what is None:
                    what = _kind(value.__class__)
                if what == _NODE:
                    go(value)
                elif what == _SEQUENCE:
                    for item in value:
                        go(item)
        if leave is not None:
            leave(visitor, n)

    go(node)


# visitor class -> its hooks: node class name -> (visit_<Node> or None, leave_<Node> or None)
_NAMED_HOOKS: weakref.WeakKeyDictionary[type, dict[str, tuple]] = weakref.WeakKeyDictionary()


def _named_hooks(cls: type) -> dict[str, tuple]:
    hooks = _NAMED_HOOKS.get(cls)
    if hooks is None:
        # Only the classes outside LibCST define hooks that do something (``_plain`` made sure of that).
        names = _BY_SHAPE[_shape(cls)][1]
        hooks = {}
        for name in names:
            pair = (_own(cls, "visit_" + name), _own(cls, "leave_" + name))
            if pair != (None, None):
                hooks[name] = pair
        _NAMED_HOOKS[cls] = hooks
    return hooks


class TreeIndex:
    """One walk of a module, kept: every node in the order ``walk`` visits them, where each node's subtree
    ends, and the positions of the nodes of each class.

    Every codemod reads the same tree many times (per function, per name query, per construction), and the
    verification pass reads it again. With the index, a walk visits only the nodes its visitor has hooks
    for, and ``children`` is a few jumps; a walk over a node the index does not hold (a node built by a
    codemod) falls back to reading fields. LibCST nodes never change, so what the index says about a node
    stays true in every tree that shares it.
    """

    def __init__(self, module: cst.Module) -> None:
        order: list[cst.CSTNode] = []
        ends: list[int] = []
        kinds = _KINDS
        orders = _FIELD_ORDER

        def go(n: cst.CSTNode) -> None:
            at = len(order)
            order.append(n)
            ends.append(0)
            fields = orders.get(n.__class__)
            if fields is None:  # not ``or``: a leaf's fields are an empty tuple
                fields = _field_order(n)
            for field in fields:
                value = getattr(n, field)
                what = kinds.get(value.__class__)
                if what is None:
                    what = _kind(value.__class__)
                if what == _NODE:
                    go(value)
                elif what == _SEQUENCE:
                    for item in value:
                        go(item)
            ends[at] = len(order)

        go(module)
        parents = [-1] * len(order)
        for i, end in enumerate(ends):
            j = i + 1
            while j < end:
                parents[j] = i
                j = ends[j]
        self.parents = parents
        self.module = module
        self.order = order
        self.ends = ends
        self.position = {n: i for i, n in enumerate(order)}  # CST nodes hash by identity
        by_name: dict[str, list[int]] = {}
        for i, n in enumerate(order):
            by_name.setdefault(n.__class__.__name__, []).append(i)
        self.by_name = by_name
        self._hooked: dict[frozenset, list[int]] = {}
        self._children: dict[int, list[cst.CSTNode]] = {}
        self.facts: ModuleFacts | None = None
        self.function_facts: dict[cst.FunctionDef, FunctionFacts] = {}
        self.lines: NodeLines | None = None
        self._by_id: dict[int, int] | None = None

    def children(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        at = self.position[node]
        found = self._children.get(at)
        if found is None:
            order, ends = self.order, self.ends
            found, j, end = [], at + 1, ends[at]
            while j < end:
                found.append(order[j])
                j = ends[j]
            self._children[at] = found
        return list(found)

    def walk(self, node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
        hooks = _named_hooks(type(visitor))
        names = frozenset(name for name in hooks if name in self.by_name)
        positions = self._hooked.get(names)
        if positions is None:
            positions = self._hooked[names] = sorted(i for name in names for i in self.by_name[name])
        start = self.position[node]
        end = self.ends[start]
        order, ends = self.order, self.ends
        pending: list[tuple[int, cst.CSTNode, Callable]] = []  # (end of subtree, node, its leave hook)
        skip_to = start
        for i in positions[bisect.bisect_left(positions, start):bisect.bisect_left(positions, end)]:
            if i < skip_to:
                continue
            while pending and pending[-1][0] <= i:
                _, left, leave = pending.pop()
                leave(visitor, left)
            n = order[i]
            enter, leave = hooks[n.__class__.__name__]
            if enter is not None and enter(visitor, n) is False:
                skip_to = ends[i]
            if leave is not None:
                pending.append((ends[i], n, leave))
        while pending:
            _, left, leave = pending.pop()
            leave(visitor, left)


    def visit_all(self, node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
        """``visitor.on_visit`` on every node of ``node``'s subtree in walk order, skipping below a False."""
        order, ends = self.order, self.ends
        on_visit = visitor.on_visit
        i = self.position[node]
        end = ends[i]
        while i < end:
            i = i + 1 if on_visit(order[i]) is not False else ends[i]

    def _ids(self) -> dict[int, int]:
        if self._by_id is None:
            self._by_id = {id(n): i for i, n in enumerate(self.order)}
        return self._by_id

    def contains(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``node``'s subtree holds a node of the class named ``name`` (``node`` included)."""
        at = self.position[node]
        positions = self.by_name.get(name, ())
        found = bisect.bisect_left(positions, at)
        return found < len(positions) and positions[found] < self.ends[at]


def contains(node: cst.CSTNode, name: str) -> bool:
    """Whether ``node``'s subtree holds a node of the class named ``name``; True when it cannot tell cheaply."""
    index = _indexed(node)
    return True if index is None else index.contains(node, name)


def pruned(transformer: cst.CSTTransformer, module: cst.Module, edited: Iterable[int]) -> cst.CSTTransformer:
    """``transformer``, made to skip the subtrees of ``module`` that hold none of the nodes it edits (by ``id``).

    For a transformer whose hooks change only those nodes, what lies inside them, and the nodes above them
    (the module itself included): LibCST rebuilds every node a transformer enters, and a plan edits a few.
    Its hooks still run on the nodes it does not enter (``visit_*`` and ``leave_*``, as LibCST calls them).
    """
    index = index_of(module)
    ids = index._ids()
    found = [ids.get(key) for key in edited]
    positions = [p for p in found if p is not None]
    if len(positions) != len(found):
        return transformer  # a node the index does not know: nothing skipped
    above: set[int] = set()
    for p in positions:
        parent = index.parents[p]
        while parent >= 0 and parent not in above:
            above.add(parent)
            parent = index.parents[parent]
    spans = sorted((p, index.ends[p]) for p in positions)
    starts = [start for start, _ in spans]
    inner = transformer.on_visit
    where = index.position

    def on_visit(node: cst.CSTNode) -> bool:
        descend = inner(node)
        at = where.get(node)
        if not descend or at is None or at in above:
            return descend
        before = bisect.bisect_right(starts, at)
        # Inside an edited node when some span that starts at or before it has not ended yet.
        return any(end > at for _, end in spans[:before])

    transformer.on_visit = on_visit  # type: ignore[method-assign]  # the instance's own, ahead of the class's
    return transformer


# The indexes of the last few modules: the tree a codemod reads and the ones the codemods before it made.
_INDEXES: dict[cst.Module, TreeIndex] = {}
_KEEP = 6


def index_of(module: cst.Module) -> TreeIndex:
    index = _INDEXES.get(module)
    if index is None:
        if len(_INDEXES) >= _KEEP:
            del _INDEXES[next(iter(_INDEXES))]
        index = _INDEXES[module] = TreeIndex(module)
    return index


def _indexed(node: cst.CSTNode) -> TreeIndex | None:
    for index in reversed(_INDEXES.values()):
        if node in index.position:
            return index
    return None

_NEW_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class _LineState(CodegenState):
    """Prints a module and notes, per node, how many tokens came before its syntactic start."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.starts: dict[cst.CSTNode, int] = {}
        self.stack: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self.stack.pop()
        if node not in self.starts:
            self.starts[node] = start

    @contextlib.contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        start = len(self.tokens)
        try:
            yield
        finally:
            self.starts[node] = self.starts[start_node] if start_node is not None else start


_NEWLINE = re.compile(r"\r\n?|\n")


class NodeLines:
    """The line each node of a module starts on: ``PositionProvider``'s ``start.line``, without its cost.

    Position metadata builds a range object for every node of the module, on every token; the codemods
    report the lines of a few nodes.
    """

    def __init__(self, module: cst.Module) -> None:
        state = _LineState(module)
        module._codegen(state)
        self.code = "".join(state.tokens)  # the module's text, as ``module.code`` prints it
        self._starts = state.starts
        line, lines = 1, [1]
        for token in state.tokens:
            if "\n" in token or "\r" in token:
                line += len(_NEWLINE.findall(token))
            lines.append(line)
        self._lines = lines

    def __getitem__(self, node: cst.CSTNode) -> int:
        return self._lines[self._starts[node]]


def printed_code(module: cst.Module) -> str | None:
    """``module.code`` when a codemod has printed the module already to number its lines, else None."""
    index = _INDEXES.get(module)
    return None if index is None or index.lines is None else index.lines.code


class _Unread:
    def __getitem__(self, node: cst.CSTNode) -> int:
        return 0


LineIndex = NodeLines | _Unread  # what lines_of gives: the line of a node, or 0 where nobody reads it


def lines_of(module: cst.Module, ctx=None) -> NodeLines | _Unread:
    """``NodeLines(module)``, printed once per tree for every codemod that reports a line in it; nothing
    where nobody reads the lines (``ctx.lines_read`` false: a pass whose findings are dropped)."""
    if ctx is not None and not ctx.lines_read:
        return _Unread()
    index = index_of(module)
    if index.lines is None:
        index.lines = NodeLines(module)
    return index.lines


# What a module's or a block's body holds (libcst's BaseStatement, as the union its bodies are typed with).
Statement = cst.SimpleStatementLine | cst.BaseCompoundStatement


def dotted(expr: cst.BaseExpression | None) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted(expr.value)
        return f"{base}.{expr.attr.value}" if base else None
    return None


def root_name(expr: cst.BaseExpression) -> str | None:
    """The name at the root of ``x.a.b``, ``x[1].c``, ``x.f().g``."""
    while True:
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            expr = expr.func
        else:
            return None


def import_bindings(stmt: cst.Import | cst.ImportFrom) -> dict[str, str]:
    """Local name -> qualified name, for one import statement."""
    bound: dict[str, str] = {}
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                bound[alias.asname.name.value] = full
            else:
                top = full.split(".")[0]
                bound[top] = top
        return bound
    if isinstance(stmt.names, cst.ImportStar):
        return bound
    module = "." * len(stmt.relative) + (dotted(stmt.module) or "" if stmt.module else "")
    for alias in stmt.names:
        name = dotted(alias.name) or ""
        local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
        bound[local] = f"{module}.{name}"
    return bound


def target_names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


@dataclasses.dataclass
class Binding:
    name: str
    node: cst.CSTNode  # the statement or clause that binds it
    # The single-statement line ``name = value`` or ``import name``, when the binding is one; else None.
    line: cst.SimpleStatementLine | None
    value: cst.BaseExpression | None = None


class _BindingCollector(cst.CSTVisitor):
    """Names bound in one scope, without entering nested scopes (whose names it records)."""

    def __init__(self) -> None:
        self.bindings: dict[str, list[Binding]] = {}
        self.globals: set[str] = set()
        self.nested: list[cst.CSTNode] = []
        self.reads: set[str] = set()
        self._line: cst.SimpleStatementLine | None = None
        self._root: cst.CSTNode | None = None

    def collect(self, root: cst.CSTNode, body: list[cst.CSTNode] | tuple) -> _BindingCollector:
        self._root = root
        for stmt in body:
            walk(stmt, self)
        return self

    def _bind(self, name: str, node: cst.CSTNode, value: cst.BaseExpression | None = None, simple: bool = False) -> None:
        line = self._line if simple else None
        self.bindings.setdefault(name, []).append(Binding(name, node, line, value))

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._line = node if len(node.body) == 1 else None

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self._line = None

    def visit_Name(self, node: cst.Name) -> None:
        self.reads.add(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        simple = len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name)
        for target in node.targets:
            for name in target_names(target.target):
                self._bind(name.value, node, node.value, simple)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        for name in target_names(node.target):
            self._bind(name.value, node, node.value, node.value is not None)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        for name in target_names(node.target):
            self._bind(name.value, node)

    def visit_For(self, node: cst.For) -> None:
        for name in target_names(node.target):
            self._bind(name.value, node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            for name in target_names(node.asname.name):
                self._bind(name.value, node)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._bind(node.name.name.value, node)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        for name in target_names(node.target):
            self._bind(name.value, node)

    def visit_Del(self, node: cst.Del) -> None:
        for name in target_names(node.target):
            self._bind(name.value, node)

    # ``case {"table": TABLE}:`` binds TABLE in the function, shadowing a module-level TABLE.
    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        if node.name is not None:
            self._bind(node.name.value, node)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name.value, node)

    def visit_MatchMapping(self, node: cst.MatchMapping) -> None:
        if node.rest is not None:
            self._bind(node.rest.value, node)

    def visit_Import(self, node: cst.Import) -> None:
        for name in import_bindings(node):
            self._bind(name, node, None, True)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        for name in import_bindings(node):
            self._bind(name, node, None, True)

    def visit_Global(self, node: cst.Global) -> None:
        self.globals.update(item.name.value for item in node.names)

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.globals.update(item.name.value for item in node.names)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        if node is self._root:
            return True
        self._bind(node.name.value, node)
        self.nested.append(node)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._bind(node.name.value, node)
        self.nested.append(node)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.nested.append(node)
        return False


@dataclasses.dataclass
class ModuleFacts:
    module: cst.Module
    imports: dict[str, str]  # local name -> qualified name, for top-level imports
    bindings: dict[str, list[int]]  # name -> indices of the top-level statements that bind it
    simple_values: dict[str, cst.BaseExpression]  # name -> value, for names bound once by ``name = value``
    rebound: dict[str, str]  # global name -> a function that rebinds it with ``global``
    functions: list[cst.FunctionDef]  # top-level functions
    import_end: int  # index of the first top-level statement after the leading imports
    reads: set[str]  # every name read anywhere
    # Module-level names whose contents a function changes (``CONFIG["table"] = ...``, ``Settings.x = ...``,
    # ``CACHE.update(...)``) -> that function.
    changed: dict[str, str] = dataclasses.field(default_factory=dict)
    # Names the module binds only under ``if __name__ == "__main__":``: never bound when Lambda imports it.
    main_only: set[str] = dataclasses.field(default_factory=set)
    # Environment variables a function sets -> that function; the key None: one it cannot name.
    env_changed: dict[str | None, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, module: cst.Module) -> ModuleFacts:
        """The facts of ``module``, read once per tree: every codemod, and the verification pass, share them."""
        index = index_of(module)
        if index.facts is None:
            index.facts = cls._read(module)
        return index.facts

    @classmethod
    def _read(cls, module: cst.Module) -> ModuleFacts:
        imports: dict[str, str] = {}
        bindings: dict[str, list[int]] = {}
        simple_values: dict[str, cst.BaseExpression] = {}
        counts: dict[str, int] = {}
        functions: list[cst.FunctionDef] = []
        reads: set[str] = set()
        import_end = 1 if module.body and _is_docstring(module.body[0]) else 0
        header = True
        for index, stmt in enumerate(module.body):
            collector = _BindingCollector().collect(module, [stmt])
            reads |= collector.reads
            for name, found in collector.bindings.items():
                bindings.setdefault(name, []).append(index)
                counts[name] = counts.get(name, 0) + len(found)
                if len(found) == 1 and found[0].line is not None and found[0].value is not None:
                    simple_values[name] = found[0].value
            if isinstance(stmt, cst.FunctionDef):
                functions.append(stmt)
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                header = False
            if isinstance(stmt, cst.SimpleStatementLine) and all(
                isinstance(small, (cst.Import, cst.ImportFrom)) for small in stmt.body
            ):
                for small in stmt.body:
                    imports.update(import_bindings(cast("cst.Import | cst.ImportFrom", small)))
                if header:
                    import_end = index + 1
            elif header and isinstance(stmt, (cst.Try, cst.If)) and _contains_import(stmt):
                import_end = index + 1
        for name, count in counts.items():
            if count > 1:
                simple_values.pop(name, None)
        rebound: dict[str, str] = {}
        for stmt in module.body:
            for node in _functions_in(stmt):
                inner = _BindingCollector().collect(node, [node])
                for name in inner.globals:
                    if name in inner.bindings:
                        rebound.setdefault(name, node.name.value)
        facts = cls(module, imports, bindings, simple_values, rebound, functions, import_end, reads)
        main_blocks = {index for index, stmt in enumerate(module.body) if _is_main_block(stmt)}
        facts.main_only = {name for name, found in bindings.items() if set(found) <= main_blocks}
        for stmt in module.body:
            for node in _functions_in(stmt):
                inner = _BindingCollector().collect(node, [node])
                changes = _Changes(facts, set(inner.bindings) - inner.globals)
                walk(node, changes)
                for name in changes.names:
                    facts.changed.setdefault(name, node.name.value)
                for key in changes.env:
                    facts.env_changed.setdefault(key, node.name.value)
        return facts

    def qualname(self, expr: cst.BaseExpression, local_imports: dict[str, str] | None = None) -> str | None:
        """The qualified name an expression refers to through the imports, or a builtin's name."""
        text = dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        for table in (local_imports or {}, self.imports):
            if head in table:
                return f"{table[head]}.{rest}" if rest else table[head]
        if head in BUILTIN_NAMES and head not in self.bindings:
            return text
        return None


# Methods that change the container they are called on.
_CHANGING_METHODS = frozenset(
    {"update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert", "remove", "add", "discard",
     "__setitem__", "__delitem__"}
)
# The calls of ENV_WRITES whose first argument names the one variable they change.
_ENV_KEYED = frozenset({"os.environ.setdefault", "os.environ.pop", "os.putenv", "os.unsetenv"})


class _Changes(cst.CSTVisitor):
    """What one function changes that it does not own: module-level containers and the environment."""

    def __init__(self, facts: ModuleFacts, local: set[str]) -> None:
        self.facts = facts
        self.local = local
        self.names: set[str] = set()
        self.env: set[str | None] = set()

    def _changed(self, target: cst.BaseExpression) -> None:
        if not isinstance(target, (cst.Subscript, cst.Attribute)):
            return
        if isinstance(target, cst.Subscript) and self.facts.qualname(target.value) == "os.environ":
            self.env.add(env_key(target))
            return
        root = root_name(target)
        if root is not None and root not in self.local and root != "os":
            self.names.add(root)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            for element in _targets(target.target):
                self._changed(element)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._changed(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        for element in _targets(node.target):
            self._changed(element)

    def visit_Call(self, node: cst.Call) -> None:
        qualname = self.facts.qualname(node.func)
        if qualname in ENV_WRITES:
            key = node.args[0].value if node.args and qualname in _ENV_KEYED else None
            value = key.evaluated_value if isinstance(key, cst.SimpleString) else None
            self.env.add(value if isinstance(value, str) else None)  # None: a key not known here
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in _CHANGING_METHODS:
            self._changed(node.func)


def _targets(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [t for element in target.elements for t in _targets(element.value)]
    if isinstance(target, cst.StarredElement):
        return _targets(target.value)
    return [target]


def env_key(subscript: cst.Subscript) -> str | None:
    """``"TABLE"`` for ``os.environ["TABLE"]``; None when the key is not a plain string."""
    if len(subscript.slice) == 1 and isinstance(subscript.slice[0].slice, cst.Index):
        key = subscript.slice[0].slice.value
        if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
            return key.evaluated_value
    return None


def _is_main_block(stmt: cst.CSTNode) -> bool:
    """``if __name__ == "__main__":``"""
    if not isinstance(stmt, cst.If) or not isinstance(stmt.test, cst.Comparison):
        return False
    test = stmt.test
    if len(test.comparisons) != 1 or not isinstance(test.comparisons[0].operator, cst.Equal):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _contains_import(stmt: cst.CSTNode) -> bool:
    found = False

    class _Finder(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            nonlocal found
            found = True

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            nonlocal found
            found = True

    walk(stmt, _Finder())
    return found


def _functions_in(stmt: cst.CSTNode) -> list[cst.FunctionDef]:
    found: list[cst.FunctionDef] = []

    class _Finder(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            found.append(node)

    walk(stmt, _Finder())
    return found


@dataclasses.dataclass
class FunctionFacts:
    node: cst.FunctionDef
    params: set[str]
    bindings: dict[str, list[Binding]]
    globals: set[str]
    names: set[str]  # every name that appears in the function
    body_lines: set[int]  # ids of the statements directly in the function's body

    @classmethod
    def read(cls, node: cst.FunctionDef) -> FunctionFacts:
        index = _indexed(node)
        if index is None:
            return cls._read(node)
        facts = index.function_facts.get(node)
        if facts is None:
            facts = index.function_facts[node] = cls._read(node)
        return facts

    @classmethod
    def _read(cls, node: cst.FunctionDef) -> FunctionFacts:
        params = {
            p.name.value
            for p in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params)
        }
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                params.add(star.name.value)
        collector = _BindingCollector().collect(node, [node])
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        names = _all_names(node)
        return cls(node, params, collector.bindings, collector.globals, names, {id(stmt) for stmt in body})


def _all_names(node: cst.CSTNode) -> set[str]:
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

    walk(node, _Names())
    return names


def handler_like(fn: cst.FunctionDef) -> bool:
    """A function shaped like a Lambda handler, by the rule every codemod shares (``_lambda_code``)."""
    return python_handler([(p.name.value, p.default is not None) for p in (*fn.params.posonly_params, *fn.params.params)])
