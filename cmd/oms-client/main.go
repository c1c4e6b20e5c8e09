// Command oms-client places, cancels and watches orders on an OMS gRPC server.
//
// It is a single file so that `go build -o bin/oms-client cmd/oms-client/main.go` builds it as well as
// `go build ./cmd/oms-client`. Global flags (-server, -timeout, -token, -tls, -ca) go before or after
// the command. Exit status: 0 ok, 1 the call failed (the gRPC code and details are printed), 2 bad usage.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"oms/proto/omspb"
)

const usageText = `usage: oms-client [global flags] <command> [flags] [global flags]

commands:
  place          -symbol BTCUSDT -side BUY|SELL -quantity 0.001 [-price 115000] [-type LIMIT|MARKET|STOP_MARKET|
                 STOP_LIMIT|TAKE_PROFIT_MARKET|TAKE_PROFIT_LIMIT] [-stop-price 95000]
                 [-market spot|futures] [-leverage 10] [-exchange binance] [-account main]
                 [-client-id ID] [-tif GTC|IOC|FOK] [-post-only] [-reduce-only]
  cancel         -id ORDER_ID
  amend          -id ORDER_ID [-price P] [-quantity Q]  a working LIMIT order's new price and/or quantity
                 (futures: either; spot: a quantity decrease only); the order keeps its ids
  place-batch    [-file orders.json|-]  up to 50 orders, a JSON list of objects with the keys symbol, side,
                 quantity, price, stop_price, order_type, market, leverage, exchange, account_id, client_order_id,
                 time_in_force, post_only, reduce_only (numbers as strings keep every digit); stdin by default
  cancel-all     [-account main] [-symbol BTCUSDT] [-exchange binance]
  get-order      -id ORDER_ID
  list-orders    [-status OPEN|NEW|FILLED|CANCELLED|...] [-symbol BTCUSDT] [-exchange E] [-account A]
                 [-market M] [-limit N] [-page-token T]
  balance        [-exchange binance] [-market spot|futures] [-account A]
  positions      [-exchange binance] [-account A] [-symbol BTCUSDT]
  pnl            [-since 24h|7d|RFC3339|MS] [-until ...] [-group-by day|symbol] [-account A] [-exchange E]
  stream-prices  [-symbols BTCUSDT,ETHUSDT,XRPUSDT] [-exchange E] [-market M] [-count N]
  stream-orders  [-account A] [-since SEQUENCE] [-count N]
  candles        -symbol BTCUSDT [-interval 1m] [-limit 100] [-since MS|RFC3339] [-market spot|futures]
                 [-exchange binance]

global flags:
  -server host:port  server address (default $OMS_SERVER or localhost:50051)
  -timeout 10s       deadline of each call (streams have none)
  -token TOKEN       bearer token (default $OMS_TOKEN)
  -tls               connect with TLS, trusting the system's CAs
  -ca FILE           connect with TLS, trusting the CA certificates in this PEM file

Empty -exchange/-market/-account let the server pick its defaults (binance, spot, main).
Streams stop on Ctrl-C and reconnect with backoff when the connection drops;
stream-orders resumes after the last update it printed.
`

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	var uerr usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usageText)
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "oms-client: %s (see oms-client -h)\n", oneLine(uerr.msg))
		return 2
	default:
		fmt.Fprintf(stderr, "error: %s\n", describe(err))
		return 1
	}
}

// describe renders an error on one line; gRPC errors as "CODE: details".
func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return codeName(s.Code()) + ": " + oneLine(s.Message())
	}
	return oneLine(err.Error())
}

// codeName spells a gRPC code the canonical way (INVALID_ARGUMENT), as the other clients print it.
func codeName(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// globals are the connection flags, accepted before and after the command.
type globals struct {
	server  string
	timeout time.Duration
	token   string
	tls     bool
	ca      string
}

// register adds the global flags to fs with their current values as defaults, so flags given
// before the command survive the command's own flag set.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.server, "server", g.server, "server address host:port")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "deadline of each call")
	fs.StringVar(&g.token, "token", g.token, "bearer token")
	fs.BoolVar(&g.tls, "tls", g.tls, "use TLS")
	fs.StringVar(&g.ca, "ca", g.ca, "PEM file of CA certificates to trust (implies -tls)")
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported once, on one line, by run
	return fs
}

// session is what a command runs with: a connected client and where to write.
type session struct {
	ctx    context.Context // cancelled on Ctrl-C
	g      *globals
	client omspb.OrderServiceClient
	out    io.Writer
	errOut io.Writer
}

type command struct {
	// flags registers the command's flags and returns the function that runs it.
	flags func(fs *flag.FlagSet) func(s *session) error
}

var commands = map[string]command{
	"place":         {placeFlags},
	"cancel":        {cancelFlags},
	"amend":         {amendFlags},
	"place-batch":   {placeBatchFlags},
	"cancel-all":    {cancelAllFlags},
	"get-order":     {getOrderFlags},
	"list-orders":   {listOrdersFlags},
	"balance":       {balanceFlags},
	"positions":     {positionsFlags},
	"stream-prices": {streamPricesFlags},
	"stream-orders": {streamOrdersFlags},
	"candles":       {candlesFlags},
	"pnl":           {pnlFlags},
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	g := &globals{server: envOr("OMS_SERVER", "localhost:50051"), timeout: 10 * time.Second, token: os.Getenv("OMS_TOKEN")}
	top := newFlagSet("oms-client")
	g.register(top)
	if err := top.Parse(args); err != nil {
		return flagError(err)
	}
	if top.NArg() == 0 {
		return usageError{"missing command"}
	}
	name := top.Arg(0)
	cmd, ok := commands[name]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q", name)}
	}
	fs := newFlagSet(name)
	g.register(fs)
	runCmd := cmd.flags(fs)
	if err := fs.Parse(top.Args()[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", name, fs.Arg(0))}
	}
	if err := checkRequired(fs, name); err != nil {
		return err
	}
	if g.timeout <= 0 {
		return usageError{"-timeout must be positive"}
	}

	conn, err := dial(g)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runCmd(&session{ctx: ctx, g: g, client: omspb.NewOrderServiceClient(conn), out: stdout, errOut: stderr})
}

func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err.Error()}
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// required lists, per command, the flags that must be given.
var required = map[string][]string{
	"place":     {"symbol", "side", "quantity"},
	"cancel":    {"id"},
	"amend":     {"id"},
	"get-order": {"id"},
	"candles":   {"symbol"},
}

func checkRequired(fs *flag.FlagSet, name string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, f := range required[name] {
		if !given[f] {
			return usageError{fmt.Sprintf("%s: -%s is required", name, f)}
		}
	}
	return nil
}

func dial(g *globals) (*grpc.ClientConn, error) {
	creds := grpc.WithInsecure()
	if g.tls || g.ca != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if g.ca != "" {
			pem, err := os.ReadFile(g.ca)
			if err != nil {
				return nil, usageError{fmt.Sprintf("-ca: %v", err)}
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, usageError{fmt.Sprintf("-ca: no PEM certificates in %s", g.ca)}
			}
			cfg.RootCAs = pool
		}
		creds = grpc.WithTransportCredentials(credentials.NewTLS(cfg))
	}
	// Keepalive pings notice a silently dead connection, so a quiet stream reconnects instead of hanging.
	ka := grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true})
	conn, err := grpc.Dial(g.server, creds, ka, grpc.WithUserAgent("oms-client-go/0.1"))
	if err != nil {
		return nil, usageError{fmt.Sprintf("-server %q: %v", g.server, err)}
	}
	return conn, nil
}

// callContext carries the deadline (unary calls only) and the bearer token.
func (s *session) callContext(withDeadline bool) (context.Context, context.CancelFunc) {
	ctx, cancel := s.ctx, context.CancelFunc(func() {})
	if withDeadline {
		ctx, cancel = context.WithTimeout(ctx, s.g.timeout)
	}
	if s.g.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.g.token)
	}
	return ctx, cancel
}

// decimalValue is a flag holding a decimal number exactly as typed (sent as the exact decimal
// field beside the double the original wire fields carry).
type decimalValue struct {
	text  string
	value float64
}

func (d *decimalValue) String() string { return d.text }

func (d *decimalValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not a decimal number")
	}
	d.text, d.value = s, f
	return nil
}

// ---- commands ----

func placeFlags(fs *flag.FlagSet) func(s *session) error {
	var quantity, price, stopPrice decimalValue
	symbol := fs.String("symbol", "", "symbol, exchange-native (BTCUSDT)")
	side := fs.String("side", "", "BUY or SELL")
	fs.Var(&quantity, "quantity", "quantity in base asset")
	fs.Var(&price, "price", "limit price (LIMIT, STOP_LIMIT, TAKE_PROFIT_LIMIT orders)")
	fs.Var(&stopPrice, "stop-price", "trigger price of STOP_* and TAKE_PROFIT_* orders (spot)")
	orderType := fs.String("type", "LIMIT", "LIMIT, MARKET, STOP_MARKET, STOP_LIMIT, TAKE_PROFIT_MARKET or TAKE_PROFIT_LIMIT")
	market := fs.String("market", "", "spot or futures (server default: spot)")
	leverage := fs.Int("leverage", 0, "futures leverage")
	exchange := fs.String("exchange", "", "exchange (server default: binance)")
	account := fs.String("account", "", "account (server default: main)")
	clientID := fs.String("client-id", "", "your idempotency key: placing the same id again returns the first order")
	tif := fs.String("tif", "", "time in force: GTC, IOC or FOK")
	postOnly := fs.Bool("post-only", false, "LIMIT only: reject instead of taking liquidity")
	reduceOnly := fs.Bool("reduce-only", false, "futures only: only reduce a position")
	return func(s *session) error {
		if *leverage < 0 || *leverage > math.MaxInt32 {
			return usageError{"place: -leverage must be between 0 and 2147483647"}
		}
		req := &omspb.PlaceOrderRequest{
			Symbol: strings.ToUpper(*symbol), Side: strings.ToUpper(*side), OrderType: strings.ToUpper(*orderType),
			Quantity: quantity.value, QuantityDecimal: quantity.text, Price: price.value, PriceDecimal: price.text,
			StopPrice: stopPrice.value, StopPriceDecimal: stopPrice.text,
			Exchange: *exchange, Market: strings.ToLower(*market), AccountId: *account, Leverage: int32(*leverage),
			ClientOrderId: *clientID, TimeInForce: strings.ToUpper(*tif), PostOnly: *postOnly, ReduceOnly: *reduceOnly,
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.PlaceOrder(ctx, req)
		if err != nil {
			return err
		}
		if o := resp.GetOrder(); o != nil {
			printOrders(s.out, []*omspb.Order{o})
		} else {
			w := table(s.out)
			fmt.Fprintln(w, "ORDER ID\tSTATUS\tEXCHANGE ORDER ID\tCREATED")
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", resp.OrderId, resp.Status, orDash(resp.ExchangeOrderId), when(resp.CreatedAtMs, resp.CreatedAt))
			w.Flush()
		}
		if resp.Reason != "" {
			fmt.Fprintf(s.out, "reason: %s\n", oneLine(resp.Reason))
		}
		return nil
	}
}

func cancelFlags(fs *flag.FlagSet) func(s *session) error {
	id := fs.String("id", "", "order id")
	return func(s *session) error {
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.CancelOrder(ctx, &omspb.CancelOrderRequest{OrderId: *id})
		if err != nil {
			return err
		}
		w := table(s.out)
		fmt.Fprintln(w, "ORDER ID\tSTATUS\tCANCELLED")
		fmt.Fprintf(w, "%s\t%s\t%s\n", resp.OrderId, resp.Status, when(resp.CancelledAtMs, resp.CancelledAt))
		return w.Flush()
	}
}

func amendFlags(fs *flag.FlagSet) func(s *session) error {
	var quantity, price decimalValue
	id := fs.String("id", "", "order id")
	fs.Var(&price, "price", "new limit price (futures)")
	fs.Var(&quantity, "quantity", "new quantity, above what already filled (spot: a decrease only)")
	return func(s *session) error {
		if price.text == "" && quantity.text == "" {
			return usageError{"amend: give -price, -quantity or both"}
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.AmendOrder(ctx, &omspb.AmendOrderRequest{
			OrderId: *id, Price: price.value, PriceDecimal: price.text, Quantity: quantity.value,
			QuantityDecimal: quantity.text,
		})
		if err != nil {
			return err
		}
		printOrders(s.out, []*omspb.Order{resp.GetOrder()})
		if resp.AmendPending {
			fmt.Fprintln(s.out, "amend pending: no venue answer yet; stream-orders or get-order tells the outcome")
		}
		return nil
	}
}

// jsonDecimal is a number of a batch file, given as a JSON number or string and kept as written.
type jsonDecimal struct{ decimalValue }

func (d *jsonDecimal) UnmarshalJSON(b []byte) error {
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
	}
	if err := d.Set(text); err != nil {
		return fmt.Errorf("%q is %v", text, err)
	}
	return nil
}

// batchOrder is one order of a place-batch file (the keys the Python SDK's place_order takes).
type batchOrder struct {
	Symbol        string      `json:"symbol"`
	Side          string      `json:"side"`
	Quantity      jsonDecimal `json:"quantity"`
	Price         jsonDecimal `json:"price"`
	StopPrice     jsonDecimal `json:"stop_price"`
	OrderType     string      `json:"order_type"`
	Market        string      `json:"market"`
	Leverage      int32       `json:"leverage"`
	Exchange      string      `json:"exchange"`
	AccountID     string      `json:"account_id"`
	ClientOrderID string      `json:"client_order_id"`
	TimeInForce   string      `json:"time_in_force"`
	PostOnly      bool        `json:"post_only"`
	ReduceOnly    bool        `json:"reduce_only"`
}

func (o batchOrder) request() *omspb.PlaceOrderRequest {
	return &omspb.PlaceOrderRequest{
		Symbol: strings.ToUpper(o.Symbol), Side: strings.ToUpper(o.Side), OrderType: strings.ToUpper(o.OrderType),
		Quantity: o.Quantity.value, QuantityDecimal: o.Quantity.text, Price: o.Price.value, PriceDecimal: o.Price.text,
		StopPrice: o.StopPrice.value, StopPriceDecimal: o.StopPrice.text,
		Exchange: o.Exchange, Market: strings.ToLower(o.Market), AccountId: o.AccountID, Leverage: o.Leverage,
		ClientOrderId: o.ClientOrderID, TimeInForce: strings.ToUpper(o.TimeInForce), PostOnly: o.PostOnly, ReduceOnly: o.ReduceOnly,
	}
}

// readBatch reads a JSON list of orders; unknown keys are refused, so a typo never places a different order.
func readBatch(path string, stdin io.Reader) ([]*omspb.PlaceOrderRequest, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageError{fmt.Sprintf("place-batch: %v", err)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var orders []batchOrder
	if err := dec.Decode(&orders); err != nil {
		return nil, usageError{fmt.Sprintf("place-batch: %s: not a JSON list of orders: %v", path, err)}
	}
	reqs := make([]*omspb.PlaceOrderRequest, len(orders))
	for i, o := range orders {
		reqs[i] = o.request()
	}
	return reqs, nil
}

var batchInput io.Reader = os.Stdin

func placeBatchFlags(fs *flag.FlagSet) func(s *session) error {
	file := fs.String("file", "-", "JSON list of orders; - reads stdin")
	return func(s *session) error {
		orders, err := readBatch(*file, batchInput)
		if err != nil {
			return err
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.PlaceOrders(ctx, &omspb.PlaceOrdersRequest{Orders: orders})
		if err != nil {
			return err
		}
		printResults(s.out, resp.Results)
		fmt.Fprintf(s.out, "%d accepted, %d refused\n", resp.Accepted, resp.Refused)
		return nil
	}
}

// printResults lists a batch's results in the request's order: the order, or why it was refused.
func printResults(out io.Writer, results []*omspb.OrderResult) {
	w := table(out)
	fmt.Fprintln(w, "#\tORDER ID\tSYMBOL\tSIDE\tQUANTITY\tPRICE\tSTATUS\tERROR")
	for _, r := range results {
		if o := r.GetOrder(); r.Ok && o != nil {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t-\n", r.Index, o.OrderId, o.Symbol, o.Side,
				dec(o.QuantityDecimal, o.Quantity), priceText(o.PriceDecimal, o.Price), o.Status)
		} else {
			fmt.Fprintf(w, "%d\t-\t-\t-\t-\t-\tREFUSED\t%s: %s\n", r.Index, r.ErrorCode, oneLine(r.ErrorMessage))
		}
	}
	w.Flush()
}

func cancelAllFlags(fs *flag.FlagSet) func(s *session) error {
	account := fs.String("account", "", "account (server default: main)")
	symbol := fs.String("symbol", "", "only this symbol (default: every symbol)")
	exchange := fs.String("exchange", "", "exchange (default: the account's)")
	return func(s *session) error {
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.CancelAllOrders(ctx, &omspb.CancelAllOrdersRequest{
			AccountId: *account, Symbol: strings.ToUpper(*symbol), Exchange: *exchange})
		if err != nil {
			return err
		}
		printOrders(s.out, resp.Orders)
		fmt.Fprintf(s.out, "%d orders pending cancel\n", len(resp.Orders))
		return nil
	}
}

func getOrderFlags(fs *flag.FlagSet) func(s *session) error {
	id := fs.String("id", "", "order id")
	return func(s *session) error {
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.GetOrder(ctx, &omspb.GetOrderRequest{OrderId: *id})
		if err != nil {
			return err
		}
		o := resp.GetOrder()
		if o == nil {
			return fmt.Errorf("server returned no order for %s", *id)
		}
		w := table(s.out)
		for _, kv := range [][2]string{
			{"order id", o.OrderId},
			{"client order id", orDash(o.ClientOrderId)},
			{"exchange order id", orDash(o.ExchangeOrderId)},
			{"account", o.AccountId},
			{"exchange", o.Exchange},
			{"market", o.Market},
			{"symbol", o.Symbol},
			{"side", o.Side},
			{"type", o.OrderType},
			{"time in force", orDash(o.TimeInForce)},
			{"quantity", dec(o.QuantityDecimal, o.Quantity)},
			{"price", priceText(o.PriceDecimal, o.Price)},
			{"stop price", stopText(o)},
			{"filled", dec(o.FilledQuantityDecimal, o.FilledQuantity)},
			{"average price", priceText(o.AveragePriceDecimal, o.AveragePrice)},
			{"fee", feeText(o)},
			{"leverage", intOrDash(int64(o.Leverage))},
			{"reduce only", strconv.FormatBool(o.ReduceOnly)},
			{"post only", strconv.FormatBool(o.PostOnly)},
			{"status", o.Status},
			{"reason", orDash(oneLine(o.Reason))},
			{"version", strconv.FormatInt(o.Version, 10)},
			{"created", when(o.CreatedAtMs, o.CreatedAt)},
			{"updated", when(o.UpdatedAtMs, o.UpdatedAt)},
		} {
			fmt.Fprintf(w, "%s:\t%s\n", kv[0], kv[1])
		}
		return w.Flush()
	}
}

func listOrdersFlags(fs *flag.FlagSet) func(s *session) error {
	statusF := fs.String("status", "", "a status, or OPEN for every working order")
	symbol := fs.String("symbol", "", "symbol")
	exchange := fs.String("exchange", "", "exchange")
	account := fs.String("account", "", "account")
	market := fs.String("market", "", "spot or futures")
	limit := fs.Int("limit", 0, "orders per page (server default 100, at most 1000)")
	pageToken := fs.String("page-token", "", "page token printed by the previous page")
	return func(s *session) error {
		if *limit < 0 || *limit > math.MaxInt32 {
			return usageError{"list-orders: -limit must not be negative"}
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.ListOrders(ctx, &omspb.ListOrdersRequest{
			Status: strings.ToUpper(*statusF), Symbol: strings.ToUpper(*symbol), Exchange: *exchange, AccountId: *account,
			Market: strings.ToLower(*market), Limit: int32(*limit), PageToken: *pageToken,
		})
		if err != nil {
			return err
		}
		if len(resp.Orders) == 0 {
			fmt.Fprintln(s.out, "no orders")
		} else {
			printOrders(s.out, resp.Orders)
		}
		if resp.NextPageToken != "" {
			fmt.Fprintf(s.out, "more orders: -page-token %s\n", resp.NextPageToken)
		}
		return nil
	}
}

func balanceFlags(fs *flag.FlagSet) func(s *session) error {
	exchange := fs.String("exchange", "", "exchange (server default: binance)")
	market := fs.String("market", "", "spot or futures (server default: spot)")
	account := fs.String("account", "", "account (server default: main)")
	return func(s *session) error {
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.GetBalance(ctx, &omspb.GetBalanceRequest{Exchange: *exchange, Market: strings.ToLower(*market), AccountId: *account})
		if err != nil {
			return err
		}
		if resp.AccountId != "" {
			fmt.Fprintf(s.out, "account %s, %s\n", resp.AccountId, resp.Market)
		}
		if len(resp.Balances) == 0 {
			fmt.Fprintln(s.out, "no balances")
			return nil
		}
		w := table(s.out)
		fmt.Fprintln(w, "ASSET\tFREE\tLOCKED\tTOTAL")
		for _, b := range resp.Balances {
			total := strconv.FormatFloat(b.Total, 'f', -1, 64)
			if b.Total == 0 && b.FreeDecimal == "" {
				total = strconv.FormatFloat(b.Free+b.Locked, 'f', -1, 64)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", b.Asset, dec(b.FreeDecimal, b.Free), dec(b.LockedDecimal, b.Locked), total)
		}
		return w.Flush()
	}
}

func candlesFlags(fs *flag.FlagSet) func(s *session) error {
	symbol := fs.String("symbol", "", "symbol, exchange-native (BTCUSDT)")
	interval := fs.String("interval", "1m", "1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M")
	limit := fs.Int("limit", 100, "candles, 1 to 1000")
	since := fs.String("since", "", "first open time: ms since 1970 or RFC 3339 (default: the latest candles)")
	market := fs.String("market", "", "spot or futures (server default: spot)")
	exchange := fs.String("exchange", "", "exchange (server default: binance)")
	return func(s *session) error {
		if *limit < 1 || *limit > 1000 {
			return usageError{"candles: -limit must be from 1 to 1000"}
		}
		var sinceMs int64
		if *since != "" {
			if n, err := strconv.ParseInt(*since, 10, 64); err == nil && n >= 0 {
				sinceMs = n
			} else if t, err := time.Parse(time.RFC3339, *since); err == nil {
				sinceMs = t.UnixMilli()
			} else {
				return usageError{"candles: -since must be ms since 1970 or an RFC 3339 time (2026-01-02T15:04:05Z)"}
			}
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.GetCandles(ctx, &omspb.GetCandlesRequest{
			Exchange: *exchange, Market: strings.ToLower(*market), Symbol: strings.ToUpper(*symbol), Interval: *interval,
			SinceMs: sinceMs, Limit: int32(*limit),
		})
		if err != nil {
			return err
		}
		if len(resp.Candles) == 0 {
			fmt.Fprintln(s.out, "no candles")
			return nil
		}
		w := table(s.out)
		fmt.Fprintln(w, "OPEN TIME\tOPEN\tHIGH\tLOW\tCLOSE\tVOLUME")
		for _, c := range resp.Candles {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", when(c.OpenTimeMs, 0), dec(c.OpenDecimal, c.Open),
				dec(c.HighDecimal, c.High), dec(c.LowDecimal, c.Low), dec(c.CloseDecimal, c.Close), dec(c.VolumeDecimal, c.Volume))
		}
		return w.Flush()
	}
}

func positionsFlags(fs *flag.FlagSet) func(s *session) error {
	exchange := fs.String("exchange", "", "exchange (server default: binance)")
	account := fs.String("account", "", "account (empty: every account you may see)")
	symbol := fs.String("symbol", "", "one symbol (empty: all)")
	return func(s *session) error {
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.GetPositions(ctx, &omspb.GetPositionsRequest{Exchange: *exchange, AccountId: *account,
			Symbol: strings.ToUpper(*symbol)})
		if err != nil {
			return err
		}
		if len(resp.Positions) == 0 {
			fmt.Fprintln(s.out, "no open positions")
		} else {
			// SIDE..PNL % are the ledger's (from fills) when SOURCE is ledger, the venue's when the position was
			// traded outside the OMS; VENUE is what the venue last reported, side by side.
			w := table(s.out)
			fmt.Fprintln(w, "ACCOUNT\tSYMBOL\tSOURCE\tSIDE\tSIZE\tENTRY\tMARK\tUNREALIZED PNL\tPNL %\tREALIZED PNL\tFEES\tFUNDING\tVENUE\tLEVERAGE\tMARGIN\tLIQUIDATION")
			for _, p := range resp.Positions {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", orDash(p.AccountId), p.Symbol,
					orDash(p.Source), p.Side, dec(p.SizeDecimal, p.Size), dec(p.EntryPriceDecimal, p.EntryPrice),
					dec(p.MarkPriceDecimal, p.MarkPrice), dec(p.UnrealizedPnlDecimal, p.UnrealizedPnl),
					percentText(p.PnlPercentageDecimal, p.PnlPercentage), dec(p.RealizedPnlDecimal, p.RealizedPnl),
					feesText(p.FeesDecimal, p.Fees, p.OtherFees), dec(p.FundingDecimal, p.Funding), venueText(p),
					p.Leverage, num(p.Margin), numOrDash(p.LiquidationPrice))
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if len(resp.Holdings) > 0 {
			fmt.Fprintln(s.out)
			w := table(s.out)
			fmt.Fprintln(w, "ACCOUNT\tASSET\tQUANTITY\tAVERAGE COST\tLAST PRICE\tUNREALIZED PNL\tPNL %\tREALIZED PNL\tFEES")
			for _, h := range resp.Holdings {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", h.AccountId, h.Asset, dec(h.QuantityDecimal, h.Quantity),
					dec(h.AverageCostDecimal, h.AverageCost), h.QuoteAsset, orDash(h.LastPriceDecimal),
					orDash(h.UnrealizedPnlDecimal), percentText(h.PnlPercentageDecimal, 0),
					dec(h.RealizedPnlDecimal, h.RealizedPnl), feesText(h.FeesDecimal, h.Fees, h.OtherFees))
			}
			return w.Flush()
		}
		return nil
	}
}

func pnlFlags(fs *flag.FlagSet) func(s *session) error {
	since := fs.String("since", "", "start: a duration back from now (24h, 90m, 7d, 2w), RFC 3339 or ms since 1970 (default: today 00:00 UTC)")
	until := fs.String("until", "", "end, in the same forms (default: now)")
	groupBy := fs.String("group-by", "", "day (UTC days) or symbol (default: the total only)")
	account := fs.String("account", "", "account (empty: every account you may see)")
	exchange := fs.String("exchange", "", "exchange (empty: all)")
	return func(s *session) error {
		now := time.Now()
		sinceMs, err := timeFlag("pnl: -since", *since, now)
		if err != nil {
			return err
		}
		untilMs, err := timeFlag("pnl: -until", *until, now)
		if err != nil {
			return err
		}
		ctx, cancel := s.callContext(true)
		defer cancel()
		resp, err := s.client.GetPnL(ctx, &omspb.GetPnLRequest{Exchange: *exchange, AccountId: *account, SinceMs: sinceMs,
			UntilMs: untilMs, GroupBy: strings.ToLower(*groupBy)})
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "pnl of %s from %s to %s\n", strings.Join(resp.AccountIds, ","), when(resp.SinceMs, 0), when(resp.UntilMs, 0))
		w := table(s.out)
		fmt.Fprintln(w, "KEY\tREALIZED PNL\tFEES\tFUNDING\tNET PNL\tUNREALIZED PNL\tVOLUME\tTRADES\tOTHER FEES")
		rows := append(append([]*omspb.PnLRow{}, resp.Rows...), resp.GetTotal())
		for i, r := range rows {
			if r == nil {
				continue
			}
			key := r.Key
			if i == len(rows)-1 {
				key = "TOTAL"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", key, dec(r.RealizedPnlDecimal, r.RealizedPnl),
				dec(r.FeesDecimal, r.Fees), dec(r.FundingDecimal, r.Funding), dec(r.NetPnlDecimal, r.NetPnl),
				dec(r.UnrealizedPnlDecimal, r.UnrealizedPnl), dec(r.VolumeDecimal, r.Volume), r.TradeCount, assetsText(r.OtherFees))
		}
		return w.Flush()
	}
}

// timeFlag reads a time flag: a duration back from now (90m, 24h, 7d, 2w; Go durations like 1h30m too), an
// RFC 3339 time or ms since 1970. Empty is 0: the server's default.
func timeFlag(name, value string, now time.Time) (int64, error) {
	if value == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(value, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	if t, err := time.Parse(time.RFC3339, value); err == nil {
		return t.UnixMilli(), nil
	}
	if len(value) > 1 {
		unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[value[len(value)-1]]
		if n, err := strconv.ParseUint(value[:len(value)-1], 10, 31); err == nil && unit > 0 {
			return now.Add(-time.Duration(n) * unit).UnixMilli(), nil
		}
	}
	if d, err := time.ParseDuration(value); err == nil && d > 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, usageError{name + " must be a duration back from now (24h, 7d), an RFC 3339 time or ms since 1970, not " + strconv.Quote(value)}
}

// venueText is the venue's last report of a position: "LONG 0.01 @ 115000", or "-" when it reports none.
func venueText(p *omspb.Position) string {
	if p.VenueSide == "" {
		return "-"
	}
	return fmt.Sprintf("%s %s @ %s", p.VenueSide, dec(p.VenueSizeDecimal, p.VenueSize), dec(p.VenueEntryPriceDecimal, p.VenueEntryPrice))
}

// feesText is the quote fees, then any fees charged in other assets ("1.2 +0.001 BNB").
func feesText(exact string, approx float64, other map[string]string) string {
	text := dec(exact, approx)
	if len(other) > 0 {
		text += " +" + assetsText(other)
	}
	return text
}

// assetsText lists amounts per asset, sorted by asset ("0.001 BNB,2 XYZ"), or "-".
func assetsText(amounts map[string]string) string {
	if len(amounts) == 0 {
		return "-"
	}
	assets := make([]string, 0, len(amounts))
	for a := range amounts {
		assets = append(assets, a)
	}
	sort.Strings(assets)
	parts := make([]string, len(assets))
	for i, a := range assets {
		parts[i] = amounts[a] + " " + a
	}
	return strings.Join(parts, ",")
}

// percentText prefers the exact string; "-" when the server says it is unknown.
func percentText(exact string, approx float64) string {
	if exact != "" {
		return exact
	}
	if approx == 0 {
		return "-"
	}
	return strconv.FormatFloat(approx, 'f', 2, 64)
}

func streamPricesFlags(fs *flag.FlagSet) func(s *session) error {
	symbols := fs.String("symbols", "BTCUSDT,ETHUSDT,XRPUSDT", "comma-separated symbols; empty for all")
	exchange := fs.String("exchange", "", "exchange (empty: all)")
	market := fs.String("market", "", "spot or futures (empty: all)")
	count := fs.Int("count", 0, "stop after this many updates (0: until Ctrl-C)")
	return func(s *session) error {
		req := &omspb.StreamPricesRequest{Symbols: splitList(strings.ToUpper(*symbols)), Exchange: *exchange, Market: strings.ToLower(*market)}
		const row = "%-23s  %-10s  %-8s  %-12s  %14s  %14s  %14s  %14s  %14s\n"
		header := once(func() {
			fmt.Fprintf(s.out, row, "TIME", "EXCHANGE", "MARKET", "SYMBOL", "BID", "BID QTY", "ASK", "ASK QTY", "LAST")
		})
		seen := 0
		return follow(s, "stream-prices", func(ctx context.Context, opened, received func()) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			stream, err := s.client.StreamPrices(ctx, req)
			if err != nil {
				return err
			}
			opened()
			for {
				u, err := stream.Recv()
				if err != nil {
					return err
				}
				header()
				fmt.Fprintf(s.out, row, when(u.TimestampMs, u.Timestamp), u.Exchange, orDash(u.Market), u.Symbol, num(u.BidPrice),
					num(u.BidQuantity), num(u.AskPrice), num(u.AskQuantity), num(u.LastPrice))
				received()
				if seen++; *count > 0 && seen >= *count {
					return nil
				}
			}
		})
	}
}

func streamOrdersFlags(fs *flag.FlagSet) func(s *session) error {
	account := fs.String("account", "", "account (empty: every account you may see)")
	since := fs.Int64("since", 0, "replay updates after this sequence first")
	count := fs.Int("count", 0, "stop after this many updates (0: until Ctrl-C)")
	return func(s *session) error {
		const row = "%-23s  %10s  %-9s  %-36s  %-8s  %-12s  %-4s  %14s  %14s  %14s  %s\n"
		header := once(func() {
			fmt.Fprintf(s.out, row, "TIME", "SEQUENCE", "UPDATE", "ORDER ID", "ACCOUNT", "SYMBOL", "SIDE", "QUANTITY", "PRICE", "FILLED", "STATUS")
		})
		last, seen, printed := *since, 0, newRecentSet(10000)
		return follow(s, "stream-orders", func(ctx context.Context, opened, received func()) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			// After a reconnect, resume from the highest sequence printed: the server replays what may have been
			// missed, including updates committed after it with lower sequences; those already printed are skipped.
			stream, err := s.client.StreamOrders(ctx, &omspb.StreamOrdersRequest{AccountId: *account, SinceSequence: last})
			if err != nil {
				return err
			}
			opened()
			for {
				u, err := stream.Recv()
				if err != nil {
					return err
				}
				if u.Sequence > 0 && !printed.add(u.Sequence) {
					continue // already printed before the reconnect
				}
				o := u.GetOrder()
				if o == nil {
					o = &omspb.Order{}
				}
				header()
				fmt.Fprintf(s.out, row, when(u.AtMs, o.UpdatedAt), intOrDash(u.Sequence), u.UpdateType, o.OrderId, o.AccountId, o.Symbol, o.Side,
					dec(o.QuantityDecimal, o.Quantity), priceText(o.PriceDecimal, o.Price), dec(o.FilledQuantityDecimal, o.FilledQuantity), o.Status)
				if u.Sequence > last {
					last = u.Sequence
				}
				received()
				if seen++; *count > 0 && seen >= *count {
					return nil
				}
			}
		})
	}
}

// ---- streams ----

// recentSet remembers the last `size` sequences added: order updates can arrive out of sequence order,
// so "already seen" is membership, not "at most the highest".
type recentSet struct {
	seen  map[int64]struct{}
	order []int64
	size  int
}

func newRecentSet(size int) *recentSet {
	return &recentSet{seen: make(map[int64]struct{}, size), size: size}
}

// add records v and reports whether it was new.
func (r *recentSet) add(v int64) bool {
	if _, ok := r.seen[v]; ok {
		return false
	}
	if len(r.order) == r.size {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	r.seen[v] = struct{}{}
	r.order = append(r.order, v)
	return true
}

const (
	backoffInitial = 500 * time.Millisecond
	backoffMax     = 15 * time.Second
)

var errStreamEnded = status.Error(codes.Unavailable, "server ended the stream")

// transient errors are worth a reconnect; anything else (bad input, auth) would fail again.
func transient(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}

// follow runs one stream attempt after another until it finishes (nil: -count reached), Ctrl-C, or
// a permanent error. A server that cannot be reached at the start fails at once like any command;
// once a stream has been open, drops are retried with jittered exponential backoff.
func follow(s *session, name string, attempt func(ctx context.Context, opened, received func()) error) error {
	delay, everOpened := backoffInitial, false
	jitter := rand.New(rand.NewSource(time.Now().UnixNano())) // clients that lost one server must not retry in step
	opened := func() {
		if everOpened {
			fmt.Fprintf(s.errOut, "%s: reconnected\n", name)
		}
		everOpened = true
	}
	for {
		ctx, cancel := s.callContext(false)
		err := attempt(ctx, opened, func() { delay = backoffInitial })
		cancel()
		if s.ctx.Err() != nil || err == nil {
			return nil // Ctrl-C, or -count reached
		}
		if err == io.EOF {
			err = errStreamEnded
		}
		if !everOpened || !transient(err) {
			return err
		}
		wait := delay/2 + time.Duration(jitter.Int63n(int64(delay)))
		fmt.Fprintf(s.errOut, "%s: %s; reconnecting in %s\n", name, describe(err), wait.Round(time.Millisecond))
		select {
		case <-s.ctx.Done():
			return nil
		case <-time.After(wait):
		}
		if delay *= 2; delay > backoffMax {
			delay = backoffMax
		}
	}
}

// ---- output ----

// once wraps f so that only its first call runs (a stream's header, printed above its first row).
func once(f func()) func() {
	done := false
	return func() {
		if !done {
			done = true
			f()
		}
	}
}

func table(out io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(out, 0, 0, 2, ' ', 0) }

func printOrders(out io.Writer, orders []*omspb.Order) {
	w := table(out)
	fmt.Fprintln(w, "ORDER ID\tACCOUNT\tSYMBOL\tMARKET\tSIDE\tTYPE\tQUANTITY\tPRICE\tFILLED\tSTATUS\tEXCHANGE ORDER ID\tCREATED")
	for _, o := range orders {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.OrderId, orDash(o.AccountId), o.Symbol, orDash(o.Market),
			o.Side, o.OrderType, dec(o.QuantityDecimal, o.Quantity), priceText(o.PriceDecimal, o.Price),
			dec(o.FilledQuantityDecimal, o.FilledQuantity), o.Status, orDash(o.ExchangeOrderId), when(o.CreatedAtMs, o.CreatedAt))
	}
	w.Flush()
}

// dec prefers the exact decimal string over the double of the original wire field.
func dec(exact string, approx float64) string {
	if exact != "" {
		return exact
	}
	return num(approx)
}

// stopText shows a conditional order's trigger and whether it fired; "-" for other orders.
func stopText(o *omspb.Order) string {
	if o.StopPriceDecimal == "" {
		return "-"
	}
	if o.TriggeredAtMs == 0 {
		return o.StopPriceDecimal + " (armed)"
	}
	return o.StopPriceDecimal + " (triggered " + when(o.TriggeredAtMs, 0) + ")"
}

// priceText shows "-" for a price that is not set (market orders, nothing filled yet).
func priceText(exact string, approx float64) string {
	if exact == "" && approx == 0 {
		return "-"
	}
	return dec(exact, approx)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func numOrDash(f float64) string {
	if f == 0 {
		return "-"
	}
	return num(f)
}

func intOrDash(i int64) string {
	if i == 0 {
		return "-"
	}
	return strconv.FormatInt(i, 10)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func feeText(o *omspb.Order) string {
	if o.CumulativeFee == 0 {
		return "-"
	}
	return strings.TrimSpace(num(o.CumulativeFee) + " " + o.FeeAsset)
}

// when formats a time in UTC from milliseconds, else from the original fields' seconds.
func when(ms, sec int64) string {
	switch {
	case ms > 0:
		return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
	case sec > 0:
		return time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05Z")
	}
	return "-"
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, part)
	}
	return out
}
