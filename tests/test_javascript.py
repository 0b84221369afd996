"""targeted-imports and hoist-clients for JavaScript and TypeScript: fixture pairs, notes, edge cases."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from codemods import FileContext, select
from codemods.javascript._services import GLOBAL_MEMBERS, SERVICES
from rewriter.discovery import discover
from rewriter.engine import FileJob, Status, process_file
from rewriter.languages import LANGUAGES, ParseFailure, language_for

from cli_support import git_init, invoke, invoke_json, write

FIXTURES = Path(__file__).parent / "fixtures"
CODEMODS = ("targeted-imports", "hoist-clients")
SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".tsx")
CASES = [
    pytest.param(codemod, case, id=f"{codemod}:{case.name}")
    for codemod in CODEMODS
    for case in sorted((FIXTURES / codemod).glob("*.in.*"))
    if case.suffix in SUFFIXES
]
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def rewrite(
    source: str | bytes,
    name: str = "app.js",
    codemods: tuple[str, ...] = CODEMODS,
    entry_points: frozenset[str] | None = None,
) -> tuple[bytes, FileContext]:
    data = source.encode() if isinstance(source, str) else source
    language = language_for(name)
    ctx = FileContext(name, entry_points)
    tree = language.parse(data)
    for codemod in select(list(codemods)):
        if codemod.LANGUAGE == language.name:
            ctx.codemod = codemod.NAME
            tree = codemod().transform(tree, ctx)
    return language.render(tree), ctx


def expected_for(case: Path) -> Path:
    return case.with_name(case.name.replace(".in.", ".out."))


@pytest.mark.parametrize("codemod, case", CASES)
def test_fixture(codemod: str, case: Path) -> None:
    source = case.read_bytes()
    expected = expected_for(case)
    result, ctx = rewrite(source, case.name, (codemod,))
    assert result == (expected.read_bytes() if expected.exists() else source)
    language_for(case.name).check(result, case.name)  # no ERROR/MISSING node; `node --check` for JavaScript
    again, _ = rewrite(result, case.name, (codemod,))
    assert again == result, "a second run changed the result"
    if expected.exists():
        assert ctx.changes
    else:
        assert ctx.notes, "a file left alone must say why"


@pytest.mark.parametrize("codemod, case", CASES)
def test_fixture_passes_the_engine_verification(codemod: str, case: Path, tmp_path: Path) -> None:
    path = tmp_path / ("app" + "".join(case.suffixes[-1:]))
    path.write_bytes(case.read_bytes())
    result = process_file(FileJob(str(path), path.name, str(tmp_path)), (codemod,))
    changed = expected_for(case).exists()
    assert result.status is (Status.CHANGED if changed else Status.UNCHANGED), result.reason
    if changed:
        assert result.after == expected_for(case).read_bytes()


def test_every_suffix_and_handler_shape_has_a_fixture() -> None:
    for codemod in CODEMODS:
        suffixes = {case.suffix for case in (FIXTURES / codemod).glob("*.out.*")}
        assert suffixes >= set(SUFFIXES), (codemod, suffixes)


@pytest.mark.parametrize(
    "codemod, case, line, words",
    [
        pytest.param(
            "targeted-imports", "left_computed", 4, "`AWS` is used as a whole (`AWS[event.service]`)", id="computed"
        ),
        pytest.param(
            "targeted-imports", "left_passed_whole", 4, "`AWS` is used as a whole (`instrument(AWS)`)", id="passed"
        ),
        pytest.param("targeted-imports", "left_name_taken", 4, "`S3` is already a name in this file", id="clash"),
        pytest.param("targeted-imports", "left_unknown_member", 3, "`AWS.NotAService` is not a service", id="unknown"),
        pytest.param("targeted-imports", "left_require_expression", 1, "used in an expression", id="expression"),
        pytest.param("targeted-imports", "esm_namespace", 1, "needs `esModuleInterop`", id="interop"),
        pytest.param(
            "hoist-clients", "left_from_event", 4, "it reads `event`, which comes with each invocation", id="event"
        ),
        pytest.param(
            "hoist-clients",
            "per_call_credentials",
            6,
            "it reads `Credentials`, which the handler computes",
            id="credentials",
        ),
        pytest.param(
            "hoist-clients", "left_database", 4, "`context.callbackWaitsForEmptyEventLoop = false`", id="database"
        ),
        pytest.param("hoist-clients", "left_in_try", 5, "built inside `try`", id="try"),
        pytest.param("hoist-clients", "left_mutated", 4, "`s3.config` changes or ends the client", id="mutated"),
        pytest.param("hoist-clients", "left_config_update", 5, "the code changes that config on line 4", id="config"),
        pytest.param("hoist-clients", "not_lambda", 1, "not Lambda code", id="not-lambda"),
    ],
)
def test_decision_is_recorded(codemod: str, case: str, line: int, words: str) -> None:
    path = next(p for p in (FIXTURES / codemod).glob(f"{case}.in.*") if p.suffix in SUFFIXES)
    _, ctx = rewrite(path.read_bytes(), path.name, (codemod,))
    assert any(n.line == line and words in n.message for n in ctx.notes), ctx.notes


@pytest.mark.parametrize(
    "source, name",
    [
        pytest.param("import AWS from 'aws-sdk/global';\nAWS.config.update({});\n", "a.mjs", id="already-global"),
        pytest.param(
            "import S3 from 'aws-sdk/clients/s3';\nexport const s3 = new S3();\n", "a.ts", id="already-targeted"
        ),
        pytest.param("import type { S3 } from 'aws-sdk';\nexport let s3: S3;\n", "a.ts", id="type-only-import"),
        pytest.param("import 'aws-sdk';\n", "a.mjs", id="side-effect-import"),
        pytest.param("const AWS = require('aws-sdk'), other = 1;\nnew AWS.S3();\n", "a.js", id="two-declarators"),
        pytest.param("const { S3, ...rest } = require('aws-sdk');\n", "a.js", id="rest-pattern"),
        pytest.param(
            "const AWS = require('aws-sdk');\nfunction f(AWS) { return AWS.S3; }\nnew AWS.SNS();\n",
            "a.js",
            id="shadowed",
        ),
        pytest.param("const AWS = require('aws-sdk');\nAWS.S3 = class {};\n", "a.js", id="assigned-member"),
        pytest.param("// aws-sdk is not used here\nexport const x = 1;\n", "a.mjs", id="marker-in-comment"),
    ],
)
def test_noop(source: str, name: str) -> None:
    assert rewrite(source, name)[0] == source.encode()


@pytest.mark.parametrize(
    "source, name, expected",
    [
        pytest.param(
            "const AWS = require('aws-sdk')\nexports.x = new AWS.EC2()\n",
            "a.js",
            "const EC2 = require('aws-sdk/clients/ec2')\nexports.x = new EC2()\n",
            id="no-semicolons",
        ),
        pytest.param(
            'import AWS from "aws-sdk";\nexport const x = new AWS.Iot();\n',
            "a.mjs",
            'import Iot from "aws-sdk/clients/iot.js";\nexport const x = new Iot();\n',
            id="double-quotes",
        ),
        pytest.param(
            "import AWS from 'aws-sdk';\nexport const x = new AWS.ApiGatewayManagementApi();\n",
            "a.ts",
            "import ApiGatewayManagementApi from 'aws-sdk/clients/apigatewaymanagementapi.js';\n"
            "export const x = new ApiGatewayManagementApi();\n",
            id="module-name-from-the-sdk",
        ),
        pytest.param(
            "const { CloudWatchLogs: Logs } = require('aws-sdk');\nnew Logs();\n",
            "a.cjs",
            "const Logs = require('aws-sdk/clients/cloudwatchlogs');\nnew Logs();\n",
            id="renamed",
        ),
        pytest.param(
            "const AWS = require('aws-sdk');\nAWS.config.region = 'eu-west-1';\n",
            "a.js",
            "const AWS = require('aws-sdk/global');\nAWS.config.region = 'eu-west-1';\n",
            id="global-only",
        ),
        pytest.param("  const AWS = require('aws-sdk');\n", "a.js", "", id="unused-indented"),
    ],
)
def test_targeted_import(source: str, name: str, expected: str) -> None:
    assert rewrite(source, name, ("targeted-imports",))[0] == expected.encode()


def test_service_table_comes_from_the_sdk() -> None:
    assert SERVICES["S3"] == "s3" and SERVICES["DynamoDB"] == "dynamodb"
    assert (
        SERVICES["CloudWatchLogs"] == "cloudwatchlogs"
        and SERVICES["ApiGatewayManagementApi"] == "apigatewaymanagementapi"
    )
    assert len(SERVICES) > 350
    assert {"config", "Credentials", "EnvironmentCredentials", "util"} <= GLOBAL_MEMBERS
    assert not GLOBAL_MEMBERS & set(SERVICES)


def test_both_codemods_together_hoist_then_narrow() -> None:
    source = textwrap.dedent("""\
        const AWS = require('aws-sdk');

        exports.handler = async (event) => {
          const sqs = new AWS.SQS();
          return sqs.sendMessage({ QueueUrl: process.env.QUEUE_URL, MessageBody: event.body }).promise();
        };
        """)
    result, ctx = rewrite(source)
    assert result.decode() == textwrap.dedent("""\
        const SQS = require('aws-sdk/clients/sqs');

        const sqs = new AWS.SQS();

        exports.handler = async (event) => {
          return sqs.sendMessage({ QueueUrl: process.env.QUEUE_URL, MessageBody: event.body }).promise();
        };
        """).replace("new AWS.SQS()", "new SQS()")
    assert [c.codemod for c in ctx.changes] == ["hoist-clients", "targeted-imports"]


@pytest.mark.parametrize(
    "head, body, tail, entry_points, hoisted",
    [
        pytest.param("exports.main = async (event) => {", "const s3 = new S3();", "", None, True, id="main"),
        # `main` alone is every CLI script's entry point, not a handler name.
        pytest.param("exports.main = async (argv) => {", "const s3 = new S3();", "", None, False, id="main-cli"),
        pytest.param("exports.run = async (input) => {", "const s3 = new S3();", "", None, False, id="unknown-name"),
        pytest.param(
            "exports.run = async (input) => {",
            "const s3 = new S3();",
            "",
            frozenset({"run"}),
            True,
            id="named-by-template",
        ),
        pytest.param(
            "export function handler(event) {",
            "const s3 = new S3();",
            "",
            frozenset({"other"}),
            False,
            id="template-names-another",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3();",
            "const S3x = 1;\n",
            None,
            True,
            id="later-unrelated-name",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3({ region: REGION });",
            "const REGION = 'x';\n",
            None,
            False,
            id="reads-a-name-defined-later",
        ),
        pytest.param(
            "const s3 = 1;\nexports.handler = async (event) => {",
            "const s3 = new S3();",
            "",
            None,
            False,
            id="name-taken",
        ),
        pytest.param(
            "exports.handler = async (event) => {", "const s3 = new S3({ t: Date.now() });", "", None, False, id="clock"
        ),
        pytest.param(
            "exports.handler = async (event) => {", "let s3 = new S3();\n  s3 = null;", "", None, False, id="reassigned"
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3();\n  s3.on('send', () => event);",
            "",
            None,
            False,
            id="listener",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3(); const x = 1;",
            "",
            None,
            False,
            id="shares-a-line",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3({ region: process.env['REGION'] });",
            "",
            None,
            True,
            id="environment",
        ),
        pytest.param(
            "exports.handler = async function (event, context) {",
            "const s3 = new S3({ params: { Bucket: context.functionName } });",
            "",
            None,
            False,
            id="context",
        ),
        pytest.param(
            "const documents = new S3.DocumentClient();\nexports.handler = async (event) => {",
            "const s3 = new S3();\n  await documents.update({ Key: event.key }).promise();",
            "",
            None,
            True,
            id="update-is-an-api-call",
        ),
        pytest.param(
            "const AWS = require('aws-sdk/global');\nexports.handler = async (event) => {",
            "const s3 = new S3();\n  AWS.config.region = event.region;",
            "",
            None,
            False,
            id="config-changed-after",
        ),
        pytest.param(
            "const AWS = require('aws-sdk/global');\nAWS.config.update({ maxRetries: 1 });\n"
            "exports.handler = async (event) => {",
            "const s3 = new S3();\n  s3.config.maxRetries;",
            "",
            None,
            True,
            id="config-changed-before",
        ),
        pytest.param(
            "async function go(event) {",
            "const s3 = new S3();",
            "exports.handler = go;\nexports.other = go;\n",
            None,
            True,
            id="exported-twice",
        ),
    ],
)
def test_hoist_cases(head: str, body: str, tail: str, entry_points, hoisted: bool) -> None:
    source = f"const S3 = require('aws-sdk/clients/s3');\n{head}\n  {body}\n  return s3;\n}};\n{tail}"
    result, ctx = rewrite(source, "app.js", ("hoist-clients",), entry_points)
    assert (result != source.encode()) is hoisted, (result.decode(), ctx.notes)
    if hoisted:
        assert b"\nconst s3 = new S3(" in result
    else:
        assert ctx.notes


def test_parse_failure_names_the_line() -> None:
    with pytest.raises(ParseFailure, match="line 2"):
        LANGUAGES["javascript"].parse(b"const a = 1;\nconst = ;\n")
    with pytest.raises(ParseFailure):
        LANGUAGES["typescript"].check(b"let x: = 1;\n", "a.ts")


@needs_node
def test_javascript_check_runs_node() -> None:
    # tree-sitter accepts this; only node knows that a name cannot be declared twice with `let`.
    LANGUAGES["javascript"].parse(b"let a = 1;\nlet a = 2;\n")
    with pytest.raises(ParseFailure, match="already been declared"):
        LANGUAGES["javascript"].check(b"let a = 1;\nlet a = 2;\n", "a.js")
    LANGUAGES["javascript"].check(b"import x from 'y';\nexport default x;\n", "a.js")


def test_template_names_node_handlers(tmp_path: Path) -> None:
    template = textwrap.dedent("""\
        Resources:
          Orders:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: src/orders
              Handler: app.handler
              Runtime: nodejs20.x
          Reports:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: reports
              Handler: dist/index.run
              Runtime: nodejs20.x
        """)
    write(
        git_init(tmp_path),
        {
            "template.yaml": template,
            "src/orders/app.mjs": "export const handler = 1;\n",
            "reports/dist/index.ts": "export const run = 1;\n",
        },
    )
    found = discover([tmp_path])
    entries = {p.relative_to(tmp_path).as_posix(): f for p, f in found.entry_points.items()}
    assert entries == {"src/orders/app.mjs": {"handler"}, "reports/dist/index.ts": {"run"}}


def test_cli_lists_the_javascript_codemods(tmp_path: Path) -> None:
    lines = invoke(["list"], tmp_path).stdout.splitlines()
    for name in CODEMODS:
        line = next(text for text in lines if text.startswith(name + " "))
        assert "javascript" in line and "typescript" in line


def test_cli_check_reports_javascript_changes_and_notes(tmp_path: Path) -> None:
    write(
        git_init(tmp_path),
        {
            "src/app.js": (FIXTURES / "hoist-clients" / "exports_arrow.in.js").read_text(),
            "src/left.js": (FIXTURES / "hoist-clients" / "left_from_event.in.js").read_text(),
            "src/plain.js": "module.exports = 1;\n",
        },
    )
    result, report = invoke_json(["check"], tmp_path)
    assert result.exit_code == 1
    files = {f["path"]: f for f in report["files"]}
    assert files["src/app.js"]["status"] == "changed" and files["src/app.js"]["language"] == "javascript"
    assert {c["codemod"] for c in files["src/app.js"]["changes"]} == set(CODEMODS)
    assert files["src/left.js"]["status"] == "changed"  # narrowed, though the client stays
    assert any("comes with each invocation" in n["message"] for n in files["src/left.js"]["notes"])
    assert files["src/plain.js"]["status"] == "unchanged"


def test_typescript_declaration_files_are_not_read(tmp_path: Path) -> None:
    """Types only, nothing runs: and the grammar does not take `export import X = require(...)`."""
    assert language_for("clients/all.d.ts") is None and language_for("types.d.mts") is None
    assert language_for("src/app.ts") is not None
    write(git_init(tmp_path), {"all.d.ts": "export import ACM = require('./acm');\nimport AWS from 'aws-sdk';\n",
                               "app.ts": "import AWS from 'aws-sdk';\nexport const handler = async () => new AWS.S3();\n"})
    _, report = invoke_json(["check", "--format", "json", "--no-cache"], tmp_path)
    assert [f["path"] for f in report["files"]] == ["app.ts"]
