"""Measurements that need a process of their own; prints one JSON document on stdout.

    payoff_worker.py warm BEFORE AFTER INVOCATIONS ROUNDS    handlers before/after in one warm process, under moto
    payoff_worker.py construct REPEAT                       client construction costs, in-process
    payoff_worker.py cold-import                            `import boto3` in this (fresh) process
    payoff_worker.py cold-client                            `import boto3` then the first client
    payoff_worker.py init MODULE ENV_JSON                   import of one handler module (its init phase)

BEFORE and AFTER are copies of samples/ (AFTER rewritten by `lambda-rewriter apply`).
No network: moto intercepts every AWS call, and construction alone never calls out.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
ACCOUNT = "123456789012"
REGION = "us-east-1"
APPS = ("sam-orders", "serverless-notify")


def _load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def handler_env(handler: dict) -> dict[str, str]:
    def fill(value: str) -> str:
        value = re.sub(r"\{queue_url:([^}]+)\}", lambda m: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{m[1]}", value)
        return re.sub(r"\{topic_arn:([^}]+)\}", lambda m: f"arn:aws:sns:{REGION}:{ACCOUNT}:{m[1]}", value)

    return {key: fill(value) for key, value in handler.get("env", {}).items()}


def _create(resources: dict) -> None:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in resources.get("dynamodb_tables", []):
        dynamodb.create_table(
            TableName=table["name"],
            KeySchema=[{"AttributeName": table["key"], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": table["key"], "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in table.get("items", []):
            boto3.resource("dynamodb", region_name=REGION).Table(table["name"]).put_item(Item=item)
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in resources.get("s3_buckets", []):
        s3.create_bucket(Bucket=bucket)
    for obj in resources.get("s3_objects", []):
        s3.put_object(Bucket=obj["bucket"], Key=obj["key"], Body=obj["body"].encode())
    sqs = boto3.client("sqs", region_name=REGION)
    for queue in resources.get("sqs_queues", []):
        sqs.create_queue(QueueName=queue)
    for message in resources.get("sqs_messages", []):
        url = sqs.get_queue_url(QueueName=message["queue"])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=message["body"])
    sns = boto3.client("sns", region_name=REGION)
    for topic in resources.get("sns_topics", []):
        sns.create_topic(Name=topic)


def handlers(root: Path):
    for app in APPS:
        spec = json.loads((root / app / "behaviour.json").read_text())
        for handler in spec["handlers"]:
            yield app, handler


def warm(before: Path, after: Path, invocations: int, rounds: int) -> dict:
    from moto import mock_aws

    os.environ.update(FAKE_AWS)
    results = []
    for app, handler in handlers(before):
        saved = dict(os.environ)
        with mock_aws():
            _create(handler.get("resources", {}))
            os.environ.update(handler_env(handler))
            events = [json.loads((before / app / e).read_text()) for e in handler["events"]]
            tag = re.sub(r"\W", "_", f"{app}_{handler['function']}")
            versions = {
                label: getattr(_load_module(root / app / handler["module"], f"{label}_{tag}"), handler["handler"])
                for label, root in (("before", before), ("after", after))
            }
            for fn in versions.values():  # warm-up: the first call of each loads what it lazily needs
                for event in events:
                    fn(event, None)
            wall: dict[str, list[float]] = {"before": [], "after": []}
            cpu: dict[str, list[float]] = {"before": [], "after": []}
            per_round = max(1, invocations // rounds)
            for round_ in range(rounds):
                order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
                for label in order:
                    fn = versions[label]
                    for i in range(per_round):
                        event = events[i % len(events)]
                        start, start_cpu = time.perf_counter(), time.process_time()
                        fn(event, None)
                        cpu[label].append(time.process_time() - start_cpu)
                        wall[label].append(time.perf_counter() - start)
        os.environ.clear()
        os.environ.update(saved)
        results.append({
            "app": app,
            "function": handler["function"],
            "module": handler["module"],
            "invocations": len(wall["before"]),
            "before_ms": statistics.median(wall["before"]) * 1e3,
            "after_ms": statistics.median(wall["after"]) * 1e3,
            "before_cpu_ms": statistics.median(cpu["before"]) * 1e3,
            "after_cpu_ms": statistics.median(cpu["after"]) * 1e3,
        })
    return {"handlers": results}


def _per_call(fn, number: int, repeat: int) -> dict[str, float]:
    """Median seconds per call (wall and CPU) over ``repeat`` batches of ``number`` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(number):
            fn()
        cpu.append((time.process_time() - start_cpu) / number)
        wall.append((time.perf_counter() - start) / number)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu)}


_MODULE_CLIENT = None


def construct(repeat: int) -> dict:
    global _MODULE_CLIENT
    os.environ.update(FAKE_AWS)
    import boto3
    import requests

    boto3.client("s3")  # the first client in a process loads the models: that is a cold cost, measured apart
    boto3.resource("dynamodb")
    _MODULE_CLIENT = boto3.client("s3")

    def module_level():
        return _MODULE_CLIENT

    cases = {
        "module-level client, reused (the rewrite)": (module_level, 100_000),
        "boto3.client('s3') in the handler": (lambda: boto3.client("s3"), 20),
        "boto3.client('dynamodb') in the handler": (lambda: boto3.client("dynamodb"), 20),
        "boto3.client('sqs', region_name=...) in the handler": (lambda: boto3.client("sqs", region_name="us-east-1"), 20),
        "boto3.resource('dynamodb').Table(...) in the handler": (lambda: boto3.resource("dynamodb").Table("orders"), 10),
        "boto3.Session().client('sns') in the handler": (lambda: boto3.Session().client("sns"), 2),
        "requests.Session() in the handler": (requests.Session, 200),
    }
    return {name: _per_call(fn, number, repeat) for name, (fn, number) in cases.items()}


def _timed(fn) -> dict[str, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    cpu = time.process_time() - start_cpu
    return {"wall": time.perf_counter() - start, "cpu": cpu}


def cold_import() -> dict:
    return {"import boto3": _timed(lambda: __import__("boto3"))}


def cold_client() -> dict:
    os.environ.update(FAKE_AWS)
    import boto3

    return {
        "first boto3.client('s3') in a process (after the import)": _timed(lambda: boto3.client("s3")),
        "second boto3.client('s3') in the same process": _timed(lambda: boto3.client("s3")),
    }


def init(module: Path, env: dict) -> dict:
    os.environ.update(FAKE_AWS)
    os.environ.update(env)
    return {"init": _timed(lambda: _load_module(module, "handler_under_test"))}


def main(argv: list[str]) -> int:
    command, *rest = argv
    if command == "warm":
        result = warm(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
    elif command == "construct":
        result = construct(int(rest[0]))
    elif command == "cold-import":
        result = cold_import()
    elif command == "cold-client":
        result = cold_client()
    elif command == "init":
        result = init(Path(rest[0]), json.loads(rest[1]))
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
