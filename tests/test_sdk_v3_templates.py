"""sdk-v3 on templates: AWS_NODEJS_CONNECTION_REUSE_ENABLED leaves a function's environment once its code is on v3,
and `--runtime` moves it up; byte-exact edits, per function, Globals/provider only when every function under them
is on v3."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rewriter.cli import cli
from sdk_v3_support import needs_tool, with_tool  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sdk-v3"
V2 = (FIXTURES / "v2_callbacks.in.js").read_text()  # translates whole; a callback handler made async
STAYS_V2 = (FIXTURES / "left_http_client.in.js").read_text()  # `AWS.HttpClient`: stays v2
CALLBACK_LEFT = (FIXTURES / "left_returns_value.in.js").read_text()  # v3 already; its callback handler stays

pytestmark = [needs_tool, pytest.mark.usefixtures("with_tool")]

SAM = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: nodejs20.x   # the team's default
    Environment:
      Variables:
        STAGE: prod
        AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: orders/
      Handler: app.handler
      Environment:
        Variables:
          AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1'
  Agent:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: agent/
      Handler: app.handler
      Runtime: nodejs18.x
      Environment:
        Variables:
          TABLE: t
          AWS_NODEJS_CONNECTION_REUSE_ENABLED: "1"
  Report:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: report/
      Handler: app.handler
      Runtime: python3.12
"""


def run(root: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["check", "--no-cache", "-j", "1", "--format", "json", *args, str(root)])
    assert result.exit_code in (0, 1), result.output
    return {f["path"]: f for f in json.loads(result.stdout)["files"]}


def apply(root: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", *args, str(root)])
    assert result.exit_code == 0, result.output


def project(tmp_path: Path, template: str, files: dict[str, str], name: str = "template.yaml") -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / name).write_text(template)
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


def messages(found: dict, kind: str) -> list[str]:
    return [f"{n['line']}: {n['message']}" for n in found[kind]]


def test_removed_per_function_and_from_globals_only_when_every_function_is_on_v3(tmp_path: Path) -> None:
    root = project(tmp_path, SAM, {"orders/app.js": V2, "agent/app.js": STAYS_V2, "report/app.py": ""})
    found = run(root)["template.yaml"]
    notes = messages(found, "notes")
    assert any(n.startswith("8: AWS_NODEJS_CONNECTION_REUSE_ENABLED stays: function Agent is not on v3 yet: "
                            "agent/app.js keeps the v2 SDK") for n in notes), notes
    assert any(n.startswith("27: AWS_NODEJS_CONNECTION_REUSE_ENABLED stays: function Agent") for n in notes), notes
    assert [c["code"] for c in found["changes"]] == ["LR610"]
    apply(root)
    assert (root / "template.yaml").read_text() == SAM.replace("""\
      Environment:
        Variables:
          AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1'
""", "")


def test_globals_go_too_once_every_node_function_is_on_v3(tmp_path: Path) -> None:
    root = project(tmp_path, SAM, {"orders/app.js": V2, "agent/app.js": V2, "report/app.py": ""})
    apply(root)
    assert (root / "template.yaml").read_text() == (
        SAM.replace("        AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1\n", "")
        .replace("      Environment:\n        Variables:\n          AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1'\n", "")
        .replace('          AWS_NODEJS_CONNECTION_REUSE_ENABLED: "1"\n', "")
    )
    assert run(root)["template.yaml"]["status"] == "unchanged"


def test_runtime_moves_up_the_functions_on_v3_and_never_down(tmp_path: Path) -> None:
    template = SAM.replace("Runtime: nodejs18.x", "Runtime: nodejs24.x")
    root = project(tmp_path, template, {"orders/app.js": V2, "agent/app.js": STAYS_V2, "report/app.py": ""})
    found = run(root, "--runtime", "nodejs22.x")["template.yaml"]
    # Globals' Runtime is Orders' only (Agent has its own, nodejs24.x, which stays: never down)
    assert "4: Runtime nodejs20.x -> nodejs22.x: the code of function Orders is on the v3 SDK" in messages(
        found, "changes")
    apply(root, "--runtime", "nodejs22.x")
    text = (root / "template.yaml").read_text()
    assert "    Runtime: nodejs22.x   # the team's default\n" in text
    assert "      Runtime: nodejs24.x\n" in text and "python3.12" in text


def test_runtime_stays_while_a_function_keeps_v2_and_24_needs_no_callback_handler(tmp_path: Path) -> None:
    root = project(tmp_path, SAM, {"orders/app.js": CALLBACK_LEFT, "agent/app.js": STAYS_V2, "report/app.py": ""})
    found = run(root, "--runtime", "nodejs24.x")["template.yaml"]
    notes = messages(found, "notes")
    assert ("4: Runtime nodejs20.x stays (nodejs20.x is deprecated since 2026-04-30): function Orders: `handler` is "
            "still a callback handler, which nodejs24.x does not run") in notes
    assert any(n.startswith("23: Runtime nodejs18.x stays (nodejs18.x is deprecated since 2025-09-01): function "
                            "Agent: agent/app.js keeps the v2 SDK") for n in notes), notes
    assert not any("Runtime" in c for c in messages(found, "changes"))
    found = run(root, "--runtime", "nodejs22.x")["template.yaml"]
    assert "4: Runtime nodejs20.x -> nodejs22.x: the code of function Orders is on the v3 SDK" in messages(
        found, "changes")


def test_deprecated_runtimes_are_named_without_runtime(tmp_path: Path) -> None:
    root = project(tmp_path, SAM.replace("AWS_NODEJS_CONNECTION_REUSE_ENABLED", "OTHER"),
                   {"orders/app.js": V2, "agent/app.js": V2, "report/app.py": ""})
    notes = messages(run(root)["template.yaml"], "notes")
    assert "4: Runtime nodejs20.x is deprecated since 2026-04-30: `--runtime nodejs22.x` moves the functions whose " \
           "code is on v3" in notes
    assert any(n.startswith("23: Runtime nodejs18.x is deprecated since 2025-09-01") for n in notes)


def test_json_template_keeps_its_layout(tmp_path: Path) -> None:
    template = (
        '{\r\n  "Resources": {\r\n    "Fn": {\r\n      "Type": "AWS::Lambda::Function",\r\n      "Properties": {\r\n'
        '        "Code": "fn/",\r\n        "Handler": "app.handler",\r\n        "Runtime": "nodejs20.x",\r\n'
        '        "Environment": {"Variables": {"AWS_NODEJS_CONNECTION_REUSE_ENABLED": "1", "A": "b"}}\r\n'
        '      }\r\n    },\r\n    "Other": {\r\n      "Type": "AWS::Lambda::Function",\r\n      "Properties": {\r\n'
        '        "Code": "fn/",\r\n        "Handler": "app.handler",\r\n        "Runtime": "nodejs20.x",\r\n'
        '        "Environment": {\r\n          "Variables": {\r\n'
        '            "AWS_NODEJS_CONNECTION_REUSE_ENABLED": "1"\r\n          }\r\n        },\r\n'
        '        "Timeout": 3\r\n      }\r\n    }\r\n  }\r\n}\r\n'
    )
    root = project(tmp_path, template, {"fn/app.js": V2}, name="template.json")
    apply(root, "--runtime", "nodejs22.x")
    assert (root / "template.json").read_bytes() == (
        template.replace('"AWS_NODEJS_CONNECTION_REUSE_ENABLED": "1", ', "")
        .replace('        "Environment": {\r\n          "Variables": {\r\n'
                 '            "AWS_NODEJS_CONNECTION_REUSE_ENABLED": "1"\r\n          }\r\n        },\r\n', "")
        .replace("nodejs20.x", "nodejs22.x")
    ).encode()
    json.loads((root / "template.json").read_text())


SERVERLESS = """\
service: reports
provider:
  name: aws
  runtime: nodejs20.x
  environment:
    AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1
functions:
  daily:
    handler: src/daily.handler
    environment: { AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1, BUCKET: b }
  export:
    handler: src/export.handler
    runtime: nodejs18.x
"""


def test_serverless_provider_and_functions(tmp_path: Path) -> None:
    root = project(tmp_path, SERVERLESS, {"src/daily.js": V2, "src/export.js": V2}, name="serverless.yml")
    apply(root, "--runtime", "nodejs24.x")
    assert (root / "serverless.yml").read_text() == (
        SERVERLESS.replace("  environment:\n    AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1\n", "")
        .replace("{ AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1, BUCKET: b }", "{ BUCKET: b }")
        .replace("nodejs20.x", "nodejs24.x").replace("nodejs18.x", "nodejs24.x")
    )


def test_a_local_module_on_v2_holds_the_function(tmp_path: Path) -> None:
    handler = "const { list } = require('./lib/store');\n\nexports.handler = async (event) => list();\n"
    library = "const AWS = require('aws-sdk');\n\nexports.list = () => new AWS.S3().listBuckets().promise();\n"
    root = project(tmp_path, SERVERLESS.replace("  export:\n    handler: src/export.handler\n    runtime: nodejs18.x\n",
                                                 ""),
                   {"src/daily.js": handler, "src/lib/store.js": library}, name="serverless.yml")
    notes = messages(run(root, "--runtime", "nodejs22.x")["serverless.yml"], "notes")
    # store.js has no handler: it is not Lambda code, sdk-v3 leaves it on v2, so the function is not on v3
    assert any("function daily is not on v3 yet: src/lib/store.js keeps the v2 SDK" in n for n in notes), notes
    assert any("Runtime nodejs20.x stays" in n for n in notes), notes


def test_runtime_setting_and_bad_values(tmp_path: Path) -> None:
    root = project(tmp_path, SERVERLESS, {"src/daily.js": V2, "src/export.js": V2}, name="serverless.yml")
    (root / "lambda-rewriter.toml").write_text('runtime = "nodejs22.x"\n')
    found = run(root)["serverless.yml"]
    assert any("Runtime nodejs20.x -> nodejs22.x" in c for c in messages(found, "changes"))
    (root / "lambda-rewriter.toml").write_text('runtime = "nodejs20.x"\n')
    result = CliRunner().invoke(cli, ["check", "--no-cache", str(root)])
    assert result.exit_code == 2 and "runtime must be one of 'nodejs22.x', 'nodejs24.x'" in result.output
    result = CliRunner().invoke(cli, ["check", "--no-cache", "--runtime", "nodejs16.x", str(root)])
    assert result.exit_code == 2 and "Invalid value for '--runtime'" in result.output


def test_templates_above_the_paths_are_not_edited(tmp_path: Path) -> None:
    root = project(tmp_path, SAM, {"orders/app.js": V2, "agent/app.js": V2, "report/app.py": ""})
    assert "template.yaml" not in run(root / "orders")


@pytest.mark.parametrize(
    "template, words",
    [
        pytest.param("Resources: [a, b]\nGlobals:\n  Function:\n    Runtime: nodejs20.x\n", None, id="odd-shapes"),
        pytest.param(SAM.replace("      CodeUri: orders/\n", "      CodeUri: missing/\n"),
                     "function Orders is not on v3 yet: its handler app.handler names no source file here",
                     id="handler-not-found"),
        pytest.param("x-vars: &vars\n  AWS_NODEJS_CONNECTION_REUSE_ENABLED: 1\n" + SAM.replace(
            "        Variables:\n          TABLE: t\n          AWS_NODEJS_CONNECTION_REUSE_ENABLED: \"1\"\n",
            "        Variables: *vars\n"), "it is set through a YAML alias or merge", id="alias"),
        pytest.param(SAM.replace("      Handler: app.handler\n      Runtime: nodejs18.x\n",
                                 "      Handler: app.handler\n      Runtime: nodejs18.x\n      InlineCode: x\n"),
                     "function Agent is not on v3 yet: its code is not in this repository", id="inline-code"),
    ],
)
def test_left_with_a_note(tmp_path: Path, template: str, words: str | None) -> None:
    root = project(tmp_path, template, {"orders/app.js": V2, "agent/app.js": V2, "report/app.py": ""})
    before = (root / "template.yaml").read_bytes()
    found = run(root)["template.yaml"]
    assert found["status"] in ("unchanged", "changed") and not found.get("reason")
    if words is not None:
        assert any(words in n for n in messages(found, "notes")), messages(found, "notes")
    if found["status"] == "unchanged":
        apply(root)
        assert (root / "template.yaml").read_bytes() == before
