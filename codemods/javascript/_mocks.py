"""Unit tests of a function: `aws-sdk-mock` becomes `aws-sdk-client-mock` once the code they test is on v3.

aws-sdk-mock replaces v2 service methods, and reaches only clients built after the mock is set, inside the tested
function: v3 clients (hoisted or not) escape it, so the tests would call AWS. aws-sdk-client-mock stubs `send` on the
v3 client class itself, whatever instance the code built, and when:

    AWSMock.mock('S3', 'getObject', { Body: 'x' })         s3Mock.on(GetObjectCommand).resolves({ Body: 'x' })
    AWSMock.mock('SQS', 'sendMessage', (params, cb) => …)   sqsMock.on(SendMessageCommand).callsFake(…)
    AWSMock.restore('S3') / AWSMock.restore()               s3Mock.reset() / every mock's reset()
    AWSMock.setSDKInstance(AWS)                             (removed, with the `aws-sdk` import if nothing else uses it)

A replacement function is kept byte for byte and called as aws-sdk-mock calls it (params and a callback; a promise
it returns counts too). A test whose mock use does not translate, or whose tested code stays on v2, is left whole
with a note.
"""
from __future__ import annotations

import re
from pathlib import Path

from codemods._base import FileContext
from codemods.javascript import _aws_sdk_js_codemod, _local_code
from codemods.javascript._tree import Edit, apply, line, line_end, line_start, text, walk

PACKAGE = "aws-sdk-mock"
CLIENT_MOCK = "aws-sdk-client-mock"
_CALLS = frozenset({"mock", "remock", "restore", "setSDKInstance", "setSDK"})
_LITERALS = frozenset({"object", "array", "string", "template_string", "number", "null", "true", "false", "undefined"})
_V3_IMPORT = re.compile(r"""^const \{ (\w+) \} = require\('(@aws-sdk/[\w-]+)'\);$""", re.M)
HELPER = "mockReplacement"
# aws-sdk-mock's replacement (a value, or a function it calls with the params and a callback, whose promise counts
# too), taken when the mock is set, as aws-sdk-client-mock's `callsFake`.
_HELPER = (
    "// aws-sdk-mock's replacement (a value, or a function called with the input and a callback, or returning a",
    "// promise) as an aws-sdk-client-mock `callsFake`.",
    "const {name} = (replace{any}) => (input{any}) => new Promise{promise}((resolve, reject) => {{",
    "  if (typeof replace !== 'function') return resolve(replace);",
    "  const result = replace(input, (error{any}, value{any}) => (error ? reject(error) : resolve(value)));",
    "  if (result && typeof result.then === 'function') result.then(resolve, reject);",
    "  else if (replace.isSinonProxy || replace._isMockFunction) resolve(result);",
    "}}){semi}",
)


class _Left(Exception):
    def __init__(self, at: int, why: str) -> None:
        super().__init__(why)
        self.at = at


def migrate(tree, ctx: FileContext):
    data = tree.data
    if PACKAGE.encode() not in data:
        return tree
    root = tree.tree.root_node
    found = _binding(data, root, PACKAGE)
    if found is None:
        return tree
    statement, name, esm = found
    try:
        _tested_code_on_v3(data, ctx)
        edits = _edits(data, root, statement, name, esm, ctx, typed=tree.dialect != "javascript")
    except _Left as left:
        ctx.note(left.at, f"test left on aws-sdk-mock: {left}")
        return tree
    return apply(tree, edits)


def _binding(data: bytes, root, module: str):
    """(statement, local name, ES module) of `const X = require(module)` or `import X from module` at top level."""
    for statement in root.named_children:
        if statement.type == "import_statement":
            source = statement.child_by_field_name("source")
            if source is None or text(data, source)[1:-1] != module:
                continue
            clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
            names = [n for n in walk(clause) if n.type == "identifier"] if clause is not None else []
            if len(names) == 1 and not any(n.type == "named_imports" for n in walk(clause)):
                return statement, text(data, names[0]), True
            return statement, None, True
        if statement.type in ("lexical_declaration", "variable_declaration") and len(statement.named_children) == 1:
            declarator = statement.named_children[0]
            value = declarator.child_by_field_name("value")
            if value is None or value.type != "call_expression" or text(data, value.child_by_field_name("function")) != "require":
                continue
            args = value.child_by_field_name("arguments").named_children
            if len(args) != 1 or args[0].type != "string" or text(data, args[0])[1:-1] != module:
                continue
            target = declarator.child_by_field_name("name")
            return statement, text(data, target) if target.type == "identifier" else None, False
    return None


def _tested_code_on_v3(data: bytes, ctx: FileContext) -> None:
    """Raises _Left unless the local modules the test imports are all on v3 once sdk-v3 has run."""
    if ctx.location is None:
        raise _Left(1, "where the test is on disk is not known, so neither is the code it tests")
    from codemods.manifests import _scan

    path = Path(ctx.location)
    root = _scan.repository_root(path, ctx.path)
    tested = [target for spec in _local_code.LOCAL.findall(data)
              for target in [_local_code.resolve(path.parent, spec.decode("utf-8", "replace"))] if target is not None]
    if not tested:
        raise _Left(1, "it imports no local module, so the code it tests is not known")
    for module in tested:
        for source in _local_code.imported(module, root):
            if _V2.search(_local_code.after_sdk_v3(source, root, source.read_bytes(), None)):
                raise _Left(1, f"the code it tests, {source.relative_to(root).as_posix()}, keeps the v2 SDK")


def _edits(data: bytes, root, statement, name: str | None, esm: bool, ctx: FileContext, typed: bool) -> list[Edit]:
    if name is None:
        raise _Left(line(statement), "its import is destructured or named; only `const AWSMock = require(...)` and "
                                     "`import AWSMock from ...` are translated")
    calls = []
    for node in walk(root):
        if node.type != "identifier" or text(data, node) != name or _within(node, statement):
            continue
        member = node.parent
        call = member.parent if member is not None else None
        if (member is None or member.type != "member_expression" or call is None or call.type != "call_expression"
                or member.child_by_field_name("object") != node
                or text(data, member.child_by_field_name("property")) not in _CALLS
                or call.parent is None or call.parent.type != "expression_statement"):
            raise _Left(line(node), f"`{text(data, node.parent if node.parent is not None else node)[:60]}` has no "
                                    "aws-sdk-client-mock translation here")
        calls.append((text(data, member.child_by_field_name("property")), call))
    services: dict[str, None] = {}
    for kind, call in calls:
        args = call.child_by_field_name("arguments").named_children
        if kind in ("mock", "remock"):
            if len(args) != 3 or any(a.type != "string" for a in args[:2]):
                raise _Left(line(call), f"`{name}.{kind}(...)` without a service, a method (both strings) and a "
                                        "replacement")
            services[text(data, args[0])[1:-1]] = None
        elif kind == "restore":
            if args and args[0].type != "string":
                raise _Left(line(call), f"`{name}.restore(...)` of a service that is not a string")
            if args:
                services[text(data, args[0])[1:-1]] = None
    if not services:
        raise _Left(line(statement), "it mocks no service")
    clients = _v3_clients(list(services))
    v2 = _binding(data, root, "aws-sdk")
    edits = []
    if v2 is not None:
        v2_statement, v2_name, _ = v2
        used = [n for n in walk(root) if n.type == "identifier" and text(data, n) == v2_name
                and not _within(n, v2_statement)]
        if v2_name is None or any(not _sdk_instance_argument(data, n, name) for n in used):
            where = line(next((n for n in used if not _sdk_instance_argument(data, n, name)), v2_statement))
            raise _Left(where, "the test uses the v2 SDK itself (fixtures, types): move those uses first")
        edits.append(_remove_statement(data, v2_statement))
    taken = {text(data, n) for n in walk(root) if n.type == "identifier"}
    variables = {service: _fresh(_camel(client.removesuffix("Client")) + "Mock", taken)
                 for service, (client, _) in clients.items()}
    helper, fakes = _fresh(HELPER, taken), False
    commands: dict[str, dict[str, None]] = {}
    for kind, call in calls:
        args = call.child_by_field_name("arguments").named_children
        if kind in ("setSDKInstance", "setSDK"):
            edits.append(_remove_statement(data, call.parent))
            continue
        if kind == "restore":
            targets = [variables[text(data, args[0])[1:-1]]] if args else list(variables.values())
            resets = ", ".join(f"{v}.reset()" for v in targets)
            edits.append(Edit(call.start_byte, call.end_byte, (f"({resets})" if len(targets) > 1 else resets).encode()))
            continue
        service, method = text(data, args[0])[1:-1], text(data, args[1])[1:-1]
        client, package = clients[service]
        command = method[:1].upper() + method[1:] + "Command"
        commands.setdefault(package, {client: None})[command] = None
        replacement = text(data, args[2])
        stub = f"resolves({replacement})" if args[2].type in _LITERALS else f"callsFake({helper}({replacement}))"
        fakes = fakes or not stub.startswith("resolves")
        edits.append(Edit(call.start_byte, call.end_byte, f"{variables[service]}.on({command}).{stub}".encode()))
    for client, package in clients.values():
        commands.setdefault(package, {})
        commands[package].setdefault(client, None)
    quote = text(data, statement.child_by_field_name("source") if esm else
                 statement.named_children[0].child_by_field_name("value").child_by_field_name("arguments")
                 .named_children[0])[0]
    semi = ";" if text(data, statement).rstrip().endswith(";") else ""
    nl = "\r\n" if b"\r\n" in data else "\n"

    def imported(names: list[str], module: str) -> str:
        if esm:
            return f"import {{ {', '.join(names)} }} from {quote}{module}{quote}{semi}"
        return f"const {{ {', '.join(names)} }} = require({quote}{module}{quote}){semi}"

    lines = [imported(["mockClient"], CLIENT_MOCK)]
    lines += [imported(list(names), package) for package, names in sorted(commands.items())]
    setup = [f"const {variables[s]} = mockClient({clients[s][0]}){semi}" for s in clients]
    if fakes:
        # TypeScript: aws-sdk-mock took any replacement and gave any result (`noImplicitAny` must not refuse it)
        types = {"any": ": any", "promise": "<any>"} if typed else {"any": "", "promise": ""}
        setup += ["", *(part.format(name=helper, semi=semi, **types) for part in _HELPER)]
    last_import = [s for s in root.named_children if s.type == "import_statement"][-1:] if esm else []
    if last_import and last_import[0] != statement:
        at = line_end(data, last_import[0].end_byte)  # declarations after the imports, as ES modules read
        edits.append(Edit(at, at, (nl.join(setup) + nl).encode()))
    else:
        lines += setup
    edits.append(Edit(statement.start_byte, statement.end_byte, nl.join(lines).encode()))
    ctx.change(line(statement), f"aws-sdk-mock replaced by aws-sdk-client-mock for {', '.join(clients)}: it stubs "
                                "the v3 clients wherever the code builds them (aws-sdk-mock reaches none)")
    return edits


_V2 = re.compile(rb"""(?:\brequire\s*\(\s*|\bfrom\s+|\bimport\s*\(\s*)['"]aws-sdk(?:/[^'"]*)?['"]""")


def _v3_clients(services: list[str]) -> dict[str, tuple[str, str]]:
    """v2 service name (as aws-sdk-mock takes it: 'S3', 'DynamoDB.DocumentClient') -> (v3 client class, package),
    by aws-sdk-js-codemod's own tables: the translation of `new AWS.<service>()`."""
    unknown = [s for s in services if not re.fullmatch(r"[A-Za-z0-9]+(?:\.DocumentClient)?", s)]
    if unknown:
        raise _Left(1, f"{unknown[0]!r} is not a service name")
    source = "const AWS = require('aws-sdk');\n" + "".join(f"new AWS.{s}();\n" for s in services)
    try:
        translated = _aws_sdk_js_codemod.translate(source, ".js")
    except _aws_sdk_js_codemod.Unavailable as missing:
        raise _Left(1, str(missing)) from None
    imports = dict(_V3_IMPORT.findall(translated))
    lines = translated.splitlines()[len(imports):]
    body = [text for text in lines if text.strip()]
    out = {}
    for service, statement in zip(services, body):  # noqa: B905 (a service with no statement is left out)
        called = re.match(r"(\w+)", statement.strip().removeprefix("new "))
        name = called.group(1) if called else ""
        if name not in imports:
            raise _Left(1, f"{service!r} has no v3 client")
        out[service] = (name + "Client", imports[name])
    return out


def _camel(name: str) -> str:
    """`SQS` -> `sqs`, `DynamoDBDocument` -> `dynamoDBDocument`, `APIGateway` -> `apiGateway`, `S3` -> `s3`."""
    head = re.match(r"[A-Z0-9]+(?=[A-Z][a-z]|$)|[A-Z]", name)
    return name[: head.end()].lower() + name[head.end():] if head else name


def _fresh(base: str, taken: set[str]) -> str:
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def _sdk_instance_argument(data: bytes, node, mock_name: str | None) -> bool:
    args = node.parent
    call = args.parent if args is not None else None
    return (args is not None and args.type == "arguments" and call is not None and call.type == "call_expression"
            and text(data, call.child_by_field_name("function")) in (f"{mock_name}.setSDKInstance", f"{mock_name}.setSDK"))


def _within(node, ancestor) -> bool:
    return ancestor.start_byte <= node.start_byte and node.end_byte <= ancestor.end_byte


def _remove_statement(data: bytes, statement) -> Edit:
    start, end = line_start(data, statement.start_byte), line_end(data, statement.end_byte)
    if data[start:statement.start_byte].strip() or data[statement.end_byte:end].strip():
        return Edit(statement.start_byte, statement.end_byte, b"")
    after = line_end(data, end)
    if start >= 2 and not data[line_start(data, start - 1):start].strip() and end < len(data) \
            and not data[end:after].strip():
        end = after  # a blank line on both sides: one of them goes with it
    return Edit(start, end, b"")
