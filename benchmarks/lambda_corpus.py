"""A generated Lambda-dense repository: every Python file is a handler module, as in a monorepo of functions.

    .venv/bin/python -m benchmarks.lambda_corpus DIR [--files 500] [--seed 22]

Each module is shaped like the handlers platform teams run: a docstring, stdlib imports, boto3 plus some of
requests, a DB driver, redis and X-Ray; helpers (validation, formatting, pagination); a handler that builds
several SDK clients (some with per-event arguments, which must stay), a DB connection it closes at the end,
sometimes a `global` lazy client or a client built in a helper. One `template.yaml` names every handler.
The same seed gives the same bytes, so runs compare.
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

SERVICES = ("s3", "sqs", "sns", "ssm", "secretsmanager", "kinesis", "events", "stepfunctions", "lambda", "sts")
DRIVERS = (
    ("psycopg2", ("psycopg2.connect(host=os.environ['DB_HOST'], dbname='app', user=os.environ['DB_USER'], "
                  "password=os.environ['DB_PASSWORD'], connect_timeout=5)")),
    ("pymysql", ("pymysql.connect(host=os.environ['DB_HOST'], user=os.environ['DB_USER'], "
                 "password=os.environ['DB_PASSWORD'], database='app')")),
)
CALLS = {
    "s3": "{v}.put_object(Bucket=os.environ['BUCKET'], Key=f'{k}/{{record_id}}.json', Body=json.dumps(payload))",
    "sqs": "{v}.send_message(QueueUrl=os.environ['QUEUE_URL'], MessageBody=json.dumps(payload))",
    "sns": "{v}.publish(TopicArn=os.environ['TOPIC_ARN'], Message=json.dumps(payload), Subject='{k}')",
    "ssm": "{v}.get_parameter(Name=f'/app/{k}/{{record_id}}', WithDecryption=True)",
    "secretsmanager": "{v}.get_secret_value(SecretId=os.environ['SECRET_ID'])",
    "kinesis": "{v}.put_record(StreamName=os.environ['STREAM'], Data=json.dumps(payload), PartitionKey=record_id)",
    "events": "{v}.put_events(Entries=[{{'Source': '{k}', 'DetailType': 'done', 'Detail': json.dumps(payload)}}])",
    "stepfunctions": "{v}.start_execution(stateMachineArn=os.environ['MACHINE_ARN'], input=json.dumps(payload))",
    "lambda": "{v}.invoke(FunctionName=os.environ['NEXT_FUNCTION'], Payload=json.dumps(payload).encode())",
    "sts": "{v}.get_caller_identity()",
}


def module(rng: random.Random, index: int) -> str:
    name = f"fn{index:03d}"
    services = rng.sample(SERVICES, rng.randint(2, 4))
    driver = rng.choice(DRIVERS) if rng.random() < 0.6 else None
    use_requests = rng.random() < 0.4
    use_redis = rng.random() < 0.25
    use_xray = rng.random() < 0.2
    lazy_global = rng.random() < 0.3
    out = [f'"""{name}: handles {rng.choice(("orders", "payments", "uploads", "audits", "reports"))} events.', "",
           "Reads the event, validates each record, stores the results and notifies the next step.", '"""']
    imports = ["import json", "import logging", "import os", "import time"]
    if rng.random() < 0.5:
        imports.append("from datetime import datetime, timezone")
    if rng.random() < 0.3:
        imports.append("from decimal import Decimal")
    out += imports + [""]
    third = ["import boto3"]
    if driver:
        third.append(f"import {driver[0]}")
    if use_requests:
        third.append("import requests")
    if use_redis:
        third.append("import redis")
    if use_xray:
        third.append("from aws_xray_sdk.core import patch_all")
    if rng.random() < 0.3:
        third.append("from botocore.exceptions import ClientError")
    out += third + ["", "logger = logging.getLogger(__name__)", "logger.setLevel(os.environ.get('LOG_LEVEL', 'INFO'))"]
    if use_xray:
        out += ["patch_all()"]
    out += ["", f"REQUIRED = ({', '.join(repr(f) for f in rng.sample(('id', 'amount', 'customer', 'items', 'region', 'kind'), 3))})",
            f"MAX_BATCH = {rng.choice((10, 25, 50, 100))}", ""]
    if lazy_global:
        out += ["_dynamo = None", "", "",
                "def _table():",
                "    global _dynamo",
                "    if _dynamo is None:",
                "        _dynamo = boto3.resource('dynamodb')",
                "    return _dynamo.Table(os.environ['TABLE_NAME'])", ""]
    # helpers
    for h in range(rng.randint(3, 6)):
        kind = rng.choice(("validate", "format", "chunks", "parse", "retry"))
        fname = f"_{kind}_{h}"
        if kind == "validate":
            out += ["", f"def {fname}(record):",
                    "    missing = [field for field in REQUIRED if field not in record]",
                    "    if missing:",
                    "        raise ValueError(f\"missing fields: {', '.join(missing)}\")",
                    "    if not isinstance(record.get('id'), str):",
                    "        raise TypeError('id must be a string')",
                    "    return {key: value for key, value in record.items() if value is not None}", ""]
        elif kind == "format":
            out += ["", f"def {fname}(payload, *, indent=None):",
                    "    rows = []",
                    "    for key in sorted(payload):",
                    "        value = payload[key]",
                    "        if isinstance(value, float):",
                    "            value = round(value, 2)",
                    "        rows.append(f'{key}={value!r}')",
                    "    return '; '.join(rows) if indent is None else json.dumps(payload, indent=indent)", ""]
        elif kind == "chunks":
            out += ["", f"def {fname}(items, size=MAX_BATCH):",
                    "    batch = []",
                    "    for item in items:",
                    "        batch.append(item)",
                    "        if len(batch) == size:",
                    "            yield batch",
                    "            batch = []",
                    "    if batch:",
                    "        yield batch", ""]
        elif kind == "parse":
            out += ["", f"def {fname}(event):",
                    "    if 'Records' in event:",
                    "        bodies = [r.get('body') or r.get('Sns', {}).get('Message') for r in event['Records']]",
                    "        return [json.loads(body) for body in bodies if body]",
                    "    body = event.get('body')",
                    "    if isinstance(body, str):",
                    "        return [json.loads(body)]",
                    "    return [event]", ""]
        else:
            out += ["", f"def {fname}(fn, attempts=3, delay=0.1):",
                    "    for attempt in range(attempts):",
                    "        try:",
                    "            return fn()",
                    "        except Exception as error:  # noqa: BLE001",
                    "            logger.warning('attempt %d failed: %s', attempt + 1, error)",
                    "            time.sleep(delay * 2 ** attempt)",
                    "    raise RuntimeError('gave up')", ""]
    helper_client = rng.random() < 0.4
    if helper_client:
        service = rng.choice(SERVICES)
        out += ["", "def _notify(payload, record_id):",
                f"    client = boto3.client('{service}')",
                "    logger.info('notifying %s', record_id)",
                "    return " + CALLS[service].format(v="client", k="notify"), ""]
    # the handler
    out += ["", "def lambda_handler(event, context):",
            "    started = time.time()",
            "    records = event.get('Records') or [event]",
            "    logger.info('got %d records', len(records))"]
    for s, service in enumerate(services):
        if s == 1 and rng.random() < 0.35:
            out.append(f"    {service}_client = boto3.client('{service}', region_name=event.get('region', 'us-east-1'))")
        else:
            out.append(f"    {service}_client = boto3.client('{service}')")
    if not lazy_global and rng.random() < 0.7:
        out.append("    table = boto3.resource('dynamodb').Table(os.environ['TABLE_NAME'])")
        table = "table"
    else:
        table = "_table()" if lazy_global else None
    if driver:
        out.append(f"    conn = {driver[1]}")
    if use_requests:
        out += ["    session = requests.Session()", "    session.headers.update({'User-Agent': 'fn/1.0'})"]
    if use_redis:
        out.append("    cache = redis.Redis(host=os.environ['REDIS_HOST'], port=6379, socket_timeout=2)")
    out += ["    results = []", "    for record in records:",
            "        record_id = str(record.get('id', 'unknown'))",
            "        payload = {'id': record_id, 'at': started, 'data': record}"]
    if use_redis:
        out += ["        if cache.get(record_id):", "            continue"]
    for service in services:
        out.append("        " + CALLS[service].format(v=f"{service}_client", k=name))
    if table:
        out.append(f"        {table}.put_item(Item={{'id': record_id, 'status': 'DONE'}})")
    if driver:
        out += ["        with conn.cursor() as cursor:",
                "            cursor.execute('INSERT INTO events (id, body) VALUES (%s, %s)', (record_id, json.dumps(record)))",
                "        conn.commit()"]
    if use_requests:
        out += ["        response = session.post(os.environ['WEBHOOK_URL'], json=payload, timeout=5)",
                "        response.raise_for_status()"]
    if helper_client:
        out.append("        _notify(payload, record_id)")
    if use_redis:
        out.append("        cache.set(record_id, '1', ex=3600)")
    out += ["        results.append(record_id)"]
    if driver:
        out.append("    conn.close()")
    out += ["    elapsed = time.time() - started",
            "    logger.info('done in %.3f s', elapsed)",
            "    return {'statusCode': 200, 'body': json.dumps({'processed': results, 'elapsed': elapsed})}", ""]
    if rng.random() < 0.3:
        out += ["", "if __name__ == '__main__':", "    print(lambda_handler({'id': 'local'}, None))", ""]
    return "\n".join(out)


def template(count: int) -> str:
    lines = ["AWSTemplateFormatVersion: '2010-09-09'", "Transform: AWS::Serverless-2016-10-31",
             "Globals:", "  Function:", "    Runtime: python3.12", "    Timeout: 30", "Resources:"]
    for index in range(count):
        lines += [f"  Fn{index:03d}Function:", "    Type: AWS::Serverless::Function", "    Properties:",
                  f"      CodeUri: src/fn{index:03d}/", "      Handler: app.lambda_handler"]
    return "\n".join(lines) + "\n"


def generate(target: Path, files: int = 500, seed: int = 22) -> Path:
    """The repository at ``target`` (made again only when missing or made with other settings)."""
    stamp = target / ".complete"
    wanted = f"{files} {seed} {_digest()}"
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    if target.exists():
        shutil.rmtree(target)
    rng = random.Random(seed)
    for index in range(files):
        folder = target / "src" / f"fn{index:03d}"
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(module(rng, index))
    (target / "template.yaml").write_text(template(files))
    stamp.write_text(wanted)
    return target


def _digest() -> str:
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args(argv)
    generate(args.target, args.files, args.seed)
    print(args.target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
