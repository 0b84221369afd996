"""Which files are read, and which functions templates name as handlers."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import HANDLER, LIBRARY, SAMPLES, copy_samples, git_init, invoke, invoke_json, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter.discovery import SKIPPED_DIRS, discover

# A function a template names as its handler, though it does not look like one.
ODD_SIGNATURE = (
    "import boto3\n"
    "\n"
    "\n"
    "def go(payload):\n"
    '    s3 = boto3.client("s3")\n'
    "    return s3.list_buckets()\n"
)

SAM_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.12
    Handler: app.go
    Environment:
      Variables:
        TABLE: !Ref Table
Resources:
  Table:
    Type: AWS::Serverless::SimpleTable
  Go:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/go/
      Role: !GetAtt Role.Arn
      Policies:
        - !Sub "arn:${AWS::Partition}:iam::aws:policy/ReadOnlyAccess"
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/worker
      Handler: jobs.run.start
      Events:
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt [Queue, Arn]
  Node:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/node
      Handler: index.handler
      Runtime: nodejs20.x
"""


def _relative(found, root: Path) -> dict[str, frozenset[str]]:
    return {p.relative_to(root).as_posix(): f for p, f in found.entry_points.items()}


def _files(root: Path, *paths: str) -> list[str]:
    return [p.relative_to(root).as_posix() for p in discover([root / p for p in paths or (".",)]).files]


def test_walk_honours_gitignore_files_at_every_level(tmp_path: Path) -> None:
    write(
        git_init(tmp_path),
        {
            ".gitignore": "generated/\n*_pb2.py\n",
            "app.py": HANDLER,
            "generated/app.py": HANDLER,
            "api/thing_pb2.py": HANDLER,
            "api/handler.py": HANDLER,
            "api/.gitignore": "local_*.py\n!local_keep.py\n",
            "api/local_scratch.py": HANDLER,
            "api/local_keep.py": HANDLER,
            "other/local_scratch.py": HANDLER,
            "tools/.gitignore": "*.py\n",
            "tools/deep/x.py": HANDLER,
            "tools/.gitignore.bak": "",
        },
    )
    assert _files(tmp_path) == ["app.py", "api/handler.py", "api/local_keep.py", "other/local_scratch.py"]


def test_git_info_exclude_is_honoured_below_gitignore(tmp_path: Path) -> None:
    write(git_init(tmp_path), {".git/info/exclude": "scratch_*.py\n", ".gitignore": "!scratch_keep.py\n",
                               "scratch_a.py": HANDLER, "scratch_keep.py": HANDLER, "app.py": HANDLER})
    assert _files(tmp_path) == ["app.py", "scratch_keep.py"]


def test_gitignore_of_the_folders_above_the_path_applies(tmp_path: Path) -> None:
    write(git_init(tmp_path), {".gitignore": "*_test.py\n", "src/app.py": HANDLER, "src/app_test.py": HANDLER})
    assert _files(tmp_path, "src") == ["src/app.py"]


def test_negation_in_a_nested_gitignore_reincludes_a_file(tmp_path: Path) -> None:
    write(git_init(tmp_path), {".gitignore": "*.py\n", "src/.gitignore": "!app.py\n", "src/app.py": HANDLER, "x.py": HANDLER})
    assert _files(tmp_path) == ["src/app.py"]


@pytest.mark.parametrize(
    "folder",
    [
        pytest.param(name, id=name)
        for name in ("node_modules", ".venv", "site-packages", ".aws-sam", "cdk.out", ".serverless", "build", "dist")
    ],
)
def test_vendored_and_build_folders_are_skipped(tmp_path: Path, folder: str) -> None:
    assert folder in SKIPPED_DIRS
    write(git_init(tmp_path), {f"{folder}/app.py": HANDLER, f"src/{folder}/deep/app.py": HANDLER, "src/app.py": HANDLER})
    assert _files(tmp_path) == ["src/app.py"]


def test_egg_info_and_symlinked_folders_are_not_walked(tmp_path: Path) -> None:
    write(git_init(tmp_path / "repo"), {"pkg.egg-info/x.py": HANDLER, "app.py": HANDLER})
    write(tmp_path / "elsewhere", {"lib.py": HANDLER})
    (tmp_path / "repo" / "linked").symlink_to(tmp_path / "elsewhere")
    assert _files(tmp_path / "repo") == ["app.py"]


def test_sam_template_with_short_form_tags_and_globals(tmp_path: Path) -> None:
    write(
        git_init(tmp_path),
        {
            "template.yaml": SAM_TEMPLATE,
            "src/go/app.py": ODD_SIGNATURE,
            "src/worker/jobs/run.py": ODD_SIGNATURE.replace("def go(payload)", "def start(batch)"),
            "src/node/index.py": HANDLER,
        },
    )
    found = discover([tmp_path])
    assert found.problems == []
    # Globals give Runtime and Handler; a dotted module is a package path; a Node function is not Python.
    assert _relative(found, tmp_path) == {"src/go/app.py": {"go"}, "src/worker/jobs/run.py": {"start"}}


def test_template_json(tmp_path: Path) -> None:
    template = (
        '{"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": '
        '{"Handler": "main.go", "Runtime": "python3.11", "Code": "fn/", "Role": {"Fn::GetAtt": ["R", "Arn"]}}}}}'
    )
    write(git_init(tmp_path), {"template.json": template, "fn/main.py": ODD_SIGNATURE})
    assert _relative(discover([tmp_path]), tmp_path) == {"fn/main.py": {"go"}}


def test_serverless_yml_handler_paths(tmp_path: Path) -> None:
    serverless = """\
service: notify
provider:
  name: aws
  runtime: python3.12
functions:
  notify:
    handler: src/handlers/notify.main
    environment:
      TOPIC: !Ref Topic
  legacy:
    handler: legacy.handler
  web:
    handler: web/index.handler
    runtime: nodejs20.x
"""
    write(git_init(tmp_path), {"serverless.yml": serverless, "src/handlers/notify.py": ODD_SIGNATURE, "legacy.py": HANDLER})
    assert _relative(discover([tmp_path]), tmp_path) == {"src/handlers/notify.py": {"main"}, "legacy.py": {"handler"}}


def test_samples_entry_points() -> None:
    found = discover([SAMPLES])
    entries = {p.relative_to(SAMPLES).as_posix(): f for p, f in found.entry_points.items()}
    assert entries["sam-orders/src/order_worker/worker.py"] == {"process"}
    assert entries["sam-orders/src/create_order/app.py"] == {"lambda_handler"}
    assert entries["serverless-notify/src/handlers/notify.py"] == {"main"}
    assert found.problems == []


def test_handler_named_by_the_template_is_rewritten_whatever_its_signature(tmp_path: Path) -> None:
    write(git_init(tmp_path), {"template.yaml": SAM_TEMPLATE, "src/go/app.py": ODD_SIGNATURE, "src/go/lib.py": ODD_SIGNATURE})
    result, report = invoke_json(["check"], tmp_path)
    files = {f["path"]: f for f in report["files"]}
    assert files["src/go/app.py"]["status"] == "changed"
    # The same code in a module no template names, without an (event, context) function: left, with a note.
    assert files["src/go/lib.py"]["status"] == "unchanged"
    assert any("not Lambda code" in n["message"] for n in files["src/go/lib.py"]["notes"])
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "cwd, path",
    [
        pytest.param(".", "src/go", id="subfolder"),
        pytest.param(".", "src/go/app.py", id="file"),
        pytest.param("src/go", ".", id="from-inside"),
        pytest.param("src/go", "../../src/go", id="dotdot"),
    ],
)
def test_template_above_the_path_still_names_the_handler(tmp_path: Path, cwd: str, path: str) -> None:
    write(git_init(tmp_path / "repo"), {"template.yaml": SAM_TEMPLATE, "src/go/app.py": ODD_SIGNATURE})
    result = invoke(["diff", path], tmp_path / "repo" / cwd)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("--- a/src/go/app.py\n+++ b/src/go/app.py\n")


def test_a_module_with_no_handler_is_left_alone_with_a_note(tmp_path: Path) -> None:
    script = (
        "import argparse\nimport boto3\n\n\ndef seed(table):\n"
        '    db = boto3.resource("dynamodb")\n    return db.Table(table)\n\n\n'
        'if __name__ == "__main__":\n    seed(argparse.ArgumentParser().parse_args().table)\n'
    )
    write(git_init(tmp_path), {"scripts/seed.py": script, "shared/common.py": LIBRARY})
    result, report = invoke_json(["check"], tmp_path)
    assert result.exit_code == 0
    for entry in report["files"]:
        assert entry["status"] == "unchanged"
        assert any("not Lambda code" in n["message"] for n in entry["notes"]), entry


@pytest.mark.parametrize(
    "name, text, words",
    [
        pytest.param("template.yaml", "Resources:\n  Fn:\n    Type: [\n", "line 4", id="yaml-unclosed"),
        pytest.param(
            "template.yaml", "Resources:\n  Fn:\n    Type: x\n   bad: 1\n", "line 4", id="yaml-indentation"
        ),
        pytest.param("template.json", '{"Resources": ', "line 1", id="json"),
        pytest.param("serverless.yml", "functions:\n  a: {handler: x.y\n", "line 3", id="serverless"),
        pytest.param("template.yaml", b"Resources: \xff\xfe\n", "utf-8", id="not-utf8"),
    ],
)
def test_a_broken_template_is_a_clear_error_and_the_rest_is_processed(
    tmp_path: Path, name: str, text: str | bytes, words: str
) -> None:
    write(git_init(tmp_path), {name: text, "app.py": HANDLER})
    result = invoke(["check"], tmp_path)
    assert result.exit_code == 3
    error = next(line for line in result.stderr.splitlines() if name in line)
    assert "cannot read template" in error and words in error, error
    assert "app.py:5:5: LR004 " in result.stdout


@pytest.mark.parametrize(
    "name, text",
    [
        pytest.param("template.yaml", "- just\n- a list\n", id="a-list"),
        pytest.param("serverless.yml", "", id="empty"),
        pytest.param("serverless.yml", "functions:\n  - ${file(./fns.yml)}\n", id="functions-included"),
        pytest.param("serverless.yml", "provider: aws\nfunctions:\n  a: legacy\n", id="scalar-sections"),
        pytest.param("template.yaml", "Resources: [a, b]\n", id="resources-a-list"),
        pytest.param("template.yaml", "Globals: x\nResources:\n  F: {Type: AWS::Lambda::Function, Properties: [1]}\n",
                     id="properties-a-list"),
        pytest.param("template.yaml", "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                     "      Handler: !Sub '${Prefix}.handler'\n      CodeUri: {Bucket: b, Key: k}\n", id="sub-handler"),
    ],
)
def test_a_template_of_an_unexpected_shape_names_no_handler(tmp_path: Path, name: str, text: str) -> None:
    write(git_init(tmp_path), {name: text, "app.py": HANDLER})
    found = discover([tmp_path])
    assert found.problems == []
    assert all(p.name != "app.py" for p in found.entry_points)
    assert invoke(["check"], tmp_path).exit_code == 1


def test_exclude_setting_skips_matching_paths(tmp_path: Path) -> None:
    write(
        git_init(tmp_path),
        {"pyproject.toml": '[tool.lambda-rewriter]\nexclude = ["legacy/", "*_old.py"]\n', "legacy/a.py": HANDLER,
         "b_old.py": HANDLER, "c.py": HANDLER},
    )
    _, report = invoke_json(["check"], tmp_path)
    assert [f["path"] for f in report["files"]] == ["c.py"]


def test_python_samples_in_a_repository_change_the_expected_files(tmp_path: Path) -> None:
    copy_samples(tmp_path)
    _, report = invoke_json(["check", "-c", "hoist-clients"], tmp_path / "samples")
    python = [f for f in report["files"] if f["language"] == "python"]
    changed = sorted(f["path"].rsplit("/", 2)[-2] + "/" + f["path"].rsplit("/", 1)[-1]
                     for f in python if f["status"] == "changed")
    assert changed == sorted(
        ["create_order/app.py", "get_order/app.py", "order_worker/worker.py", "export_orders/app.py",
         "report/app.py", "handlers/notify.py", "handlers/digest.py"]
    )
    untouched = {f["path"]: f for f in python if f["status"] != "changed"}
    # hoist-clients leaves database connections to reconnect-guards, and says so.
    databases = {p for p, f in untouched.items() if any("reconnect guard" in n["message"] for n in f["notes"])}
    assert databases == {"samples/rds-reports/src/mysql_report/app.py", "samples/rds-reports/src/pg_report/app.py"}
    others = {p: f for p, f in untouched.items() if p not in databases}
    assert set(others) == {"samples/sam-orders/src/shared/orders_common.py", "samples/sam-orders/scripts/seed.py"}
    assert all(any("not Lambda code" in n["message"] for n in f["notes"]) for f in others.values())


_DISCOVER_APART = (
    "import sys; from pathlib import Path; from rewriter.discovery import discover\n"
    "found = discover([Path(sys.argv[1])])\n"
    "print(sorted(p.name for p in found.files)); print(sorted(f'{p.name}: {why}' for p, why in found.problems))\n"
    "print(sorted(f.name for f in found.entry_points))"
)


def _discover_apart(root: Path) -> list[str]:
    """Discovery in a process of its own: a read that blocks or never ends fails the test, it does not hang it."""
    import subprocess
    import sys

    try:
        out = subprocess.run([sys.executable, "-c", _DISCOVER_APART, str(root)], capture_output=True, text=True,
                             timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("discovery did not end")
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


ODD_TEMPLATE = "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: odd.go\n"


def test_templates_that_are_fifos_devices_or_too_large_are_named_not_read(tmp_path: Path) -> None:
    """A FIFO blocked forever and a link to /dev/zero read until memory ran out: each is now one problem."""
    import os

    from rewriter.discovery import MAX_TEMPLATE_BYTES

    write(git_init(tmp_path), {"fifo/app.py": HANDLER, "zero/app.py": HANDLER, "big/template.json": "{}" + " " *
                               MAX_TEMPLATE_BYTES, "outside/template.yaml": ODD_TEMPLATE, "inside/odd.py": ODD_SIGNATURE,
                               "inside/real.yaml": ODD_TEMPLATE, "outside/odd.py": ODD_SIGNATURE})
    os.mkfifo(tmp_path / "fifo" / "template.yaml")
    (tmp_path / "zero" / "template.yaml").symlink_to("/dev/zero")
    (tmp_path / "inside" / "template.yaml").symlink_to("real.yaml")  # a link inside the tree is read
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    write(elsewhere, {"template.yaml": ODD_TEMPLATE})
    (tmp_path / "outside" / "template.yaml").unlink()
    (tmp_path / "outside" / "template.yaml").symlink_to(elsewhere / "template.yaml")
    files, problems, entry_points = _discover_apart(tmp_path)
    assert problems == str(sorted([
        "template.json: cannot read template: larger than 2000000 bytes: not read",
        "template.yaml: cannot read template: a symbolic link to outside the repository: not read",  # elsewhere
        "template.yaml: cannot read template: a symbolic link to outside the repository: not read",  # /dev/zero
        "template.yaml: cannot read template: not a regular file (a FIFO, a device or a folder): not read",
    ]))
    assert entry_points == str(["odd.py"])  # inside/ only: the template outside the tree named nothing


def test_a_gitignore_that_is_a_fifo_a_link_or_too_large_ignores_nothing(tmp_path: Path) -> None:
    """A FIFO is named and passed by; a link is not read, as in git; 10,000s of patterns would cost minutes."""
    import os

    from rewriter.discovery import MAX_GITIGNORE_BYTES

    write(git_init(tmp_path), {"a/app.py": HANDLER, "b/app.py": HANDLER, "c/app.py": HANDLER, "patterns": "*.py\n",
                               "c/.gitignore": "*.py\n" + "#" * MAX_GITIGNORE_BYTES})
    os.mkfifo(tmp_path / "a" / ".gitignore")
    (tmp_path / "b" / ".gitignore").symlink_to(tmp_path / "patterns")
    files, problems, _ = _discover_apart(tmp_path)
    assert files == str(["app.py", "app.py", "app.py"])
    assert problems == str([
        f".gitignore: larger than {MAX_GITIGNORE_BYTES} bytes: not read; its patterns do not apply",
        ".gitignore: not a regular file (a FIFO, a device or a folder): not read; its patterns do not apply",
    ])


def test_serverless_yml_says_snap_start_and_managed_instances_for_every_runtime(tmp_path: Path) -> None:
    from codemods._base import FunctionTraits

    for name in ("restored.py", "concurrent.js", "plain.py"):
        (tmp_path / name).write_text("def handler(event, context):\n    return 1\n" if name.endswith(".py") else
                                     "exports.handler = async (event) => 1;\n")
    (tmp_path / "serverless.yml").write_text(
        "provider:\n  name: aws\n  runtime: python3.13\n  capacityProviders:\n    highMem: {}\n"
        "functions:\n"
        "  restored:\n    handler: restored.handler\n    snapStart: true\n"
        "  concurrent:\n    handler: concurrent.handler\n    runtime: nodejs22.x\n    capacityProvider: highMem\n"
        "  plain:\n    handler: plain.handler\n    snapStart: false\n")
    for cache in (None, tmp_path / "cache", tmp_path / "cache"):
        found = discover([tmp_path], cache_dir=cache)
        assert found.traits == {tmp_path / "restored.py": FunctionTraits(snap_start=True),
                                tmp_path / "concurrent.js": FunctionTraits(managed_instances=True)}
