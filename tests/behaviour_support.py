"""Run a Lambda handler under moto in one warm module, and record what it returned and left behind.

The resources description is the ``behaviour.json`` format of ``samples/README.md``. Each run gets
its own ``mock_aws()``, its own environment and a freshly imported module, so that two runs (the
code before and after a rewrite) can be compared result for result.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import decimal
import importlib
import importlib.util
import itertools
import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.resources.base import ServiceResource
from botocore.client import BaseClient
from click.testing import CliRunner
from moto import mock_aws

from rewriter.cli import cli

ACCOUNT = "123456789012"
REGION = "us-east-1"
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
ROUNDS = 2

FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "MOTO_ACCOUNT_ID": ACCOUNT,
}
# Anything that could point boto3 at real credentials, or a handler at a real network endpoint.
UNSET_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
             "AWS_ENDPOINT_URL", "WEBHOOK_URL", "DIGEST_WEBHOOK_URL")

_PLACEHOLDER = re.compile(r"\{(queue_url|topic_arn):([^}]+)\}")
_NOT_IDENTIFIER = re.compile(r"\W")
_module_numbers = itertools.count()


def _reusable_types() -> tuple[type, ...]:
    types: list[type] = [BaseClient, ServiceResource, boto3.session.Session]
    try:
        import requests
    except ImportError:
        pass
    else:
        types.append(requests.Session)
    return tuple(types)


@dataclasses.dataclass(frozen=True)
class HandlerCase:
    module: str  # path of the handler file, relative to the folder it is run from
    handler: str
    env: dict[str, str]
    resources: dict[str, Any]
    events: list[Any]


@dataclasses.dataclass
class Run:
    results: list[Any]  # JSON-normalised, one per call: every event, ROUNDS times over
    state: dict[str, Any]  # what the calls left in (mocked) AWS
    reusable_at_import: dict[str, Any]  # module attributes that are clients/sessions, right after import
    reusable_after_calls: dict[str, Any]
    clients_built_per_call: list[int]  # clients built through boto3's default session during each call


def cases_from_behaviour(app_dir: Path) -> list[tuple[str, HandlerCase]]:
    """(function name, case) for each entry of ``<app_dir>/behaviour.json``."""
    spec = json.loads((app_dir / "behaviour.json").read_text())
    return [
        (
            entry["function"],
            HandlerCase(
                module=entry["module"],
                handler=entry["handler"],
                env=entry.get("env", {}),
                resources=entry.get("resources", {}),
                events=[json.loads((app_dir / e).read_text()) for e in entry["events"]],
            ),
        )
        for entry in spec["handlers"]
    ]


def case_from_events_file(path: Path, module: str) -> HandlerCase:
    """A fixture's ``<case>.events.json``: handler, env and resources, with the events inline."""
    spec = json.loads(path.read_text())
    return HandlerCase(
        module=module,
        handler=spec.get("handler", "lambda_handler"),
        env=spec.get("env", {}),
        resources=spec.get("resources", {}),
        events=spec["events"],
    )


def run_handler(folder: Path, case: HandlerCase, monkeypatch: pytest.MonkeyPatch, rounds: int = ROUNDS) -> Run:
    """Create the resources, import the module fresh and call the handler on every event, ``rounds`` times."""
    with monkeypatch.context() as mp:
        for name, value in FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        for name in UNSET_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", str(folder / ".no-aws-config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(folder / ".no-aws-credentials"))
        mp.setattr(sys, "dont_write_bytecode", True)
        with mock_aws():
            return _run_mocked(folder, case, mp, rounds)


def _run_mocked(folder: Path, case: HandlerCase, mp: pytest.MonkeyPatch, rounds: int) -> Run:
    names = create_resources(case.resources)
    for name, value in case.env.items():
        mp.setenv(name, substitute(value, names))
    # mock_aws() clears boto3's default session; build it now so that client construction is counted.
    boto3.setup_default_session()
    built: list[None] = []
    boto3.DEFAULT_SESSION.events.register("creating-client-class", lambda **_: built.append(None))

    with fresh_module(folder / case.module) as module:
        at_import = reusable_attributes(module)
        handler = getattr(module, case.handler)
        results, per_call = [], []
        for n, event in enumerate(case.events * rounds):
            start = len(built)
            results.append(_call(handler, event, n))
            per_call.append(len(built) - start)
        after_calls = reusable_attributes(module)
    state = snapshot()
    return Run(results, state, at_import, after_calls, per_call)


def substitute(value: str, names: dict[str, dict[str, str]]) -> str:
    def replace(match: re.Match) -> str:
        kind, name = match.groups()
        try:
            return names[kind][name]
        except KeyError:
            raise KeyError(f"{match.group(0)}: no such resource in the description") from None

    return _PLACEHOLDER.sub(replace, value)


def create_resources(resources: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Create and seed the described resources; return queue URLs and topic ARNs by name."""
    names: dict[str, dict[str, str]] = {"queue_url": {}, "topic_arn": {}}
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    for table in resources.get("dynamodb_tables", []):
        created = dynamodb.create_table(
            TableName=table["name"],
            KeySchema=[{"AttributeName": table["key"], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": table["key"], "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in table.get("items", []):
            created.put_item(Item=json.loads(json.dumps(item), parse_float=decimal.Decimal))
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in resources.get("s3_buckets", []):
        s3.create_bucket(Bucket=bucket)
    for obj in resources.get("s3_objects", []):
        s3.put_object(Bucket=obj["bucket"], Key=obj["key"], Body=obj["body"].encode())
    sqs = boto3.client("sqs", region_name=REGION)
    for queue in resources.get("sqs_queues", []):
        names["queue_url"][queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
    for message in resources.get("sqs_messages", []):
        sqs.send_message(QueueUrl=names["queue_url"][message["queue"]], MessageBody=message["body"])
    sns = boto3.client("sns", region_name=REGION)
    for topic in resources.get("sns_topics", []):
        names["topic_arn"][topic] = sns.create_topic(Name=topic)["TopicArn"]
    return names


def snapshot() -> dict[str, Any]:
    """Everything the handler could have changed: table items, objects, queued messages, publishes."""
    state: dict[str, Any] = {"dynamodb": {}, "s3": {}, "sqs": {}, "sns": {}}
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for name in dynamodb.list_tables()["TableNames"]:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
        state["dynamodb"][name] = sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in s3.list_buckets()["Buckets"]:
        objects = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                objects[obj["Key"]] = body.decode("utf-8", "backslashreplace")
        state["s3"][bucket["Name"]] = objects
    sqs = boto3.client("sqs", region_name=REGION)
    for url in sqs.list_queues().get("QueueUrls", []):
        bodies = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get("Messages"):
            bodies.extend(m["Body"] for m in batch)
        state["sqs"][url.rsplit("/", 1)[-1]] = sorted(bodies)
    state["sns"] = _published()
    return normalise(state)


def _published() -> dict[str, list[Any]]:
    # moto keeps what was published to a topic (documented in SNSBackend's docstring); the message id is random.
    from moto.sns import sns_backends

    backend = sns_backends[ACCOUNT][REGION]
    return {
        arn.rsplit(":", 1)[-1]: [
            {"message": message, "subject": subject, "attributes": attributes, "group": group}
            for _id, message, subject, attributes, group in topic.sent_notifications
        ]
        for arn, topic in backend.topics.items()
    }


@contextlib.contextmanager
def fresh_module(path: Path):
    """Import ``path`` under a new name, with its folder first on sys.path; forget it (and its siblings) after."""
    folder = str(path.parent)
    name = f"_behaviour_{next(_module_numbers)}_{_NOT_IDENTIFIER.sub('_', path.name)}"
    known = set(sys.modules)
    sys.path.insert(0, folder)
    importlib.invalidate_caches()
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(folder)
        for added in set(sys.modules) - known:
            file = getattr(sys.modules[added], "__file__", None) or ""
            if added == name or file.startswith(folder):
                del sys.modules[added]


def reusable_attributes(module) -> dict[str, Any]:
    types = _reusable_types()
    return {name: value for name, value in vars(module).items() if isinstance(value, types)}


class LambdaContext:
    function_name = "behaviour-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/behaviour-test"
    log_stream_name = "2026/11/27/[$LATEST]behaviour"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:behaviour-test"

    def __init__(self, n: int) -> None:
        self.aws_request_id = f"00000000-0000-4000-8000-{n:012d}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def _call(handler, event: Any, n: int) -> Any:
    try:
        result = handler(json.loads(json.dumps(event)), LambdaContext(n))
    except Exception as error:  # the same error before and after is the same behaviour
        return {"raised": type(error).__name__, "message": str(error)}
    return normalise(result)


def normalise(value: Any) -> Any:
    return _without_metadata(json.loads(json.dumps(value, sort_keys=True, default=_json_default)))


def _without_metadata(value: Any) -> Any:
    """Raw AWS responses carry request ids and dates that differ on every call: not behaviour."""
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=repr) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return f"<{type(value).__name__}>"  # not repr(): it often holds a memory address


def rewritten_copies(
    base_factory, prepare: Callable[[Path], None] | None = None, codemods: tuple[str, ...] = ()
) -> Callable[[str], tuple[Path, Path]]:
    """app -> (pristine copy, copy after `lambda-rewriter apply`) of a sample app, each made once.

    ``base_factory`` is pytest's ``tmp_path_factory``; ``prepare`` runs on both copies (after the rewrite);
    ``codemods``: the ones `apply` runs (none named: the default set).
    """
    copies: dict[str, tuple[Path, Path]] = {}

    def get(app: str) -> tuple[Path, Path]:
        if app not in copies:
            base = base_factory.mktemp(app)
            before, after = base / "before", base / "after"
            shutil.copytree(SAMPLES / app, before)
            shutil.copytree(SAMPLES / app, after)
            result = CliRunner().invoke(cli, ["apply", "-j", "1", *(f"-c{name}" for name in codemods), str(after)])
            assert result.exit_code == 0, result.output
            if prepare is not None:
                prepare(before)
                prepare(after)
            copies[app] = before, after
        return copies[app]

    return get
