'use strict';
// The SDK against a real OMS stack (gRPC server, worker, local venue), started by
// tests/clients/test_node_sdk.py, which passes the server and what the ledger holds in OMS_TEST_*
// and afterwards checks the orders reported in OMS_TEST_REPORT against the ledger.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { test, after } = require('node:test');

const OMSClient = require('../oms-client');

const SERVER = process.env.OMS_TEST_SERVER;
if (!SERVER) {
  throw new Error('these tests drive a running OMS stack: run them with `make test` '
    + '(or `pytest tests/clients/test_node_sdk.py`), which starts one and sets OMS_TEST_SERVER');
}
const TOKEN = process.env.OMS_TEST_TOKEN;
const ACCOUNT = process.env.OMS_TEST_ACCOUNT;
const EXPECT = JSON.parse(process.env.OMS_TEST_EXPECT);
const OPEN = new Set(['PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL']);

const report = { placed: {}, cancelled: [], balances: null, positions: null };
after(() => fs.writeFileSync(process.env.OMS_TEST_REPORT, JSON.stringify(report)));

const client = new OMSClient(SERVER, { token: TOKEN });
after(() => client.close());

async function until(what, probe, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function placeResting(label) {
  const result = await client.placeOrder({
    symbol: 'BTCUSDT', side: 'BUY', quantity: 0.001, price: EXPECT.restingPrice, orderType: 'LIMIT', accountId: ACCOUNT,
  });
  report.placed[label] = result.orderId;
  return result;
}

test('getBalance: a map of asset balances, as in the ledger (before any order moves them)', async () => {
  const balance = await client.getBalance({ exchange: 'binance', market: 'spot', accountId: ACCOUNT });
  report.balances = balance;
  for (const [asset, expected] of Object.entries(EXPECT.balances)) {
    assert.ok(balance[asset], `${asset} present`);
    assert.equal(balance[asset].total, Number(expected.total), `${asset} total`);
    assert.equal(balance[asset].free, Number(expected.free), `${asset} free`);
  }
  assert.deepEqual(Object.keys(balance).sort(), Object.keys(EXPECT.balances).sort());
});

test('getPositions: open positions, as in the ledger', async () => {
  const positions = await client.getPositions({ exchange: 'binance', accountId: ACCOUNT });
  report.positions = positions;
  assert.equal(positions.length, EXPECT.positions.length);
  for (const expected of EXPECT.positions) {
    const p = positions.find((x) => x.symbol === expected.symbol);
    assert.ok(p, `${expected.symbol} position`);
    assert.equal(p.side, expected.side);
    assert.equal(p.size, Number(expected.size));
    assert.equal(p.leverage, expected.leverage);
  }
});

test('placeOrder: a limit BUY well below the market comes back NEW (the guide example)', async () => {
  const result = await placeResting('limit');
  assert.match(result.orderId, /^\S+$/);
  assert.equal(result.status, 'NEW');
  assert.ok(result.exchangeOrderId, 'the venue acknowledged it');
  assert.ok(result.createdAt instanceof Date && Math.abs(Date.now() - result.createdAt) < 60000);
  assert.equal(result.order.quantityDecimal, '0.001');
});

test('placeOrder: exact decimal strings and clientOrderId are idempotent', async () => {
  const params = {
    symbol: 'BTCUSDT', side: 'BUY', quantity: '0.002', price: String(EXPECT.restingPrice), accountId: ACCOUNT,
    clientOrderId: `node-${process.pid}`,
  };
  const first = await client.placeOrder(params);
  const again = await client.placeOrder(params);
  report.placed.idempotent = first.orderId;
  assert.equal(again.orderId, first.orderId);
  assert.equal(first.order.clientOrderId, params.clientOrderId);
  assert.equal(first.order.quantity, 0.002);
});

test('placeOrder: a MARKET order fills', async () => {
  const result = await client.placeOrder({ symbol: 'ETHUSDT', side: 'SELL', orderType: 'MARKET', quantity: 0.1, accountId: ACCOUNT });
  report.placed.market = result.orderId;
  const order = await until('the market order to fill', async () => {
    const o = await client.getOrder(result.orderId);
    return o.status === 'FILLED' && o;
  });
  assert.equal(order.filledQuantity, 0.1);
  assert.ok(order.averagePrice > 0);
});

test('getOrder: complete order details', async () => {
  const order = await client.getOrder(report.placed.limit);
  assert.equal(order.orderId, report.placed.limit);
  assert.equal(order.symbol, 'BTCUSDT');
  assert.equal(order.side, 'BUY');
  assert.equal(order.orderType, 'LIMIT');
  assert.equal(order.quantity, 0.001);
  assert.equal(order.price, EXPECT.restingPrice);
  assert.equal(order.status, 'NEW');
  assert.equal(order.accountId, ACCOUNT);
  assert.equal(order.market, 'spot');
  assert.ok(order.createdAt instanceof Date);
});

test('listOrders: all orders, and OPEN ones for a symbol', async () => {
  const all = await client.listOrders();
  const ids = all.map((o) => o.orderId);
  for (const id of Object.values(report.placed)) assert.ok(ids.includes(id), `${id} listed`);
  const open = await client.listOrders({ status: 'OPEN', symbol: 'BTCUSDT' });
  assert.ok(open.length >= 2);
  for (const o of open) {
    assert.ok(OPEN.has(o.status), `${o.orderId} is ${o.status}`);
    assert.equal(o.symbol, 'BTCUSDT');
  }
  assert.ok(!open.some((o) => o.orderId === report.placed.market), 'the filled order is not open');
  const page = await client.listOrders({ limit: 1 });
  assert.equal(page.length, 1);
  assert.ok(page.nextPageToken, 'a next page token');
  const next = await client.listOrders({ limit: 1, pageToken: page.nextPageToken });
  assert.notEqual(next[0].orderId, page[0].orderId);
});

test('cancelOrder: the order ends CANCELLED', async () => {
  const result = await client.cancelOrder(report.placed.limit);
  assert.equal(result.orderId, report.placed.limit);
  assert.ok(['PENDING_CANCEL', 'CANCELLED'].includes(result.status), result.status);
  report.cancelled.push(result.orderId);
  await until('the cancel to complete', async () => (await client.getOrder(result.orderId)).status === 'CANCELLED');
});

test('streamPrices: updates with lastPrice for the asked symbols', async () => {
  const seen = new Map();
  const subscription = client.streamPrices(['BTCUSDT', 'ETHUSDT'], (update) => {
    assert.equal(typeof update.lastPrice.toFixed(2), 'string'); // the guide's own use
    seen.set(update.symbol, update);
  });
  try {
    await until('prices of both symbols', async () => seen.has('BTCUSDT') && seen.has('ETHUSDT'));
  } finally {
    subscription.cancel();
  }
  assert.deepEqual([...seen.keys()].sort(), ['BTCUSDT', 'ETHUSDT']);
  const btc = seen.get('BTCUSDT');
  assert.ok(btc.lastPrice > 0);
  assert.ok(btc.timestamp instanceof Date);
  assert.equal(await subscription.done, null, 'cancel stops it without an error');
});

test('streamOrders: replays after sinceSequence, then delivers a new order live', async () => {
  const updates = [];
  const subscription = client.streamOrders((update) => updates.push(update), {
    accountId: ACCOUNT, sinceSequence: Number(process.env.OMS_TEST_SINCE_SEQUENCE),
  });
  try {
    await until('the replay of the first order', async () => updates.some((u) => u.order.orderId === report.placed.limit));
    const live = await placeResting('streamed');
    const update = await until('the new order on the stream', async () => updates.find(
      (u) => u.order.orderId === live.orderId && u.updateType === 'NEW' && u.order.status === 'NEW'));
    assert.equal(update.order.symbol, 'BTCUSDT');
    assert.ok(update.at instanceof Date);
  } finally {
    subscription.cancel();
  }
  const sequences = updates.map((u) => u.sequence);
  assert.deepEqual(sequences, [...sequences].sort((a, b) => a - b), 'in sequence order');
  assert.equal(new Set(sequences).size, sequences.length, 'no update twice');
  assert.ok(updates.some((u) => u.order.orderId === report.placed.limit && u.updateType === 'CANCELLED'));
});

test('errors reject with the gRPC code and details, and place nothing', async () => {
  await assert.rejects(
    client.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: 0, price: EXPECT.restingPrice, accountId: ACCOUNT }),
    (err) => err.codeName === 'INVALID_ARGUMENT' && /quantity/.test(err.details) && /quantity/.test(err.message),
  );
  await assert.rejects(
    client.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: 'lots', accountId: ACCOUNT }),
    (err) => err.codeName === 'INVALID_ARGUMENT' && /quantity/.test(err.details),
  );
  await assert.rejects(client.placeOrder({ side: 'BUY', quantity: 1 }), (err) => /symbol: is required/.test(err.message));
  await assert.rejects(client.getOrder('0000000000000000000000000000dead'), (err) => err.codeName === 'NOT_FOUND');
  const stranger = new OMSClient(SERVER, { token: 'not-a-token' });
  try {
    await assert.rejects(stranger.listOrders(), (err) => err.codeName === 'UNAUTHENTICATED' && err.details.length > 0);
    const failed = stranger.streamOrders(() => assert.fail('no update for a bad token'), { onError: () => {} });
    const error = await failed.done;
    assert.equal(error.codeName, 'UNAUTHENTICATED', 'a permanent error stops the stream without retrying');
  } finally {
    stranger.close();
  }
});

test('tls: trusting the server\'s CA; without TLS the call fails', async () => {
  const secure = new OMSClient(EXPECT.tlsServer, { token: TOKEN, tls: { rootCerts: EXPECT.tlsCa } });
  const plain = new OMSClient(EXPECT.tlsServer, { token: TOKEN, timeoutMs: 5000 });
  try {
    const order = await secure.getOrder(report.placed.limit);
    assert.equal(order.status, 'CANCELLED');
    await assert.rejects(plain.getOrder(report.placed.limit), (err) => err.codeName === 'UNAVAILABLE');
  } finally {
    secure.close();
    plain.close();
  }
});

test('a server that is down rejects with UNAVAILABLE', async () => {
  const down = new OMSClient(EXPECT.downAddress, { timeoutMs: 5000 });
  try {
    await assert.rejects(down.getBalance(), (err) => err.codeName === 'UNAVAILABLE');
  } finally {
    down.close();
  }
});
