"""The fixture harness, for every codemod and every language (tests/test_fixtures.py runs it).

A case is ``tests/fixtures/<codemod>/<case>.in.<ext>`` with ``<case>.out.<ext>`` beside it, or, for a manifest
that needs the sources next to it, a folder ``<case>/in/`` (and ``<case>/out/`` with the manifest as it becomes).
No ``.out``: the file must stay as it is, and the codemod must say why. The suffix picks the language, as it does
for the tool. What a template would tell the engine goes in ``<case>.context.json`` (``entry_points``, ``traits``,
``init``); a case named ``eager_*`` or ``lazy_*`` runs with that ``init`` setting.
"""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

from codemods import FileContext, select
from codemods._base import NO_OPTIONS, NO_TRAITS, FunctionTraits, Options
from rewriter.engine import FileJob, FileResult, Status, process_file
from rewriter.languages import MANIFEST_NAMES, language_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclasses.dataclass(frozen=True)
class Case:
    codemod: str
    source: Path  # the input file (for a folder case, its manifest under in/)
    expected: Path  # may not exist: the file stays as it is
    name: str  # what the file is called when it is rewritten (its suffix, or manifest name, picks the language)
    entry_points: frozenset[str] | None = None
    traits: FunctionTraits = NO_TRAITS
    options: Options = NO_OPTIONS

    @property
    def id(self) -> str:
        return f"{self.codemod}/{self.source.relative_to(FIXTURES / self.codemod)}"

    @property
    def changed(self) -> bool:
        return self.expected.exists()

    @property
    def folder(self) -> Path | None:
        """The in/ folder of a folder case: copied whole, the manifest among its sources."""
        return self.source.parent if self.source.parent.name == "in" else None


def all_cases() -> list[Case]:
    return [case for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()) for case in cases_of(folder.name)]


def cases_of(codemod: str) -> list[Case]:
    found = []
    for path in sorted((FIXTURES / codemod).glob("*.in.*")):
        stem, suffix = path.name.split(".in.", 1)
        found.append(_with_context(Case(codemod, path, path.with_name(f"{stem}.out.{suffix}"), f"app.{suffix}")))
    for folder in sorted(p for p in (FIXTURES / codemod).iterdir() if (p / "in").is_dir()):
        manifest = next(name for name in MANIFEST_NAMES if (folder / "in" / name).exists())
        found.append(Case(codemod, folder / "in" / manifest, folder / "out" / manifest, manifest))
    return found


def _with_context(case: Case) -> Case:
    stem = case.source.name.split(".in.", 1)[0]
    context_file = case.source.with_name(f"{stem}.context.json")
    context = json.loads(context_file.read_text()) if context_file.exists() else {}
    mode = stem.split("_", 1)[0]
    init = context.get("init", mode if mode in ("eager", "lazy") else None)
    entry_points = context.get("entry_points")
    if case.source.suffix == ".java":  # javac's rule: a public class lives in a file named after it
        found = re.search(rb"public (?:final )?class (\w+)", case.source.read_bytes())
        case = dataclasses.replace(case, name=f"{found.group(1).decode() if found else 'App'}.java")
    return dataclasses.replace(
        case,
        entry_points=frozenset(entry_points) if entry_points is not None else None,
        traits=FunctionTraits(**context.get("traits", {})),
        options=Options(init=init) if init else NO_OPTIONS,
    )


# The Python codemods' own tests name their cases as before: (paths, ids) and ``<case>.out.py`` beside each.
def cases(codemod: str) -> tuple[list[Path], list[str]]:
    found = sorted((FIXTURES / codemod).glob("*.in.py"))
    return found, [case.name.removesuffix(".in.py") for case in found]


def expected_for(case: Path) -> Path:
    return case.with_name(case.name.replace(".in.", ".out."))


def options_for(case: Path) -> Options:
    """A case named ``eager_*`` or ``lazy_*`` runs with that ``init`` setting; the others with the default."""
    mode = case.name.split("_", 1)[0]
    return Options(init=mode) if mode in ("eager", "lazy") else NO_OPTIONS


def rewrite(
    source: str | bytes,
    codemod: str,
    entry_points: frozenset[str] | None = None,
    options: Options = NO_OPTIONS,
    name: str = "case.py",
    traits: FunctionTraits = NO_TRAITS,
    location: str | None = None,
) -> tuple[bytes, FileContext]:
    """The codemod alone, as LibCST's runner would run it: no engine, no verification, the file called ``name``."""
    data = source.encode() if isinstance(source, str) else source
    language = language_for(name)
    assert language is not None, name
    ctx = FileContext(name, entry_points, location=location, options=options, traits=traits)
    tree = language.parse(data)
    for impl in select([codemod]):
        if language.name in impl.LANGUAGES:
            ctx.codemod = impl.NAME
            tree = impl().transform(tree, ctx)
    return language.render(tree), ctx


def check_fixture(case: Case, tmp_path: Path) -> None:
    """The exact output, that it parses (Python: compiles; JavaScript: `node --check`), that a second run changes
    nothing, and that a file changed records its changes, on lines the file has."""
    source = case.source.read_bytes()
    # A manifest is judged by where it is in the repository: a function's folder, not the root.
    name, location = (f"app/{case.name}", str(_placed(case, tmp_path))) if case.folder is not None else (case.name, None)
    result, ctx = rewrite(source, case.codemod, case.entry_points, case.options, name, case.traits, location)
    assert result == (case.expected.read_bytes() if case.changed else source)
    language = language_for(name)
    assert language is not None
    language.check(result, name)
    again, second = rewrite(result, case.codemod, case.entry_points, case.options, name, case.traits, location)
    assert again == result, "a second run changed the result"
    assert not second.changes
    if case.changed:
        assert ctx.changes, "the output differs but no change was recorded"
        lines = max(len(source.splitlines()), len(result.splitlines()))  # sdk-v3 names lines of its result
        assert all(1 <= change.line <= lines for change in ctx.changes), ctx.changes
    else:
        assert not ctx.changes


def check_through_engine(case: Case, tmp_path: Path) -> None:
    """The engine, verification included, gives the same result as the codemod alone, and a second run through
    it changes nothing; a file left alone says why (the engine's own decisions, such as "not Lambda code", included)."""
    result = _engine(case, tmp_path / "first", case.source.read_bytes())
    assert result.status is (Status.CHANGED if case.changed else Status.UNCHANGED), result.reason
    if not case.changed:
        assert result.notes, "a file left alone must say why"
        return
    assert result.after == case.expected.read_bytes()
    again = _engine(case, tmp_path / "again", result.after)
    assert again.status is Status.UNCHANGED and not again.changes, again.reason


def _placed(case: Case, root: Path) -> Path:
    """Where the case's file is put under ``root``: a folder case's whole in/ folder comes along."""
    if case.folder is not None:
        shutil.copytree(case.folder, root / "app", dirs_exist_ok=True)
        return root / "app" / case.name
    if case.source.suffix == ".java":
        return root / "src" / "main" / "java" / "com" / "example" / case.name
    return root / case.name


def _engine(case: Case, root: Path, data: bytes) -> FileResult:
    path = _placed(case, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    job = FileJob(str(path), path.relative_to(root).as_posix(), str(root), case.entry_points, options=case.options,
                  traits=case.traits)
    return process_file(job, (case.codemod,))


def check_decision(case: Path, codemod: str, line: int, words: str) -> None:
    _, ctx = rewrite(case.read_bytes(), codemod, options=options_for(case))
    recorded = [(d.line, d.message) for d in ctx.changes + ctx.notes]
    assert any(at == line and words in message for at, message in recorded), recorded
