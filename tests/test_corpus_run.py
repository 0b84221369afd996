"""The corpus run (``make corpus``) and what it relies on: a file that kills its worker is reported, the run goes on."""
from __future__ import annotations

import json
from pathlib import Path

import corpus_run
import pytest
from rewriter import engine
from rewriter.engine import FileJob, Status

HANDLER = b"import boto3\n\n\ndef lambda_handler(event, context):\n    s3 = boto3.client('s3')\n    return s3.list_buckets()\n"
LIBRARY = b"import boto3\n\n\ndef load(bucket, key):\n    s3 = boto3.client('s3')\n    return s3.get_object(Bucket=bucket, Key=key)\n"
# A file whose worker dies: planted by the plant_crash fixture (tests/conftest.py).
DEEP = HANDLER


@pytest.fixture
def quiet_crashes(plant_crash):
    plant_crash("deep.py")


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_a_worker_killed_by_a_file_takes_only_that_file(tmp_path: Path, quiet_crashes) -> None:
    files = {f"ok{n}.py": HANDLER for n in range(6)} | {"deep.py": DEEP, "lib.py": LIBRARY}
    _tree(tmp_path, files)
    jobs = [FileJob(str(tmp_path / name), name, str(tmp_path)) for name in sorted(files)]
    results = {r.path: r for r in engine.run(jobs, (), 2)}
    assert results["deep.py"].status is Status.ERROR
    assert results["deep.py"].reason == "the worker processing this file crashed"
    assert all(results[f"ok{n}.py"].status is Status.CHANGED for n in range(6))
    assert results["lib.py"].status is Status.UNCHANGED


def test_corpus_run_counts_and_fails_on_a_crash(tmp_path: Path, capsys, quiet_crashes) -> None:
    _tree(tmp_path, {"pkg/lib.py": LIBRARY, "pkg/app.py": HANDLER, "pkg/big.py": b"#" * 2_000_000, "pkg/deep.py": DEEP,
                     "pkg/bad.py": b"import boto3\ndef lambda_handler(event, context):\n    return (\n", "pkg/notes.txt": b"boto3"})
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    report = tmp_path.parent / "corpus.json"
    assert corpus_run.main([str(tmp_path), "--jobs", "2", "--json", str(report)]) == 1
    summary = json.loads(report.read_text())
    assert summary["files"] == 5
    assert summary["statuses"] == {"unchanged": 1, "changed": 1, "skipped": 1, "error": 2}
    assert summary["crashed"] == [str(tmp_path / "pkg/deep.py")]
    assert summary["changed"] == [str(tmp_path / "pkg/app.py")]
    assert summary["wrongly_changed"] == [] and summary["internal_errors"] == []
    assert list(summary["skipped_reasons"]) == ["larger than the size limit (N > N bytes)"]
    assert "does not parse" in summary["other_errors"][0]
    assert "FAILED" in capsys.readouterr().out
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


def test_corpus_run_passes_on_code_it_must_leave_alone(tmp_path: Path) -> None:
    _tree(tmp_path, {"lib.py": LIBRARY, "app.py": HANDLER})
    assert corpus_run.main([str(tmp_path), "--jobs", "1"]) == 0


def test_a_changed_file_without_a_handler_is_a_failure() -> None:
    result = engine.FileResult("x.py", "python", Status.CHANGED, before=LIBRARY, after=LIBRARY + b"x = 1\n")
    assert corpus_run.check_changed(result) == ["changed, but it has no Lambda handler"]
    assert corpus_run.has_handler(HANDLER)
