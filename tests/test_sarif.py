"""`check --format sarif`: SARIF 2.1.0 that validates against the schema and that code scanning can place."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from cli_support import BROKEN, HANDLER, LIBRARY, git_init, invoke, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter import findings

SCHEMA = json.loads((Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def sarif(args: list[str], cwd: Path) -> tuple[int, dict]:
    result = invoke(["check", "--format", "sarif", *args], cwd)
    return result.exit_code, json.loads(result.stdout)


def assert_valid(log: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_the_schema_catches_a_broken_log() -> None:
    """The validator is not a rubber stamp: a wrong level and a missing message fail it."""
    log = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "LR001", "level": "loud"}]}]}
    assert len(list(VALIDATOR.iter_errors(log))) >= 2
    log["runs"][0]["results"][0] = {"ruleId": "LR001", "level": "warning", "message": {"text": "ok"}}
    assert_valid(log)


def test_check_writes_valid_sarif_with_rules_results_and_notifications(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/app.py": HANDLER, "src/lib.py": LIBRARY, "src/bad.py": BROKEN})
    status, log = sarif([], tmp_path)
    assert status == 3
    assert_valid(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "lambda-rewriter" and driver["version"]
    assert driver.get("informationUri") == findings.PROJECT_URL  # none yet: no made-up address
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == [f.code for f in findings.FINDINGS if f.kind in (findings.CHANGE, findings.NOTE)]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"].startswith("Example: ")
        assert rule.get("helpUri") == findings.HELP_URI
    (result,) = run["results"]  # the library's note only shows with --verbose
    assert result["ruleId"] == "LR004" and driver["rules"][result["ruleIndex"]]["id"] == "LR004"
    assert result["level"] == "warning"
    assert result["message"]["text"].startswith('`handler` builds `boto3.client("s3")` once, on first use')
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 5, "startColumn": 5}
    assert result["partialFingerprints"]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    errors = [n for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    assert len(errors) == 1 and errors[0]["message"]["text"].startswith("src/bad.py: does not parse")


def test_notes_are_note_level_and_unchanged_files_only_with_verbose(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER, "lib.py": LIBRARY})
    _, quiet = sarif([], tmp_path)
    status, log = sarif(["--verbose"], tmp_path)
    assert status == 1
    assert_valid(log)
    assert [r["ruleId"] for r in quiet["runs"][0]["results"]] == ["LR004"]
    by_rule = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert by_rule["LR901"]["level"] == "note"
    assert by_rule["LR901"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "lib.py"
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_uris_stay_relative_to_the_repository_root_from_a_subfolder(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/my handlers/app.py": HANDLER})
    _, log = sarif(["."], tmp_path / "src")
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "src/my%20handlers/app.py"
    assert_valid(log)


def test_fingerprints_follow_the_line_not_its_number(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    _, before = sarif([], tmp_path)
    write(tmp_path, {"app.py": '"""Orders."""\n' + HANDLER})
    _, after = sarif([], tmp_path)
    first, second = before["runs"][0]["results"][0], after["runs"][0]["results"][0]
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert first["partialFingerprints"] == second["partialFingerprints"]
    write(tmp_path, {"app.py": HANDLER.replace('"s3"', '"sqs"')})
    _, other = sarif([], tmp_path)
    assert other["runs"][0]["results"][0]["partialFingerprints"] != first["partialFingerprints"]


def test_output_option_writes_the_log_there_and_nothing_to_stdout(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    (tmp_path / "out").mkdir()
    result = invoke(["check", "--format", "sarif", "--output", "out/lambda.sarif"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout == ""
    log = json.loads((tmp_path / "out" / "lambda.sarif").read_text())
    assert_valid(log)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["LR004"]


def test_a_clean_repository_gives_a_valid_log_with_no_results(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": "def handler(event, context):\n    return 1\n"})
    status, log = sarif([], tmp_path)
    assert status == 0
    assert_valid(log)
    assert log["runs"][0]["results"] == []


@pytest.mark.parametrize("field", ["ruleId", "level", "message", "locations"])
def test_each_result_field_matters_to_the_schema_or_to_code_scanning(tmp_path: Path, field: str) -> None:
    """Guard against a validator that accepts anything: breaking a field of a real result is caught."""
    write(git_init(tmp_path), {"app.py": HANDLER})
    _, log = sarif([], tmp_path)
    broken = copy.deepcopy(log)
    result = broken["runs"][0]["results"][0]
    result[field] = 7
    assert list(VALIDATOR.iter_errors(broken))
