"""Create an order (API Gateway: POST /orders).

Stores the order in DynamoDB, writes a JSON receipt to S3 and queues the
order for the fulfilment worker.
"""
import json
import os

import boto3


def lambda_handler(event, context):
    body = json.loads(event.get("body") or "{}")
    order_id = body["orderId"]
    items = body.get("items", [])
    total_cents = sum(int(i["priceCents"]) * int(i.get("qty", 1)) for i in items)

    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    table.put_item(
        Item={"id": order_id, "customer": body["customer"], "status": "NEW", "totalCents": total_cents}
    )

    # Receipts are plain JSON documents, one per order.
    s3 = boto3.client("s3")
    receipt_key = f"receipts/{order_id}.json"
    receipt = {"orderId": order_id, "items": items, "totalCents": total_cents}
    s3.put_object(
        Bucket=os.environ["BUCKET_NAME"],
        Key=receipt_key,
        Body=json.dumps(receipt, sort_keys=True).encode(),
        ContentType="application/json",
    )

    region = os.environ.get("AWS_REGION", "us-east-1")
    sqs = boto3.client("sqs", region_name=region)
    sqs.send_message(
        QueueUrl=os.environ["QUEUE_URL"],
        MessageBody=json.dumps({"orderId": order_id, "totalCents": total_cents}),
    )

    return {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"orderId": order_id, "totalCents": total_cents, "receipt": receipt_key}),
    }
