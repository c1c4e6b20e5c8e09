'use strict';
/**
 * Node.js SDK for the OMS gRPC API (proto/oms.proto).
 *
 *   const OMSClient = require('./oms-client');
 *   const client = new OMSClient('localhost:50051', { token: process.env.OMS_TOKEN });
 *   const result = await client.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: 0.001, price: 115000 });
 *
 * Calls return promises of plain camelCase objects; times are Date objects (UTC); quantities and
 * prices are numbers, with the exact decimal strings beside them (`quantityDecimal`, ...). A failed
 * call rejects with the grpc-js error (`code`, `details`, plus `codeName` such as 'INVALID_ARGUMENT').
 * Streams reconnect with jittered exponential backoff when the connection drops; the order
 * stream resumes after the last update it delivered.
 */
const { EventEmitter } = require('events');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const DEFAULT_ADDRESS = 'localhost:50051';
const DEFAULT_PROTO_PATH = path.resolve(__dirname, '..', '..', 'proto', 'oms.proto');
const DEFAULT_TIMEOUT_MS = 10000;
const DEFAULT_RECONNECT = { initialDelayMs: 500, maxDelayMs: 15000, maxAttempts: Infinity };
const RECENT_SEQUENCES = 10000; // order-update sequences remembered to drop repeats after a resume

// Worth a reconnect; anything else (bad input, authentication) would fail the same way again.
const TRANSIENT_CODES = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
]);

// Pings notice a silently dead connection, so a quiet stream reconnects instead of hanging.
const KEEPALIVE = {
  'grpc.keepalive_time_ms': 30000,
  'grpc.keepalive_timeout_ms': 10000,
  'grpc.keepalive_permit_without_calls': 1,
};

const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([name, code]) => [code, name]));

const services = new Map();

function loadService(protoPath) {
  if (!services.has(protoPath)) {
    const definition = protoLoader.loadSync(protoPath, {
      keepCase: false, // order_id -> orderId
      longs: Number, // int64 times and sequences fit in a double
      enums: String,
      defaults: true,
      oneofs: true,
    });
    services.set(protoPath, grpc.loadPackageDefinition(definition).oms.OrderService);
  }
  return services.get(protoPath);
}

function channelCredentials(tls) {
  if (!tls) return grpc.credentials.createInsecure();
  if (tls === true) return grpc.credentials.createSsl();
  const pem = (value) => (value == null ? null : Buffer.from(value));
  return grpc.credentials.createSsl(pem(tls.rootCerts), pem(tls.privateKey), pem(tls.certChain));
}

function withCodeName(err) {
  if (err && err.code !== undefined && err.codeName === undefined) err.codeName = CODE_NAMES[err.code] || String(err.code);
  return err;
}

// An error shaped like grpc-js's own: message "CODE NAME: details", plus code, details, codeName.
function statusError({ code, details, metadata }) {
  const err = new Error(`${code} ${CODE_NAMES[code]}: ${details}`);
  Object.assign(err, { code, details, metadata });
  return withCodeName(err);
}

function invalidArgument(details) {
  return statusError({ code: grpc.status.INVALID_ARGUMENT, details });
}

// Unix milliseconds when the server sent them, else the original fields' seconds.
function toDate(ms, seconds) {
  if (ms) return new Date(ms);
  if (seconds) return new Date(seconds * 1000);
  return null;
}

function toOrder(o) {
  if (!o) return null;
  return {
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    exchangeOrderId: o.exchangeOrderId,
    accountId: o.accountId,
    exchange: o.exchange,
    market: o.market,
    symbol: o.symbol,
    side: o.side,
    orderType: o.orderType,
    timeInForce: o.timeInForce,
    reduceOnly: o.reduceOnly,
    postOnly: o.postOnly,
    leverage: o.leverage,
    quantity: o.quantity,
    price: o.price,
    filledQuantity: o.filledQuantity,
    averagePrice: o.averagePrice,
    quantityDecimal: o.quantityDecimal,
    priceDecimal: o.priceDecimal,
    filledQuantityDecimal: o.filledQuantityDecimal,
    averagePriceDecimal: o.averagePriceDecimal,
    stopPrice: o.stopPrice,
    stopPriceDecimal: o.stopPriceDecimal,
    triggeredAt: toDate(o.triggeredAtMs, 0),
    cumulativeFee: o.cumulativeFee,
    feeAsset: o.feeAsset,
    status: o.status,
    reason: o.reason,
    version: o.version,
    createdAt: toDate(o.createdAtMs, o.createdAt),
    updatedAt: toDate(o.updatedAtMs, o.updatedAt),
  };
}

function toPriceUpdate(u) {
  return {
    exchange: u.exchange,
    market: u.market,
    symbol: u.symbol,
    bidPrice: u.bidPrice,
    bidQuantity: u.bidQuantity,
    askPrice: u.askPrice,
    askQuantity: u.askQuantity,
    lastPrice: u.lastPrice,
    timestamp: toDate(u.timestampMs, u.timestamp),
  };
}

// Position: side..pnlPercentage are the ledger's when source is 'ledger', the venue's for a position traded outside
// the OMS; venue* is what the venue last reported (venueSide '' when it reports none).
function toPosition(p) {
  return {
    accountId: p.accountId,
    exchange: p.exchange,
    market: p.market,
    symbol: p.symbol,
    source: p.source,
    side: p.side,
    size: p.size,
    entryPrice: p.entryPrice,
    markPrice: p.markPrice,
    unrealizedPnl: p.unrealizedPnl,
    pnlPercentage: p.pnlPercentage,
    leverage: p.leverage,
    margin: p.margin,
    liquidationPrice: p.liquidationPrice,
    realizedPnl: p.realizedPnl,
    fees: p.fees,
    otherFees: { ...p.otherFees },
    funding: p.funding,
    venueSide: p.venueSide,
    venueSize: p.venueSize,
    venueEntryPrice: p.venueEntryPrice,
    sizeDecimal: p.sizeDecimal,
    entryPriceDecimal: p.entryPriceDecimal,
    markPriceDecimal: p.markPriceDecimal,
    unrealizedPnlDecimal: p.unrealizedPnlDecimal,
    pnlPercentageDecimal: p.pnlPercentageDecimal,
    realizedPnlDecimal: p.realizedPnlDecimal,
    feesDecimal: p.feesDecimal,
    fundingDecimal: p.fundingDecimal,
    venueSizeDecimal: p.venueSizeDecimal,
    venueEntryPriceDecimal: p.venueEntryPriceDecimal,
    updatedAt: toDate(p.updatedAtMs, 0),
  };
}

function toHolding(h) {
  return {
    accountId: h.accountId,
    exchange: h.exchange,
    asset: h.asset,
    quoteAsset: h.quoteAsset,
    quantity: h.quantity,
    averageCost: h.averageCost,
    realizedPnl: h.realizedPnl,
    fees: h.fees,
    otherFees: { ...h.otherFees },
    lastPrice: h.lastPrice,
    unrealizedPnl: h.unrealizedPnl,
    pnlPercentage: h.pnlPercentage,
    quantityDecimal: h.quantityDecimal,
    averageCostDecimal: h.averageCostDecimal,
    realizedPnlDecimal: h.realizedPnlDecimal,
    feesDecimal: h.feesDecimal,
    lastPriceDecimal: h.lastPriceDecimal,
    unrealizedPnlDecimal: h.unrealizedPnlDecimal,
    pnlPercentageDecimal: h.pnlPercentageDecimal,
  };
}

function toPnlRow(r) {
  return {
    key: r.key,
    realizedPnl: r.realizedPnl,
    fees: r.fees,
    otherFees: { ...r.otherFees },
    funding: r.funding,
    netPnl: r.netPnl,
    unrealizedPnl: r.unrealizedPnl,
    volume: r.volume,
    tradeCount: r.tradeCount,
    realizedPnlDecimal: r.realizedPnlDecimal,
    feesDecimal: r.feesDecimal,
    fundingDecimal: r.fundingDecimal,
    netPnlDecimal: r.netPnlDecimal,
    unrealizedPnlDecimal: r.unrealizedPnlDecimal,
    volumeDecimal: r.volumeDecimal,
  };
}

const DURATION_MS = { m: 60000, h: 3600000, d: 86400000, w: 7 * 86400000 };

// ms since 1970 of a Date, ms, a duration back from now ('24h', '7d') or an ISO time; empty is 0 (server default).
function timeMs(name, value) {
  if (value === undefined || value === null || value === '') return 0;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const text = String(value).trim();
  const duration = /^(\d+)([mhdw])$/.exec(text);
  if (duration) return Date.now() - Number(duration[1]) * DURATION_MS[duration[2]];
  if (/^\d+$/.test(text)) return Number(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) {
    throw invalidArgument(`${name}: must be a Date, ms since 1970, a duration like 24h or 7d, or an ISO time, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

function toOrderUpdate(u) {
  return {
    order: toOrder(u.order),
    updateType: u.updateType,
    sequence: u.sequence,
    eventKind: u.eventKind,
    at: toDate(u.atMs, 0),
  };
}

// A number or a decimal string, sent as the double of the original field plus the exact string.
function decimalField(name, value, required) {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalidArgument(`${name}: is required`);
    return { number: 0, exact: '' };
  }
  const number = typeof value === 'string' ? Number(value.trim()) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || (typeof value === 'string' && value.trim() === '')) {
    throw invalidArgument(`${name}: must be a number or a decimal string, got ${JSON.stringify(value)}`);
  }
  return { number, exact: typeof value === 'string' ? value.trim() : String(value) };
}

// A PlaceOrderRequest from placeOrder's params (one order of placeOrders too).
function placementRequest(params = {}) {
  const quantity = decimalField('quantity', params.quantity, true);
  const price = decimalField('price', params.price, false);
  const stopPrice = decimalField('stopPrice', params.stopPrice, false);
  return {
    symbol: requiredString('symbol', params.symbol),
    side: requiredString('side', params.side).toUpperCase(),
    orderType: (params.orderType || 'LIMIT').toUpperCase(),
    quantity: quantity.number,
    quantityDecimal: quantity.exact,
    price: price.number,
    priceDecimal: price.exact,
    stopPrice: stopPrice.number,
    stopPriceDecimal: stopPrice.exact,
    exchange: params.exchange || '',
    market: params.market || '',
    accountId: params.accountId || '',
    leverage: params.leverage || 0,
    clientOrderId: params.clientOrderId || '',
    timeInForce: params.timeInForce || '',
    reduceOnly: Boolean(params.reduceOnly),
    postOnly: Boolean(params.postOnly),
  };
}

function toBatch(response) {
  return {
    results: response.results.map((r) => (r.ok
      ? { index: r.index, ok: true, order: toOrder(r.order) }
      : { index: r.index, ok: false, error: { code: r.errorCode, message: r.errorMessage, field: r.errorField } })),
    accepted: response.accepted,
    refused: response.refused,
  };
}

function requiredString(name, value) {
  if (typeof value !== 'string' || value === '') throw invalidArgument(`${name}: is required`);
  return value;
}

/**
 * A running stream. Emits 'update' (each update, also passed to the callback), 'reconnecting'
 * ({ attempt, delayMs, error }), 'reconnected', 'error' (a permanent failure: the stream has
 * stopped) and 'end'. `cancel()` stops it; `done` resolves when it has stopped (to the error, if any).
 */
class Subscription extends EventEmitter {
  constructor({ open, transform, reconnect, onStopped }) {
    super();
    this._open = open;
    this._transform = transform;
    this._reconnect = { ...DEFAULT_RECONNECT, ...reconnect };
    this._onStopped = onStopped;
    this._call = null;
    this._timer = null;
    this._attempt = 0;
    this.cancelled = false;
    this.done = new Promise((resolve) => {
      this._resolveDone = resolve;
    });
    // Opened on the next tick, so listeners attached right after construction see everything.
    process.nextTick(() => this._start(false));
  }

  cancel() {
    if (this.cancelled) return;
    clearTimeout(this._timer);
    const call = this._call;
    this._stop(null);
    if (call) call.cancel();
  }

  _start(isReconnect) {
    if (this.cancelled) return;
    const call = this._open();
    this._call = call;
    let connected = false;
    const markConnected = () => {
      if (connected) return;
      connected = true;
      this._attempt = 0;
      if (isReconnect) this.emit('reconnected');
    };
    call.on('metadata', markConnected);
    call.on('data', (message) => {
      if (this.cancelled || call !== this._call) return;
      markConnected();
      const update = this._transform(message);
      if (update) this.emit('update', update);
    });
    call.on('error', () => {}); // the outcome is handled once, from 'status'
    call.on('status', (status) => {
      if (this.cancelled || call !== this._call) return;
      this._call = null;
      if (status.code === grpc.status.OK || TRANSIENT_CODES.has(status.code)) {
        this._scheduleReconnect(status);
      } else {
        this._stop(statusError(status));
      }
    });
  }

  _scheduleReconnect(status) {
    const { initialDelayMs, maxDelayMs, maxAttempts } = this._reconnect;
    const error = status.code === grpc.status.OK
      ? statusError({ code: grpc.status.UNAVAILABLE, details: 'server ended the stream' })
      : statusError(status);
    this._attempt += 1;
    if (this._attempt > maxAttempts) {
      this._stop(error);
      return;
    }
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (this._attempt - 1));
    const delayMs = Math.round(base / 2 + Math.random() * base);
    this.emit('reconnecting', { attempt: this._attempt, delayMs, error });
    this._timer = setTimeout(() => this._start(true), delayMs);
  }

  _stop(error) {
    this.cancelled = true;
    this._call = null;
    this._onStopped(this);
    if (error) {
      // An 'error' event without listeners would throw inside grpc's callbacks; warn instead.
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(`OMS stream stopped: ${error.message}`);
    }
    this.emit('end');
    this._resolveDone(error);
  }
}

class OMSClient {
  /**
   * @param {string} [address] host:port of the OMS gRPC server (default localhost:50051)
   * @param {object} [options] token (default $OMS_TOKEN), tls (true, or { rootCerts, privateKey,
   *   certChain } as PEM), timeoutMs (per call, default 10000), reconnect ({ initialDelayMs,
   *   maxDelayMs, maxAttempts }), protoPath, channelOptions
   */
  constructor(address = DEFAULT_ADDRESS, options = {}) {
    const OrderService = loadService(options.protoPath || DEFAULT_PROTO_PATH);
    this.address = address;
    this.timeoutMs = options.timeoutMs || DEFAULT_TIMEOUT_MS;
    this._token = options.token !== undefined ? options.token : process.env.OMS_TOKEN || '';
    this._reconnect = options.reconnect || {};
    this._stub = new OrderService(address, channelCredentials(options.tls), { ...KEEPALIVE, ...options.channelOptions });
    this._subscriptions = new Set();
  }

  _metadata() {
    const metadata = new grpc.Metadata();
    if (this._token) metadata.set('authorization', `Bearer ${this._token}`);
    return metadata;
  }

  _unary(method, request) {
    return new Promise((resolve, reject) => {
      this._stub[method](request, this._metadata(), { deadline: Date.now() + this.timeoutMs }, (err, response) => {
        if (err) reject(withCodeName(err));
        else resolve(response);
      });
    });
  }

  /** Places an order; resolves to { orderId, exchangeOrderId, status, createdAt, reason, order }. */
  async placeOrder(params = {}) {
    const response = await this._unary('placeOrder', placementRequest(params));
    return {
      orderId: response.orderId,
      exchangeOrderId: response.exchangeOrderId,
      status: response.status,
      createdAt: toDate(response.createdAtMs, response.createdAt),
      reason: response.reason,
      order: toOrder(response.order),
    };
  }

  /**
   * Places up to 50 orders in one call, each on its own (placeOrder's params per order); resolves to
   * { results: [{ index, ok, order } | { index, ok: false, error: { code, message, field } }], accepted, refused }.
   * A refused order leaves the others placed; a batch of none or more than 50 rejects whole (INVALID_ARGUMENT).
   */
  async placeOrders(orders) {
    if (!Array.isArray(orders)) throw invalidArgument('orders: must be an array of orders');
    return toBatch(await this._unary('placeOrders', { orders: orders.map(placementRequest) }));
  }

  /** Asks to cancel up to 50 orders by id; resolves to a result per id, as placeOrders. */
  async cancelOrders(orderIds) {
    if (!Array.isArray(orderIds)) throw invalidArgument('orderIds: must be an array of order ids');
    return toBatch(await this._unary('cancelOrders', { orderIds: orderIds.map(String) }));
  }

  /** Cancels every working order of an account (one symbol if given); resolves to the orders now pending cancel. */
  async cancelAllOrders(params = {}) {
    const response = await this._unary('cancelAllOrders', {
      accountId: params.accountId || '',
      symbol: params.symbol || '',
      exchange: params.exchange || '',
    });
    return response.orders.map(toOrder);
  }

  /** Asks to cancel an order; resolves to { orderId, status, cancelledAt, order }. */
  async cancelOrder(orderId) {
    const id = requiredString('orderId', typeof orderId === 'object' && orderId ? orderId.orderId : orderId);
    const response = await this._unary('cancelOrder', { orderId: id });
    return {
      orderId: response.orderId,
      status: response.status,
      cancelledAt: toDate(response.cancelledAtMs, response.cancelledAt),
      order: toOrder(response.order),
    };
  }

  /**
   * A working LIMIT order's new price and/or quantity (futures: either; spot: a quantity decrease only); the order
   * keeps its ids. Resolves to { order, amendPending }: amendPending means no venue answer yet, and the order
   * stream tells the outcome (AMENDED or AMEND_REFUSED). Never retried: the OMS settles a lost venue answer.
   */
  async amendOrder(params = {}) {
    const price = decimalField('price', params.price, false);
    const quantity = decimalField('quantity', params.quantity, false);
    const response = await this._unary('amendOrder', {
      orderId: requiredString('orderId', params.orderId),
      price: price.number,
      priceDecimal: price.exact,
      quantity: quantity.number,
      quantityDecimal: quantity.exact,
    });
    return { order: toOrder(response.order), amendPending: response.amendPending };
  }

  /** Resolves to the complete order. */
  async getOrder(orderId) {
    const id = requiredString('orderId', typeof orderId === 'object' && orderId ? orderId.orderId : orderId);
    const response = await this._unary('getOrder', { orderId: id });
    return toOrder(response.order);
  }

  /**
   * Resolves to an array of orders, newest first. Filters: status ('OPEN' = every working order),
   * symbol, exchange, accountId, market; paging: limit, pageToken (the array's nextPageToken).
   */
  async listOrders(filters = {}) {
    const response = await this._unary('listOrders', {
      status: filters.status || '',
      symbol: filters.symbol || '',
      exchange: filters.exchange || '',
      accountId: filters.accountId || '',
      market: filters.market || '',
      limit: filters.limit || 0,
      pageToken: filters.pageToken || '',
    });
    const orders = response.orders.map(toOrder);
    orders.nextPageToken = response.nextPageToken;
    return orders;
  }

  /** Resolves to { ASSET: { free, locked, total, freeDecimal, lockedDecimal, updatedAt } }. */
  async getBalance(params = {}) {
    const response = await this._unary('getBalance', {
      exchange: params.exchange || '',
      market: params.market || '',
      accountId: params.accountId || '',
    });
    const balances = {};
    for (const b of response.balances) {
      balances[b.asset] = {
        free: b.free,
        locked: b.locked,
        total: b.total || b.free + b.locked,
        freeDecimal: b.freeDecimal,
        lockedDecimal: b.lockedDecimal,
        updatedAt: toDate(b.updatedAtMs, 0),
      };
    }
    return balances;
  }

  /** Resolves to an array of open positions: the ledger's figures beside the venue's (params: exchange, accountId, symbol). */
  async getPositions(params = {}) {
    return (await this._positions(params)).positions.map(toPosition);
  }

  /** Resolves to the spot holdings with their average cost (params: exchange, accountId). */
  async getHoldings(params = {}) {
    return (await this._positions({ ...params, symbol: '' })).holdings.map(toHolding);
  }

  _positions(params) {
    return this._unary('getPositions', { exchange: params.exchange || '', accountId: params.accountId || '', symbol: params.symbol || '' });
  }

  /**
   * Resolves to the profit and loss of the ledger's fills and funding: { rows, total, since, until, groupBy,
   * accountIds }. params: since, until (Date, ms, a duration back from now like '24h' or '7d', or an ISO time;
   * default today 00:00 UTC to now), groupBy ('day' | 'symbol'), accountId (default every account you may see),
   * exchange.
   */
  async getPnl(params = {}) {
    const response = await this._unary('getPnL', {
      exchange: params.exchange || '',
      accountId: params.accountId || '',
      sinceMs: timeMs('since', params.since),
      untilMs: timeMs('until', params.until),
      groupBy: params.groupBy || '',
    });
    return {
      rows: response.rows.map(toPnlRow),
      total: toPnlRow(response.total || {}),
      since: toDate(response.sinceMs, 0),
      until: toDate(response.untilMs, 0),
      groupBy: response.groupBy,
      accountIds: response.accountIds,
    };
  }

  /**
   * Resolves to candles of one instrument, oldest first (the last still open), read by the OMS from the venue:
   * [{ openTime: Date, openTimeMs, closeTimeMs, open, high, low, close, volume, openDecimal, ... volumeDecimal }].
   * params: symbol (required), interval ('1m' .. '1M', default '1m'), limit (1..1000, default 500),
   * since (Date or ms: the first open time wanted; default the latest), exchange, market.
   */
  async getCandles(params = {}) {
    const since = params.since instanceof Date ? params.since.getTime() : Number(params.since || 0);
    const response = await this._unary('getCandles', {
      exchange: params.exchange || '',
      market: params.market || '',
      symbol: params.symbol || '',
      interval: params.interval || '1m',
      sinceMs: since,
      limit: params.limit || 0,
    });
    return response.candles.map((c) => ({
      openTime: new Date(c.openTimeMs),
      openTimeMs: c.openTimeMs,
      closeTimeMs: c.closeTimeMs,
      open: c.open,
      high: c.high,
      low: c.low,
      close: c.close,
      volume: c.volume,
      openDecimal: c.openDecimal,
      highDecimal: c.highDecimal,
      lowDecimal: c.lowDecimal,
      closeDecimal: c.closeDecimal,
      volumeDecimal: c.volumeDecimal,
    }));
  }

  /**
   * Streams prices of `symbols` (empty = all) to `onUpdate({ symbol, lastPrice, bidPrice, ... })`.
   * options: exchange, market, onError, reconnect. Returns a Subscription (cancel() to stop).
   */
  streamPrices(symbols = [], onUpdate = undefined, options = {}) {
    const request = { symbols: symbols || [], exchange: options.exchange || '', market: options.market || '' };
    return this._subscribe(() => this._stub.streamPrices(request, this._metadata()), toPriceUpdate, onUpdate, options);
  }

  /**
   * Streams order updates ({ order, updateType, sequence, eventKind, at }) to `onUpdate`.
   * options: accountId (empty = every account the caller may see), sinceSequence (replay
   * updates after it first), onError, reconnect. After a reconnect it resumes after the last
   * delivered update. Returns a Subscription (cancel() to stop).
   */
  streamOrders(onUpdate = undefined, options = {}) {
    let last = options.sinceSequence || 0;
    // Updates can arrive out of sequence order, and a resume replays those that committed after `last` with
    // lower sequences too: "already delivered" is membership in the recent sequences, not "at most last".
    const delivered = new Set();
    const open = () => this._stub.streamOrders({ accountId: options.accountId || '', sinceSequence: last }, this._metadata());
    const transform = (message) => {
      if (message.sequence) {
        if (delivered.has(message.sequence)) return null; // delivered before the reconnect
        delivered.add(message.sequence);
        if (delivered.size > RECENT_SEQUENCES) delivered.delete(delivered.values().next().value);
        last = Math.max(last, message.sequence);
      }
      return toOrderUpdate(message);
    };
    return this._subscribe(open, transform, onUpdate, options);
  }

  _subscribe(open, transform, onUpdate, options) {
    const subscription = new Subscription({
      open,
      transform,
      reconnect: { ...this._reconnect, ...options.reconnect },
      onStopped: (stopped) => this._subscriptions.delete(stopped),
    });
    if (onUpdate) subscription.on('update', onUpdate);
    if (options.onError) subscription.on('error', options.onError);
    this._subscriptions.add(subscription);
    return subscription;
  }

  /** Stops every stream and closes the connection. */
  close() {
    for (const subscription of [...this._subscriptions]) subscription.cancel();
    this._stub.close();
  }
}

module.exports = OMSClient;
module.exports.OMSClient = OMSClient;
module.exports.status = grpc.status;
