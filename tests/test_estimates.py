"""`--estimate`: per function, what hoisted construction saves per warm invocation, from measured costs."""
from __future__ import annotations

from pathlib import Path

import pytest

from codemods.estimates import describe, savings
from tests.cli_support import HANDLER, invoke, real_engine  # noqa: F401


@pytest.mark.parametrize(
    "messages, expected",
    [
        (['hoisted `s3 = boto3.client("s3")` from `handler` to module scope'], {"handler": 4.51}),
        (['hoisted `s3 = client("s3", config=Config(retries={"max_attempts": 5, "mode": "...` from `_archive` to module scope'],
         {"_archive": 4.51}),
        (['hoisted `table = resource("dynamodb").Table(os.environ["TABLE_NAME"])` from `process` to module scope'],
         {"process": 3.95}),
        (['hoisted `session = boto3.Session()` from `main` to module scope',
          'hoisted `sns = session.client("sns")` from `main` with it'], {"main": 106.58 + 3.07}),
        (['hoisted `boto3.client("sqs", region_name=REGION)` from `a` to module scope as `sqs`',
          'hoisted `http = requests.Session()` from `b` to module scope'], {"a": 2.02, "b": 0.011}),
        (["`handler` now reuses one `boto3.client(...)` per `region_name` through the cached factory `_s3_for`"],
         {"handler": 3.07}),
        (['hoisted `REGION = os.environ["AWS_REGION"]` from `handler` with it',
          "`handler` reuses the module-level `s3` instead of building its own"], {}),
    ],
    ids=["s3", "bare-client", "resource", "session", "inline-and-requests", "cached-factory", "nothing-built"],
)
def test_savings_per_function(messages: list[str], expected: dict[str, float]) -> None:
    assert savings(messages) == pytest.approx(expected)


def test_describe_says_it_is_an_estimate() -> None:
    assert describe(9.2) == "client construction: ~9 ms per warm invocation saved (estimate)"
    assert describe(0.011) == "client construction: ~0.01 ms per warm invocation saved (estimate)"


@pytest.mark.parametrize("command", ["check", "diff"])
def test_estimate_option_prints_a_line_per_function(tmp_path: Path, command: str) -> None:
    (tmp_path / "app.py").write_text(HANDLER)
    plain = invoke([command, "."], tmp_path)
    assert "estimate" not in plain.stdout + plain.stderr
    result = invoke([command, ".", "--estimate"], tmp_path)
    line = "app.py: `handler`: client construction: ~5 ms per warm invocation saved (estimate)"
    where = result.stdout if command == "check" else result.stderr
    assert line in where.splitlines()
    if command == "diff":
        assert "estimate" not in result.stdout  # the patch stays a patch


def test_the_estimate_cites_the_readme_which_the_package_ships() -> None:
    from pathlib import Path

    from codemods import estimates

    root = Path(__file__).resolve().parent.parent
    assert "benchmarks/" not in estimates.MEASURED and "README" in estimates.MEASURED
    assert 'readme = "README.md"' in (root / "pyproject.toml").read_text()
    assert "## Why" in (root / "README.md").read_text()
