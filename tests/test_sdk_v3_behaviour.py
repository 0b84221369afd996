"""The v2 sample handlers (samples/node-orders) and what sdk-v3 makes of them (v3 clients, async handlers, hoisted)
give the same results and leave the same state, run under Node against a moto server on loopback."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from behaviour_support import SAMPLES
from rewriter.cli import cli
from sdk_v3_support import NODE_MODULES, needs_tool
from test_javascript_behaviour import CASES, NODE, moto_endpoint, run_node  # noqa: F401 (a fixture)

ORDERS = [case for case in CASES if case.values[0] == "node-orders"]

pytestmark = [needs_tool, pytest.mark.skipif(NODE is None, reason="needs node")]


@pytest.fixture(scope="module")
def v2_and_v3(tmp_path_factory):
    base = tmp_path_factory.mktemp("sdk-v3-orders")
    before, after = base / "v2", base / "v3"
    shutil.copytree(SAMPLES / "node-orders", before)
    shutil.copytree(SAMPLES / "node-orders", after)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDA_REWRITER_NODE_MODULES", str(NODE_MODULES))
        result = CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(after)])
    assert result.exit_code == 0, result.output
    for folder in (before, after):
        (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    return before, after


@pytest.mark.parametrize("app, case", ORDERS)
def test_v3_handler_behaves_as_the_v2_one(app, case, v2_and_v3, moto_endpoint, monkeypatch):
    before_dir, after_dir = v2_and_v3
    rewritten = (after_dir / case.module).read_text()
    assert "aws-sdk'" not in rewritten and "@aws-sdk/client-" in rewritten
    assert "(event, context, callback)" not in rewritten  # nodejs24.x runs it
    before = run_node(before_dir, case, moto_endpoint, monkeypatch)
    after = run_node(after_dir, case, moto_endpoint, monkeypatch)
    assert not [r for r in before["results"] if isinstance(r, dict) and "raised" in r]
    assert after["results"] == before["results"]
    assert after["state"] == before["state"]


def test_the_manifest_keeps_aws_sdk_for_the_library_left_on_v2(v2_and_v3):
    """src/shared/receipts.js is a library of scripts, not Lambda code: sdk-v3 leaves it on v2, so aws-sdk stays in
    package.json (nothing shipped may lose a package it imports)."""
    assert (v2_and_v3[1] / "package.json").read_text() == (SAMPLES / "node-orders" / "package.json").read_text()
    assert "require('aws-sdk')" in (v2_and_v3[1] / "src" / "shared" / "receipts.js").read_text()


def test_typescript_sample_moves_to_v3_and_type_checks(tmp_path_factory) -> None:
    """ts-reports: daily.ts moves (types too) and `tsc -p` passes under `strict`; export.ts keeps v2 with a note,
    since its `AWS.config.update({ maxRetries })` has no whole translation. v3 input types make every member
    optional, so `put`, read back in `return { key: put.Key }`, keeps its own member types through `satisfies`."""
    folder = tmp_path_factory.mktemp("sdk-v3-ts") / "ts-reports"
    shutil.copytree(SAMPLES / "ts-reports", folder)
    (folder / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDA_REWRITER_NODE_MODULES", str(NODE_MODULES))
        mp.setenv("LAMBDA_REWRITER_TSC", str(NODE_MODULES / "typescript"))  # the engine type-checks what it writes
        mp.setenv("LAMBDA_REWRITER_TSC_TIMEOUT", "900")  # the @aws-sdk types take minutes on a loaded machine
        result = CliRunner().invoke(cli, ["check", "--no-cache", "-j", "1", "--format", "json", str(folder)])
        CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(folder)])
    files = {f["path"].rsplit("/", 1)[-1]: f for f in json.loads(result.stdout)["files"]}
    assert files["daily.ts"]["status"] == "changed", files["daily.ts"]
    assert not any(n["code"] == "LR903" for n in files["daily.ts"]["notes"]), "the engine's tsc did not run"
    assert any(n["codemod"] == "sdk-v3" and "AWS.config.update" in n["message"] for n in files["export.ts"]["notes"])
    daily = (folder / "src" / "daily.ts").read_text()
    assert "from 'aws-sdk'" not in daily and "PutObjectCommandInput" in daily
    assert "  } satisfies PutObjectCommandInput;\n" in daily and "const put = {" in daily
    assert any(c["codemod"] == "sdk-v3" and "`put` keeps the types of its own members" in c["message"]
               for c in files["daily.ts"]["changes"])
    checked = subprocess.run([str(NODE_MODULES / ".bin" / "tsc"), "-p", str(folder)], capture_output=True, timeout=300)
    assert checked.returncode == 0, checked.stdout.decode()
