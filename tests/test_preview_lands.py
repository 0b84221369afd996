"""What you preview is what lands: `diff` applied, `apply` and the tip of `branch` give the same bytes."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_support import copy_samples, invoke, real_engine, run, write  # noqa: F401

from codemods import all_codemods

# Beside the samples: a handler whose unused `import requests` goes, and the requirements.txt that lists
# it. Committing targeted-imports first and running slim-dependencies on that commit would also drop
# `requests` from requirements.txt, a change no `diff` of the same base shows.
FOLLOW_ON = {
    "follow-on/src/app.py": (
        "import boto3\nimport requests\n\n\n"
        "def handler(event, context):\n    s3 = boto3.client(\"s3\")\n    return s3.list_buckets()\n"
    ),
    "follow-on/src/requirements.txt": "boto3\nrequests\n",
    "follow-on/template.yaml": (
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n"
    ),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_samples(tmp_path_factory.mktemp("preview") / "repo")
    write(root, FOLLOW_ON)
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-q", "-m", "base"], root)
    return root


def _tree_of_worktree(repo: Path) -> str:
    run(["git", "add", "-A"], repo)
    tree = run(["git", "write-tree"], repo).stdout.decode().strip()
    run(["git", "reset", "-q", "--hard"], repo)
    run(["git", "clean", "-q", "-fdx"], repo)
    return tree


@pytest.mark.parametrize("codemods", [(), *((name,) for name in all_codemods())], ids=lambda c: "+".join(c) or "all")
def test_diff_apply_and_branch_land_the_same_bytes(repo: Path, codemods: tuple[str, ...]) -> None:
    selected = [arg for name in codemods for arg in ("-c", name)]
    base_tree = run(["git", "rev-parse", "HEAD^{tree}"], repo).stdout.decode().strip()

    diff = invoke(["diff", "--no-cache", "-j", "1", *selected], repo)
    assert diff.exit_code == 0, diff.stderr
    if diff.stdout_bytes:
        subprocess.run(["git", "apply", "--whitespace=nowarn", "-"], cwd=repo, input=diff.stdout_bytes, check=True)
    previewed = _tree_of_worktree(repo)

    applied = invoke(["apply", "--no-cache", "-j", "1", *selected], repo)
    assert applied.exit_code == 0, applied.stderr
    landed = _tree_of_worktree(repo)

    name = "preview/" + ("+".join(codemods) or "all")
    branched = invoke(["branch", "-j", "1", "--branch", name, *selected], repo)
    assert branched.exit_code == 0, branched.stderr
    made = run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"], repo, check=False)
    tip = run(["git", "rev-parse", f"{name}^{{tree}}"], repo).stdout.decode().strip() if made.returncode == 0 else base_tree

    assert previewed == landed == tip
    if not codemods or codemods == ("hoist-clients",):
        assert tip != base_tree  # the samples give every comparison something to compare


def test_branch_commits_no_change_that_follows_from_an_earlier_commit(repo: Path) -> None:
    result = invoke(["branch", "-j", "1", "--branch", "preview/follow-on"], repo)
    assert result.exit_code == 0, result.stderr
    changed = run(["git", "diff", "--name-only", "HEAD", "preview/follow-on", "--", "follow-on"], repo).stdout.decode()
    assert changed.split() == ["follow-on/src/app.py"]
    trailers = run(["git", "log", "--format=%(trailers:key=Lambda-Rewriter-Codemod,valueonly)",
                    "HEAD..preview/follow-on", "--", "follow-on"], repo).stdout.decode().split()
    assert trailers == ["targeted-imports", "hoist-clients"]  # newest first: still one commit per codemod


def _follow_on_result(tmp_path: Path):
    from rewriter import engine

    write(tmp_path, {"app.py": FOLLOW_ON["follow-on/src/app.py"]})
    job = engine.FileJob(str(tmp_path / "app.py"), "app.py", str(tmp_path), frozenset({"handler"}))
    names = ("hoist-clients", "targeted-imports")
    result = engine.process_file(job, names)
    assert result.status is engine.Status.CHANGED, result.reason
    return engine, job, names, result


def test_steps_cut_the_one_pass_after_each_codemod_and_end_at_its_result(tmp_path: Path) -> None:
    engine, job, names, result = _follow_on_result(tmp_path)
    steps = engine.steps(job, names, result)
    assert [codemod for codemod, _ in steps] == ["hoist-clients", "targeted-imports"]
    hoisted, narrowed = (data for _, data in steps)
    assert b"import requests" in hoisted and b'    s3 = boto3.client("s3")' not in hoisted  # hoisted, not narrowed yet
    assert narrowed == result.after and b"import requests" not in narrowed


def test_a_step_that_fails_verification_alone_folds_into_the_next(tmp_path: Path, monkeypatch) -> None:
    engine, job, names, result = _follow_on_result(tmp_path)
    real = engine.verify

    def refuse_halfway(path, original, after, language, rerun):
        if after != result.after:
            raise engine.VerificationFailed("planted: the intermediate step does not verify")
        return real(path, original, after, language, rerun)

    monkeypatch.setattr(engine, "verify", refuse_halfway)
    assert engine.steps(job, names, result) == [("targeted-imports", result.after)]
