"""Node handlers behave the same before and after the rewrite, against a moto server started here.

Each sample handler of ``samples/*/behaviour.node.json`` runs under Node, warm (its events twice
over in one process), from a pristine copy and from a copy rewritten by `lambda-rewriter apply`. The
v2 SDK is pointed at the moto server by tests/js/moto_preload.cjs; TypeScript entry points are first
bundled by esbuild (local modules in, packages left as imports, as `sam build` does it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import boto3
import pytest
import requests

from behaviour_support import (
    FAKE_AWS_ENV,
    UNSET_ENV,
    HandlerCase,
    create_resources,
    rewritten_copies,
    snapshot,
    substitute,
)

JS = Path(__file__).resolve().parent / "js"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NODE_MODULES = JS / "node_modules"
NODE = shutil.which("node")
ROUNDS = 2

pytestmark = pytest.mark.skipif(
    NODE is None or not all((NODE_MODULES / ".bin" / tool).exists() for tool in ("esbuild", "tsc")),
    reason="needs node and tests/js/node_modules (`make test` runs `npm ci --prefix tests/js`)",
)


def _cases() -> list:
    params = []
    for spec_path in sorted(SAMPLES.glob("*/behaviour.node.json")):
        spec = json.loads(spec_path.read_text())
        for entry in spec["handlers"]:
            case = HandlerCase(
                module=entry["module"],
                handler=entry["handler"],
                env=entry.get("env", {}),
                resources=entry.get("resources", {}),
                events=[json.loads((spec_path.parent / e).read_text()) for e in entry["events"]],
            )
            params.append(pytest.param(spec_path.parent.name, case, id=f"{spec_path.parent.name}:{entry['function']}"))
    return params


CASES = _cases()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sample_copies(tmp_path_factory):
    """(pristine copy, copy after `lambda-rewriter apply`) of a sample app, each with the test's node_modules."""
    return rewritten_copies(
        tmp_path_factory, lambda copy: (copy / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    )


def _entry_point(folder: Path, module: str) -> Path:
    source = folder / module
    if source.suffix not in (".ts", ".mts", ".tsx"):
        return source
    bundle = folder / "dist" / (source.stem + ".mjs")
    subprocess.run(
        [
            str(NODE_MODULES / ".bin" / "esbuild"),
            str(source),
            "--bundle",
            "--platform=node",
            "--format=esm",
            "--packages=external",
            "--log-level=warning",
            f"--outfile={bundle}",
        ],
        check=True,
        capture_output=True,
        cwd=folder,
        timeout=120,
    )
    return bundle


def run_node(folder: Path, case: HandlerCase, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Fresh moto state, the described resources, then the handler under Node; what it returned and left."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    with monkeypatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in UNSET_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_CONFIG_FILE", str(folder / ".no-aws-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / ".no-aws-credentials"))
        boto3.setup_default_session()
        names = create_resources(case.resources)
        events = folder / ".events.json"
        events.write_text(json.dumps(case.events))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(folder),
            **FAKE_AWS_ENV,
            "MOTO_ENDPOINT": endpoint,
            "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1",
            "AWS_REGION": "us-east-1",
            **{name: substitute(value, names) for name, value in case.env.items()},
        }
        entry = _entry_point(folder, case.module)
        ran = subprocess.run(
            [
                NODE,
                "-r",
                str(JS / "moto_preload.cjs"),
                str(JS / "run_handler.mjs"),
                str(entry),
                case.handler,
                str(events),
                str(ROUNDS),
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            timeout=300,
        )
        assert ran.returncode == 0, ran.stderr.decode()
        output = json.loads(ran.stdout)
        output["state"] = snapshot()
        boto3.setup_default_session()
    return output


def _raised(results: list) -> list:
    return [r for r in results if isinstance(r, dict) and "raised" in r]


def test_there_are_node_samples() -> None:
    assert {c.values[0] for c in CASES} == {"node-orders", "ts-reports"}
    assert len(CASES) >= 5


@pytest.mark.parametrize("app, case", CASES)
def test_sample_handler_behaves_the_same_after_rewrite(app, case, sample_copies, moto_endpoint, monkeypatch):
    before_dir, after_dir = sample_copies(app)
    original, rewritten = (before_dir / case.module).read_bytes(), (after_dir / case.module).read_bytes()
    assert rewritten != original, "every Node sample handler has something to hoist or narrow"
    assert b"require('aws-sdk')" not in rewritten and b"from 'aws-sdk'" not in rewritten

    before = run_node(before_dir, case, moto_endpoint, monkeypatch)
    after = run_node(after_dir, case, moto_endpoint, monkeypatch)

    assert not _raised(before["results"]), "the sample must run cleanly against moto before any rewrite"
    assert after["results"] == before["results"]
    assert after["state"] == before["state"]
    # Warm invocations build fewer clients: what the hoist is for.
    assert sum(after["clientsBuilt"]) < sum(before["clientsBuilt"]), (before["clientsBuilt"], after["clientsBuilt"])


def test_runner_sees_a_client_that_should_not_have_moved(tmp_path, moto_endpoint, monkeypatch):
    """A hoist that ignores the event (here: the bucket a client is bound to) gives different results."""
    handler = """\
const AWS = require('aws-sdk');
{module_level}
exports.handler = async (event) => {{
{in_handler}
  const listed = await s3.listObjectsV2().promise();
  return listed.Contents.map((o) => o.Key);
}};
"""
    per_call = "  const s3 = new AWS.S3({ params: { Bucket: event.bucket } });"
    case = HandlerCase(
        module="app.js",
        handler="handler",
        env={},
        resources={
            "s3_buckets": ["one", "two"],
            "s3_objects": [{"bucket": "one", "key": "a", "body": "1"}, {"bucket": "two", "key": "b", "body": "2"}],
        },
        events=[{"bucket": "one"}, {"bucket": "two"}],
    )
    runs = []
    for name, module_level, in_handler in (
        ("right", "", per_call),
        ("wrong", per_call.strip().replace("event.bucket", "'one'"), ""),
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "app.js").write_text(handler.format(module_level=module_level, in_handler=in_handler))
        (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
        runs.append(run_node(folder, case, moto_endpoint, monkeypatch))
    right, wrong = runs
    assert right["results"] == [["a"], ["b"], ["a"], ["b"]]
    assert wrong["results"] != right["results"]
    assert right["clientsBuilt"] == [1, 1, 1, 1] and wrong["clientsBuilt"] == [0, 0, 0, 0]


def test_typescript_sample_type_checks_before_and_after(sample_copies) -> None:
    """The narrowed imports keep their types: `S3.PutObjectRequest`, default imports of the clients."""
    for folder in sample_copies("ts-reports"):
        checked = subprocess.run(
            [str(NODE_MODULES / ".bin" / "tsc"), "-p", str(folder)], capture_output=True, timeout=300
        )
        assert checked.returncode == 0, (folder.name, checked.stdout.decode())


# -- Importing a rewritten module raises nothing new; tests that set process.env later still work (issue 15) --

SUITE_HANDLER = """\
const AWS = require('aws-sdk');

exports.handler = async (event) => {
  const limits = JSON.parse(process.env.LIMITS);
  const s3 = new AWS.S3({ params: { Bucket: process.env.BUCKET }, maxRetries: limits.retries });
  const listed = await s3.listObjectsV2({ Prefix: event.prefix }).promise();
  return listed.Contents.map((o) => o.Key);
};
"""
MOCKED_HANDLER = """\
const AWS = require('aws-sdk');

exports.handler = async (event) => {
  const s3 = new AWS.S3();
  const listed = await s3.listObjectsV2({ Bucket: 'one', Prefix: event.prefix }).promise();
  return listed.Contents.map((o) => o.Key);
};
"""
# The naive hoist of SUITE_HANDLER, as the tool wrote it before issue 15: settings read at import.
NAIVE = """\
const AWS = require('aws-sdk');

const limits = JSON.parse(process.env.LIMITS);
const s3 = new AWS.S3({ params: { Bucket: process.env.BUCKET }, maxRetries: limits.retries });

exports.handler = async (event) => {
  const listed = await s3.listObjectsV2({ Prefix: event.prefix }).promise();
  return listed.Contents.map((o) => o.Key);
};
"""
SUITE_RESOURCES = {
    "s3_buckets": ["one", "two"],
    "s3_objects": [{"bucket": "one", "key": "a", "body": "1"}, {"bucket": "two", "key": "b", "body": "2"}],
}


def run_suite(folder: Path, module: str, tests: list[dict], endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The module imported with no AWS variable and none of its settings; each test's beforeEach sets them."""
    requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    with monkeypatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in UNSET_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        boto3.setup_default_session()
        create_resources(SUITE_RESOURCES)
        boto3.setup_default_session()
    settings = {**FAKE_AWS_ENV, "AWS_REGION": "us-east-1"}
    suite = folder / ".suite.json"
    suite.write_text(json.dumps({
        "module": str(folder / module),
        "handler": "handler",
        "tests": [{**test, "env": {**settings, **test.get("env", {})}} for test in tests],
    }))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(folder), "MOTO_ENDPOINT": endpoint,
           "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"}
    ran = subprocess.run(
        [NODE, "-r", str(JS / "moto_preload.cjs"), str(JS / "run_suite.mjs"), str(suite)],
        cwd=folder, env=env, capture_output=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stderr.decode()
    return json.loads(ran.stdout)


def _project(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return folder


def _applied(folder: Path) -> Path:
    from click.testing import CliRunner

    from rewriter.cli import cli

    result = CliRunner().invoke(cli, ["apply", "--no-cache", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder


SUITE_TESTS = [
    {"env": {"BUCKET": "one", "LIMITS": '{"retries": 1}'}, "events": [{"prefix": ""}, {"prefix": ""}]},
    {"env": {"BUCKET": "two", "LIMITS": '{"retries": 1}'}, "events": [{"prefix": ""}, {"prefix": ""}]},
]


def test_suite_that_sets_the_environment_after_import_passes_after_rewrite(tmp_path, moto_endpoint, monkeypatch):
    before_dir = _project(tmp_path / "before", {"app.js": SUITE_HANDLER})
    after_dir = _applied(_project(tmp_path / "after", {"app.js": SUITE_HANDLER}))
    rewritten = (after_dir / "app.js").read_text()
    assert "reusedClient('s3', JSON.stringify([process.env.BUCKET, process.env.LIMITS])" in rewritten

    before = run_suite(before_dir, "app.js", SUITE_TESTS, moto_endpoint, monkeypatch)
    after = run_suite(after_dir, "app.js", SUITE_TESTS, moto_endpoint, monkeypatch)

    assert before["imported"] is None and after["imported"] is None  # no failure moved to import time
    assert before["results"] == [["a"], ["a"], ["b"], ["b"]]
    assert after["results"] == before["results"]
    # Built once per environment it reads (here: per test), where it was built per invocation.
    assert before["clientsBuilt"] == [1, 1, 1, 1] and after["clientsBuilt"] == [1, 0, 1, 0]


def test_suite_sees_what_a_naive_hoist_breaks(tmp_path, moto_endpoint, monkeypatch):
    """The same suite on the module-scope form: the import fails, as JSON.parse reads a setting not set yet."""
    naive = run_suite(_project(tmp_path / "naive", {"app.js": NAIVE}), "app.js", SUITE_TESTS, moto_endpoint, monkeypatch)
    assert naive["imported"] is not None and naive["imported"]["raised"] == "SyntaxError"
    lenient = NAIVE.replace("JSON.parse(process.env.LIMITS)", "{ retries: 1 }")
    naive = run_suite(_project(tmp_path / "lenient", {"app.js": lenient}), "app.js", SUITE_TESTS, moto_endpoint,
                      monkeypatch)
    assert naive["imported"] is None
    assert naive["results"][0] != ["a"], "a client built at import has no bucket: the test's BUCKET came later"


MOCK_TESTS = [
    {"mock": {"service": "S3", "method": "listObjectsV2", "returns": {"Contents": [{"Key": "mocked"}]}},
     "events": [{"prefix": ""}]},
    {"events": [{"prefix": ""}]},
]


@pytest.mark.parametrize("declared", [True, False], ids=["aws-sdk-mock-declared", "no-mock-declared"])
def test_aws_sdk_mock_suites_keep_their_clients_in_the_handler(tmp_path, moto_endpoint, monkeypatch, declared):
    """aws-sdk-mock replaces `AWS.S3` on the SDK per test: only a client built inside the handler, from the
    whole SDK's module, is the mock. With aws-sdk-mock in devDependencies nothing moves or narrows."""
    package = json.dumps({"name": "fn", "devDependencies": {"aws-sdk-mock": "^6.2.0"} if declared else {}})
    files = {"app.js": MOCKED_HANDLER, "package.json": package}
    before = run_suite(_project(tmp_path / "before", files), "app.js", MOCK_TESTS, moto_endpoint, monkeypatch)
    after_dir = _applied(_project(tmp_path / "after", files))
    after = run_suite(after_dir, "app.js", MOCK_TESTS, moto_endpoint, monkeypatch)
    assert before["results"] == [["mocked"], ["a"]]
    if declared:
        assert (after_dir / "app.js").read_text() == MOCKED_HANDLER
        assert after["results"] == before["results"]
    else:  # what the rule prevents: hoisted and narrowed, the client escapes the mock
        assert (after_dir / "app.js").read_text() != MOCKED_HANDLER
        assert after["results"] != before["results"]
