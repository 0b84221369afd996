"""How a Python codemod's fixture pairs are checked: ``<case>.in.py`` and ``<case>.out.py`` (no ``.out``:
the file must stay as it is, and the codemod must say why). One place, for every codemod."""
from __future__ import annotations

from pathlib import Path

import libcst as cst

from codemods import FileContext, select
from codemods._base import NO_OPTIONS, Options
from rewriter.engine import FileJob, Status, process_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def cases(codemod: str) -> tuple[list[Path], list[str]]:
    found = sorted((FIXTURES / codemod).glob("*.in.py"))
    return found, [case.name.removesuffix(".in.py") for case in found]


def expected_for(case: Path) -> Path:
    return case.with_name(case.name.replace(".in.py", ".out.py"))


def options_for(case: Path) -> Options:
    """A case named ``eager_*`` or ``lazy_*`` runs with that ``init`` setting; the others with the default."""
    mode = case.name.split("_", 1)[0]
    return Options(init=mode) if mode in ("eager", "lazy") else NO_OPTIONS


def rewrite(
    source: str | bytes, codemod: str, entry_points: frozenset[str] | None = None, options: Options = NO_OPTIONS
) -> tuple[bytes, FileContext]:
    data = source.encode() if isinstance(source, str) else source
    ctx = FileContext("case.py", entry_points, options=options)
    tree = cst.parse_module(data)
    for impl in select([codemod]):
        if impl.LANGUAGE == "python":
            ctx.codemod = impl.NAME
            tree = impl().transform(tree, ctx)
    return tree.bytes, ctx


def check_fixture(case: Path, codemod: str) -> None:
    """The exact output, that it compiles, that a second run changes nothing, and that every decision is recorded."""
    source = case.read_bytes()
    expected = expected_for(case)
    result, ctx = rewrite(source, codemod, options=options_for(case))
    assert result == (expected.read_bytes() if expected.exists() else source)
    compile(result, str(case), "exec")
    again, second = rewrite(result, codemod, options=options_for(case))
    assert again == result, "a second run changed the result"
    assert not second.changes
    if expected.exists():
        assert ctx.changes
        assert all(change.line >= 1 for change in ctx.changes)
    else:
        assert ctx.notes, "a file left alone must say why"


def check_through_engine(case: Path, codemod: str, tmp_path: Path) -> None:
    """The engine (verification included) gives the same result as the codemod alone."""
    path = tmp_path / "app.py"
    path.write_bytes(case.read_bytes())
    result = process_file(FileJob(str(path), "app.py", str(tmp_path), options=options_for(case)), (codemod,))
    changed = expected_for(case).exists()
    assert result.status is (Status.CHANGED if changed else Status.UNCHANGED), result.reason
    if changed:
        assert result.after == expected_for(case).read_bytes()


def check_decision(case: Path, codemod: str, line: int, words: str) -> None:
    _, ctx = rewrite(case.read_bytes(), codemod, options=options_for(case))
    recorded = [(d.line, d.message) for d in ctx.changes + ctx.notes]
    assert any(at == line and words in message for at, message in recorded), recorded
