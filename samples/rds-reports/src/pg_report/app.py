import json
import os

import boto3
import psycopg2

# Fetched once per execution environment: the password is the same for every invocation.
_secret = json.loads(
    boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DB_SECRET_ARN"])["SecretString"]
)


def lambda_handler(event, context):
    day = event["day"]
    conn = psycopg2.connect(
        host=os.environ["DB_HOST"],
        dbname=os.environ["DB_NAME"],
        user=os.environ["DB_USER"],
        password=_secret["password"],
        connect_timeout=5,
    )
    with conn:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT status, count(*), coalesce(sum(total_cents), 0) FROM orders"
                " WHERE created_at::date = %s GROUP BY status",
                (day,),
            )
            rows = cur.fetchall()
    conn.close()
    return {"day": day, "totals": {status: {"orders": n, "totalCents": int(cents)} for status, n, cents in rows}}
