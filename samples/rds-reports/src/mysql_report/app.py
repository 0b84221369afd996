import json
import os

import boto3
import pymysql

# Fetched once per execution environment: the password is the same for every invocation.
_secret = json.loads(
    boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["DB_SECRET_ARN"])["SecretString"]
)
DB_PASSWORD = _secret["password"]


def lambda_handler(event, context):
    day = event["day"]
    conn = pymysql.connect(
        host=os.environ["DB_HOST"],
        user=os.environ["DB_USER"],
        password=DB_PASSWORD,
        database=os.environ["DB_NAME"],
        connect_timeout=5,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT status, COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders"
                " WHERE DATE(created_at) = %s GROUP BY status",
                (day,),
            )
            rows = cur.fetchall()
        totals = {status: {"orders": int(n), "totalCents": int(cents)} for status, n, cents in rows}
        return {"day": day, "totals": totals}
    finally:
        conn.close()
