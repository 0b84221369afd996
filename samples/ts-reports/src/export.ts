import AWS from 'aws-sdk';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

AWS.config.update({ maxRetries: 2 });

// Queues an export of one customer's orders; a worker elsewhere writes the file.
export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const sqs = new AWS.SQS();
  const request = JSON.parse(event.body ?? '{}') as { customer?: string; format?: string };
  if (!request.customer) {
    return { statusCode: 400, body: JSON.stringify({ message: 'customer is required' }) };
  }
  // Results go to the caller's own bucket, in the region the request names.
  const s3 = new AWS.S3({ region: event.headers['x-export-region'] ?? 'us-east-1' });
  const listing = { Bucket: event.headers['x-export-bucket'] ?? '', Prefix: `exports/${request.customer}/` };
  const { Contents = [] } = await s3.listObjectsV2(listing).promise();
  await sqs
    .sendMessage({
      QueueUrl: process.env.EXPORT_QUEUE_URL!,
      MessageBody: JSON.stringify({ customer: request.customer, format: request.format ?? 'csv' }),
    })
    .promise();
  return { statusCode: 202, body: JSON.stringify({ queued: true, previous: Contents.length }) };
}
