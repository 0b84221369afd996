// A library used by scripts, not a Lambda handler: the tool must leave it alone.
const AWS = require('aws-sdk');

function loadReceipt(bucket, id) {
  const s3 = new AWS.S3();
  return s3.getObject({ Bucket: bucket, Key: `receipts/${id}.json` }).promise();
}

module.exports = { loadReceipt };
