"""Handlers behave the same before and after the rewrite: same results, same AWS side effects, warm.

Each handler runs under moto in one process, on its events twice over, from a pristine copy and
from a copy rewritten by `lambda-rewriter apply`; see tests/behaviour_support.py.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from behaviour_support import (
    HandlerCase,
    case_from_events_file,
    cases_from_behaviour,
    fresh_module,
    rewritten_copies,
    run_handler,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hoist-clients"


def _hoisted_modules() -> set[str]:
    """``<app>/<module path>`` of each row of the "Hoisted" table in samples/README.md."""
    section = (SAMPLES / "README.md").read_text().split("### Hoisted", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| ([\w./-]+\.py):\d", section, re.MULTILINE))


HOISTED = _hoisted_modules()

SAMPLE_CASES = [
    pytest.param(app.name, case, id=f"{app.name}:{function}")
    for app in sorted(p.parent for p in SAMPLES.glob("*/behaviour.json"))
    for function, case in cases_from_behaviour(app)
]

FIXTURE_CASES = [
    pytest.param(path.name[: -len(".events.json")], id=path.name[: -len(".events.json")])
    for path in sorted(FIXTURES.glob("*.events.json"))
] or [
    pytest.param(
        None,
        marks=pytest.mark.skip(reason="no tests/fixtures/hoist-clients/<case>.events.json yet"),
        id="no-fixture-events",
    )
]


def _raised(results: list) -> list:
    return [r for r in results if isinstance(r, dict) and "raised" in r]


@pytest.fixture(scope="module")
def rewritten_app(tmp_path_factory):
    return rewritten_copies(tmp_path_factory)


def test_readme_lists_hoisted_handlers():
    assert "sam-orders/src/create_order/app.py" in HOISTED
    assert "serverless-notify/src/handlers/digest.py" in HOISTED
    assert len(SAMPLE_CASES) >= 7


@pytest.mark.parametrize("app, case", SAMPLE_CASES)
def test_sample_handler_behaves_the_same_after_rewrite(app, case, rewritten_app, monkeypatch):
    before_dir, after_dir = rewritten_app(app)
    before = run_handler(before_dir, case, monkeypatch)
    after = run_handler(after_dir, case, monkeypatch)

    assert not _raised(before.results), "the sample must run cleanly under moto before any rewrite"
    assert after.results == before.results
    assert after.state == before.state

    original, rewritten = (before_dir / case.module).read_bytes(), (after_dir / case.module).read_bytes()
    if f"{app}/{case.module}" not in HOISTED:
        assert rewritten == original
        return
    assert rewritten != original, "samples/README.md lists a hoist here, but apply left the file alone"
    hoisted = set(after.reusable_at_import) - set(before.reusable_at_import)
    for name in hoisted:
        assert after.reusable_after_calls[name] is after.reusable_at_import[name], f"{name} was rebuilt"
    # A client behind a cached factory is built by the first invocation that needs it, never again.
    assert hoisted or sum(after.clients_built_per_call) < sum(before.clients_built_per_call), "nothing is reused"
    if any(before.clients_built_per_call):
        assert sum(after.clients_built_per_call) < sum(before.clients_built_per_call)


@pytest.mark.parametrize("case", FIXTURE_CASES)
def test_fixture_pair_behaves_the_same(case, tmp_path, monkeypatch):
    source, expected = FIXTURES / f"{case}.in.py", FIXTURES / f"{case}.out.py"
    if not expected.exists():
        pytest.skip("no .out.py: the rewrite leaves this case unchanged, so there is nothing to compare")
    assert expected.read_bytes() != source.read_bytes()
    for version, path in (("before", source), ("after", expected)):
        (tmp_path / version).mkdir()
        shutil.copyfile(path, tmp_path / version / "handler.py")
    spec = case_from_events_file(FIXTURES / f"{case}.events.json", "handler.py")

    before = run_handler(tmp_path / "before", spec, monkeypatch)
    after = run_handler(tmp_path / "after", spec, monkeypatch)

    assert after.results == before.results
    assert after.state == before.state


# The runner itself: it must see the differences a wrong rewrite would make.

_DIGEST = """\
import json, os
import boto3
{module_level}
def main(event, context):
{in_handler}
    def tag(params, **kwargs):
        attributes = params.setdefault("MessageAttributes", {{}})
        attributes.setdefault("audience", {{"DataType": "String", "StringValue": event["audience"]}})

    sns.meta.events.register("provide-client-params.sns.Publish", tag)
    sns.publish(TopicArn=os.environ["TOPIC_ARN"], Message=event["audience"])
    return {{"audience": event["audience"]}}
"""

_DIGEST_CASE = HandlerCase(
    module="digest.py",
    handler="main",
    env={"TOPIC_ARN": "{topic_arn:digest}"},
    resources={"sns_topics": ["digest"]},
    events=[{"audience": "ops"}, {"audience": "sales"}],
)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def _audiences(run) -> list[str]:
    return [m["attributes"]["audience"]["Value"] for m in run.state["sns"]["digest"]]


def test_runner_sees_a_hook_leaking_between_warm_invocations(tmp_path, monkeypatch):
    per_call = _write(tmp_path / "per_call", "digest.py",
                      _DIGEST.format(module_level="", in_handler='    sns = boto3.client("sns")\n'))
    hoisted = _write(tmp_path / "hoisted", "digest.py",
                     _DIGEST.format(module_level='sns = boto3.client("sns")\n', in_handler=""))

    before = run_handler(per_call, _DIGEST_CASE, monkeypatch)
    after = run_handler(hoisted, _DIGEST_CASE, monkeypatch)

    assert not _raised(before.results)
    assert after.results == before.results  # the return values cannot tell ...
    assert after.state != before.state  # ... but what was published can
    assert _audiences(before) == ["ops", "sales", "ops", "sales"]
    assert _audiences(after) == ["ops", "ops", "ops", "ops"]  # the first invocation's hook wins forever
    assert before.clients_built_per_call == [1, 1, 1, 1]
    assert after.clients_built_per_call == [0, 0, 0, 0]
    assert set(after.reusable_at_import) == {"sns"} and not before.reusable_at_import


def test_runner_creates_seeds_and_substitutes(tmp_path, monkeypatch):
    folder = _write(tmp_path, "app.py", textwrap.dedent("""\
        import os
        import boto3

        def handler(event, context):
            table = boto3.resource("dynamodb").Table("orders")
            item = table.get_item(Key={"id": event["id"]}).get("Item")
            sqs = boto3.client("sqs")
            got = sqs.receive_message(QueueUrl=os.environ["QUEUE_URL"]).get("Messages", [])
            for m in got:
                sqs.delete_message(QueueUrl=os.environ["QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
            boto3.client("s3").put_object(Bucket="out", Key=event["id"], Body=b"done")
            if item is None:
                raise KeyError(event["id"])
            return {"item": item, "queue": os.environ["QUEUE_URL"], "messages": [m["Body"] for m in got],
                    "request": context.aws_request_id}
        """))
    case = HandlerCase(
        module="app.py",
        handler="handler",
        env={"QUEUE_URL": "{queue_url:jobs}"},
        resources={
            "dynamodb_tables": [{"name": "orders", "key": "id", "items": [{"id": "a", "totalCents": 5}]}],
            "s3_buckets": ["out"],
            "sqs_queues": ["jobs"],
            "sqs_messages": [{"queue": "jobs", "body": "hello"}],
        },
        events=[{"id": "a"}, {"id": "missing"}],
    )

    run = run_handler(folder, case, monkeypatch)

    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"
    first = {"item": {"id": "a", "totalCents": 5}, "queue": queue, "messages": ["hello"],
             "request": "00000000-0000-4000-8000-000000000000"}
    assert run.results[0] == first
    assert run.results[1] == {"raised": "KeyError", "message": "'missing'"}
    assert run.results[2]["messages"] == []  # warm: the seeded message was drained by the first call
    assert len(run.results) == 4
    assert run.state["s3"] == {"out": {"a": "done", "missing": "done"}}
    assert run.state["sqs"] == {"jobs": []}
    assert "QUEUE_URL" not in os.environ


def test_fresh_module_leaves_nothing_behind(tmp_path):
    _write(tmp_path, "helper_for_behaviour.py", "VALUE = 1\n")
    _write(tmp_path, "entry.py", "import helper_for_behaviour\nVALUE = helper_for_behaviour.VALUE\n")
    known = set(sys.modules)

    with fresh_module(tmp_path / "entry.py") as module:
        assert module.VALUE == 1
        assert sys.path[0] == str(tmp_path)

    assert str(tmp_path) not in sys.path
    assert set(sys.modules) - known == set()
