"""The GitHub Actions examples in samples/ci: valid workflows whose command lines our CLI accepts."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml
from cli_support import HANDLER, git_init, invoke, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)
from test_sarif import assert_valid

from rewriter.cli import cli

CI = Path(__file__).resolve().parent.parent / "samples" / "ci"


def workflow(name: str) -> dict:
    data = yaml.safe_load((CI / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads a bare `on` key as true
    return data


def steps(data: dict) -> list[dict]:
    (job,) = data["jobs"].values()
    return job["steps"]


def command(step: dict, program: str) -> list[str]:
    words = shlex.split(step["run"].split(">>")[0], comments=True)
    assert words[0] == program
    return words[1:]


def test_check_workflow_runs_check_with_sarif_and_uploads_it(tmp_path: Path) -> None:
    data = workflow("github-actions-check.yml")
    assert {"push", "pull_request"} <= set(data["on"])
    assert data["permissions"]["security-events"] == "write"
    by_name = {step.get("name") or step["uses"]: step for step in steps(data)}
    upload = by_name["Upload to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    args = command(by_name["Check"], "lambda-rewriter")
    assert args[0] == "check" and "--format" in args and args[args.index("--format") + 1] == "sarif"
    output = args[args.index("--output") + 1]
    assert upload["with"]["sarif_file"] == output
    assert by_name["Check"]["continue-on-error"] is True  # the upload must run when check exits 1

    # The same command line, run as the workflow runs it, writes a valid log where the upload looks.
    write(git_init(tmp_path), {"app.py": HANDLER})
    result = invoke(args, tmp_path)
    assert result.exit_code == 1, result.output
    log = json.loads((tmp_path / output).read_text())
    assert_valid(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["LR004"]


def test_batch_workflow_runs_batch_on_a_schedule_with_options_the_cli_has() -> None:
    data = workflow("github-actions-batch.yml")
    assert data["on"]["schedule"][0]["cron"].split()[4] == "1"
    run = next(step for step in steps(data) if "lambda-rewriter batch" in step.get("run", ""))
    args = command(run, "lambda-rewriter")
    assert args[:2] == ["batch", "repos.txt"] and "--push" in args
    known = {opt for param in cli.commands["batch"].params for opt in param.opts}
    assert {word for word in args if word.startswith("-")} <= known


def test_discovery_reads_no_workflow_as_a_template_or_a_source(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {f"samples/ci/{p.name}": p.read_bytes() for p in CI.iterdir()})
    write(repo, {"samples/ci/template.yaml": "Resources: {}\n", "app.py": HANDLER})
    result = invoke(["check", "--verbose", "--format", "json"], repo)
    report = json.loads(result.stdout)
    # The template is read as one (sdk-v3 may edit a Node.js function's); no workflow is read as either.
    assert [f["path"] for f in report["files"]] == ["app.py", "samples/ci/template.yaml"]
    assert report["summary"]["problems"] == []
