// Order ids are derived from the order, so that a retried request does not create a second order.
const crypto = require('crypto');

exports.orderId = (customer, count) =>
  'ord-' + crypto.createHash('sha256').update(`${customer}:${count}`).digest('hex').slice(0, 8);
