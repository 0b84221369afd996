"""A client or connection the tests patch stays in the handler: built once, it would outlive each test's patch
(the second test's mock would never reach it). The project's own suite passes before and after `apply`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codemods.python._test_patches import PyTests, scan
from rewriter.cli import cli

APP = """import boto3


def handler(event, context):
    s3 = boto3.client("s3")
    return s3.get_object(Bucket="b", Key=event["key"])["Body"]
"""

SUITE = """from unittest import mock

import app


@mock.patch("app.boto3")
def test_one(boto):
    boto.client.return_value.get_object.return_value = {"Body": 1}
    assert app.handler({"key": "k"}, None) == 1


@mock.patch("app.boto3")
def test_two(boto):
    boto.client.return_value.get_object.return_value = {"Body": 2}
    assert app.handler({"key": "k"}, None) == 2
    boto.client.assert_called_once_with("s3")
"""


def _project(root: Path, suite: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "app.py").write_text(APP)
    (root / "tests" / "test_app.py").write_text(suite)
    return root


def _suite(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_a_suite_that_patches_the_sdk_in_the_module_passes_before_and_after_apply(tmp_path: Path) -> None:
    root = _project(tmp_path, SUITE)
    assert _suite(root).returncode == 0
    result = CliRunner().invoke(cli, ["check", "-v", "--no-cache", "-j", "1", str(root)])
    assert "app.py:5:5: LR008 note: left in `handler`: `boto3.client(...)`: the tests patch `app.boto3` " \
           "(tests/test_app.py:6); built once, it would outlive each test's patch" in result.output, result.output
    assert CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(root)]).exit_code == 0
    assert "get_s3_client" not in (root / "app.py").read_text()
    after = _suite(root)
    assert after.returncode == 0, after.stdout


def test_what_the_note_prevents_the_same_suite_fails_on_the_cached_client(tmp_path: Path) -> None:
    """Honesty check: the hoist the note prevents does break this suite (found as a second test's mock ignored)."""
    root = _project(tmp_path, SUITE)
    (root / "app.py").write_text(APP)
    # The run without the tests in it cannot see them: the client is hoisted, and the suite fails.
    assert CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(root / "app.py")]).exit_code == 0
    assert "get_s3_client" in (root / "app.py").read_text()
    after = _suite(root)
    assert after.returncode != 0 and "assert 1 == 2" in after.stdout, after.stdout


def test_a_suite_with_moto_and_no_patch_still_gets_the_hoist(tmp_path: Path) -> None:
    root = _project(tmp_path, "import app\n\n\ndef test_nothing():\n    assert app\n")
    assert CliRunner().invoke(cli, ["apply", "--no-cache", "-j", "1", str(root)]).exit_code == 0
    assert "get_s3_client" in (root / "app.py").read_text()


@pytest.mark.parametrize(("target", "path", "bound", "qualname", "patches"), [
    ("app.boto3", "app.py", "boto3", "boto3.client", True),
    ("src.app.boto3.client", "src/app.py", "boto3", "boto3.client", True),
    ("app.boto3", "functions/orders/app.py", "boto3", "boto3.client", True),  # imported as `app` from its folder
    ("orders.app.client", "functions/orders/app.py", "client", "boto3.client", True),  # `from boto3 import client`
    ("other.boto3", "app.py", "boto3", "boto3.client", False),
    ("app.boto3", "handler.py", "boto3", "boto3.client", False),
    ("app.json", "app.py", "boto3", "boto3.client", False),
    ("boto3.client", "app.py", "boto3", "boto3.client", True),  # patched everywhere
    ("boto3", "app.py", "boto3", "boto3.client", True),
    ("boto3.resource", "app.py", "boto3", "boto3.client", False),
    ("botocore.client.BaseClient._make_api_call", "app.py", "boto3", "boto3.client", False),  # meets a reused client
    ("app.boto3.client._make_api_call", "app.py", "boto3", "boto3.client", False),
    ("requests.get", "app.py", "requests", "requests.Session", False),
    ("pkg.db.psycopg2.connect", "pkg/db/__init__.py", "psycopg2", "psycopg2.connect", True),
])
def test_which_patches_reach_a_construction(target: str, path: str, bound: str, qualname: str, patches: bool) -> None:
    found = PyTests(((target, "tests/test_x.py:1"),)).patching(path, bound, qualname)
    assert (found is not None) is patches


def test_the_patch_forms_read_from_a_test_file() -> None:
    data = (b'import app\n@mock.patch("app.boto3")\ndef t(mocker, monkeypatch):\n'
            b'    mocker.patch(target="src.app.boto3.client")\n'
            b"    with patch.object(app, 'boto3'):\n"
            b'        monkeypatch.setattr("app.psycopg2.connect", fake)\n'
            b'        monkeypatch.setattr(app.psycopg2, "connect", fake)\n'
            b'        patch.dict("os.environ", {})\n')
    assert scan("tests/t.py", data) == [
        ("app.boto3", "tests/t.py:2"), ("src.app.boto3.client", "tests/t.py:4"), ("app.boto3", "tests/t.py:5"),
        ("app.psycopg2.connect", "tests/t.py:6"), ("app.psycopg2.connect", "tests/t.py:7"),
    ]


def test_a_patched_driver_gets_no_guard(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "app.py").write_text(
        "import os\n\nimport psycopg2\n\n\ndef handler(event, context):\n"
        "    conn = psycopg2.connect(os.environ['DSN'])\n    with conn.cursor() as cur:\n"
        "        cur.execute('select 1')\n        return cur.fetchone()\n")
    (tmp_path / "tests" / "test_app.py").write_text(
        "from unittest import mock\n\nimport app\n\n\n@mock.patch('app.psycopg2.connect')\n"
        "def test_it(connect):\n    assert app.handler({}, None)\n")
    result = CliRunner().invoke(cli, ["check", "-v", "--no-cache", "-j", "1", str(tmp_path)])
    assert "LR108 note: left in `handler`: `psycopg2.connect(...)`: the tests patch `app.psycopg2.connect` " \
           "(tests/test_app.py:6); reused, the connection would outlive each test's patch" in result.output, result.output
    assert "would change 0 files" in result.output
