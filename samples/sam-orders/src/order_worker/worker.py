"""Fulfilment worker (SQS batch).

Marks each queued order as PROCESSING, archives the message to S3 and
raises an alert on SNS for large orders.
"""
import json
import os

from boto3 import client, resource
from botocore.config import Config

LARGE_ORDER_CENTS = 50_000


def _archive(order_id, payload):
    """Keep a copy of every processed message for audits."""
    s3 = client("s3", config=Config(retries={"max_attempts": 5, "mode": "standard"}))
    key = f"archive/{order_id}.json"
    s3.put_object(Bucket=os.environ["BUCKET_NAME"], Key=key, Body=json.dumps(payload, sort_keys=True).encode())
    return key


def process(event, context):
    processed, large = [], []
    for record in event["Records"]:
        payload = json.loads(record["body"])
        order_id = payload["orderId"]
        table = resource("dynamodb").Table(os.environ["TABLE_NAME"])
        table.update_item(
            Key={"id": order_id},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "PROCESSING"},
        )
        processed.append({"orderId": order_id, "archive": _archive(order_id, payload)})
        if payload.get("totalCents", 0) >= LARGE_ORDER_CENTS:
            large.append((order_id, payload["totalCents"]))

    sns = client("sns")
    try:
        for order_id, cents in large:
            sns.publish(TopicArn=os.environ["TOPIC_ARN"], Subject="Large order", Message=f"order {order_id}: {cents} cents")
    finally:
        sns.close()

    return {"batchItemFailures": [], "processed": processed, "alerts": [order_id for order_id, _ in large]}
