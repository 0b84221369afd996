"""Finding codes: every kind has a stable code, the codes are pinned on messages the codemods really print."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, invoke, invoke_json, real_engine, write  # noqa: F401

from codemods import all_codemods
from rewriter import findings
from rewriter.findings import CHANGE, FINDINGS, NOTE, classify, column

FIXTURES = Path(__file__).resolve().parent / "fixtures"
README = Path(__file__).resolve().parent.parent / "README.md"
TABLE = Path(__file__).resolve().parent.parent / "docs" / "findings.md"  # the one table of codes; README links it
NOTES_ONLY = {"framework-advice"}  # it never edits a file

# (fixture, line, code, column): each family of each codemod, on the message the codemod prints today.
PINNED = [
    ("hoist-clients/basic_client.in.py", 7, "LR004", 5),
    ("hoist-clients/http_session_headers.in.py", 9, "LR001", 5),
    ("hoist-clients/left_sts_credentials.in.py", 8, "LR002", None),
    ("hoist-clients/left_time_and_random.in.py", 8, "LR002", None),
    ("hoist-clients/left_register_per_event.in.py", 5, "LR002", None),
    ("hoist-clients/subresource_from_event.in.py", 5, "LR002", None),
    ("hoist-clients/left_from_event.in.js", 4, "LR002", 3),
    ("hoist-clients/left_init_let.in.js", 12, "LR002", 3),
    ("hoist-clients/left_env_written.in.js", 5, "LR002", 3),
    ("hoist-clients/java_left.in.java", 16, "LR002", 9),
    ("hoist-clients/left_in_try.in.py", 7, "LR003", 9),
    ("hoist-clients/left_with_block.in.py", 5, "LR003", 5),
    ("hoist-clients/left_in_try.in.js", 5, "LR003", 5),
    ("hoist-clients/java_left.in.java", 23, "LR003", 9),
    ("hoist-clients/java_left.in.java", 17, "LR009", 9),
    ("hoist-clients/java_no_interface.in.java", 19, "LR006", 9),
    ("hoist-clients/left_closed.in.py", 5, "LR009", 5),
    ("hoist-clients/left_async_client.in.py", 7, "LR009", 5),
    ("hoist-clients/left_not_lambda.in.py", 1, "LR901", 1),
    ("hoist-clients/not_lambda.in.js", 1, "LR901", 1),
    ("reconnect-guards/local_dsn.in.py", 8, "LR101", 5),
    ("reconnect-guards/module_level.in.py", 6, "LR101", 1),
    ("reconnect-guards/local_dsn.in.py", 16, "LR102", 9),
    ("reconnect-guards/mysql_connector.in.py", 19, "LR102", 5),
    ("reconnect-guards/redis_module.in.py", 5, "LR103", 1),
    ("reconnect-guards/host_from_event.in.py", 5, "LR105", 5),
    ("reconnect-guards/rotated_secret.in.py", 12, "LR105", 5),
    ("reconnect-guards/hand_written_guard.in.py", 6, "LR109", 1),
    ("reconnect-guards/psycopg3_with.in.py", 7, "LR109", 5),
    ("targeted-imports/partly_used.in.py", 3, "LR201", 5),
    ("targeted-imports/star_imports.in.py", 3, "LR201", 1),
    ("targeted-imports/left_dynamic.in.py", 1, "LR209", 1),
    ("slim-dependencies/maven_v1_bundle/in/pom.xml", 22, "LR401", 5),
    ("slim-dependencies/maven_events_only_tests/in/pom.xml", 14, "LR406", 5),
    ("slim-dependencies/npm_notes/in/package.json", 7, "LR402", 5),
    ("slim-dependencies/maven_no_sources/in/pom.xml", 7, "LR409", 5),
    # A requirements.txt below tests/ is no function's: the pip families are pinned on copies (test_pip_families).
    ("tests/slim-dependencies/pip_trim/in/requirements.txt", 1, "LR405", 1),
]
# The v2 narrowing of targeted-imports is opt-in on JavaScript (sdk-v3 is the default there): asked for by name.
LAZY = [
    ("targeted-imports/left_computed.in.js", 4, "LR209", 3),
    ("lazy-imports/rare_helper.in.py", 3, "LR301", 1),
    ("lazy-imports/left_common_path.in.py", 1, "LR309", 1),
]


def _findings_by_place(report: dict) -> dict[tuple[str, int], list[dict]]:
    found: dict[tuple[str, int], list[dict]] = {}
    for entry in report["files"]:
        for item in entry["changes"] + entry["notes"]:
            found.setdefault((entry["path"], item["line"]), []).append(item)
    return found


@pytest.fixture(scope="module")
def fixture_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], list[dict]]:
    from click.testing import CliRunner

    from rewriter.cli import cli

    # Copied out of tests/: files under a tests folder are not Lambda code.
    cases_root = tmp_path_factory.mktemp("findings") / "cases"
    shutil.copytree(FIXTURES, cases_root)  # whole: a manifest's codemods read the sources beside it
    (cases_root / ".git").mkdir()
    for case in PINNED:  # a case named under tests/ is one because it is there: copied there again
        if case[0].startswith("tests/"):
            folder = Path(case[0]).parent
            shutil.copytree(FIXTURES / folder.relative_to("tests"), cases_root / folder, dirs_exist_ok=True)
    found = {}
    for args, cases in ((["check", "-v", "--format", "json"], PINNED),
                        (["check", "-v", "--format", "json", "-c", "lazy-imports", "-c", "targeted-imports"], LAZY)):
        files = sorted({str(cases_root / case[0]) for case in cases})
        result = CliRunner().invoke(cli, [*args, *files])
        assert result.exit_code in (0, 1), result.output
        found.update(_findings_by_place(json.loads(result.stdout)))
    return found


@pytest.mark.parametrize(("fixture", "line", "code", "col"), PINNED + LAZY, ids=str)
def test_codemod_messages_get_their_codes(fixture_findings, fixture: str, line: int, code: str, col: int | None) -> None:
    items = fixture_findings.get((fixture, line), [])
    assert code in [item["code"] for item in items], items
    if col is not None:
        assert {item["column"] for item in items} == {col}


def test_every_codemod_has_a_change_code_and_a_note_code_of_its_own() -> None:
    for name in all_codemods():
        own = [f for f in FINDINGS if f.codemod == name]
        assert any(f.kind == NOTE and f.pattern is None for f in own), name
        if name not in NOTES_ONLY:
            assert any(f.kind == CHANGE and f.pattern is None for f in own), name


def test_codes_are_unique_well_formed_and_each_catch_all_comes_after_its_families() -> None:
    codes = [f.code for f in FINDINGS]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"LR\d{3}", code) for code in codes)
    for i, finding in enumerate(FINDINGS):
        if finding.pattern is None:
            later = FINDINGS[i + 1:]
            assert not any(f.codemod == finding.codemod and f.kind == finding.kind for f in later), finding.code


def test_every_code_is_documented_in_the_findings_table() -> None:
    readme = TABLE.read_text()
    for finding in FINDINGS:
        codemod = "any" if finding.codemod == "*" else finding.codemod
        row = f"| `{finding.code}` | {codemod} | {finding.kind} | {finding.title} | "
        assert any(line.startswith(row) for line in readme.splitlines()), row


def test_an_unlisted_codemod_still_gets_a_code() -> None:
    assert classify("some-new-codemod", CHANGE, "did a thing").code == "LR998"
    assert classify("some-new-codemod", NOTE, "left a thing").code == "LR999"
    assert classify("some-new-codemod", NOTE, "not Lambda code: no handler").code == "LR901"


def test_a_template_handler_that_is_not_there_is_lr902(tmp_path: Path) -> None:
    template = (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      CodeUri: src/\n      Handler: app.main\n      Runtime: python3.12\n"
    )
    repo = git_init(tmp_path)
    write(repo, {"template.yaml": template, "src/app.py": HANDLER})
    _, report = invoke_json(["check", "-v"], repo)
    notes = [n for f in report["files"] for n in f["notes"]]
    assert any(n["code"] == "LR902" and "`main`" in n["message"] for n in notes), notes


def test_a_close_that_stays_is_lr104(tmp_path: Path) -> None:
    source = (
        "import pymysql\n\ndef handler(event, context):\n    conn = pymysql.connect(host='db')\n"
        "    if event.get('done'):\n        conn.close()\n    return 1\n"
    )
    write(git_init(tmp_path), {"app.py": source})
    _, report = invoke_json(["check", "-c", "reconnect-guards"], tmp_path)
    assert [(n["code"], n["line"], n["column"]) for n in report["files"][0]["notes"]] == [("LR104", 6, 9)]


def test_pip_families(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    fixture = FIXTURES / "slim-dependencies" / "pip_trim" / "in"
    write(repo, {f"orders/{p.relative_to(fixture).as_posix()}": p.read_bytes() for p in fixture.rglob("*") if p.is_file()})
    write(repo, {"report/requirements.txt": "requests>=2\n", "report/app.py": HANDLER, "report/build.sh": "cp ../lib/*.py .\n"})
    _, report = invoke_json(["check", "-v", "-c", "slim-dependencies"], repo)
    found = {(f["path"], item["line"], item["code"]) for f in report["files"] for item in f["changes"] + f["notes"]}
    assert {("orders/requirements.txt", 8, "LR401"), ("orders/requirements.txt", 14, "LR402"),
            ("orders/requirements.txt", 7, "LR403"), ("orders/requirements.txt", 9, "LR409"),
            ("report/requirements.txt", 1, "LR404")} <= found, found


def test_framework_advice_is_lr509(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"requirements.txt": "boto3\nflask==3.0\n", "app.py": HANDLER})
    _, report = invoke_json(["check", "-v", "-c", "framework-advice"], tmp_path)
    notes = [(f["path"], n["code"], n["line"]) for f in report["files"] for n in f["notes"]]
    assert ("requirements.txt", "LR509", 2) in notes


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        pytest.param(b"x = 1\n    y = 2\n", 2, 5, id="spaces"),
        pytest.param(b"def f():\n\treturn 1\n", 2, 2, id="tab-is-one-column"),
        pytest.param(b"\xef\xbb\xbfimport boto3\n", 1, 1, id="bom-is-not-a-column"),
        pytest.param(b"a\r\n  b\r\n", 2, 3, id="crlf"),
        pytest.param(b"a\n\n", 2, 1, id="blank-line"),
        pytest.param(b"a\n", 7, 1, id="past-the-end"),
        pytest.param(None, 3, 1, id="no-source"),
    ],
)
def test_column_is_the_first_non_blank_character(source: bytes | None, line: int, expected: int) -> None:
    assert column(None if source is None else source.splitlines(), line) == expected


def test_check_prints_path_line_column_code_message(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"src/app.py": HANDLER, "src/lib.py": HANDLER.replace("handler(event, context)", "load(key)")})
    result = invoke(["check"], tmp_path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        'src/app.py:5:5: LR004 `handler` builds `boto3.client("s3")` once, on first use, through the cached factory'
        ' `get_s3_client` (not at import: boto3 resolves the region and the credentials when it builds a client)'
    ]
    verbose = invoke(["check", "--verbose"], tmp_path).stdout.splitlines()
    assert any(re.fullmatch(r"src/lib\.py:1:1: LR901 note: not Lambda code: .*", line) for line in verbose), verbose
    assert invoke(["check", "-v"], tmp_path).stdout.splitlines() == verbose


def test_json_changes_and_notes_carry_code_and_column(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HANDLER})
    _, report = invoke_json(["check"], tmp_path)
    change = report["files"][0]["changes"][0]
    assert change == {
        "codemod": "hoist-clients",
        "line": 5,
        "message": '`handler` builds `boto3.client("s3")` once, on first use, through the cached factory `get_s3_client`'
        " (not at import: boto3 resolves the region and the credentials when it builds a client)",
        "code": "LR004",
        "column": 5,
    }


def test_help_uri_points_at_the_readme_section() -> None:
    anchor = "finding-codes"  # HELP_URI's fragment once the project has a public address
    assert findings.HELP_URI is None or findings.HELP_URI.endswith(f"#{anchor}")
    assert re.search(rf"^## {anchor.replace('-', ' ')}$", README.read_text(), re.M | re.I)


HOIST_AND_GUARD = """\
import os

import boto3
import pymysql


def lambda_handler(event, context):
    s3 = boto3.client("s3")
    sqs = boto3.client("sqs")
    conn = pymysql.connect(host=os.environ["DB_HOST"], user="app")
    with conn.cursor() as cur:
        cur.execute("SELECT 1")
    s3.put_object(Bucket="b", Key="k", Body=b"x")
    return sqs.send_message(QueueUrl=os.environ["Q"], MessageBody="m")
"""


def test_a_later_codemod_reports_lines_of_the_original_file(tmp_path: Path) -> None:
    """reconnect-guards runs on the tree hoist-clients changed; its finding still points at the original line."""
    write(git_init(tmp_path), {"app.py": HOIST_AND_GUARD})
    _, report = invoke_json(["check", "--format", "json", "--no-cache"], tmp_path)
    (entry,) = report["files"]
    lines = {(c["codemod"], c["line"]) for c in entry["changes"]}
    connect = HOIST_AND_GUARD.splitlines().index('    conn = pymysql.connect(host=os.environ["DB_HOST"], user="app")') + 1
    assert ("hoist-clients", 8) in lines and ("hoist-clients", 9) in lines
    assert ("reconnect-guards", connect) in lines, lines


def test_the_pointer_to_reconnect_guards_is_only_given_when_it_does_not_run(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"app.py": HOIST_AND_GUARD})
    pointer = "needs a reconnect guard (codemod reconnect-guards)"
    _, both = invoke_json(["check", "--format", "json", "--no-cache"], tmp_path)
    _, alone = invoke_json(["check", "--format", "json", "--no-cache", "-c", "hoist-clients"], tmp_path)
    assert not [n for n in both["files"][0]["notes"] if pointer in n["message"]]
    assert [n for n in alone["files"][0]["notes"] if pointer in n["message"]]
