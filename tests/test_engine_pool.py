"""The process pool: files go to the workers in chunks, and a crash still takes only its own file."""
from __future__ import annotations

from pathlib import Path

from rewriter import engine
from rewriter.engine import FileJob, Status

HANDLER = b"import boto3\n\n\ndef lambda_handler(event, context):\n    s3 = boto3.client('s3')\n    return s3.list_buckets()\n"
PLAIN = b"import json\n\nVALUE = json.dumps({})\n"


def _jobs(root: Path, files: dict[str, bytes]) -> list[FileJob]:
    for name, data in files.items():
        (root / name).write_bytes(data)
    return [FileJob(str(root / name), name, str(root)) for name in sorted(files)]


def test_chunked_runs_give_the_results_of_one_worker_in_order(tmp_path: Path) -> None:
    files = {f"app{n:02d}.py": HANDLER.replace(b"'s3'", f"'s3', region_name='r{n}'".encode()) for n in range(30)}
    files |= {f"plain{n:02d}.py": PLAIN for n in range(40)}
    jobs = _jobs(tmp_path, files)
    assert len(jobs) // (2 * 8) > 1, "the run must go through the chunked pool"
    seen: list[str] = []
    parallel = engine.run(jobs, (), 2, lambda result: seen.append(result.path))
    serial = engine.run(jobs, (), 1)
    assert [(r.path, r.status, r.after, r.changes, r.notes) for r in parallel] == [
        (r.path, r.status, r.after, r.changes, r.notes) for r in serial
    ]
    assert sorted(seen) == sorted(files)


def test_a_crash_in_a_chunk_takes_only_its_own_file(tmp_path: Path, plant_crash) -> None:
    files = {f"ok{n:02d}.py": HANDLER for n in range(24)} | {f"plain{n:02d}.py": PLAIN for n in range(24)}
    files["crash.py"] = HANDLER
    jobs = _jobs(tmp_path, files)
    plant_crash("crash.py")
    results = {r.path: r for r in engine.run(jobs, (), 2)}
    assert results["crash.py"].status is Status.ERROR
    assert results["crash.py"].reason == "the worker processing this file crashed"
    assert all(results[f"ok{n:02d}.py"].status is Status.CHANGED for n in range(24))
    assert all(results[f"plain{n:02d}.py"].status is Status.UNCHANGED for n in range(24))


def test_bad_input_a_file_past_the_time_limit_is_stopped_and_the_others_go_on(tmp_path: Path, plant_slow) -> None:
    files = {f"ok{n:02d}.py": HANDLER for n in range(30)} | {f"plain{n:02d}.py": PLAIN for n in range(40)}
    files["huge.py"] = HANDLER
    jobs = _jobs(tmp_path, files)
    assert len(jobs) // (2 * 8) > 1, "the slow file shares its chunk with others, which must still be done"
    plant_slow("huge.py")
    results = {r.path: r for r in engine.run(jobs, (), 2, time_limit=5)}
    assert results["huge.py"].status is Status.ERROR
    assert results["huge.py"].reason.startswith("took longer than the time limit (5 s) and was stopped")
    assert all(results[f"ok{n:02d}.py"].status is Status.CHANGED for n in range(30))
    assert all(results[f"plain{n:02d}.py"].status is Status.UNCHANGED for n in range(40))


def test_bad_input_a_file_past_the_time_limit_in_this_process_is_stopped_too(tmp_path: Path, plant_slow) -> None:
    jobs = _jobs(tmp_path, {"app.py": HANDLER, "huge.py": HANDLER})
    plant_slow("huge.py")
    results = {r.path: r for r in engine.run(jobs, (), 1, time_limit=5)}
    assert results["huge.py"].status is Status.ERROR and "time limit (5 s)" in results["huge.py"].reason
    assert results["app.py"].status is Status.CHANGED
    import signal

    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None) and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_bad_input_the_time_limit_is_a_flag_and_the_stopped_file_an_error(tmp_path: Path, plant_slow) -> None:
    from cli_support import invoke

    _jobs(tmp_path, {f"app{n}.py": HANDLER for n in range(5)} | {"huge.py": HANDLER})
    plant_slow("huge.py")
    result = invoke(["check", "-j", "2", "--time-limit", "5", "."], tmp_path)
    assert result.exit_code == 3, result.output
    assert "huge.py: took longer than the time limit (5 s)" in result.stderr
    assert sum(f"app{n}.py" in result.stdout for n in range(5)) == 5
