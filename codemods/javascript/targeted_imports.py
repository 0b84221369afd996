"""Imports of the whole v2 SDK become one import per service used, plus `aws-sdk/global` for the core."""

from __future__ import annotations

import dataclasses

from codemods._base import Codemod, FileContext
from codemods.javascript._project import project_of
from codemods.javascript._services import GLOBAL_MEMBERS, SERVICES
from codemods.javascript._tree import (
    DECLARATIONS,
    Edit,
    Node,
    apply,
    indent_at,
    is_declaration_site,
    line,
    line_end,
    line_start,
    names_in,
    newline,
    required_module,
    string_value,
    text,
    walk,
)
from rewriter.languages import SourceTree

SDK = "aws-sdk"


class _Whole(Exception):
    """The SDK is used in a way that one import per service cannot express: the whole import stays."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(why)
        self.line = line


@dataclasses.dataclass
class _Plan:
    services: dict[str, str] = dataclasses.field(default_factory=dict)  # local name -> module
    global_name: str | None = None  # `AWS` kept for `AWS.config`... from aws-sdk/global
    global_named: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (imported, local)
    renames: list[Edit] = dataclasses.field(default_factory=list)
    notes: list[tuple[int, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class _Import:
    statement: Node
    style: str  # "esm", "import-require" (TypeScript `import X = require()`) or the keyword: const/let/var
    namespace: str | None  # the name the whole SDK is bound to
    named: tuple[tuple[str, str], ...]  # (imported, local)
    namespace_node: Node | None = None


class TargetedImports(Codemod[SourceTree]):
    NAME = "targeted-imports"
    DESCRIPTION = "Imports of the whole AWS SDK v2 become per-service imports (aws-sdk/clients/<service>)"
    LANGUAGES = ("javascript", "typescript", "tsx")
    MARKERS = (SDK.encode(),)
    OPT_IN = True  # sdk-v3 is the default for v2 code: narrowing within v2 only when asked for

    def transform(self, tree: SourceTree, ctx: FileContext) -> SourceTree:
        data, root = tree.data, tree.tree.root_node
        imports, handled = [], set()
        for node in walk(root):
            found = _sdk_import(data, node)
            if found is not None:
                imports.append(found)
                handled.add(found.statement.id)
        edits: list[Edit] = []
        project = project_of(ctx)
        for found in imports:
            try:
                if project.mocks(SDK):
                    raise _Whole(
                        line(found.statement),
                        f"the tests mock `{SDK}` (aws-sdk-mock or jest.mock), which replaces the clients of the "
                        "whole SDK's module only: a per-service import would escape the mock",
                    )
                plan = _plan(data, root, found, project.tsconfig is not None)
                form = _service_form(tree, ctx, found, plan)
            except _Whole as whole:
                ctx.note(whole.line, f"whole `{SDK}` import left in place: {whole}")
                continue
            edits.append(_replacement(data, found.statement, _render(tree, found, plan, form)))
            edits.extend(plan.renames)
            for at, message in plan.notes:
                ctx.note(at, message)
            ctx.change(line(found.statement), _summary(plan))
        _note_other_uses(data, root, handled, ctx)
        return apply(tree, edits)


def _replacement(data: bytes, statement: Node, new: bytes) -> Edit:
    start, end = statement.start_byte, statement.end_byte
    if not new:  # the line goes, when the import is all there is on it
        first, last = line_start(data, start), line_end(data, end)
        if not data[first:start].strip() and not data[end:last].strip():
            return Edit(first, last, b"")
    return Edit(start, end, new)


def _summary(plan: _Plan) -> str:
    parts = []
    if plan.services:
        parts.append(", ".join(f"`{name}`" for name in plan.services) + " from aws-sdk/clients")
    core = ([plan.global_name] if plan.global_name else []) + [local for _, local in plan.global_named]
    if core:
        parts.append(", ".join(f"`{name}`" for name in core) + " from aws-sdk/global")
    if not parts:
        return f"unused import of the whole `{SDK}` removed"
    return f"whole `{SDK}` import narrowed to " + " and ".join(parts)


def _sdk_import(data: bytes, node: Node) -> _Import | None:
    if node.type == "import_statement":
        if any(child.type == "type" for child in node.children):
            return None  # a type-only import adds nothing to the bundle
        require = next((c for c in node.named_children if c.type == "import_require_clause"), None)
        if require is not None:
            if string_value(data, require.child_by_field_name("source")) != SDK:
                return None
            name = require.named_children[0]
            return _Import(node, "import-require", text(data, name), (), name)
        if string_value(data, node.child_by_field_name("source")) != SDK:
            return None
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is None:
            return None  # `import 'aws-sdk'`: loaded for its side effects
        namespace, named, namespace_node = None, [], None
        for part in clause.named_children:
            if part.type == "identifier":
                namespace, namespace_node = text(data, part), part
            elif part.type == "namespace_import":
                namespace_node = part.named_children[0]
                namespace = text(data, namespace_node)
            elif part.type == "named_imports":
                for spec in part.named_children:
                    if spec.type != "import_specifier":
                        continue
                    name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                    named.append((text(data, name), text(data, alias or name)))
        return _Import(node, "esm", namespace, tuple(named), namespace_node)
    if node.type in DECLARATIONS:
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(declarators) != 1 or required_module(data, declarators[0].child_by_field_name("value")) != SDK:
            return None
        target = declarators[0].child_by_field_name("name")
        keyword = text(data, node.children[0])
        if target.type == "identifier":
            return _Import(node, keyword, text(data, target), (), target)
        if target.type == "object_pattern":
            named = []
            for part in target.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    named.append((text(data, part), text(data, part)))
                elif part.type == "pair_pattern" and part.child_by_field_name("value").type == "identifier":
                    key = part.child_by_field_name("key")
                    named.append((text(data, key), text(data, part.child_by_field_name("value"))))
                else:
                    return _Import(node, keyword, None, (("", text(data, part)),))
            return _Import(node, keyword, None, tuple(named))
    return None


def _service_form(tree, ctx: FileContext, found: _Import, plan: _Plan) -> str:
    """How an ES-style import of the whole SDK imports one service in this file: "default"
    (`import S3 from 'aws-sdk/clients/s3.js'`) or "require" (`import S3 = require('aws-sdk/clients/s3')`).
    Each client module says `export = S3`: its default import compiles only with synthetic default imports
    (`esModuleInterop`, a bundler, or an ES module under node16/nodenext); without them tsc fails with TS1259,
    and the code it emits would read a missing `.default` at load."""
    project = project_of(ctx)
    if found.style != "esm" or not plan.services or tree.dialect == "javascript" or project is None:
        return "default"
    if project.tsconfig is None or project.default_import_of_export_equals(ctx.path):
        return "default"
    if project.import_require(ctx.path):
        return "require"
    module = project.tsconfig.effective_module
    raise _Whole(
        line(found.statement),
        f"under this tsconfig (`module: {module}` without `esModuleInterop`) no import of a single service "
        "compiles and runs",
    )


def _plan(data: bytes, root: Node, found: _Import, tsconfig_known: bool = False) -> _Plan:
    plan = _Plan()
    for imported, local in found.named:
        if imported in SERVICES:
            plan.services[local] = SERVICES[imported]
        elif imported in GLOBAL_MEMBERS:
            plan.global_named.append((imported, local))
        else:
            raise _Whole(line(found.statement), f"`{imported or local}` is not a service nor part of aws-sdk/global")
    if found.namespace is not None:
        _plan_namespace(data, root, found, plan, tsconfig_known)
    return plan


def _plan_namespace(data: bytes, root: Node, found: _Import, plan: _Plan, tsconfig_known: bool) -> None:
    name = found.namespace
    assert name is not None  # the caller's test
    uses = [n for n in names_in(data, root, name) if n != found.namespace_node]
    if any(is_declaration_site(n) for n in uses):
        where = next(n for n in uses if is_declaration_site(n))
        raise _Whole(line(where), f"`{name}` is declared again on line {line(where)}")
    members: dict[str, list[tuple[Node, Node]]] = {}
    for use in uses:
        member, typed = _member_of(data, use)
        if member is None:
            context = use.parent.parent if use.parent.type == "arguments" else use.parent
            raise _Whole(line(use), f"`{name}` is used as a whole (`{text(data, context)[:40]}`)")
        if member not in SERVICES and member not in GLOBAL_MEMBERS and not typed:
            raise _Whole(line(use), f"`{name}.{member}` is not a service nor part of aws-sdk/global")
        members.setdefault(member, []).append((use, use.parent))
    used_names = _names_outside(data, root, members)
    for member, sites in sorted(members.items()):
        if member not in SERVICES:
            plan.global_name = name
            continue
        if member in used_names or member in dict(found.named).values():
            raise _Whole(line(sites[0][0]), f"`{member}` is already a name in this file")
        plan.services[member] = SERVICES[member]
        for use, parent in sites:
            plan.renames.append(Edit(use.start_byte, parent.end_byte, member.encode()))
    if found.style == "esm" and any(c.type == "namespace_import" for c in _clause_parts(found)):
        if plan.services and not tsconfig_known:  # with a tsconfig, the form it accepts is chosen
            plan.notes.append(
                (
                    line(found.statement),
                    "`import * as` became default imports of the service "
                    "clients: TypeScript needs `esModuleInterop` (or a bundler) for them",
                )
            )


def _clause_parts(found: _Import) -> list[Node]:
    clause = next((c for c in found.statement.named_children if c.type == "import_clause"), None)
    return clause.named_children if clause is not None else []


def _member_of(data: bytes, use: Node) -> tuple[str | None, bool]:
    """(`S3`, is a type) for the `AWS` of `AWS.S3`, `AWS.S3.X` or the type `AWS.S3.Y`; (None, _) otherwise."""
    parent = use.parent
    if parent.type == "member_expression" and parent.child_by_field_name("object") == use:
        grand = parent.parent
        if grand is not None and grand.type == "assignment_expression" and grand.child_by_field_name("left") == parent:
            return None, False
        prop = parent.child_by_field_name("property")
        if prop.type == "property_identifier" and not any(c.type == "optional_chain" for c in parent.children):
            return text(data, prop), False
    if parent.type == "nested_identifier" and parent.child_by_field_name("object") == use:
        return text(data, parent.child_by_field_name("property")), _in_type(parent)
    if parent.type == "nested_type_identifier" and parent.child_by_field_name("module") == use:
        return text(data, parent.child_by_field_name("name")), True
    return None, False


def _in_type(node: Node) -> bool:
    while node is not None:
        if node.type in (
            "type_annotation",
            "nested_type_identifier",
            "type_arguments",
            "type_alias_declaration",
            "interface_declaration",
            "implements_clause",
        ):
            return True
        if node.type.endswith(("statement", "expression", "declaration")):
            return False
        node = node.parent
    return False


def _names_outside(data: bytes, root: Node, members: dict[str, list[tuple[Node, Node]]]) -> set[str]:
    """Names used in the file other than as the `S3` of an `AWS.S3` about to become `S3`."""
    rewritten = {parent.id for sites in members.values() for _, parent in sites}
    names = set()
    for node in walk(root):
        if (
            node.type
            in (
                "identifier",
                "type_identifier",
                "shorthand_property_identifier",
                "shorthand_property_identifier_pattern",
            )
            and node.parent.id not in rewritten
        ):
            names.add(text(data, node))
    return names


def _render(tree, found: _Import, plan: _Plan, form: str = "default") -> bytes:
    data, statement = tree.data, found.statement
    source_node = statement.child_by_field_name("source")
    quote = text(data, source_node)[0] if source_node is not None else _quote_of_require(data, statement)
    semicolon = ";" if text(data, statement).rstrip().endswith(";") else ""
    suffix = ".js" if _needs_extension(tree, found) else ""

    def module(path: str) -> str:
        return f"{quote}{SDK}/{path}{suffix}{quote}"

    lines = []
    if found.style == "esm":
        if plan.global_name:
            star = any(c.type == "namespace_import" for c in _clause_parts(found))
            lines.append(f"import {'* as ' if star else ''}{plan.global_name} from {module('global')}")
        if plan.global_named:
            lines.append(f"import {{ {_specifiers(plan.global_named, ' as ')} }} from {module('global')}")
        if form == "require":
            lines += [
                f"import {local} = require({quote}{SDK}/clients/{name}{quote})" for local, name in plan.services.items()
            ]
        else:
            lines += [f"import {local} from {module('clients/' + name)}" for local, name in plan.services.items()]
    elif found.style == "import-require":
        if plan.global_name:
            lines.append(f"import {plan.global_name} = require({module('global')})")
        lines += [f"import {local} = require({module('clients/' + name)})" for local, name in plan.services.items()]
    else:
        keyword = found.style
        if plan.global_name:
            lines.append(f"{keyword} {plan.global_name} = require({module('global')})")
        if plan.global_named:
            lines.append(f"{keyword} {{ {_specifiers(plan.global_named, ': ')} }} = require({module('global')})")
        lines += [f"{keyword} {local} = require({module('clients/' + name)})" for local, name in plan.services.items()]
    separator = newline(data) + indent_at(data, statement.start_byte)
    return separator.join(f"{text_}{semicolon}".encode() for text_ in lines)


def _specifiers(pairs: list[tuple[str, str]], joiner: str) -> str:
    return ", ".join(imported if imported == local else f"{imported}{joiner}{local}" for imported, local in pairs)


def _quote_of_require(data: bytes, statement: Node) -> str:
    for node in walk(statement):
        if node.type == "string":
            return text(data, node)[0]
    return "'"


def _needs_extension(tree, found: _Import) -> bool:
    """An ES module finds `aws-sdk/clients/s3` only as `aws-sdk/clients/s3.js`: the package has no exports map.
    TypeScript (any module resolution) and bundlers resolve the `.js` form too."""
    return found.style == "esm"


def _note_other_uses(data: bytes, root: Node, handled: set[int], ctx: FileContext) -> None:
    for node in walk(root):
        if required_module(data, node) != SDK:
            continue
        statement = node.parent.parent if node.parent is not None else None
        if statement is not None and statement.id in handled:
            continue
        ctx.note(line(node), f"`require('{SDK}')` used in an expression: left in place")
