"""Read one order (API Gateway: GET /orders/{id}), saying whether its receipt exists."""
import json
import os

import boto3 as aws
from botocore.exceptions import ClientError


def lambda_handler(event, context):
    order_id = event["pathParameters"]["id"]

    dynamodb = aws.client("dynamodb")
    item = dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key={"id": {"S": order_id}}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": json.dumps({"message": f"order {order_id} not found"})}

    order = {
        "id": item["id"]["S"],
        "status": item["status"]["S"],
        "totalCents": int(item.get("totalCents", {"N": "0"})["N"]),
    }

    # A missing receipt is not an error for readers: report it instead.
    try:
        s3 = aws.client("s3")
        s3.head_object(Bucket=os.environ["BUCKET_NAME"], Key=f"receipts/{order_id}.json")
        order["hasReceipt"] = True
    except ClientError:
        order["hasReceipt"] = False

    return {"statusCode": 200, "body": json.dumps(order, sort_keys=True)}
