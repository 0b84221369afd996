import AWS from 'aws-sdk';
import type { ScheduledEvent } from 'aws-lambda';
import { summarise, type Order } from './lib/summary.js';

const BUCKET = process.env.REPORTS_BUCKET ?? 'orders-reports';

export const handler = async (event: ScheduledEvent): Promise<{ key: string; orders: number }> => {
  const documents = new AWS.DynamoDB.DocumentClient();
  const s3: AWS.S3 = new AWS.S3({ apiVersion: '2006-03-01' });

  const scan: AWS.DynamoDB.DocumentClient.ScanInput = { TableName: process.env.TABLE_NAME ?? 'orders' };
  const { Items = [] } = await documents.scan(scan).promise();
  const day = event.time.slice(0, 10);
  const summary = summarise(day, Items as Order[]);
  const put: AWS.S3.PutObjectRequest = {
    Bucket: BUCKET,
    Key: `daily/${day}.json`,
    Body: JSON.stringify(summary),
    ContentType: 'application/json',
  };
  await s3.putObject(put).promise();
  return { key: put.Key, orders: summary.orders };
};
