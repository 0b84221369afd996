"""targeted-imports and hoist-clients for JavaScript and TypeScript: notes, edge cases (fixture pairs: test_fixtures.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from codemods import FileContext, select
from codemods.javascript._services import GLOBAL_MEMBERS, SERVICES
from rewriter.discovery import discover
from rewriter.engine import FileJob, Status
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
        if language.name in codemod.LANGUAGES:
            ctx.codemod = codemod.NAME
            tree = codemod().transform(tree, ctx)
    return language.render(tree), ctx


def expected_for(case: Path) -> Path:
    return case.with_name(case.name.replace(".in.", ".out."))


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
        pytest.param("hoist-clients", "left_init_let", 12, "`settings`, which `init` assigns on line 7", id="init"),
        pytest.param("hoist-clients", "left_env_written", 5, "writes `process.env` on line 4", id="env-written"),
        pytest.param("hoist-clients", "js_other_clients", 12, "a reused `pg` Pool must listen to `error`", id="pg-pool"),
        pytest.param("hoist-clients", "js_other_clients", 13, "only reused safely with a liveness check", id="mysql2-pool"),
        pytest.param("hoist-clients", "js_other_clients", 14, "a node-redis client is connected once", id="node-redis"),
        pytest.param("hoist-clients", "left_callback_connection", 5, "`handler` is not async", id="callback-socket"),
        pytest.param("hoist-clients", "left_callback_connection", 10, "`cache.connect()` may run only once", id="once"),
        pytest.param("hoist-clients", "left_assigned_globals", 6, "`s3` is not declared: an implicit global", id="global"),
        pytest.param("hoist-clients", "left_assigned_globals", 8, "`dynamo` is a module-level variable", id="let"),
        pytest.param("hoist-clients", "left_assigned_globals", 11, "stored in `clients.sqs`", id="member"),
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
            "cached",
            id="environment",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const AWS = require('aws-sdk');\n  const s3 = new AWS.S3();",
            "",
            None,
            "cached",
            id="require-in-handler",
        ),
        pytest.param(
            "const config = require('./config');\nexports.handler = async (event) => {",
            "const s3 = new S3({ region: config.region });",
            "",
            None,
            "cached",
            id="another-module-s-value",  # it may be a getter that reads process.env when asked
        ),
        pytest.param(
            "const REGION = 'eu-west-1';\nexports.handler = async (event) => {",
            "const s3 = new S3({ region: REGION });",
            "",
            None,
            True,
            id="module-constant",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3({ maxRetries: JSON.parse('3') });",
            "",
            None,
            "cached",
            id="calls-json-parse",
        ),
        pytest.param(
            "let region;\nasync function init() { region = 'x'; }\nexports.handler = async (event) => {\n  await init();",
            "const s3 = new S3({ region });",
            "",
            None,
            False,
            id="let-assigned-by-init",
        ),
        pytest.param(
            "const options = {};\nexports.handler = async (event) => {\n  options.region = event.region;",
            "const s3 = new S3(options);",
            "",
            None,
            False,
            id="module-options-mutated",
        ),
        pytest.param(
            "const options = {};\nfunction configure(o) { o.region = 'x'; }\nexports.handler = async (event) => {",
            "const s3 = new S3(options);",
            "",
            None,
            True,
            id="parameter-of-the-same-name",
        ),
        pytest.param(
            "const options = {};\nObject.assign(options, { region: 'x' });\nexports.handler = async (event) => {",
            "const s3 = new S3(options);",
            "",
            None,
            True,
            id="options-set-at-init",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3(options);",
            "const options = {};\nObject.assign(options, { region: 'x' });\n",
            None,
            False,
            id="options-set-below",
        ),
        pytest.param(
            "exports.handler = async (event) => {\n  process.env.AWS_REGION = event.region;",
            "const s3 = new S3();",
            "",
            None,
            False,
            id="handler-writes-environment",
        ),
        pytest.param(
            "function setUp() { delete process.env['X']; }\nexports.handler = async (event) => {",
            "const s3 = new S3();",
            "",
            None,
            False,
            id="function-deletes-from-environment",
        ),
        pytest.param(
            "process.env.AWS_NODEJS_CONNECTION_REUSE_ENABLED = '1';\nexports.handler = async (event) => {",
            "const s3 = new S3();",
            "",
            None,
            True,
            id="environment-set-at-init",
        ),
        pytest.param(
            "exports.handler = async (event) => {",
            "const s3 = new S3({ params: { ...process.env } });",
            "",
            None,
            False,
            id="whole-environment",
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
    assert (result != source.encode()) is bool(hoisted), (result.decode(), ctx.notes)
    if hoisted == "cached":  # reads the environment or calls code: built at the first invocation, kept after
        assert b"  const s3 = reusedClient('s3', " in result and b"\nfunction reusedClient(" in result
    elif hoisted:
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
    # By default v2 code goes to v3 (sdk-v3, which finds no aws-sdk-js-codemod here and says so); the v2
    # narrowing of targeted-imports is opt-in on JavaScript since sdk-v3 (issue 17).
    assert {c["codemod"] for c in files["src/app.js"]["changes"]} == {"hoist-clients"}
    assert any(n["codemod"] == "sdk-v3" and "aws-sdk-js-codemod" in n["message"] for n in files["src/app.js"]["notes"])
    assert files["src/left.js"]["status"] == "unchanged"  # not narrowed by default, and the client stays
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


# -- TypeScript must still compile (issue 15, section 3) ------------------------------------------------------

JS_PACKAGES = Path(__file__).resolve().parent / "js" / "node_modules"
TSC = JS_PACKAGES / ".bin" / "tsc"
needs_tsc = pytest.mark.skipif(
    shutil.which("node") is None or not TSC.exists(), reason="needs node and tests/js/node_modules (npm ci)"
)
# What the handler module of each project looks like before the rewrite: named, namespace and default imports
# of the whole v2 SDK, and a module-level namespace whose name a hoisted client would take.
TS_HANDLER = textwrap.dedent("""\
    import { DynamoDB } from 'aws-sdk';
    import * as AWS from 'aws-sdk';

    namespace s3 {
      export const bucket = 'reports';
    }

    export const handler = async (event: { id: string }) => {
      const table = new DynamoDB.DocumentClient();
      const s3 = new AWS.S3();
      const queue: AWS.SQS = new AWS.SQS({ endpoint: process.env.QUEUE_ENDPOINT });
      await s3.putObject({ Bucket: s3Bucket(), Key: event.id, Body: '' }).promise();
      console.log(queue.config.region);
      return table.get({ TableName: 'orders', Key: { id: event.id } }).promise();
    };

    function s3Bucket(): string {
      return s3.bucket;
    }
    """)
TS_SETTINGS = [
    pytest.param({"module": "commonjs"}, None, "require", id="commonjs-no-interop"),
    pytest.param({"module": "commonjs", "esModuleInterop": True}, None, "default", id="esModuleInterop"),
    pytest.param({"module": "node16"}, "module", "default", id="node16-esm"),
    pytest.param({"module": "nodenext"}, "commonjs", "default", id="nodenext-cjs"),
    pytest.param({"module": "esnext", "moduleResolution": "bundler"}, None, "default", id="bundler"),
]


def ts_project(folder: Path, options: dict, package_type: str | None, extends: bool = False) -> Path:
    """A small TypeScript project: tsconfig.json (with a comment and a trailing comma), package.json, src/app.ts."""
    settings = {**options, "strict": True, "noUncheckedIndexedAccess": True, "skipLibCheck": True, "types": ["node"]}
    body = json.dumps({"compilerOptions": {**settings, "outDir": "out"}, "include": ["src"]}, indent=2)
    if extends:  # the settings come from a package, as `@tsconfig/node20` gives them
        base = folder / "node_modules" / "@acme" / "tsconfig"
        base.mkdir(parents=True)
        (base / "tsconfig.json").write_text(json.dumps({"compilerOptions": settings}))
        body = json.dumps({"extends": "@acme/tsconfig/tsconfig.json", "compilerOptions": {"outDir": "out"},
                           "include": ["src"]})
        for entry in JS_PACKAGES.iterdir():
            (folder / "node_modules" / entry.name).symlink_to(entry)
    else:
        (folder / "node_modules").symlink_to(JS_PACKAGES, target_is_directory=True)
    (folder / "tsconfig.json").write_text("// the project's settings\n" + body.replace('"include"', '"include"', 1)[:-1] + ",\n}\n")
    (folder / "package.json").write_text(json.dumps({"name": "reports", **({"type": package_type} if package_type else {})}))
    write(folder, {"src/app.ts": TS_HANDLER})
    return folder


def tsc(folder: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TSC), "-p", str(folder), *extra], capture_output=True, text=True, timeout=300)


@pytest.fixture
def user_tsc(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAMBDA_REWRITER_TSC", str(TSC))
    return TSC


def test_tsconfig_reads_comments_trailing_commas_and_extends(tmp_path: Path) -> None:
    from rewriter.jsproject import compiler_options

    package = tmp_path / "node_modules" / "@tsconfig" / "node20"
    package.mkdir(parents=True)
    (package / "tsconfig.json").write_text('{"compilerOptions": {"module": "node16", "target": "es2022", "strict": true}}')
    (tmp_path / "base.json").write_text('{\n  /* shared */ "compilerOptions": {"strict": false, "esModuleInterop": true,},\n}\n')
    (tmp_path / "tsconfig.json").write_text(
        '// comments, "strings // that look like comments", trailing commas\n'
        '{"extends": ["@tsconfig/node20/tsconfig.json", "./base"],\n'
        ' "compilerOptions": {"outDir": "a//b", "target": "ES2023",},}\n'
    )
    assert compiler_options(tmp_path / "tsconfig.json") == {
        "module": "node16", "target": "ES2023", "strict": False, "esModuleInterop": True, "outDir": "a//b"
    }
    (tmp_path / "loop.json").write_text('{"extends": "./loop.json", "compilerOptions": {"module": "amd"}}')
    assert compiler_options(tmp_path / "loop.json") == {"module": "amd"}


@needs_tsc
@pytest.mark.parametrize("options, package_type, form", TS_SETTINGS)
def test_typescript_compiles_and_loads_after_rewrite(tmp_path, options, package_type, form, user_tsc) -> None:
    folder = ts_project(git_init(tmp_path), options, package_type, extends=form == "require")
    before = tsc(folder, "--noEmit")
    assert before.returncode == 0, before.stdout

    result = invoke(["apply", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], folder)
    assert result.exit_code == 0, result.output
    rewritten = (folder / "src" / "app.ts").read_text()
    if form == "require":
        assert "import DynamoDB = require('aws-sdk/clients/dynamodb');" in rewritten
    else:
        assert "import DynamoDB from 'aws-sdk/clients/dynamodb.js';" in rewritten
    assert "\n  const s3 = new S3();" in rewritten, "`s3` is the namespace's name: that client stays"
    assert "\nconst table = new DynamoDB.DocumentClient();" in rewritten
    assert "const queue: SQS = reusedClient('queue', JSON.stringify([process.env.QUEUE_ENDPOINT]), () => new SQS(" in rewritten
    assert "function reusedClient<T>(name: string, key: string, build: () => T): T {" in rewritten

    after = tsc(folder)  # type-checks, then emits (nothing when it finds an error)
    assert after.returncode == 0, after.stdout
    if options.get("moduleResolution") == "bundler":
        return  # a bundler's input: what tsc emits is not meant for Node as it is
    # What tsc emits loads under Node and builds its clients (the code emitted for TS1259 reads a missing
    # `.default` at load: `DynamoDB is not a constructor`).
    load = "import(process.argv[1])" if package_type == "module" else "Promise.resolve(require(process.argv[1]))"
    loaded = subprocess.run(
        ["node", "-e", f"{load}.then((m) => {{ if (typeof m.handler !== 'function') process.exit(3); }})",
         str(folder / "out" / "app.js")],
        capture_output=True, text=True, timeout=60, cwd=folder, env={"PATH": os.environ["PATH"], "AWS_REGION": "x"},
    )
    assert loaded.returncode == 0, loaded.stderr


@needs_tsc
def test_no_import_form_compiles_the_whole_import_stays(tmp_path, user_tsc) -> None:
    """`module: esnext` with node resolution and no interop: a default import fails (TS1259), `import =` fails
    (TS1202), and a namespace import is not constructable once run: the import is left, with the reason."""
    folder = ts_project(git_init(tmp_path), {"module": "esnext", "moduleResolution": "node"}, None)
    _, report = invoke_json(["check", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], folder)
    notes = [n["message"] for f in report["files"] for n in f["notes"]]
    assert any("no import of a single service compiles and runs" in n for n in notes), notes
    assert tsc(folder, "--noEmit").returncode == 0


@needs_tsc
def test_tsc_verification_fails_only_errors_the_rewrite_added(tmp_path, user_tsc) -> None:
    from rewriter import typecheck
    from rewriter.engine import FileResult

    folder = ts_project(git_init(tmp_path), {"module": "commonjs"}, None)
    old = "export const broken: number = 'already wrong';\nexport const fine = 1;\n"
    write(folder, {"src/old.ts": old, "src/new.ts": old})
    jobs = [FileJob(str(folder / "src" / name), f"src/{name}", str(folder)) for name in ("old.ts", "new.ts")]
    results = [
        FileResult("src/old.ts", "typescript", Status.CHANGED, after=("// a comment\n" + old).encode()),
        FileResult("src/new.ts", "typescript", Status.CHANGED, after=old.replace("= 1", "= 1 + undefined").encode()),
    ]
    typecheck.verify(jobs, results)
    assert results[0].status is Status.CHANGED, results[0].reason  # its error was there before
    assert results[1].status is Status.ERROR and results[1].after is None
    assert "tsc (tsconfig.json) reports line 2: error TS18050" in results[1].reason


@needs_tsc
def test_one_compiler_process_per_tsconfig(tmp_path, user_tsc, monkeypatch) -> None:
    from rewriter import typecheck

    root = git_init(tmp_path)
    for name in ("reports", "orders"):
        (root / name).mkdir()
        ts_project(root / name, {"module": "commonjs", "esModuleInterop": True}, None)
        write(root / name, {"src/other.ts": TS_HANDLER.replace("handler", "other")})
    runs = []
    real = subprocess.run
    monkeypatch.setattr(typecheck.subprocess, "run", lambda *a, **k: runs.append(k["cwd"]) or real(*a, **k))
    result, report = invoke_json(["check", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], root)
    assert [f["status"] for f in report["files"] if f["path"].endswith(".ts")] == ["changed"] * 4, result.output
    assert sorted(runs) == [str(root / "orders"), str(root / "reports")]


def test_without_a_compiler_the_run_says_so_once(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LAMBDA_REWRITER_TSC", raising=False)
    monkeypatch.setenv("PATH", str(Path(shutil.which("node") or "/usr/bin/node").parent))
    root = git_init(tmp_path)
    write(root, {"tsconfig.json": '{"compilerOptions": {"esModuleInterop": true}}',
                 "a.ts": TS_HANDLER, "b.ts": TS_HANDLER.replace("handler", "other")})
    result, report = invoke_json(["check", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], root)
    assert [f["status"] for f in report["files"] if f["path"].endswith(".ts")] == ["changed", "changed"], result.output
    said = [n for f in report["files"] for n in f["notes"] if n["code"] == "LR903"]
    assert len(said) == 1 and "no TypeScript compiler" in said[0]["message"]


@needs_tsc
def test_the_repository_s_own_compiler_is_never_run(tmp_path, monkeypatch) -> None:
    root = git_init(tmp_path)
    folder = ts_project(root, {"module": "commonjs", "esModuleInterop": True}, None)
    planted = folder / "tools" / "typescript"
    (planted / "lib").mkdir(parents=True)
    (planted / "lib" / "typescript.js").write_text("require('fs').writeFileSync('RAN', '');\n")
    monkeypatch.setenv("LAMBDA_REWRITER_TSC", str(planted))
    _, report = invoke_json(["check", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], folder)
    notes = [n["message"] for f in report["files"] for n in f["notes"]]
    assert any("the repository's own: not run" in n for n in notes), notes
    assert not (folder / "RAN").exists()


# -- Tests that mock the SDK (issue 15, section 1) --------------------------------------------------------------

V2_HANDLER = textwrap.dedent("""\
    const AWS = require('aws-sdk');
    const { S3Client } = require('@aws-sdk/client-s3');

    exports.handler = async (event) => {
      const sns = new AWS.SNS();
      const s3 = new S3Client({});
      return [sns, s3];
    };
    """)


@pytest.mark.parametrize(
    "files, v2_left, v3_left",
    [
        pytest.param({"package.json": '{"devDependencies": {"aws-sdk-mock": "^6"}}'}, True, False, id="aws-sdk-mock"),
        pytest.param({"test/app.test.js": "const mock = require('aws-sdk-mock');\n"}, True, False, id="required"),
        pytest.param({"app.spec.js": "jest.mock('aws-sdk', () => ({}));\n"}, True, False, id="jest-mock-v2"),
        pytest.param({"app.test.ts": "vi.mock(\"@aws-sdk/client-s3\");\n"}, False, True, id="vi-mock-v3"),
        pytest.param({"__mocks__/aws-sdk.js": "module.exports = {};\n"}, True, False, id="manual-mock"),
        pytest.param({"other/package.json": "{}", "other/t.test.js": "jest.mock('aws-sdk');\n"}, False, False,
                     id="another-package"),
        pytest.param({"app.test.js": "jest.mock('./db');\n"}, False, False, id="mocks-something-else"),
    ],
)
def test_tests_that_mock_the_sdk_keep_its_clients_in_the_handler(tmp_path, files, v2_left, v3_left) -> None:
    root = git_init(tmp_path)
    write(root, {"package.json": "{}", "app.js": V2_HANDLER, **files})
    # The v2 narrowing is opt-in on JavaScript since sdk-v3 (issue 17): named here, with hoist-clients.
    _, report = invoke_json(["diff", "--no-cache", "-c", "hoist-clients", "-c", "targeted-imports"], root)
    app = next(f for f in report["files"] if f["path"] == "app.js")
    notes = [n["message"] for n in app["notes"]]
    diff = app.get("diff", "")
    assert ("-  const sns = new AWS.SNS();" not in diff) is v2_left, diff
    assert ("-  const s3 = new S3Client({});" not in diff) is v3_left, diff
    assert any("tests mock `aws-sdk`" in n for n in notes) is v2_left, notes
    assert any("whole `aws-sdk` import left in place: the tests mock" in n for n in notes) is v2_left, notes
    assert any("tests mock `@aws-sdk/client-s3`" in n for n in notes) is v3_left, notes


def test_a_compiler_that_does_not_finish_is_stopped_and_said(tmp_path, monkeypatch) -> None:
    from rewriter import typecheck
    from rewriter.engine import FileResult

    stuck = tmp_path / "tools" / "typescript"
    (stuck / "lib").mkdir(parents=True)
    (stuck / "lib" / "typescript.js").write_text("for (;;) {}\n")
    monkeypatch.setenv("LAMBDA_REWRITER_TSC", str(stuck))
    repo = git_init(tmp_path / "repo")
    write(repo, {"tsconfig.json": "{}", "app.ts": "export const a = 1;\n"})
    jobs = [FileJob(str(repo / "app.ts"), "app.ts", str(repo))]
    results = [FileResult("app.ts", "typescript", Status.CHANGED, after=b"export const a = 2;\n")]
    typecheck.verify(jobs, results, timeout=1)
    assert results[0].status is Status.CHANGED
    assert [n.message for n in results[0].notes] == ["not type-checked: tsc took longer than 1 s on tsconfig.json"]


@pytest.mark.parametrize(
    "options, package_type, path, default, require",
    [
        pytest.param({}, None, "a.ts", False, True, id="no-options: commonjs"),
        pytest.param({"target": "es2022"}, None, "a.ts", False, False, id="es2022: es2015 modules"),
        pytest.param({"module": "CommonJS", "esModuleInterop": True}, None, "a.ts", True, True, id="interop"),
        pytest.param({"module": "commonjs", "allowSyntheticDefaultImports": True}, None, "a.ts", True, True,
                     id="synthetic"),
        pytest.param({"module": "NodeNext"}, "module", "a.ts", True, False, id="nodenext-esm"),
        pytest.param({"module": "nodenext", "esModuleInterop": False}, None, "a.cts", False, True, id="nodenext-cts"),
        pytest.param({"module": "nodenext", "esModuleInterop": False}, "module", "a.ts", True, False,
                     id="nodenext-esm-without-interop"),
        pytest.param({"module": "preserve"}, None, "a.ts", True, True, id="preserve"),
        pytest.param({"module": "esnext", "moduleResolution": "bundler"}, None, "a.ts", True, False, id="bundler"),
        pytest.param({"module": "commonjs", "erasableSyntaxOnly": True}, None, "a.ts", False, False, id="erasable"),
    ],
)
def test_import_forms_each_tsconfig_accepts(tmp_path, options, package_type, path, default, require) -> None:
    from rewriter.jsproject import Projects

    write(tmp_path, {"tsconfig.json": json.dumps({"compilerOptions": options}), path: "",
                     "package.json": json.dumps({"type": package_type} if package_type else {})})
    project = Projects(tmp_path, []).project_for(tmp_path / path)
    assert project.default_import_of_export_equals(path) is default
    assert project.import_require(path) is require


ATTRIBUTE_FORMS = [
    "import data from './a.json' with { type: 'json' };\n",
    "import data from './a.json' assert { type: 'json' };\n",
    "import './a.json' with { type: 'json' };\n",
    "export { default as data } from './a.json' with { type: 'json' };\n",
    "export * from './a.json' assert {\n  type: 'json'\n};\n",
    "const data = await import('./a.json', { with: { type: 'json' } });\n",
]


@pytest.mark.parametrize("name", ["app.mjs", "app.ts", "app.tsx"])
@pytest.mark.parametrize("form", ATTRIBUTE_FORMS)
def test_import_attributes_parse(form: str, name: str) -> None:
    data = form.encode()
    tree = language_for(name).parse(data)
    assert language_for(name).render(tree) == data
    assert tree.tree.root_node.children[0].end_byte == len(data.rstrip(b"\n"))


def test_a_syntax_error_beside_import_attributes_is_still_named() -> None:
    with pytest.raises(ParseFailure, match="line 2"):
        language_for("app.mjs").parse(b"import data from './a.json' assert { type: 'json' };\nconst = 1;\n")
