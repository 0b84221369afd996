#!/usr/bin/env python3
"""Seed a dev stack with sample orders.

    python scripts/seed.py --table orders-dev --count 20 --region eu-west-1

A command-line script, not a Lambda handler: lambda-rewriter must leave it alone.
"""
import argparse

import boto3

STATUSES = ("NEW", "PROCESSING", "SHIPPED")


def seed(table_name, count, region):
    table = boto3.resource("dynamodb", region_name=region).Table(table_name)
    with table.batch_writer() as batch:
        for n in range(count):
            batch.put_item(
                Item={
                    "id": f"seed-{n:04d}",
                    "customer": f"customer-{n % 7}",
                    "status": STATUSES[n % len(STATUSES)],
                    "totalCents": 1000 + 250 * n,
                }
            )
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    print(f"wrote {seed(args.table, args.count, args.region)} orders to {args.table}")


if __name__ == "__main__":
    main()
