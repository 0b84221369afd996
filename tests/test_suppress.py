"""Inline suppression: a comment on a finding's line (or near the top of the file) keeps the tool away from it."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import git_init, invoke, invoke_json, run, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter import suppress

TWO_CLIENTS = """\
import boto3
import requests


def handler(event, context):
    s3 = boto3.client("s3"){comment}
    sqs = boto3.client("sqs")
    return s3.list_buckets(), sqs
"""


def codes(report: dict, path: str) -> list[tuple[int, str]]:
    (entry,) = [f for f in report["files"] if f["path"] == path]
    return [(f["line"], f["code"]) for f in entry["changes"] + entry["notes"]]


@pytest.mark.parametrize("comment", [
    "  # lambda-rewriter: ignore[LR004]",
    "  # lambda-rewriter: ignore[LR001, LR004]",
    "  # lambda-rewriter: ignore",
    "  # noqa: LR004",
    "  # noqa: E501,LR004",
])
def test_a_suppressed_change_is_not_made_and_the_other_codemods_still_run(tmp_path: Path, comment: str) -> None:
    source = TWO_CLIENTS.format(comment=comment)
    write(git_init(tmp_path), {"app.py": source})
    _, report = invoke_json(["check"], tmp_path)
    found = codes(report, "app.py")
    assert (6, "LR991") in found and (2, "LR201") in found  # targeted-imports still removes `requests`
    assert not [c for _, c in found if c in ("LR001", "LR004")]  # hoist-clients made nothing, not even sqs
    assert invoke(["apply"], tmp_path).exit_code == 0
    after = (tmp_path / "app.py").read_text()
    assert after == source.replace("import requests\n", "")
    text = invoke(["check"], tmp_path)
    assert text.exit_code == 0 and "LR004" not in text.stdout


@pytest.mark.parametrize("comment", ["  # noqa", "  # lambda-rewriter: ignore[LR201]", "  # noqa: F401"])
def test_other_codes_and_a_bare_noqa_do_not_stop_the_change(tmp_path: Path, comment: str) -> None:
    write(git_init(tmp_path), {"app.py": TWO_CLIENTS.format(comment=comment)})
    _, report = invoke_json(["check"], tmp_path)
    assert (6, "LR004") in codes(report, "app.py")


def test_the_file_level_form_covers_the_file_from_its_first_lines_only(tmp_path: Path) -> None:
    top = "# lambda-rewriter: ignore-file[LR004]\n" + TWO_CLIENTS.format(comment="")
    late = TWO_CLIENTS.format(comment="") + "\n" * 10 + "# lambda-rewriter: ignore-file[LR004]\n"
    write(git_init(tmp_path), {"top.py": top, "late.py": late})
    _, report = invoke_json(["check"], tmp_path)
    assert [c for _, c in codes(report, "top.py")] == ["LR201", "LR991"]
    assert "LR004" in [c for _, c in codes(report, "late.py")]


def test_javascript_takes_slash_comments(tmp_path: Path) -> None:
    source = (
        'const { S3Client } = require("@aws-sdk/client-s3");\n'
        "\n"
        "exports.handler = async (event) => {\n"
        "  const s3 = new S3Client({}); // lambda-rewriter: ignore[LR001]\n"
        "  return s3.send;\n"
        "};\n"
    )
    write(git_init(tmp_path), {"handler.js": source, "plain.js": source.replace(" // lambda-rewriter: ignore[LR001]", "")})
    _, report = invoke_json(["check"], tmp_path)
    assert codes(report, "handler.js") == [(4, "LR991")]
    assert (4, "LR001") in codes(report, "plain.js")
    invoke(["apply"], tmp_path)
    assert (tmp_path / "handler.js").read_text() == source


def test_java_takes_slash_comments() -> None:
    found = suppress.parse(b"class A {\n  S3Client s3 = S3Client.create(); // lambda-rewriter: ignore[LR001]\n}\n")
    assert found.matching("LR001", 2) is not None and found.matching("LR001", 1) is None
    assert found.matching("LR004", 2) is None


def test_a_suppressed_note_is_hidden(tmp_path: Path) -> None:
    source = TWO_CLIENTS.format(comment="").replace(
        'sqs = boto3.client("sqs")', 'sqs = boto3.client("sqs", region_name=event["region"])  # lambda-rewriter: ignore[LR002]')
    write(git_init(tmp_path), {"app.py": source})
    _, report = invoke_json(["check"], tmp_path)
    found = codes(report, "app.py")
    assert (6, "LR004") in found and not [c for _, c in found if c == "LR002"]


def test_unused_suppressions_are_named_with_verbose_only(tmp_path: Path) -> None:
    source = TWO_CLIENTS.format(comment="  # lambda-rewriter: ignore[LR201]")
    write(git_init(tmp_path), {"app.py": source})
    quiet = invoke(["check"], tmp_path)
    assert quiet.exit_code == 1 and "LR992" not in quiet.stdout and "app.py:6:5: LR004" in quiet.stdout
    verbose = invoke(["check", "-v"], tmp_path)
    assert "app.py:6:5: LR992 note: unused suppression: `# lambda-rewriter: ignore[LR201]`" in verbose.stdout


def test_diff_and_branch_leave_the_suppressed_codemod_out(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    source = TWO_CLIENTS.format(comment="  # lambda-rewriter: ignore[LR004]")
    write(repo, {"app.py": source})
    run(["git", "add", "."], repo)
    run(["git", "commit", "-qm", "init"], repo)
    diff = invoke(["diff"], repo).stdout
    assert "-import requests" in diff and "get_s3_client" not in diff
    made = invoke(["branch"], repo)
    assert made.exit_code == 0, made.output
    log = run(["git", "log", "--format=%s", "lambda-rewriter/all"], repo).stdout.decode().split("\n")
    assert log[0].startswith("targeted-imports:") and not any(s.startswith("hoist-clients") for s in log)
    tip = run(["git", "show", "lambda-rewriter/all:app.py"], repo).stdout.decode()
    assert tip == source.replace("import requests\n", "")


@pytest.mark.parametrize(("line", "expected"), [
    (b"x = 1  # lambda-rewriter: ignore[lr004]", {"LR004"}),
    (b"x = 1  # lambda-rewriter:ignore[ LR004 , LR201 ]", {"LR004", "LR201"}),
    (b"x = 1  # lambda-rewriter: ignore[]", suppress.ALL),
    (b"x = 1  # NOQA: LR004", {"LR004"}),
    (b"<!-- lambda-rewriter: ignore[LR401] -->", {"LR401"}),
])
def test_comment_forms(line: bytes, expected: set[str]) -> None:
    (directive,) = suppress.parse(line + b"\n").directives
    assert directive.codes == expected and directive.line == 1


def test_a_file_without_any_costs_one_search() -> None:
    assert suppress.parse(b"import boto3\n") is suppress.NONE


def test_sarif_and_json_carry_the_suppression_notes(tmp_path: Path) -> None:
    import json

    write(git_init(tmp_path), {"app.py": TWO_CLIENTS.format(comment="  # lambda-rewriter: ignore[LR004]"),
                               "stale.py": TWO_CLIENTS.format(comment="  # lambda-rewriter: ignore[LR301]")})
    invoke(["check", "--format", "sarif", "--output", "plain.sarif"], tmp_path)
    invoke(["check", "-v", "--format", "sarif", "--output", "verbose.sarif"], tmp_path)

    def rules(name: str) -> set[str]:
        return {r["ruleId"] for r in json.loads((tmp_path / name).read_text())["runs"][0]["results"]}

    assert "LR991" in rules("plain.sarif") and "LR992" not in rules("plain.sarif")
    assert "LR992" in rules("verbose.sarif")
