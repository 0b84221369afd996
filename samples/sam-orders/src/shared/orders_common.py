"""Helpers shared by the orders functions and by ops scripts.

A plain library module: nothing in template.yaml points a handler at it,
so lambda-rewriter must leave it alone.
"""
import json

import boto3


def receipt_key(order_id):
    return f"receipts/{order_id}.json"


def load_receipt(bucket, order_id, region=None):
    """Return a stored receipt as a dict (used by support tooling)."""
    s3 = boto3.client("s3", region_name=region)
    obj = s3.get_object(Bucket=bucket, Key=receipt_key(order_id))
    return json.loads(obj["Body"].read())


def order_total_cents(items):
    return sum(int(i["priceCents"]) * int(i.get("qty", 1)) for i in items)
