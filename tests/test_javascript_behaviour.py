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
