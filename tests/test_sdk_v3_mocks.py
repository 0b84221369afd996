"""sdk-v3 on unit tests: aws-sdk-mock becomes aws-sdk-client-mock once the code they test is on v3. The real
packages (tests/js: aws-sdk-mock 6.2.2, aws-sdk-client-mock 4.1.0) and node's own test runner (node:test) prove it:
the suite passes before and after, and the old suite fails against the v3 code (aws-sdk-mock reaches no v3 client)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from rewriter.cli import cli
from sdk_v3_support import NODE_MODULES, needs_tool, with_tool  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sdk-v3-mocks"
NODE = shutil.which("node")
HAVE_MOCKS = all((NODE_MODULES / name / "package.json").is_file() for name in ("aws-sdk-mock", "aws-sdk-client-mock"))

pytestmark = [
    needs_tool,
    pytest.mark.usefixtures("with_tool"),
    pytest.mark.skipif(NODE is None or not HAVE_MOCKS, reason="needs node and tests/js/node_modules (npm ci)"),
]


def node_test(folder: Path) -> subprocess.CompletedProcess:
    # No AWS settings at all: a call that escaped the mock fails (no region, no credentials), never reaches AWS.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(folder), "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    return subprocess.run([NODE, "--test", "--test-reporter=tap", "tests/"], cwd=folder, capture_output=True,
                          text=True, timeout=300, env=env)


def passed(run: subprocess.CompletedProcess) -> tuple[int, int]:
    counts = dict(line[2:].split(" ", 1) for line in run.stdout.splitlines() if line.startswith(("# pass", "# fail")))
    return int(counts.get("pass", 0)), int(counts.get("fail", 0))


def check(root: Path) -> dict:
    result = CliRunner().invoke(cli, ["check", "--no-cache", "-j", "1", "--format", "json", str(root)])
    assert result.exit_code in (0, 1), result.output
    return {f["path"]: f for f in json.loads(result.stdout)["files"]}


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    root = tmp_path / "orders"
    shutil.copytree(FIXTURES / "orders", root)
    (root / ".git").mkdir()
    (root / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return root


def test_the_suite_passes_before_and_after(orders: Path) -> None:
    assert passed(node_test(orders)) == (3, 0)
    old_suite = (orders / "tests" / "app.test.js").read_bytes()
    result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(orders)])
    assert result.exit_code == 0, result.output
    assert (orders / "tests" / "app.test.js").read_bytes() == (FIXTURES / "app.test.out.js").read_bytes()
    assert "@aws-sdk/client-sqs" in (orders / "src" / "app.js").read_text()
    assert passed(node_test(orders)) == (3, 0)
    manifest = json.loads((orders / "package.json").read_text())
    assert manifest["devDependencies"] == {"aws-sdk-client-mock": "^4.1.0"}
    found = check(orders)
    assert all(f["status"] == "unchanged" for f in found.values()), "a second run changed something"
    # Why the tests move with the code: the old suite does not reach the v3 clients.
    (orders / "tests" / "app.test.js").write_bytes(old_suite)
    assert passed(node_test(orders))[1] > 0


def test_findings(orders: Path) -> None:
    found = check(orders)
    test = found["tests/app.test.js"]
    assert [(c["line"], c["code"]) for c in test["changes"]] == [(4, "LR613")]
    assert sorted(c["code"] for c in found["package.json"]["changes"]) == ["LR604", "LR613"]


SUITE = """\
const AWSMock = require('aws-sdk-mock');
const { handler } = require('../src/app');

test('lists', async () => {
  AWSMock.mock('S3', 'listBuckets', { Buckets: [] });
  expect(await handler({})).toEqual({ Buckets: [] });
});
"""


@pytest.mark.parametrize(
    "suite, code, words, line",
    [
        pytest.param(SUITE, "../sdk-v3/left_http_client.in.js",
                     "the code it tests, src/app.js, keeps the v2 SDK", 1, id="tested-code-on-v2"),
        pytest.param(SUITE.replace("{ Buckets: [] });", ");").replace("'listBuckets', ", "'listBuckets'"), None,
                     "without a service, a method (both strings) and a replacement", 5, id="no-replacement"),
        pytest.param(SUITE.replace("test('lists'", "const stub = AWSMock.mock;\ntest('lists'"), None,
                     "`AWSMock.mock` has no aws-sdk-client-mock translation here", 4, id="other-use"),
        pytest.param(SUITE.replace("const AWSMock", "const AWS = require('aws-sdk');\nconst AWSMock")
                     .replace("  expect", "  new AWS.S3();\n  expect"), None,
                     "the test uses the v2 SDK itself", 7, id="test-uses-v2"),
        pytest.param("import { mock } from 'aws-sdk-mock';\nimport { handler } from '../src/app.js';\n"
                     "mock('S3', 'listBuckets', {});\n", None, "its import is destructured or named", 1, id="named"),
    ],
)
def test_left_whole_with_a_note(tmp_path: Path, suite: str, code: str | None, words: str, line: int) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "package.json").write_text('{\n  "devDependencies": {\n    "aws-sdk-mock": "^6.2.2"\n  }\n}\n')
    (tmp_path / "src").mkdir()
    handler = "const { S3 } = require('@aws-sdk/client-s3');\n\nexports.handler = async () => new S3().listBuckets({});\n"
    (tmp_path / "src" / "app.js").write_text((FIXTURES / code).read_text() if code else handler)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "app.test.js").write_text(suite)
    found = check(tmp_path)
    test = found["tests/app.test.js"]
    assert test["status"] == "unchanged"
    assert any(n["line"] == line and n["code"] == "LR614" and words in n["message"] for n in test["notes"]), test
    assert any(n["message"].startswith("aws-sdk-mock stays: tests/app.test.js still uses it")
               for n in found["package.json"]["notes"])


def test_es_module_suite(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.mjs").write_text(
        "import { S3 } from '@aws-sdk/client-s3';\n\nexport const handler = async () => new S3().listBuckets({});\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "app.test.mjs").write_text(
        'import AWSMock from "aws-sdk-mock"\nimport { handler } from "../src/app.mjs"\n\n'
        'AWSMock.mock("S3", "listBuckets", { Buckets: [] })\n')
    result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tests" / "app.test.mjs").read_text() == (
        'import { mockClient } from "aws-sdk-client-mock"\nimport { S3Client, ListBucketsCommand } from '
        '"@aws-sdk/client-s3"\nimport { handler } from "../src/app.mjs"\nconst s3Mock = mockClient(S3Client)\n\n'
        's3Mock.on(ListBucketsCommand).resolves({ Buckets: [] })\n')


def test_typescript_suite_type_checks_under_strict(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.ts").write_text(
        "import { S3 } from '@aws-sdk/client-s3';\n\nexport const handler = async () => new S3().listBuckets({});\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "app.test.ts").write_text(
        "import AWSMock from 'aws-sdk-mock';\nimport { handler } from '../src/app';\n\n"
        "AWSMock.mock('S3', 'listBuckets', (params: unknown, callback: Function) => callback(null, { Buckets: [] }));\n"
        "export const listed = handler();\n")
    result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(tmp_path)])
    assert result.exit_code == 0, result.output
    suite = (tmp_path / "tests" / "app.test.ts").read_text()
    assert "const mockReplacement = (replace: any) => (input: any) => new Promise<any>(" in suite
    tsc = NODE_MODULES / ".bin" / "tsc"
    checked = subprocess.run(
        [str(tsc), "--noEmit", "--strict", "--target", "es2022", "--module", "commonjs", "--esModuleInterop",
         "--skipLibCheck", "--types", "node", str(tmp_path / "tests" / "app.test.ts")],
        capture_output=True, timeout=600, cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout.decode()
