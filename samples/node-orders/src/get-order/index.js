const { DynamoDB, S3 } = require('aws-sdk');

module.exports.handler = function (event, context, callback) {
  const table = new DynamoDB.DocumentClient({ convertEmptyValues: true });
  // The receipt lives in the region the caller names.
  const s3 = new S3({ region: event.queryStringParameters.region });

  table.get({ TableName: process.env.TABLE_NAME, Key: { id: event.pathParameters.id } }, (error, found) => {
    if (error) return callback(error);
    if (!found.Item) return callback(null, { statusCode: 404, body: '{"message":"no such order"}' });
    s3.getObject({ Bucket: process.env.BUCKET_NAME, Key: `receipts/${found.Item.id}.json` }, (missing, receipt) => {
      const body = { order: found.Item, receipt: missing ? null : JSON.parse(receipt.Body.toString('utf-8')) };
      callback(null, { statusCode: 200, body: JSON.stringify(body) });
    });
  });
};
