"""targeted-imports (Python): notes, one-line edge cases, behaviour under moto (fixture pairs: test_fixtures.py)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from behaviour_support import case_from_events_file, run_handler
import codemod_fixtures as fixtures
from codemods import FileContext
from rewriter.engine import FileJob, Status, process_file

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures" / "targeted-imports"
CASES = sorted(FIXTURES.glob("*.in.py"))
IDS = [c.name.removesuffix(".in.py") for c in CASES]


def rewrite(source: str | bytes, entry_points: frozenset[str] | None = None) -> tuple[bytes, FileContext]:
    return fixtures.rewrite(source, "targeted-imports", entry_points)


expected_for = fixtures.expected_for


@pytest.mark.parametrize(
    "case, line, words",
    [
        pytest.param("unused_sdk", 7, "removed `import boto3`: the module never uses `boto3` (importing the AWS SDK", id="boto3"),
        pytest.param("unused_sdk", 9, "removed `import pandas as pd`", id="pandas"),
        pytest.param("partly_used", 3, "removed `from botocore.exceptions import BotoCoreError`", id="partial"),
        pytest.param("partly_used", 7, "removed `import numpy as np`", id="semicolon"),
        pytest.param("star_imports", 3, "`from boto3 import *` -> the 2 name(s) the module uses: client, resource", id="star"),
        pytest.param("star_unused", 2, "removed `from botocore.exceptions import *`", id="star-unused"),
        pytest.param("xray_patch_all", 8, '`patch_all()` -> `patch(["botocore", "requests"])`', id="patch_all"),
        pytest.param("xray_nothing_to_patch", 5, "removed `patch_all()`: the module imports no library X-Ray patches", id="nothing"),
        pytest.param("left_xray_unseen", 6, "the module imports `orders_common`, whose own imports the tool cannot see", id="unseen"),
        pytest.param("left_xray_double_patch", 5, "only `patch_all()` without arguments", id="double-patch"),
        pytest.param("left_side_effects", 3, "`matplotlib.pyplot` selects and sets up a plotting backend", id="pyplot"),
        pytest.param("left_side_effects", 4, "`seaborn` registers its colormaps", id="seaborn"),
        pytest.param("left_side_effects", 5, "marked `# noqa`", id="noqa"),
        pytest.param("left_dynamic", 1, "`globals()` on line 5", id="dynamic"),
        pytest.param("left_star_uncatalogued", 1, "the catalogue does not list the names it provides", id="uncatalogued"),
        pytest.param("left_not_lambda", 1, "not Lambda code", id="not-lambda"),
    ],
)
def test_decision_is_recorded(case: str, line: int, words: str) -> None:
    fixtures.check_decision(FIXTURES / f"{case}.in.py", "targeted-imports", line, words)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import boto3\ndef handler(event, context):\n    return boto3.client('s3')\n", id="used"),
        pytest.param("import os\nimport yaml\ndef handler(event, context):\n    return 1\n", id="not-an-sdk"),
        pytest.param("import boto3\n__all__ = ['boto3']\ndef handler(event, context):\n    return 1\n", id="exported"),
        pytest.param("import pandas as pd\ndef handler(event, context) -> 'pd.Series':\n    return 1\n", id="string-annotation"),
        pytest.param("import boto3\ndef handler(event, context):\n    global boto3\n    boto3 = None\n", id="rebound"),
        pytest.param("try:\n    import boto3\nexcept ImportError:\n    boto3 = None\ndef handler(event, context):\n    return 1\n", id="in-try"),
        pytest.param("def handler(event, context):\n    import boto3\n    return 1\n", id="function-level"),
        pytest.param("from . import boto3\ndef handler(event, context):\n    return 1\n", id="relative"),
        pytest.param("import boto3\ndef handler(event, context):\n    return eval(event['code'])\n", id="eval"),
        pytest.param("import boto3\nfrom aws_xray_sdk.core import patch_all\nfrom unittest.mock import patch\npatch_all()\ndef handler(event, context):\n    return boto3, patch\n", id="patch-name-taken"),
        pytest.param("import boto3\nfrom aws_xray_sdk.core import patch\npatch(['botocore'])\ndef handler(event, context):\n    return boto3\n", id="already-narrow"),
    ],
)
def test_noop(source: str) -> None:
    result, ctx = rewrite(source)
    assert result.decode() == source
    assert not ctx.changes


def test_patch_all_imported_under_another_name() -> None:
    result, _ = rewrite("from aws_xray_sdk.core import patch_all as pa\nimport boto3\npa()\ndef handler(event, context):\n    return boto3\n")
    assert result.decode().startswith('from aws_xray_sdk.core import patch\nimport boto3\npatch(["botocore"], raise_errors=False)\n')


def test_star_import_keeps_a_name_also_bound_in_a_function() -> None:
    # A function's local ``client`` is read too: keeping the name is harmless, dropping a used one is not.
    result, _ = rewrite("from boto3 import *\ndef handler(event, context):\n    client = None\n    return client, resource('s3')\n")
    assert result.decode().startswith("from boto3 import client, resource\n")


def test_long_explicit_import_wraps() -> None:
    names = ["ClientError", "BotoCoreError", "NoCredentialsError", "ParamValidationError", "EndpointConnectionError"]
    source = "from botocore.exceptions import *\ndef handler(event, context):\n    return " + ", ".join(names) + "\n"
    result, _ = rewrite(source)
    head = result.decode().split("def ")[0]
    assert head == "from botocore.exceptions import (\n" + "".join(f"    {n},\n" for n in sorted(names)) + ")\n"
    compile(result, "case.py", "exec")


def test_patch_all_kept_beside_patch_when_still_referenced() -> None:
    source = textwrap.dedent(
        """\
        import boto3
        from aws_xray_sdk.core import patch_all

        patch_all()
        PATCHER = patch_all


        def handler(event, context):
            return boto3.client("s3")
        """
    )
    result, _ = rewrite(source)
    assert "from aws_xray_sdk.core import patch_all, patch\n" in result.decode()
    assert 'patch(["botocore"], raise_errors=False)\n' in result.decode()


def test_template_entry_point_makes_a_lambda_module() -> None:
    source = "import boto3\nimport json\n\n\ndef process(message):\n    return json.dumps(message)\n"
    unchanged, ctx = rewrite(source)
    assert unchanged.decode() == source and any("not Lambda code" in n.message for n in ctx.notes)
    changed, _ = rewrite(source, entry_points=frozenset({"process"}))
    assert changed.decode() == "import json\n\n\ndef process(message):\n    return json.dumps(message)\n"


def test_runs_on_the_tree_hoist_clients_left(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(
        textwrap.dedent(
            """\
            import json

            import boto3
            import pandas as pd
            from aws_xray_sdk.core import patch_all

            patch_all()


            def lambda_handler(event, context):
                s3 = boto3.client("s3")
                return json.dumps(s3.list_buckets()["Buckets"], default=str)
            """
        )
    )
    result = process_file(FileJob(str(path), "app.py", str(tmp_path)), ("hoist-clients", "targeted-imports"))
    assert result.status is Status.CHANGED, result.reason
    assert result.after.decode() == textwrap.dedent(
        """\
        import functools
        import json

        import boto3
        from aws_xray_sdk.core import patch


        @functools.lru_cache(maxsize=None)
        def get_s3_client():
            return boto3.client("s3")


        patch(["botocore"], raise_errors=False)


        def lambda_handler(event, context):
            s3 = get_s3_client()
            return json.dumps(s3.list_buckets()["Buckets"], default=str)
        """
    )
    assert {c.codemod for c in result.changes} == {"hoist-clients", "targeted-imports"}


# -- behaviour: the same results and AWS side effects before and after, under moto ----------------

BEHAVIOUR = sorted(p.name.removesuffix(".events.json") for p in FIXTURES.glob("*.events.json") if (FIXTURES / p.name.replace(".events.json", ".in.py")).exists())

# X-Ray patches libraries for the whole process: each run of an X-Ray case gets a process of its own.
_ISOLATED_RUN = """
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import pytest
from behaviour_support import case_from_events_file, run_handler
from aws_xray_sdk.core import patcher
case = case_from_events_file(Path(sys.argv[3]), "handler.py")
run = run_handler(Path(sys.argv[2]), case, pytest.MonkeyPatch())
print(json.dumps({"results": run.results, "state": run.state, "patched": sorted(patcher._PATCHED_MODULES)}))
"""


def _run_isolated(folder: Path, events: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST"))}
    env["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"
    done = subprocess.run(
        [sys.executable, "-c", _ISOLATED_RUN, str(TESTS), str(folder), str(events)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", BEHAVIOUR)
def test_fixture_pair_behaves_the_same(case: str, tmp_path: Path, monkeypatch) -> None:
    source, expected, events = (FIXTURES / f"{case}{suffix}" for suffix in (".in.py", ".out.py", ".events.json"))
    assert expected.exists() and expected.read_bytes() != source.read_bytes()
    for version, path in (("before", source), ("after", expected)):
        (tmp_path / version).mkdir()
        shutil.copyfile(path, tmp_path / version / "handler.py")
    if b"aws_xray_sdk" in source.read_bytes():
        before, after = (_run_isolated(tmp_path / v, events) for v in ("before", "after"))
        assert any(not (isinstance(r, dict) and "raised" in r) for r in before["results"])
        assert (after["results"], after["state"]) == (before["results"], before["state"])
        # What the rewrite is for: X-Ray patches what the module imports, not every library it knows.
        listed = re.search(r"patch\(\[(.*?)\]", expected.read_text())
        assert set(after["patched"]) == (set(re.findall(r'"(\w+)"', listed.group(1))) if listed else set())
        assert set(after["patched"]) < set(before["patched"])
        return
    spec = case_from_events_file(events, "handler.py")
    before = run_handler(tmp_path / "before", spec, monkeypatch)
    after = run_handler(tmp_path / "after", spec, monkeypatch)
    assert after.results == before.results
    assert after.state == before.state


def test_not_lambda_is_said_once_per_file(tmp_path: Path) -> None:
    path = tmp_path / "common.py"
    path.write_bytes((FIXTURES / "left_not_lambda.in.py").read_bytes())
    result = process_file(FileJob(str(path), "common.py", str(tmp_path)), ("hoist-clients", "targeted-imports", "lazy-imports"))
    assert result.status is Status.UNCHANGED
    assert [n.line for n in result.notes if n.message.startswith("not Lambda code")] == [1]


def test_import_time_benchmark_measures_a_handler_module(tmp_path: Path) -> None:
    from benchmarks import import_time

    (tmp_path / "handler.py").write_text("import json\nimport email.parser\n")
    assert import_time.import_ms(tmp_path, {}) > 0
    names = {case.name for case in import_time.fixture_cases()}
    assert "fixtures/targeted-imports/unused_sdk" in names and "fixtures/lazy-imports/except_branch" in names
    assert all(case.before != case.after for case in import_time.fixture_cases())
