"""Fan out user notifications (SQS batch) to SNS, and to an HTTP webhook when
WEBHOOK_URL is configured (integrations such as Slack or PagerDuty)."""
import json
import os

import boto3
import requests
from botocore.config import Config


def main(event, context):
    session = boto3.Session()
    sns = session.client("sns", config=Config(retries={"max_attempts": 3, "mode": "adaptive"}, connect_timeout=2))
    http = requests.Session()
    http.headers.update({"Content-Type": "application/json", "User-Agent": "notify/1.4"})

    webhook = os.environ.get("WEBHOOK_URL")
    sent = []
    for record in event["Records"]:
        note = json.loads(record["body"])
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Message=note["message"],
            MessageAttributes={"userId": {"DataType": "String", "StringValue": note["userId"]}},
        )
        if webhook:
            http.post(webhook, json=note, timeout=3).raise_for_status()
        sent.append(note["userId"])

    return {"sent": sent, "webhook": bool(webhook)}
