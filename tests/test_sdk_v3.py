"""sdk-v3: notes, the run with hoist-clients, tsc, package lookup (the fixture pairs run in test_fixtures.py)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from codemods._base import FileContext
from codemods.javascript.sdk_v3 import SdkV3
from rewriter.cli import cli
from rewriter.languages import language_for
from sdk_v3_support import NODE_MODULES, needs_tool, with_tool  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sdk-v3"
CASES = sorted(FIXTURES.glob("*.in.*"))


def rewrite(data: bytes, name: str, entry_points=None) -> tuple[bytes, FileContext]:
    language = language_for(name)
    ctx = FileContext(name, entry_points, codemod="sdk-v3")
    return language.render(SdkV3().transform(language.parse(data), ctx)), ctx


@needs_tool
@pytest.mark.usefixtures("with_tool")
@pytest.mark.parametrize(
    "case, line, words",
    [
        ("left_http_client.in.js", 3, "`AWS.HttpClient` has no v3 equivalent"),
        ("waiter_callback.in.js", 6, "Waiters with callbacks are not supported"),
        ("left_returns_value.in.js", 3, "Lambda ignores from a callback handler"),
        ("callback_handler.in.js", 4, "`context.callbackWaitsForEmptyEventLoop` removed"),
    ],
)
def test_notes_at_the_line(case: str, line: int, words: str) -> None:
    _, ctx = rewrite((FIXTURES / case).read_bytes(), case)
    assert any(n.line == line and words in n.message for n in ctx.notes), ctx.notes


def test_without_the_tool_files_stay_with_one_note() -> None:
    source = (FIXTURES / "v2_callbacks.in.js").read_bytes()
    result, ctx = rewrite(source, "app.js")
    assert result == source and not ctx.changes
    assert len(ctx.notes) == 1 and "npm install --prefix" in ctx.notes[0].message


def test_callback_handlers_only_where_a_template_names_them() -> None:
    source = (FIXTURES / "callback_handler.in.js").read_bytes()
    result, ctx = rewrite(source, "app.js", frozenset({"other"}))
    assert result == source and not ctx.changes


@needs_tool
@pytest.mark.usefixtures("with_tool")
def test_one_run_migrates_then_hoists_the_v3_clients(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_bytes((FIXTURES / "v2_callbacks.in.js").read_bytes())
    result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = (tmp_path / "app.js").read_text()
    assert "aws-sdk'" not in out and "require('@aws-sdk/client-dynamodb')" in out
    # hoist-clients builds it once per execution environment (at the first invocation, behind its cache)
    assert "const table = reusedClient('table', '', () => DynamoDBDocument.from(new DynamoDB()" in out
    assert "module.exports.handler = async function (event, context)" in out
    assert "const s3 = new S3({" in out, "region comes from event: built per invocation, as before"


def tsc_strict(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    tsc = NODE_MODULES / ".bin" / "tsc"
    if not tsc.exists() or shutil.which("node") is None:
        pytest.skip("needs tsc from tests/js")
    if not (tmp_path / "node_modules").exists():
        (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    (tmp_path / "handler.ts").write_text(source)
    return subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution",
         "nodenext", "--skipLibCheck", str(tmp_path / "handler.ts")],
        capture_output=True, timeout=300, cwd=tmp_path,
    )


@needs_tool
@pytest.mark.usefixtures("with_tool")
@pytest.mark.parametrize("case", ["typescript_types", "typescript_input_members"])
def test_typescript_result_type_checks(tmp_path: Path, case: str) -> None:
    checked = tsc_strict(tmp_path, (FIXTURES / f"{case}.out.ts").read_text())
    assert checked.returncode == 0, checked.stdout.decode()


@needs_tool
@pytest.mark.usefixtures("with_tool")
def test_a_local_read_back_needs_its_own_member_types(tmp_path: Path) -> None:
    """Without `satisfies`, the v3 input type makes `put.Key` `string | undefined`: strict tsc refuses the return."""
    out = (FIXTURES / "typescript_input_members.out.ts").read_text()
    annotated = out.replace("const put = {", "const put: PutObjectCommandInput = {").replace(
        " satisfies PutObjectCommandInput;", ";")
    checked = tsc_strict(tmp_path, annotated)
    assert checked.returncode != 0 and b"TS2322" in checked.stdout, checked.stdout.decode()


@needs_tool
@pytest.mark.usefixtures("with_tool")
def test_package_json_moves_to_the_v3_packages_the_code_imports(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{\n  "name": "orders",\n  "dependencies": {\n    "aws-sdk": "^2.1693.0",\n    "uuid": "^9.0.0"\n  }\n}\n'
    )
    (tmp_path / "package-lock.json").write_text("{}\n")
    (tmp_path / "app.js").write_bytes((FIXTURES / "v2_callbacks.in.js").read_bytes())
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--format", "json", "-c", "sdk-v3", str(tmp_path)])
    assert result.exit_code == 1, result.output
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert any("package-lock.json not edited" in n["message"] for n in files["package.json"]["notes"])
    CliRunner().invoke(cli, ["apply", "--no-cache", "-c", "sdk-v3", str(tmp_path)])
    assert (tmp_path / "package.json").read_text() == (
        '{\n  "name": "orders",\n  "dependencies": {\n'
        '    "@aws-sdk/client-dynamodb": "^3.1169.0",\n    "@aws-sdk/client-s3": "^3.1169.0",\n'
        '    "@aws-sdk/lib-dynamodb": "^3.1169.0",\n    "uuid": "^9.0.0"\n  }\n}\n'
    )
    assert (tmp_path / "package-lock.json").read_text() == "{}\n"


@needs_tool
@pytest.mark.usefixtures("with_tool")
def test_package_json_keeps_aws_sdk_while_a_source_stays_on_v2(tmp_path: Path) -> None:
    manifest = '{\n  "dependencies": {\n    "aws-sdk": "^2.1693.0"\n  }\n}\n'
    (tmp_path / "package.json").write_text(manifest)
    (tmp_path / "app.js").write_bytes((FIXTURES / "v2_callbacks.in.js").read_bytes())
    (tmp_path / "agent.js").write_bytes((FIXTURES / "left_http_client.in.js").read_bytes())
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--format", "json", "-c", "sdk-v3", str(tmp_path)])
    files = {Path(f["path"]).name: f for f in json.loads(result.stdout)["files"]}
    assert files["package.json"]["status"] == "unchanged"
    assert any("aws-sdk stays: agent.js keeps the v2 SDK" in n["message"] for n in files["package.json"]["notes"])
    CliRunner().invoke(cli, ["apply", "--no-cache", "-c", "sdk-v3", str(tmp_path)])
    assert (tmp_path / "package.json").read_text() == manifest


@needs_tool
@pytest.mark.usefixtures("with_tool")
@pytest.mark.parametrize(
    "case, line, words",
    [
        ("left_body_as_buffer.in.js", 8, "`Body` of `getObject` is a stream in v3 (v2 gave a Buffer or a string): it is read"),
        ("left_body_destructured.in.js", 6, "`Body` of `getObject` is a stream in v3 (v2 gave a Buffer or a string): it is taken out"),
        ("left_payload_parsed.in.js", 7, "`Payload` of `invoke` is a Uint8Array in v3 (v2 gave a Buffer or a string): it is "
                                         "read here as v2 gave it; convert it by hand (or wrap it in `Buffer.from(…)`)"),
        ("left_body_in_sync_function.in.js", 6, "read here with `toString()` in a function that cannot await it"),
    ],
)
def test_bytes_v3_returns_otherwise_leave_the_file_on_v2(case: str, line: int, words: str) -> None:
    """A response member that holds bytes (a Buffer in v2; a stream or a Uint8Array in v3), read as v2 gave it, would
    be half-translated code (`gm(object.Body)` gets a stream, `JSON.parse(result.Payload)` a list of numbers): the file
    stays on v2, with the line, and no change is reported."""
    source = (FIXTURES / case).read_bytes()
    result, ctx = rewrite(source, case)
    assert result == source and not ctx.changes
    assert [(n.line, n.message.startswith("v2 SDK left in place: ")) for n in ctx.notes] == [(line, True)], ctx.notes
    assert words in ctx.notes[0].message


def test_bytes_read_only_counts_the_operations_the_file_calls() -> None:
    """`event.Body` in a file that never calls an operation returning bytes is no reason to stay on v2."""
    from codemods.javascript.sdk_v3 import _bytes_read

    source = b"const AWS = require('aws-sdk');\nconst s3 = new AWS.S3();\nexports.h = async (e) => s3.putObject({Bucket: 'b', Key: 'k', Body: e.Body}).promise();\n"
    assert _bytes_read(source, language_for("a.js").parse(source).tree.root_node) == []
    called = source.replace(b"putObject", b"getObject")
    assert [at for at, _ in _bytes_read(called, language_for("a.js").parse(called).tree.root_node)] == [3]


@needs_tool
@pytest.mark.usefixtures("with_tool")
def test_an_error_field_v3_has_nothing_for_leaves_the_file_on_v2() -> None:
    """`error.retryable` (v3: `$retryable`, an object or undefined) would silently be undefined after the move."""
    source = (FIXTURES / "left_error_retryable.in.js").read_bytes()
    result, ctx = rewrite(source, "left_error_retryable.in.js")
    assert result == source and not ctx.changes
    assert [(n.line, n.message.split(":")[0]) for n in ctx.notes] == [(9, "v2 SDK left in place")], ctx.notes
    assert "`error.retryable` of a caught error has no v3 equivalent" in ctx.notes[0].message


def test_error_fields_keep_what_other_errors_read(tmp_path: Path) -> None:
    """The rewritten `statusCode` reads a v3 error's `$metadata`, and anything else as v2 code did: run in Node on a
    v3-shaped error, a v2-shaped one, and a plain Error."""
    import shutil as _shutil
    import subprocess as _subprocess

    if _shutil.which("node") is None:
        pytest.skip("needs node")
    from codemods.javascript.sdk_v3 import _ERROR_FIELDS

    script = "const read = (e) => [" + ", ".join(form.format(e="e") for form in _ERROR_FIELDS.values()) + "];\n" + (
        "const v3 = Object.assign(new Error('x'), {name: 'GoneException', $metadata: {httpStatusCode: 410, "
        "requestId: 'r', extendedRequestId: 'x', cfId: 'c'}});\n"
        "const v2 = Object.assign(new Error('x'), {code: 'GoneException', statusCode: 410, requestId: 'r', "
        "extendedRequestId: 'x', cfId: 'c'});\n"
        "const fs = Object.assign(new Error('x'), {code: 'ENOENT'});\n"
        "console.log(JSON.stringify([read(v3), read(v2), read(fs), read(new TypeError('t'))]));\n")
    out = _subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=60, check=True).stdout
    v3, v2, fs, plain = json.loads(out)
    assert v3 == v2 == ["GoneException", 410, "r", "x", "c"]
    assert fs == ["ENOENT", None, None, None, None] and plain == [None] * 5
