/**
 * Tells the shop about every new order queued by create-order.
 */
exports.notify = async function (event, context) {
  var AWS = require('aws-sdk');
  var sns = new AWS.SNS();
  var sent = [];
  for (const record of event.Records) {
    const { id } = JSON.parse(record.body);
    const result = await sns.publish({ TopicArn: process.env.TOPIC_ARN, Subject: 'new order', Message: id }).promise();
    sent.push(Boolean(result.MessageId));
  }
  return { sent: sent.length, requestId: context.awsRequestId };
};
