'use strict';

const AWS = require('aws-sdk');
const { orderId } = require('../shared/ids');

exports.handler = async (event) => {
  const documents = new AWS.DynamoDB.DocumentClient();
  // Same region as the function.
  const region = process.env.AWS_REGION || 'us-east-1';
  const sqs = new AWS.SQS({ region, apiVersion: '2012-11-05' });

  const order = JSON.parse(event.body);
  const id = orderId(order.customer, order.items.length);
  const item = { id, customer: order.customer, items: order.items, status: 'NEW' };
  await documents.put({ TableName: process.env.TABLE_NAME, Item: item }).promise();
  await sqs.sendMessage({ QueueUrl: process.env.QUEUE_URL, MessageBody: JSON.stringify({ id }) }).promise();
  return { statusCode: 201, body: JSON.stringify({ id, status: item.status }) };
};
