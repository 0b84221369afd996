"""Nightly sales report: order count and total per status, written as CSV to S3.

Reads DynamoDB; an event with {"backend": "mysql"} queries the legacy
reporting database instead (used while the migration is being checked).
"""
import csv
import io
import os

import boto3

try:
    import pymysql
except ImportError:  # only the legacy path needs it
    pymysql = None

_s3 = None


def _get_s3():
    global _s3
    if _s3 is None:
        _s3 = boto3.client("s3")
    return _s3


def _totals_from_dynamodb(table_name):
    dynamodb = boto3.client("dynamodb")
    totals = {}
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        for item in page["Items"]:
            t = totals.setdefault(item["status"]["S"], {"orders": 0, "totalCents": 0})
            t["orders"] += 1
            t["totalCents"] += int(item.get("totalCents", {"N": "0"})["N"])
    return totals


def lambda_handler(event, context):
    totals = {}
    if event.get("backend") == "mysql":
        conn = pymysql.connect(
            host=os.environ["DB_HOST"],
            user=os.environ["DB_USER"],
            password=os.environ["DB_PASSWORD"],
            database=os.environ.get("DB_NAME", "orders"),
            connect_timeout=5,
        )
        with conn.cursor() as cur:
            cur.execute("SELECT status, COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders GROUP BY status")
            for status, count, cents in cur.fetchall():
                totals[status] = {"orders": int(count), "totalCents": int(cents)}
    else:
        totals = _totals_from_dynamodb(os.environ["TABLE_NAME"])

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["status", "orders", "total_cents"])
    for status in sorted(totals):
        writer.writerow([status, totals[status]["orders"], totals[status]["totalCents"]])

    key = f"reports/{event.get('reportDate', 'adhoc')}.csv"
    _get_s3().put_object(Bucket=os.environ["BUCKET_NAME"], Key=key, Body=out.getvalue().encode(), ContentType="text/csv")
    return {"report": key, "totals": totals}
