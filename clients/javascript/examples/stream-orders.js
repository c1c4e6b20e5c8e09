'use strict';
// Prints order updates as JSON lines until Ctrl-C, reconnecting when the connection drops.
//   OMS_TOKEN=... node examples/stream-orders.js [host:port] [account]
const OMSClient = require('../oms-client');

const [address = 'localhost:50051', accountId = ''] = process.argv.slice(2);
const client = new OMSClient(address);
const subscription = client.streamOrders((update) => {
  console.log(JSON.stringify({ sequence: update.sequence, updateType: update.updateType, ...update.order }));
}, { accountId });
subscription.on('reconnecting', ({ delayMs, error }) => console.error(`stream: ${error.message}; reconnecting in ${delayMs} ms`));
subscription.on('reconnected', () => console.error('stream: reconnected'));
subscription.done.then((error) => {
  if (error) {
    console.error(`error: ${error.codeName}: ${error.details}`);
    process.exitCode = 1;
  }
  client.close();
});
process.once('SIGINT', () => subscription.cancel());
process.once('SIGTERM', () => subscription.cancel());
