"""benchmarks/: the prototype prefilter never drops a file hoist-clients would rewrite, and the helpers work.

No timing is asserted here: the benchmarks measure, these tests only check what they rely on.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import corpus, payoff_worker, proto_cli  # noqa: E402
from benchmarks.prefilter import handler_candidate, has_handler, keeps  # noqa: E402
from benchmarks.timing import run_command  # noqa: E402
from codemods import FileContext  # noqa: E402
from codemods.python.hoist_clients import HoistClients  # noqa: E402
from rewriter.languages import PYTHON  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "hoist-clients"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("def lambda_handler(event, context):\n    pass\n", id="plain"),
        pytest.param("async def main(evt, ctx):\n    pass\n", id="async-short-names"),
        pytest.param("def handler(\n    event: dict,\n    context,\n) -> dict:\n    return {}\n", id="multi-line"),
        pytest.param("@decorate\ndef handle(sqsEvent, _):\n    pass\n", id="decorated-camel-case"),
        pytest.param("def h(e, context, extra=None):\n    pass\n", id="three-params"),
    ],
)
def test_handler_shapes_are_kept(source: str) -> None:
    data = source.encode()
    assert handler_candidate(data)
    assert has_handler(data)


@pytest.mark.parametrize(
    "source, candidate",
    [
        pytest.param("def helper(table, key):\n    pass\n", False, id="other-params"),
        pytest.param("class A:\n    def handler(self, event, context):\n        pass\n", False, id="method"),
        pytest.param("if X:\n    def handler(event, context):\n        pass\n", False, id="nested-in-if"),
        pytest.param("def handler(event):\n    pass\n", True, id="one-param"),
        pytest.param("def handler(event, data):\n    pass\n", True, id="second-not-context"),
    ],
)
def test_non_handlers(source: str, candidate: bool) -> None:
    data = source.encode()
    assert handler_candidate(data) is candidate
    assert not has_handler(data)


def test_a_file_named_by_a_template_is_always_kept() -> None:
    assert keeps(b"import boto3\n", HoistClients.MARKERS, frozenset({"run"}), confirm=True)
    assert not keeps(b"import boto3\n", HoistClients.MARKERS, None, confirm=True)
    assert not keeps(b"def main(event, context): pass\n", HoistClients.MARKERS, None, confirm=True)


def _rewritten_python_files() -> list[Path]:
    files = sorted(FIXTURES.glob("*.in.py")) + sorted((REPO / "samples").rglob("*.py"))
    return [p for p in files if "__pycache__" not in p.parts]


@pytest.mark.parametrize("path", _rewritten_python_files(), ids=lambda p: p.name if p.parent == FIXTURES else str(p.relative_to(REPO)))
def test_prefilter_keeps_every_file_the_codemod_acts_on(path: Path) -> None:
    """Without a template, a file the prototype drops must be one hoist-clients leaves without a change."""
    data = path.read_bytes()
    if keeps(data, HoistClients.MARKERS, None, confirm=True) or not HoistClients().wants(data):
        return
    ctx = FileContext(path.name, None)
    HoistClients().transform(PYTHON.parse(data), ctx)
    assert not ctx.changes
    assert all("not Lambda code" in note.message for note in ctx.notes)


def test_prototype_command_finds_the_same_changes_as_the_real_one(tmp_path: Path, capsys) -> None:
    samples = corpus.fresh_samples(tmp_path, "samples")
    from rewriter.cli import main

    reports = []
    for run in (main, proto_cli.main):
        assert run(["check", str(samples), "-j", "1", "--format", "json", "-c", "hoist-clients"]) == 1
        reports.append(json.loads(capsys.readouterr().out))
    real, proto = ({f["path"]: f["changes"] for f in r["files"] if f["status"] == "changed"} for r in reports)
    assert real == proto
    assert len(real) == 7


def test_run_command_reports_status_output_and_memory(tmp_path: Path) -> None:
    run = run_command([sys.executable, "-c", "import sys; print('out'); sys.exit(3)"], cwd=tmp_path)
    assert run.returncode == 3
    assert run.stdout == b"out\n"
    assert 1 < run.peak_mb < 500
    assert run.seconds > 0


def test_behaviour_placeholders_become_moto_names() -> None:
    env = payoff_worker.handler_env({"env": {"Q": "{queue_url:orders-queue}", "T": "{topic_arn:notify}", "X": "plain"}})
    assert env == {
        "Q": "https://sqs.us-east-1.amazonaws.com/123456789012/orders-queue",
        "T": "arn:aws:sns:us-east-1:123456789012:notify",
        "X": "plain",
    }


def test_the_lambda_dense_corpus_is_the_same_for_a_seed_and_every_file_is_rewritten(tmp_path: Path) -> None:
    from benchmarks import lambda_corpus
    from rewriter.engine import Status, process_file
    from rewriter.plan import plan

    first = lambda_corpus.generate(tmp_path / "a", files=6)
    second = lambda_corpus.generate(tmp_path / "b", files=6)
    files = sorted((first / "src").rglob("*.py"))
    assert [p.read_bytes() for p in files] == [p.read_bytes() for p in sorted((second / "src").rglob("*.py"))]
    jobs = [job for job in plan([first]).jobs if job.display != "template.yaml"]  # the template is a job too
    assert sorted(job.display for job in jobs) == [p.relative_to(first).as_posix() for p in files]
    assert all(job.entry_points == {"lambda_handler"} for job in jobs), "the template names every handler"
    assert all(process_file(job, ()).status is Status.CHANGED for job in jobs)


def test_bench_writes_its_section_between_the_markers_and_keeps_the_rest(tmp_path: Path) -> None:
    from benchmarks import all as bench_all

    readme = tmp_path / "README.md"
    readme.write_text("# benchmarks\n\nabout them\n")
    bench_all.write(readme, f"{bench_all.BEGIN}\nfirst\n{bench_all.END}")
    assert readme.read_text() == f"# benchmarks\n\nabout them\n\n{bench_all.BEGIN}\nfirst\n{bench_all.END}\n"
    readme.write_text(readme.read_text() + "\n## Older runs\n")
    bench_all.write(readme, f"{bench_all.BEGIN}\nsecond\n{bench_all.END}")
    assert readme.read_text() == (
        f"# benchmarks\n\nabout them\n\n{bench_all.BEGIN}\nsecond\n{bench_all.END}\n\n## Older runs\n"
    )


def test_bench_reports_a_failing_script_and_runs_the_others(tmp_path: Path) -> None:
    from benchmarks import all as bench_all

    failing, working = tmp_path / "fails.py", tmp_path / "works.py"
    failing.write_text("import sys\nprint('half a table')\nsys.exit(3)\n")
    working.write_text("print('| a | b |')\n")
    text = bench_all.section([str(failing), str(working)])
    assert "exit status 3" in text and "half a table" in text and "| a | b |" in text
    assert text.startswith(bench_all.BEGIN) and text.endswith(bench_all.END)
