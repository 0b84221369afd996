"""Which files are Lambda code: one decision per file, shared by every codemod in every language."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import git_init, invoke_json, real_engine, write  # noqa: F401

from codemods._lambda_code import decide

PY_HANDLER = "import boto3\n\n\ndef handler(event, context):\n    s3 = boto3.client('s3')\n    return s3.list_buckets()\n"
JS_HANDLER = "const AWS = require('aws-sdk');\n\nexports.handler = async (event) => {\n  const s3 = new AWS.S3();\n  return s3.listBuckets().promise();\n};\n"
JAVA_HANDLER = (
    "import com.amazonaws.services.lambda.runtime.RequestHandler;\n"
    "public class App implements RequestHandler<String, String> {\n"
    "    public String handleRequest(String in, Context c) { return in; }\n}\n"
)


def _language(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1]
    return {"py": "python", "js": "javascript", "mjs": "javascript", "ts": "typescript", "tsx": "tsx",
            "java": "java"}[suffix]


@pytest.mark.parametrize(
    "path, source",
    [
        pytest.param("src/app.py", PY_HANDLER, id="python-handler"),
        pytest.param("src/app.py", "def lambda_handler_user(event, context=None, password=None):\n    pass\n",
                     id="python-optional-parameters"),
        pytest.param("src/app.py", "def handler(event, _):\n    pass\n", id="python-underscore-context"),
        pytest.param("src/app.js", JS_HANDLER, id="js-exports-handler"),
        pytest.param("src/app.js", "exports.main = async (event) => {};\n", id="js-main-taking-an-event"),
        pytest.param("src/app.ts", "export const handler: Handler = async (e) => {};\n", id="ts-export-const"),
        pytest.param("src/app.mjs", "export async function lambdaHandler(e) {}\n", id="esm-lambdaHandler"),
        pytest.param("src/app.js", "async function handler(e) {}\nmodule.exports = { handler };\n",
                     id="module-exports-object"),
        pytest.param("src/app.js", "const run = async (evt, ctx) => {};\nmodule.exports.run = run;\n",
                     id="js-event-parameter"),
        pytest.param("src/App.java", JAVA_HANDLER, id="java-request-handler"),
        # Names that only look like test or script folders.
        pytest.param("src/testing/app.py", PY_HANDLER, id="testing-folder"),
        pytest.param("src/contest.py", PY_HANDLER, id="contest"),
        pytest.param("src/app/handler.js", JS_HANDLER, id="app-folder-handler"),
        pytest.param("src/app.py", "#!/usr/bin/env python3\n" + PY_HANDLER, id="python-handler-with-a-shebang"),
    ],
)
def test_lambda_code(path: str, source: str) -> None:
    decision = decide(path, source.encode(), None, _language(path))
    assert decision.is_lambda, decision.why
    assert decision.handlers is None


@pytest.mark.parametrize(
    "path, source, why",
    [
        pytest.param("tests/test_app.py", PY_HANDLER, "a test (under tests/)", id="tests-folder"),
        pytest.param("src/app_test.py", PY_HANDLER, "a test file", id="python-_test"),
        pytest.param("src/test_app.py", PY_HANDLER, "a test file", id="python-test_"),
        pytest.param("conftest.py", PY_HANDLER, "a test file", id="conftest"),
        pytest.param("src/__tests__/app.js", JS_HANDLER, "a test (under __tests__/)", id="jest-folder"),
        pytest.param("src/app.test.js", JS_HANDLER, "a test file", id="jest-file"),
        pytest.param("spec/app.spec.ts", JS_HANDLER, "a test (under spec/)", id="spec"),
        pytest.param("src/__mocks__/aws-sdk.js", JS_HANDLER, "a test (under __mocks__/)", id="jest-mocks"),
        pytest.param("e2e/orders.ts", JS_HANDLER, "a test (under e2e/)", id="e2e"),
        pytest.param("src/test/java/App.java", JAVA_HANDLER, "a test (under test/)", id="maven-test"),
        pytest.param("scripts/deploy.py", PY_HANDLER, "a script (under scripts/)", id="scripts"),
        pytest.param("bin/cli.js", JS_HANDLER, "a script (under bin/)", id="bin"),
        pytest.param("tools/seed.py", PY_HANDLER, "a script (under tools/)", id="tools"),
        pytest.param("web/pages/index.js", JS_HANDLER, "browser code (a page under pages/)", id="next-pages"),
        pytest.param("web/app/page.tsx", JS_HANDLER, "a Next.js route file under app/", id="next-app"),
        pytest.param("web/lib/s3.js", "'use client';\n" + JS_HANDLER, "browser code ('use client')", id="use-client"),
        pytest.param("web/lib/s3.ts", "import React from 'react';\n" + JS_HANDLER, "imports react", id="react"),
        pytest.param("web/lib/s3.js", "const D = require('react-dom/client');\n" + JS_HANDLER, "imports react-dom",
                     id="react-dom"),
        pytest.param("web/lib/s3.js", JS_HANDLER + "window.location.reload();\n", "uses the DOM", id="window"),
        pytest.param("src/cli.js", "exports.main = async (argv) => {};\n", "no exported handler", id="js-main"),
        pytest.param("src/shared/receipts.js",
                     "const AWS = require('aws-sdk');\nfunction loadReceipt(bucket, id) {}\nmodule.exports = { loadReceipt };\n",
                     "no exported handler", id="shared-module"),
        pytest.param("src/lib.js", "function handler(event) {}\n", "no exported handler", id="js-not-exported"),
        pytest.param("src/commands/get.js", "exports.command = 'get <id>';\nexports.handler = async (argv) => {};\n",
                     "no exported handler", id="yargs-command-module"),
        pytest.param("src/get.mjs", "export const handler = async (argv) => {};\n", "no exported handler",
                     id="handler-of-argv"),
        pytest.param("src/cli.js", "#!/usr/bin/env node\n" + JS_HANDLER, "a script (a #! line)", id="js-shebang"),
        pytest.param("src/lib.py", "def load(bucket, key):\n    pass\n", "(event, context)", id="python-library"),
        pytest.param("src/Lib.java", "public class Lib { void run() {} }\n", "RequestHandler", id="java-plain-class"),
    ],
)
def test_not_lambda_code(path: str, source: str, why: str) -> None:
    decision = decide(path, source.encode(), None, _language(path))
    assert not decision.is_lambda
    assert decision.why.startswith("not Lambda code: ") and why in decision.why, decision.why


def test_a_template_decides_even_for_a_test_script_or_browser_file() -> None:
    decision = decide("scripts/pages/app.test.js", b"'use client';\nexports.main = (argv) => {};\n",
                      frozenset({"main"}), "javascript")
    assert decision.is_lambda and decision.handlers == frozenset({"main"})


def test_manifests_are_not_decided_here() -> None:
    assert decide("tests/requirements.txt", b"boto3\n", None, "manifest").is_lambda


CLI_MAIN = (
    "const AWS = require('aws-sdk');\n\n"
    "exports.main = async (argv) => {\n  const s3 = new AWS.S3();\n  return s3.listBuckets().promise();\n};\n"
)
NOT_LAMBDA_FILES = {
    # What the issue saw rewritten: a deployment script, Next.js code, jest tests, a shared module, CLI scripts.
    "scripts/deploy.py": '"""Deploy the stack. Not Lambda code."""\n' + PY_HANDLER,
    "scripts/deploy.js": JS_HANDLER,
    "web/pages/orders.js": JS_HANDLER,
    "web/components/upload.tsx": "'use client';\n" + JS_HANDLER,
    "src/__tests__/app.test.js": JS_HANDLER,
    "src/app.test.ts": JS_HANDLER.replace("exports.handler =", "export const handler ="),
    "tests/test_app.py": PY_HANDLER,
    "src/shared/receipts.js": "const AWS = require('aws-sdk');\n\nfunction loadReceipt(bucket, id) {\n"
                              "  const s3 = new AWS.S3();\n  return s3.getObject({ Bucket: bucket, Key: id }).promise();\n}\n\n"
                              "module.exports = { loadReceipt };\n",
    "src/cli/export.js": CLI_MAIN,
    "src/test/java/AppTest.java": JAVA_HANDLER.replace(
        "return in;", "software.amazon.awssdk.services.s3.S3Client s3 = S3Client.create(); return in;"),
}


@pytest.mark.parametrize("codemod", ["hoist-clients", "reconnect-guards", "targeted-imports", "lazy-imports", None])
def test_every_codemod_leaves_tests_scripts_browser_code_and_shared_modules_alone(tmp_path: Path, codemod) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {**NOT_LAMBDA_FILES, "src/app.py": PY_HANDLER, "src/app.js": JS_HANDLER})
    args = ["check", "-v", "--no-cache", *(["-c", codemod] if codemod else [])]
    result, report = invoke_json(args, repo)
    files = {entry["path"]: entry for entry in report["files"]}
    for path in NOT_LAMBDA_FILES:
        entry = files[path]
        assert entry["status"] == "unchanged" and not entry["changes"], entry
        # Said once, by the first codemod whose markers the file has (none: nothing to say).
        expected = [[], ["LR901"]] if codemod else [["LR901"]]
        assert [n["code"] for n in entry["notes"]] in expected, entry
    if codemod in ("hoist-clients", None):  # the real handlers beside them still change
        assert files["src/app.py"]["status"] == files["src/app.js"]["status"] == "changed"


def test_a_file_a_template_names_is_lambda_code_wherever_it_is(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {
        "scripts/deploy.js": CLI_MAIN,
        "template.yaml": "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                         "      CodeUri: scripts/\n      Handler: deploy.main\n      Runtime: nodejs20.x\n",
    })
    result, report = invoke_json(["check", "--no-cache", "-c", "hoist-clients"], repo)
    [entry] = [e for e in report["files"] if e["path"] == "scripts/deploy.js"]
    assert entry["status"] == "changed", entry
