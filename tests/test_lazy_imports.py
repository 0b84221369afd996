"""lazy-imports (Python, opt-in): notes, edge cases, opt-in selection, behaviour under moto (pairs: test_fixtures.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from behaviour_support import case_from_events_file, run_handler
from cli_support import git_init, invoke, run, write
import codemod_fixtures as fixtures
from codemods import FileContext, select
from rewriter.cli import cli

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lazy-imports"
CASES = sorted(FIXTURES.glob("*.in.py"))
IDS = [c.name.removesuffix(".in.py") for c in CASES]


def rewrite(source: str | bytes) -> tuple[bytes, FileContext]:
    return fixtures.rewrite(source, "lazy-imports")


expected_for = fixtures.expected_for


@pytest.mark.parametrize(
    "case, line, words",
    [
        pytest.param("except_branch", 6, "moved `import pandas as pd` into an `except` branch of `lambda_handler` (line 15)", id="except"),
        pytest.param("rare_helper", 4, "into `_summary` (line 7), a helper called only from branches", id="helper"),
        pytest.param("left_common_path", 1, "`pd` is used on the common path of `handler` (line 5)", id="common"),
        pytest.param("left_still_loaded", 2, "`botocore` still loads at cold start through `import boto3`", id="still-loaded"),
    ],
)
def test_decision_is_recorded(case: str, line: int, words: str) -> None:
    fixtures.check_decision(FIXTURES / f"{case}.in.py", "lazy-imports", line, words)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import pandas as pd\nFRAME = pd.DataFrame()\ndef handler(event, context):\n    if event:\n        return pd\n", id="module-level-use"),
        pytest.param("import pandas as pd\ndef handler(event, context, kind=pd.DataFrame):\n    if event:\n        return kind\n", id="default-argument"),
        pytest.param("import pandas as pd\nclass Report:\n    def run(self):\n        return pd\ndef handler(event, context):\n    return 1\n", id="method"),
        pytest.param("import pandas as pd\ndef handler(event, context):\n    if event:\n        pd = None\n        return pd\n", id="local-binding"),
        pytest.param("import json\ndef handler(event, context):\n    if event:\n        return json.dumps(event)\n", id="not-heavy"),
        pytest.param("import pandas as pd\nROUTES = {'csv': lambda rows: pd.DataFrame(rows)}\ndef handler(event, context):\n    return 1\n", id="lambda-at-module-level"),
        pytest.param("import pandas as pd\ndef _csv(rows):\n    return pd.DataFrame(rows)\nHANDLERS = [_csv]\ndef handler(event, context):\n    return _csv(event)\n", id="helper-on-common-path"),
        pytest.param("import pandas as pd\ndef handler(event, context):\n    try:\n        return 1\n    except pd.errors.ParserError:\n        return 0\n", id="except-clause-type"),
        pytest.param("import pandas as pd\ndef handler(event, context):\n    if event:\n        return globals()['pd']\n", id="dynamic"),
        pytest.param("import matplotlib.pyplot as plt\ndef handler(event, context):\n    if event:\n        return plt\n", id="side-effect"),
        pytest.param("import pandas as pd\ndef handler(event, context) -> 'pd.DataFrame':\n    if event:\n        return pd.DataFrame()\n", id="string-annotation"),
    ],
)
def test_noop(source: str) -> None:
    result, ctx = rewrite(source)
    assert result.decode() == source
    assert not ctx.changes


def test_opt_in_runs_only_when_named() -> None:
    assert "lazy-imports" not in {c.NAME for c in select()}
    assert "targeted-imports" in {c.NAME for c in select()}
    assert [c.NAME for c in select(["lazy-imports"])] == ["lazy-imports"]


def test_cli_moves_imports_only_with_dash_c(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_bytes((FIXTURES / "except_branch.in.py").read_bytes())
    default = CliRunner().invoke(cli, ["diff", "-j", "1", str(tmp_path)])
    assert default.exit_code in (0, 1), default.output
    assert "import pandas" not in default.stdout
    chosen = CliRunner().invoke(cli, ["diff", "-j", "1", "-c", "lazy-imports", str(tmp_path)])
    assert chosen.exit_code in (0, 1), chosen.output
    assert "-import pandas as pd\n" in chosen.stdout
    assert "+        import pandas as pd\n" in chosen.stdout


BEHAVIOUR = sorted(p.name.removesuffix(".events.json") for p in FIXTURES.glob("*.events.json"))


@pytest.mark.parametrize("case", BEHAVIOUR)
def test_fixture_pair_behaves_the_same(case: str, tmp_path: Path, monkeypatch) -> None:
    source, expected = FIXTURES / f"{case}.in.py", FIXTURES / f"{case}.out.py"
    assert expected.read_bytes() != source.read_bytes()
    for version, path in (("before", source), ("after", expected)):
        (tmp_path / version).mkdir()
        shutil.copyfile(path, tmp_path / version / "handler.py")
    spec = case_from_events_file(FIXTURES / f"{case}.events.json", "handler.py")
    before = run_handler(tmp_path / "before", spec, monkeypatch)
    after = run_handler(tmp_path / "after", spec, monkeypatch)
    assert after.results == before.results
    assert after.state == before.state


def test_branch_without_dash_c_leaves_opt_in_codemods_out(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"handler.py": (FIXTURES / "except_branch.in.py").read_bytes()})
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "base"], repo)
    result = invoke(["branch", "-j", "1"], repo)
    # Only lazy-imports would change this file: without -c it does not run, so there is no branch.
    assert result.exit_code == 0, result.output
    assert "nothing to change" in result.output
    branches = run(["git", "branch", "--list", "lambda-rewriter/*"], repo)
    assert branches.stdout.strip() == b""
    named = invoke(["branch", "-j", "1", "-c", "lazy-imports"], repo)
    assert named.exit_code == 0, named.output
    log = run(["git", "log", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)", "lambda-rewriter/lazy-imports"], repo)
    assert "lazy-imports" in log.stdout.decode()


def test_a_module_whose_imports_are_unseen_is_named() -> None:
    source = "import pandas as pd\nimport orders_common\ndef handler(event, context):\n    if event:\n        return pd.DataFrame()\n    return orders_common\n"
    result, ctx = rewrite(source)
    assert "    if event:\n        import pandas as pd\n" in result.decode()
    assert [(n.line, n.message) for n in ctx.notes] == [
        (1, "`orders_common` may load `pandas` at cold start all the same: the tool cannot see what they import")
    ]
