// Loaded with `node -r` before a sample handler: points the v2 SDK at the moto server of the test
// (the v2 SDK does not read AWS_ENDPOINT_URL) and counts the service clients built.
'use strict';
// The handler's folder links its node_modules here, so this is the same SDK instance the handler loads.
const AWS = require('aws-sdk/global');

AWS.config.update({
  endpoint: process.env.MOTO_ENDPOINT,
  s3ForcePathStyle: true,
  region: process.env.AWS_REGION || 'us-east-1',
  maxRetries: 0,
});

globalThis.__clientsBuilt = 0;
const initialize = AWS.Service.prototype.initialize;
AWS.Service.prototype.initialize = function (...args) {
  globalThis.__clientsBuilt += 1;
  return initialize.apply(this, args);
};
