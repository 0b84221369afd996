"""Export an order's receipts into a partner's bucket, under a role the partner trusts.

Invoked asynchronously by the partner-integration service with
{"orderId": "...", "region": "<where our receipts live>", "tenant": "..."}.
"""
import json
import os

import boto3


def lambda_handler(event, context):
    order_id = event["orderId"]

    sts = boto3.client("sts")
    creds = sts.assume_role(
        RoleArn=os.environ["EXPORT_ROLE_ARN"],
        RoleSessionName=f"export-{order_id}",
    )["Credentials"]

    # Receipts are replicated; read them in the region the caller is in.
    source = boto3.client("s3", region_name=event["region"])
    listing = source.list_objects_v2(Bucket=os.environ["BUCKET_NAME"], Prefix=f"receipts/{order_id}")
    keys = sorted(obj["Key"] for obj in listing.get("Contents", []))

    partner = boto3.client(
        "s3",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    export_key = f"exports/{event['tenant']}/{order_id}.json"
    partner.put_object(
        Bucket=os.environ["EXPORT_BUCKET"],
        Key=export_key,
        Body=json.dumps({"orderId": order_id, "files": keys}).encode(),
    )
    return {"orderId": order_id, "export": export_key, "files": keys}
