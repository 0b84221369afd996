"""A generated corpus of JavaScript and TypeScript Lambda handlers, shaped like the ones the tool is run on.

Each file is a handler module of a few dozen to a few hundred lines: imports of the v2 SDK (`aws-sdk`, CommonJS
or ES module) or of v3 clients, a few helpers, clients built inside the handler (what hoist-clients moves out),
some of them callback handlers (what sdk-v3 makes async), S3 bodies read as strings. A third are CommonJS `.js`,
a third ES-module `.mjs`/`.js`, a third TypeScript. The same seed gives the same files.
"""
from __future__ import annotations

import random
from pathlib import Path

V2_SERVICES = [("S3", "s3"), ("SQS", "sqs"), ("SNS", "sns"), ("DynamoDB", "dynamodb"), ("Kinesis", "kinesis"),
               ("SecretsManager", "secrets"), ("StepFunctions", "sfn"), ("EventBridge", "events")]
V3_CLIENTS = [("S3Client", "client-s3", "GetObjectCommand", "s3"), ("SQSClient", "client-sqs", "SendMessageCommand", "sqs"),
              ("SNSClient", "client-sns", "PublishCommand", "sns"),
              ("DynamoDBClient", "client-dynamodb", "GetItemCommand", "dynamodb"),
              ("KinesisClient", "client-kinesis", "PutRecordCommand", "kinesis")]


def _helpers(rng: random.Random, typed: bool, count: int) -> list[str]:
    out = []
    for index in range(count):
        arg = "items: Array<{ id: string; total: number }>" if typed else "items"
        ret = ": number" if typed else ""
        out.append(
            f"function total{index}({arg}){ret} {{\n"
            f"  let sum = 0;\n"
            f"  for (const item of items) {{\n"
            f"    if (item.total > {rng.randint(1, 500)}) {{\n"
            f"      sum += item.total * {rng.randint(2, 9)};\n"
            f"    }} else {{\n"
            f"      sum += item.total;\n"
            f"    }}\n"
            f"  }}\n"
            f"  return Math.round(sum * 100) / 100;\n"
            f"}}\n"
        )
        out.append(
            f"const format{index} = (id{': string' if typed else ''}, when{': Date' if typed else ''}) =>\n"
            f"  `${{id}}-${{when.toISOString().slice(0, {rng.randint(7, 10)})}}-{rng.randint(100, 999)}`;\n"
        )
    return out


def _v2(rng: random.Random, esm: bool, typed: bool, callback: bool) -> str:
    services = rng.sample(V2_SERVICES, rng.randint(2, 4))
    head = ["import AWS from 'aws-sdk';"] if esm or typed else ["'use strict';", "", "const AWS = require('aws-sdk');"]
    body = []
    for cls, var in services:
        opts = rng.choice(["", "{ apiVersion: 'latest' }", "{ region: process.env.AWS_REGION, maxRetries: 3 }"])
        body.append(f"  const {var} = new AWS.{cls}({opts});")
    body.append("  const documents = new AWS.DynamoDB.DocumentClient();")
    body.append("  const items = (await documents.scan({ TableName: process.env.TABLE }).promise()).Items || [];")
    if any(var == "s3" for _, var in services):
        body.append("  const object = await s3.getObject({ Bucket: process.env.BUCKET, Key: event.key }).promise();")
        body.append("  const text = object.Body.toString('utf-8');")
    else:
        body.append("  const text = JSON.stringify(event);")
    for _, var in services[1:]:
        body.append(f"  console.log('{var}', typeof {var}, text.length);")
    body.append("  return { statusCode: 200, body: JSON.stringify({ total: total0(items), text }) };")
    export = ("export const handler = async (event" + (": any" if typed else "") + ") => {") if esm or typed else (
        "exports.handler = async (event, context) => {")
    if callback and not (esm or typed):
        export = "exports.handler = function (event, context, callback) {"
        body = [line.replace("await ", "") for line in body if "await" not in line] + [
            "  const documents2 = new AWS.DynamoDB.DocumentClient();",
            "  documents2.get({ TableName: process.env.TABLE, Key: { id: event.id } }, (error, data) => {",
            "    if (error) return callback(error);",
            "    callback(null, { statusCode: 200, body: JSON.stringify(data.Item) });",
            "  });",
        ]
    return "\n".join([*head, "", *_helpers(rng, typed, rng.randint(1, 6)), export, *body, "};", ""])


def _v3(rng: random.Random, typed: bool) -> str:
    clients = rng.sample(V3_CLIENTS, rng.randint(2, 4))
    head = [f"import {{ {cls}, {command} }} from '@aws-sdk/{package}';" for cls, package, command, _ in clients]
    body = []
    for client_class, _, _, var in clients:
        opts = rng.choice(["{}", "{ region: process.env.AWS_REGION }", "{ maxAttempts: 3 }"])
        body.append(f"  const {var} = new {client_class}({opts});")
    for _, _, command, var in clients:
        body.append(f"  const {var}Result = await {var}.send(new {command}({{ id: event.id, at: format0(event.id, new Date()) }}));")
    body.append("  return { statusCode: 200, body: JSON.stringify({ total: total0(event.items ?? []) }) };")
    signature = "(event: { id: string; items?: Array<{ id: string; total: number }> }): Promise<unknown>" if typed else "(event)"
    return "\n".join([*head, "", *_helpers(rng, typed, rng.randint(1, 6)),
                      f"export const handler = async {signature} => {{", *body, "};", ""])


def make(target: Path, files: int = 300, seed: int = 22) -> list[Path]:
    """Write ``files`` handler modules under ``target`` (ten per folder); return their paths."""
    rng = random.Random(seed)
    made = []
    for index in range(files):
        kind = index % 6
        folder = target / f"service-{index // 10:02d}" / f"fn{index % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        if kind == 0:
            path, text = folder / "index.js", _v2(rng, esm=False, typed=False, callback=False)
        elif kind == 1:
            path, text = folder / "index.js", _v2(rng, esm=False, typed=False, callback=True)
        elif kind == 2:
            path, text = folder / "index.mjs", _v2(rng, esm=True, typed=False, callback=False)
        elif kind == 3:
            path, text = folder / "index.mjs", _v3(rng, typed=False)
        elif kind == 4:
            path, text = folder / "handler.ts", _v2(rng, esm=True, typed=True, callback=False)
        else:
            path, text = folder / "handler.ts", _v3(rng, typed=True)
        path.write_text(text)
        made.append(path)
    return made
