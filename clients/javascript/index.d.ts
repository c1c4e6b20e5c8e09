// Type declarations for the OMS Node.js SDK (oms-client.js).
import { EventEmitter } from 'events';

declare namespace OMSClient {
  type Side = 'BUY' | 'SELL';
  type OrderType = 'LIMIT' | 'MARKET' | 'STOP_MARKET' | 'STOP_LIMIT' | 'TAKE_PROFIT_MARKET' | 'TAKE_PROFIT_LIMIT';
  type Market = 'spot' | 'futures';
  type OrderStatus =
    | 'PENDING_NEW' | 'NEW' | 'PARTIALLY_FILLED' | 'PENDING_CANCEL'
    | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';
  type UpdateType = 'NEW' | 'UPDATE' | 'FILLED' | 'CANCELLED' | 'REJECTED' | 'EXPIRED';

  interface TlsOptions {
    /** PEM of the CA certificates to trust (default: the system's). */
    rootCerts?: string | Buffer;
    /** PEM of a client key and certificate, for mutual TLS. */
    privateKey?: string | Buffer;
    certChain?: string | Buffer;
  }

  interface ReconnectOptions {
    initialDelayMs?: number; // default 500
    maxDelayMs?: number; // default 15000
    maxAttempts?: number; // default Infinity
  }

  interface ClientOptions {
    /** Bearer token (default: $OMS_TOKEN). */
    token?: string;
    /** true for TLS with the system's CAs, or PEM material. */
    tls?: boolean | TlsOptions;
    /** Deadline of each call (default 10000). */
    timeoutMs?: number;
    reconnect?: ReconnectOptions;
    /** Where oms.proto is (default: ../../proto/oms.proto from the SDK). */
    protoPath?: string;
    channelOptions?: Record<string, string | number>;
  }

  /** A rejected call: grpc-js's error plus the code's name. */
  interface OMSError extends Error {
    code: number;
    codeName: string; // e.g. 'INVALID_ARGUMENT'
    details: string;
  }

  interface Order {
    orderId: string;
    clientOrderId: string;
    exchangeOrderId: string;
    accountId: string;
    exchange: string;
    market: Market | string;
    symbol: string;
    side: Side;
    orderType: OrderType;
    timeInForce: string;
    reduceOnly: boolean;
    postOnly: boolean;
    leverage: number;
    quantity: number;
    price: number;
    filledQuantity: number;
    averagePrice: number;
    /** Exact decimal strings of the numbers above ('' when not set). */
    quantityDecimal: string;
    priceDecimal: string;
    filledQuantityDecimal: string;
    averagePriceDecimal: string;
    /** Conditional types: the trigger price (0 / '' otherwise), and when the venue triggered it (null while armed). */
    stopPrice: number;
    stopPriceDecimal: string;
    triggeredAt: Date | null;
    cumulativeFee: number;
    feeAsset: string;
    status: OrderStatus;
    reason: string;
    version: number;
    createdAt: Date | null;
    updatedAt: Date | null;
  }

  interface PlaceOrderParams {
    symbol: string;
    side: Side | string;
    /** A number, or a decimal string sent exactly. */
    quantity: number | string;
    price?: number | string;
    /** Trigger price of STOP_MARKET, STOP_LIMIT, TAKE_PROFIT_MARKET, TAKE_PROFIT_LIMIT (spot). */
    stopPrice?: number | string;
    orderType?: OrderType | string; // default 'LIMIT'
    exchange?: string; // server default 'binance'
    market?: Market | string; // server default 'spot'
    accountId?: string; // server default 'main'
    leverage?: number;
    /** Idempotency key: placing the same id again returns the first order. */
    clientOrderId?: string;
    timeInForce?: 'GTC' | 'IOC' | 'FOK' | string;
    reduceOnly?: boolean;
    postOnly?: boolean;
  }

  interface PlaceOrderResult {
    orderId: string;
    exchangeOrderId: string;
    status: OrderStatus;
    createdAt: Date | null;
    reason: string;
    order: Order | null;
  }

  interface AmendOrderParams {
    orderId: string;
    /** The new limit price (futures); a number, or a decimal string sent exactly. Omitted or 0: unchanged. */
    price?: number | string;
    /** The new quantity, above what already filled (spot: a decrease only). Omitted or 0: unchanged. */
    quantity?: number | string;
  }

  interface AmendOrderResult {
    order: Order | null;
    /** No venue answer within the wait: the order stream tells the outcome (AMENDED or AMEND_REFUSED). */
    amendPending: boolean;
  }

  interface CancelOrderResult {
    orderId: string;
    status: OrderStatus;
    cancelledAt: Date | null;
    order: Order | null;
  }

  /** One order of a batch: placed (or cancelled), or refused with the error the single call would raise. */
  type BatchItem =
    | { index: number; ok: true; order: Order }
    | { index: number; ok: false; error: { code: string; message: string; field: string } };

  interface BatchResult {
    /** One per order, in the request's order. */
    results: BatchItem[];
    accepted: number;
    refused: number;
  }

  interface CancelAllParams {
    accountId?: string; // server default 'main'
    symbol?: string; // default every symbol
    exchange?: string; // default the account's
  }

  interface ListOrdersFilters {
    /** A status, or 'OPEN' for every working order. */
    status?: OrderStatus | 'OPEN' | string;
    symbol?: string;
    exchange?: string;
    accountId?: string;
    market?: Market | string;
    limit?: number;
    pageToken?: string;
  }

  type OrderList = Order[] & { nextPageToken: string };

  interface BalanceParams {
    exchange?: string;
    market?: Market | string;
    accountId?: string;
  }

  interface AssetBalance {
    free: number;
    locked: number;
    total: number;
    freeDecimal: string;
    lockedDecimal: string;
    updatedAt: Date | null;
  }

  /** side..pnlPercentage are the ledger's when source is 'ledger', the venue's for a position traded outside the OMS. */
  interface Position {
    accountId: string;
    exchange: string;
    market: Market | string;
    symbol: string;
    source: 'ledger' | 'venue' | string;
    side: 'LONG' | 'SHORT' | 'FLAT' | string;
    size: number;
    entryPrice: number;
    markPrice: number;
    unrealizedPnl: number;
    pnlPercentage: number;
    leverage: number;
    margin: number;
    liquidationPrice: number;
    /** Quote, before fees and funding. */
    realizedPnl: number;
    fees: number;
    /** Fees in other assets, as charged: asset -> exact decimal string. */
    otherFees: Record<string, string>;
    /** Quote, received positive. */
    funding: number;
    /** The venue's last report ('' when it reports none). */
    venueSide: 'LONG' | 'SHORT' | 'FLAT' | '' | string;
    venueSize: number;
    venueEntryPrice: number;
    /** Exact decimal strings of the numbers above (pnlPercentageDecimal '' when unknown). */
    sizeDecimal: string;
    entryPriceDecimal: string;
    markPriceDecimal: string;
    unrealizedPnlDecimal: string;
    pnlPercentageDecimal: string;
    realizedPnlDecimal: string;
    feesDecimal: string;
    fundingDecimal: string;
    venueSizeDecimal: string;
    venueEntryPriceDecimal: string;
    updatedAt: Date | null;
  }

  interface Holding {
    accountId: string;
    exchange: string;
    asset: string;
    /** What averageCost and the PnL are in. */
    quoteAsset: string;
    quantity: number;
    averageCost: number;
    realizedPnl: number;
    fees: number;
    otherFees: Record<string, string>;
    /** 0 (and '' below) when no price is known. */
    lastPrice: number;
    unrealizedPnl: number;
    pnlPercentage: number;
    quantityDecimal: string;
    averageCostDecimal: string;
    realizedPnlDecimal: string;
    feesDecimal: string;
    lastPriceDecimal: string;
    unrealizedPnlDecimal: string;
    pnlPercentageDecimal: string;
  }

  interface PnlRow {
    /** '' for the total, 'YYYY-MM-DD' for a UTC day, the symbol for a symbol. */
    key: string;
    realizedPnl: number;
    fees: number;
    otherFees: Record<string, string>;
    funding: number;
    /** realized - fees + funding */
    netPnl: number;
    /** The open positions' now (the total and per-symbol rows; 0 per day). */
    unrealizedPnl: number;
    /** Quote notional traded. */
    volume: number;
    tradeCount: number;
    realizedPnlDecimal: string;
    feesDecimal: string;
    fundingDecimal: string;
    netPnlDecimal: string;
    unrealizedPnlDecimal: string;
    volumeDecimal: string;
  }

  interface PnlReport {
    rows: PnlRow[];
    total: PnlRow;
    since: Date | null;
    until: Date | null;
    groupBy: '' | 'day' | 'symbol' | string;
    accountIds: string[];
  }

  /** A Date, ms since 1970, a duration back from now ('24h', '90m', '7d', '2w') or an ISO time. */
  type TimeArg = Date | number | string;

  interface PnlParams {
    since?: TimeArg; // default today 00:00 UTC
    until?: TimeArg; // default now
    groupBy?: 'day' | 'symbol' | '';
    accountId?: string; // default: every account the caller may see
    exchange?: string;
  }

  interface Candle {
    openTime: Date;
    openTimeMs: number;
    closeTimeMs: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    openDecimal: string;
    highDecimal: string;
    lowDecimal: string;
    closeDecimal: string;
    volumeDecimal: string;
  }

  interface PriceUpdate {
    exchange: string;
    market: string;
    symbol: string;
    bidPrice: number;
    bidQuantity: number;
    askPrice: number;
    askQuantity: number;
    lastPrice: number;
    timestamp: Date | null;
  }

  interface OrderUpdate {
    order: Order | null;
    updateType: UpdateType;
    /** Global event sequence: resume with sinceSequence. */
    sequence: number;
    eventKind: string;
    at: Date | null;
  }

  interface StreamOptions {
    onError?: (error: OMSError) => void;
    reconnect?: ReconnectOptions;
  }

  interface StreamPricesOptions extends StreamOptions {
    exchange?: string;
    market?: Market | string;
  }

  interface StreamOrdersOptions extends StreamOptions {
    accountId?: string;
    sinceSequence?: number;
  }

  interface Subscription<T> extends EventEmitter {
    readonly cancelled: boolean;
    /** Resolves once the stream has stopped: null after cancel(), else the permanent error. */
    readonly done: Promise<OMSError | null>;
    cancel(): void;
    on(event: 'update', listener: (update: T) => void): this;
    on(event: 'reconnecting', listener: (info: { attempt: number; delayMs: number; error: OMSError }) => void): this;
    on(event: 'reconnected' | 'end', listener: () => void): this;
    on(event: 'error', listener: (error: OMSError) => void): this;
  }
}

declare class OMSClient {
  constructor(address?: string, options?: OMSClient.ClientOptions);
  readonly address: string;
  timeoutMs: number;
  placeOrder(params: OMSClient.PlaceOrderParams): Promise<OMSClient.PlaceOrderResult>;
  cancelOrder(orderId: string | { orderId: string }): Promise<OMSClient.CancelOrderResult>;
  amendOrder(params: OMSClient.AmendOrderParams): Promise<OMSClient.AmendOrderResult>;
  /** Up to 50 orders, each placed on its own. */
  placeOrders(orders: OMSClient.PlaceOrderParams[]): Promise<OMSClient.BatchResult>;
  /** Up to 50 ids, each cancelled on its own. */
  cancelOrders(orderIds: string[]): Promise<OMSClient.BatchResult>;
  /** The orders now pending cancel. */
  cancelAllOrders(params?: OMSClient.CancelAllParams): Promise<OMSClient.Order[]>;
  getOrder(orderId: string | { orderId: string }): Promise<OMSClient.Order>;
  listOrders(filters?: OMSClient.ListOrdersFilters): Promise<OMSClient.OrderList>;
  getBalance(params?: OMSClient.BalanceParams): Promise<Record<string, OMSClient.AssetBalance>>;
  getPositions(params?: { exchange?: string; accountId?: string; symbol?: string }): Promise<OMSClient.Position[]>;
  getHoldings(params?: { exchange?: string; accountId?: string }): Promise<OMSClient.Holding[]>;
  getPnl(params?: OMSClient.PnlParams): Promise<OMSClient.PnlReport>;
  getCandles(params: {
    symbol: string;
    interval?: string;
    limit?: number;
    since?: Date | number;
    exchange?: string;
    market?: string;
  }): Promise<OMSClient.Candle[]>;
  streamPrices(
    symbols?: string[],
    onUpdate?: (update: OMSClient.PriceUpdate) => void,
    options?: OMSClient.StreamPricesOptions,
  ): OMSClient.Subscription<OMSClient.PriceUpdate>;
  streamOrders(
    onUpdate?: (update: OMSClient.OrderUpdate) => void,
    options?: OMSClient.StreamOrdersOptions,
  ): OMSClient.Subscription<OMSClient.OrderUpdate>;
  /** Stops every stream and closes the connection. */
  close(): void;
  static OMSClient: typeof OMSClient;
  static status: Record<string, number>;
}

export = OMSClient;
