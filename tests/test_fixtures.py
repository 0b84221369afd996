"""Every codemod's fixture pairs, in every language: adding a case is adding files (tests/codemod_fixtures.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

import codemod_fixtures as fixtures
from sdk_v3_support import HAVE_TOOL, NODE_MODULES

CASES = [
    pytest.param(
        case,
        id=case.id,
        marks=[pytest.mark.skipif(not HAVE_TOOL, reason="aws-sdk-js-codemod is not installed in tests/js")]
        if case.codemod == "sdk-v3"
        else [],
    )
    for case in fixtures.all_cases()
]


@pytest.fixture(autouse=True)
def _sdk_v3_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    # sdk-v3 runs the pinned aws-sdk-js-codemod of tests/js; every other codemod runs without any such tool.
    monkeypatch.setenv("LAMBDA_REWRITER_NODE_MODULES", str(NODE_MODULES))


@pytest.mark.parametrize("case", CASES)
def test_fixture(case: fixtures.Case, tmp_path: Path) -> None:
    fixtures.check_fixture(case, tmp_path)


@pytest.mark.parametrize("case", CASES)
def test_fixture_through_the_engine(case: fixtures.Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing the engine reads may come from the folder the tests run in
    fixtures.check_through_engine(case, tmp_path)

