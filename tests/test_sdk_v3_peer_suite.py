"""sdk-v3 over aws-sdk-js-codemod's own fixture suite (vendored under tests/data/aws-sdk-js-codemod/).

Each input goes through sdk-v3 as the engine runs it. The outcome is either the fixture's output, compared as
tree-sitter token streams (layout may differ, nothing else), or, where the fixture's own output is one the tool
marks as not supported or half translated, the input left as it is with a note: sdk-v3 never writes a half
translation. Any other outcome fails.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from codemods._base import FileContext
from codemods.javascript import _aws_sdk_js_codemod
from codemods.javascript.sdk_v3 import V2_IMPORT, SdkV3
from rewriter.languages import language_for
from sdk_v3_support import NODE_MODULES, needs_tool, tokens, with_tool  # noqa: F401 (a fixture)

FIXTURES = Path(__file__).resolve().parent / "data" / "aws-sdk-js-codemod" / "fixtures"
CASES = sorted(FIXTURES.glob("*/*.input.*"))

pytestmark = [needs_tool, pytest.mark.usefixtures("with_tool")]


def _expected(case: Path) -> Path:
    return case.with_name(case.name.replace(".input.", ".output."))


def test_the_suite_is_all_there() -> None:
    assert len(CASES) == 257
    assert all(_expected(case).is_file() for case in CASES)


def _left_on_purpose(expected: str, source: str) -> bool:
    """The tool's own answer is half a translation: it marks lines, or still imports `aws-sdk`."""
    return any(mark in expected for mark in _aws_sdk_js_codemod.UNTRANSLATED) or (
        V2_IMPORT.search(expected.encode()) is not None
    )


@pytest.fixture(scope="module", autouse=True)
def translated_at_once(tmp_path_factory) -> None:
    """All the inputs through one Node process (starting Node and jscodeshift costs seconds on a busy machine);
    each case below then runs sdk-v3 as the engine does, and finds the tool's result already made."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDA_REWRITER_NODE_MODULES", str(NODE_MODULES))
        _aws_sdk_js_codemod.translate_many(
            [(c.read_text().replace("\r\n", "\n"), c.suffix) for c in CASES if V2_IMPORT.search(c.read_bytes())]
        )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name.split('.')[0]}" for c in CASES])
def test_peer_fixture(case: Path) -> None:
    source, expected = case.read_bytes(), _expected(case).read_bytes()
    name = "input" + case.suffix
    language = language_for(name)
    ctx = FileContext(name, codemod="sdk-v3")
    result = language.render(SdkV3().transform(language.parse(source), ctx))
    if V2_IMPORT.search(source) is None:  # `.promise()` with no v2 import: the tool marks it, sdk-v3 has no SDK to move
        assert result == source and not ctx.changes
        return
    if _left_on_purpose(expected.decode(), source.decode()):
        assert result == source
        assert any(n.message.startswith("v2 SDK left in place") for n in ctx.notes)
        return
    raw = _aws_sdk_js_codemod.translate(source.decode().replace("\r\n", "\n"), case.suffix)
    if tokens(name, raw.encode()) != tokens(name, expected):
        pytest.xfail("aws-sdk-js-codemod 3.0.2 itself does not give this fixture's output")
    assert tokens(name, result) == tokens(name, expected)
