"""hoist-clients for Java: notes for what stays, javac on the fixtures (their pairs run in test_fixtures.py)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import codemod_fixtures as fixtures
from codemods._base import FunctionTraits
from codemods._lambda_code import NOT_LAMBDA_JAVA
from codemods.java.hoist_clients import construction_kind
from rewriter.findings import CHANGE, NOTE, classify
from rewriter.engine import FileJob, Status, process_file
from rewriter.languages import JAVA, language_for

FIXTURES = Path(__file__).parent / "fixtures" / "hoist-clients"
STUBS = Path(__file__).parent / "java_stubs"
CASES = sorted(FIXTURES.glob("*.in.java"))
# What a template says of a case (handlers it names, `SnapStart`, `CapacityProviderConfig`): <case>.context.json.
_CONTEXT = {case.source.name.removesuffix(".in.java"): case for case in fixtures.cases_of("hoist-clients")
            if case.source.suffix == ".java"}
ENTRY_POINTS = {name: case.entry_points for name, case in _CONTEXT.items() if case.entry_points is not None}
TRAITS = {name: case.traits for name, case in _CONTEXT.items()}


def _case(path: Path) -> str:
    return path.name.removesuffix(".in.java")


def _public_class(source: bytes) -> str:
    return re.search(rb"public (?:final )?class (\w+)", source).group(1).decode()


def _run(tmp_path: Path, source: bytes, case: str):
    path = tmp_path / "src" / "main" / "java" / "com" / "example" / f"{_public_class(source)}.java"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(source)
    job = FileJob(str(path), path.relative_to(tmp_path).as_posix(), str(tmp_path), ENTRY_POINTS.get(case),
                  traits=TRAITS.get(case, FunctionTraits()))
    return process_file(job, ("hoist-clients",))


def test_java_files_are_java() -> None:
    assert language_for("src/main/java/com/example/App.java") is JAVA


def test_what_stays_is_noted_with_the_reason(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_left.in.java").read_bytes(), "java_left")
    notes = {note.line: note.message for note in result.notes}
    assert result.status is Status.UNCHANGED
    assert "`input`, a parameter of the handler" in notes[16]
    assert "`var`" in notes[17]
    assert "`prefix`, which is not a constant" in notes[18]
    assert "inside a conditional" in notes[20]
    assert "try-with-resources closes it" in notes[23]
    assert "closed per invocation" in notes[26]
    assert "changed per invocation (`moved.setRegion(...)`)" in notes[29]
    assert set(notes) == {16, 17, 18, 20, 23, 26, 29}


def test_a_local_that_is_not_constant_is_named_with_where_its_value_comes_from(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_local_left.in.java").read_bytes(), "java_local_left")
    notes = {note.line: note.message for note in result.notes}
    assert result.status is Status.UNCHANGED
    assert notes == {
        16: "left `fromInput` in handleRequest: `endpoint` comes from `input`, a parameter of the handler: it differs "
            "per invocation",
        21: "left `reassigned` in handleRequest: `region` is assigned again in handleRequest",
        23: "left `timed` in handleRequest: `stamp` comes from `currentTimeMillis()`, which differs per call",
        26: "left `looped` in handleRequest: `name` changes with each pass of a loop",
    }


def test_constant_locals_are_written_into_the_field_and_go_when_nothing_else_reads_them(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_constant_local.in.java").read_bytes(), "java_constant_local")
    changes = {change.line: change.message for change in result.changes}
    assert "removed the local `region`" in changes[15] and "removed the local `west`" in changes[18]
    assert b"String bucket = PREFIX" in result.after  # read by a call that stays: the local stays
    assert "`target` comes from `input`" in {n.line: n.message for n in result.notes}[22]


def test_a_client_reading_a_variable_lambda_may_not_set_is_built_lazily(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_unset_variable.in.java").read_bytes(), "java_unset_variable")
    changes = {change.line: change.message for change in result.changes}
    assert "reads `BUCKET_REGION`, which may be unset" in changes[15]
    assert "reads `TABLE_REGION`, which may be unset" in changes[16]  # through a static final field
    assert "reads `TABLE_REGION`, which may be unset" in changes[17]  # it wraps `dynamo`, null at class init
    assert "static final field" in changes[18]  # AWS_REGION: Lambda always sets it
    assert {classify("hoist-clients", CHANGE, changes[line]).code for line in (15, 16, 17)} == {"LR004"}


def test_handlers_without_the_interface_and_the_helpers_they_call_are_reached(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_no_interface.in.java").read_bytes(), "java_no_interface")
    changes = {change.line: change.message for change in result.changes}
    assert "(in handleRequest)" in changes[23] and "(in stream)" in changes[30]  # by signature alone
    assert "(in Orders.save)" in changes[37]  # through a field declared as `Orders`
    assert "(in Receipts.key)" in changes[44]  # a static call
    assert [(n.line, n.message) for n in result.notes] == [
        (19, "left `queue` in the constructor: Lambda builds the handler once per execution environment, so it is "
             "built once already")]


def test_managed_instances_leave_a_jdbc_connection_and_still_hoist_sdk_clients(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_managed_instances.in.java").read_bytes(), "java_managed_instances")
    notes = {note.line: note.message for note in result.notes}
    assert "Lambda Managed Instances" in notes[16] and "share one connection" in notes[16]
    assert classify("hoist-clients", NOTE, notes[16]).code == "LR007"
    assert [change.line for change in result.changes] == [14]


def test_snap_start_is_named_in_the_notes_of_connections(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_snap_start.in.java").read_bytes(), "java_snap_start")
    notes = {note.line: note.message for note in result.notes}
    assert "SnapStart, so it is opened before the snapshot and is stale after a restore" in notes[15]
    assert notes[21].startswith("the template enables SnapStart: `conn` is opened by the first invocation")
    plain = _run(tmp_path / "plain", (FIXTURES / "java_snap_start.in.java").read_bytes(), "plain")
    assert not any("SnapStart" in note.message for note in plain.notes)
    assert {classify("hoist-clients", NOTE, notes[line]).code for line in (15, 21)} == {"LR007"}


def test_templates_say_which_functions_use_snap_start_or_managed_instances(tmp_path: Path) -> None:
    from rewriter.discovery import discover

    source = tmp_path / "src" / "main" / "java" / "com" / "example"
    source.mkdir(parents=True)
    for name in ("Restored", "Concurrent", "Plain"):
        (source / f"{name}.java").write_text(f"package com.example;\npublic class {name} {{}}\n")
    (tmp_path / "template.yaml").write_text(
        "Globals:\n  Function:\n    Runtime: java21\nResources:\n"
        "  Restored:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: com.example.Restored\n"
        "      SnapStart:\n        ApplyOn: PublishedVersions\n"
        "  Concurrent:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: com.example.Concurrent\n"
        "      CapacityProviderConfig:\n        Arn: !GetAtt Provider.Arn\n"
        "  Plain:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: com.example.Plain\n"
        "      SnapStart:\n        ApplyOn: None\n")
    for cache in (None, tmp_path / "cache", tmp_path / "cache"):  # read, written to the cache, read from it
        found = discover([tmp_path], cache_dir=cache)
        assert found.traits == {source / "Restored.java": FunctionTraits(snap_start=True),
                                source / "Concurrent.java": FunctionTraits(managed_instances=True)}


def test_the_template_setting_reaches_the_codemod_through_the_cli(tmp_path: Path) -> None:
    from cli_support import git_init, invoke_json

    source = git_init(tmp_path) / "src" / "main" / "java" / "com" / "example"
    source.mkdir(parents=True)
    (source / "Concurrent.java").write_bytes((FIXTURES / "java_managed_instances.in.java").read_bytes())
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: java21\n"
        "      Handler: com.example.Concurrent::handleRequest\n      CapacityProviderConfig:\n"
        "        Arn: !GetAtt Provider.Arn\n")
    _, report = invoke_json(["check", "-j", "1"], tmp_path)
    # The template is read too (sdk-v3 edits Node.js functions' templates): the Java file is the one with findings.
    assert sorted(f["path"] for f in report["files"]) == ["src/main/java/com/example/Concurrent.java", "template.yaml"]
    entry = next(f for f in report["files"] if f["path"].endswith(".java"))
    assert [(n["line"], n["code"]) for n in entry["notes"]] == [(16, "LR007")]
    assert [c["line"] for c in entry["changes"]] == [14]


def test_a_class_that_is_no_handler_is_left_alone(tmp_path: Path) -> None:
    result = _run(tmp_path, (FIXTURES / "java_not_a_handler.in.java").read_bytes(), "java_not_a_handler")
    assert result.status is Status.UNCHANGED and not result.changes
    assert [n.message for n in result.notes] == [NOT_LAMBDA_JAVA]


def test_jdbc_close_goes_with_its_try_when_it_was_alone_there(tmp_path: Path) -> None:
    source = (FIXTURES / "java_jdbc_guard.in.java").read_bytes().replace(
        b"            conn.close();\n",
        b"            try {\n                conn.close();\n            } catch (SQLException ignored) {\n            }\n")
    result = _run(tmp_path, source, "jdbc")
    assert result.status is Status.CHANGED, result.reason
    assert b"close()" not in result.after and b"ignored" not in result.after
    assert result.after == (FIXTURES / "java_jdbc_guard.out.java").read_bytes()


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        pytest.param("AmazonS3ClientBuilder.defaultClient()", "client", id="v1-default"),
        pytest.param("AmazonS3ClientBuilder.standard().withRegion(R).build()", "client", id="v1-standard"),
        pytest.param("AmazonS3ClientBuilder.standard()", None, id="v1-builder-only"),
        pytest.param("S3Client.create()", "client", id="v2-create"),
        pytest.param("S3Client.builder().build()", "client", id="v2-builder"),
        pytest.param("S3Client.builder()", None, id="v2-builder-only"),
        pytest.param("new DynamoDBMapper(db)", "client", id="mapper"),
        pytest.param("new AmazonSNSClient()", "client", id="v1-constructor"),
        pytest.param("new StringBuilder()", None, id="other-object"),
        pytest.param("DriverManager.getConnection(url)", "connection", id="jdbc"),
        pytest.param("s3.getObject(b, k)", None, id="client-call"),
    ],
)
def test_construction_kinds(value: str, kind: str | None) -> None:
    source = f"class A {{ void f() {{ Object x = {value}; }} }}".encode()
    stack = [JAVA.parse(source).tree.root_node]
    while stack[-1].type != "variable_declarator":
        stack.extend(stack.pop().children)
    assert construction_kind(source, stack[-1].child_by_field_name("value")) == kind


def _javac(folder: Path, sources: list[Path]) -> subprocess.CompletedProcess:
    stubs = sorted(str(p) for p in STUBS.rglob("*.java"))
    return subprocess.run(["javac", "-nowarn", "-d", str(folder / "classes"), *stubs, *map(str, sources)],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("javac") is None, reason="javac is not installed")
def test_inputs_and_outputs_compile_against_the_sdk_stand_ins(tmp_path: Path) -> None:
    for side in ("in", "out"):
        written = []
        for case in CASES:
            source = case.with_name(_case(case) + f".{side}.java")
            source = source if source.exists() else case
            target = tmp_path / side / "com" / "example" / f"{_public_class(source.read_bytes())}.java"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
            written.append(target)
        compiled = _javac(tmp_path / side, written)
        assert compiled.returncode == 0, compiled.stderr


SAMPLE = Path(__file__).parent.parent / "samples" / "java-orders"


def test_the_maven_sample_rewrites_as_its_readme_says_and_still_compiles(tmp_path: Path) -> None:
    from cli_support import git_init, invoke, invoke_json

    shutil.copytree(SAMPLE, tmp_path / "java-orders")
    git_init(tmp_path)
    _, report = invoke_json(["check", "-j", "1"], tmp_path)
    files = {f["path"].removeprefix("java-orders/"): f for f in report["files"]}
    changed = {path for path, f in files.items() if f["status"] == "changed"}
    source = "src/main/java/com/example/orders/"
    assert changed == {"pom.xml", source + "CreateOrder.java", source + "OrderWorker.java", source + "Report.java"}
    notes = {(n["line"], n["message"].split(":")[0]) for n in files[source + "CreateOrder.java"]["notes"]}
    assert notes == {(27, "left `sns` in handleRequest")}
    assert files[source + "Receipts.java"]["status"] == "unchanged"
    assert invoke(["apply", "-j", "1"], tmp_path).exit_code == 0
    again = invoke_json(["check", "-j", "1"], tmp_path)[1]
    assert again["summary"]["changed"] == 0
    if shutil.which("javac"):
        compiled = _javac(tmp_path, sorted((tmp_path / "java-orders" / "src").rglob("*.java")))
        assert compiled.returncode == 0, compiled.stderr


def test_templates_name_java_handlers_by_class_and_method() -> None:
    from rewriter.discovery import discover

    found = discover([SAMPLE])
    source = SAMPLE / "src" / "main" / "java" / "com" / "example" / "orders"
    assert found.entry_points[source / "CreateOrder.java"] == frozenset({"handleRequest"})
    assert found.entry_points[source / "OrderWorker.java"] == frozenset({"handleRequest"})  # method defaulted
    assert source / "Receipts.java" not in found.entry_points
    assert SAMPLE / "pom.xml" in found.files and source / "Receipts.java" in found.files
    assert not found.problems


@pytest.mark.parametrize(
    "dress",
    [pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="crlf"), pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="bom"),
     pytest.param(lambda b: b.replace(b"    ", b"\t"), id="tabs")],
)
def test_line_endings_bom_and_tabs_survive(dress, tmp_path: Path) -> None:
    source = (FIXTURES / "java_v1_builders.in.java").read_bytes()
    result = _run(tmp_path, dress(source), "java_v1_builders")
    assert result.status is Status.CHANGED, result.reason
    assert result.after == dress((FIXTURES / "java_v1_builders.out.java").read_bytes())
