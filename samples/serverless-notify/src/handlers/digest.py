"""Daily digest: drains pending notifications from the digest queue and
publishes one summary per audience to SNS (and to a webhook if configured)."""
import json
import os

import boto3
import requests


def main(event, context):
    sqs = boto3.client("sqs")
    queue_url = os.environ["QUEUE_URL"]
    subjects = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        for msg in batch:
            subjects.append(json.loads(msg["Body"])["subject"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=msg["ReceiptHandle"])
    subjects.sort()

    sns = boto3.client("sns")
    # Subscribers filter on the audience attribute, so tag every publish with it.
    sns.meta.events.register(
        "provide-client-params.sns.Publish",
        lambda params, **kwargs: params.setdefault("MessageAttributes", {}).update(
            audience={"DataType": "String", "StringValue": event.get("audience", "all")}
        ),
    )
    summary = {"audience": event.get("audience", "all"), "count": len(subjects), "subjects": subjects}
    sns.publish(TopicArn=os.environ["TOPIC_ARN"], Subject="Daily digest", Message=json.dumps(summary))

    delivered = False
    with requests.Session() as http:
        http.headers["User-Agent"] = "notify-digest/1.4"
        if os.environ.get("DIGEST_WEBHOOK_URL"):
            http.post(os.environ["DIGEST_WEBHOOK_URL"], json=summary, timeout=5).raise_for_status()
            delivered = True

    return dict(summary, webhook=delivered)
