package kahttp

import "sync/atomic"

// closeReason is why a connection closed: every close has one.
type closeReason uint8

const (
	reasonNone          closeReason = iota
	reasonClientClosed              // the client closed (or reset) the connection
	reasonClientAsked               // HTTP/1.1 request with Connection: close
	reasonHTTP10                    // HTTP/1.0 request without keep-alive
	reasonUnknownLength             // HTTP/1.0 body past the buffer: close-delimited
	reasonMaxRequests               // MaxRequestsPerConn reached
	reasonIdleTimeout               // idle longer than IdleTimeout
	reasonHeaderTimeout             // request not complete within HeaderTimeout
	reasonBadRequest                // malformed or refused request (4xx/5xx from the parser)
	reasonHandlerPanic              // the handler panicked
	reasonWriteError                // writing to the client failed
	reasonShutdown                  // the server is shutting down
	reasonHandlerClose              // the handler set Connection: close
	reasonIncomplete                // the handler wrote less than its Content-Length
	reasonOverloaded                // the connection's input piled up past its limit
	reasonWriteTimeout              // the client read none of its output for WriteTimeout
	reasonHijacked                  // a handler took the connection over (Response.Hijack)
	numReasons
)

var reasonNames = [numReasons]string{
	reasonNone:          "none",
	reasonClientClosed:  "client_closed",
	reasonClientAsked:   "connection_close_asked",
	reasonHTTP10:        "http10_no_keepalive",
	reasonUnknownLength: "http10_unknown_length",
	reasonMaxRequests:   "max_requests",
	reasonIdleTimeout:   "idle_timeout",
	reasonHeaderTimeout: "header_timeout",
	reasonBadRequest:    "bad_request",
	reasonHandlerPanic:  "handler_panic",
	reasonWriteError:    "write_error",
	reasonShutdown:      "shutdown",
	reasonHandlerClose:  "handler_close",
	reasonIncomplete:    "incomplete_response",
	reasonOverloaded:    "overloaded",
	reasonWriteTimeout:  "write_timeout",
	reasonHijacked:      "hijacked",
}

func (r closeReason) String() string { return reasonNames[r] }

// CloseReasons are the names of the reasons a connection closes, as
// Stats.ClosedBy counts them.
func CloseReasons() []string {
	names := make([]string, 0, numReasons-1)
	for r := reasonClientClosed; r < numReasons; r++ {
		names = append(names, r.String())
	}
	return names
}

// perConnBuckets are the upper bounds of the requests-per-connection histogram.
var perConnBuckets = [...]int64{1, 2, 10, 100, 1000}

// Stats is a snapshot of the server's counters.
type Stats struct {
	ConnsOpen     int64 // connections open now
	ConnsAccepted int64 // connections accepted since start
	// AcceptErrors counts failed accepts, e.g. out of file descriptors
	// (EMFILE): each pauses accepting for a backoff of 5 ms doubling to 1 s,
	// while the open connections are served as usual.
	AcceptErrors int64
	// ConnsDropped counts connections accepted and then closed unserved
	// because no descriptor was left to hand them to an event loop.
	ConnsDropped int64
	Requests     int64 // requests answered (including refused ones)
	Rejected503  int64 // requests refused because the worker pool was full
	// ClosedBy counts closed connections by reason: client_closed,
	// connection_close_asked, http10_no_keepalive, http10_unknown_length,
	// max_requests, idle_timeout, header_timeout, bad_request, handler_panic,
	// write_error, shutdown, handler_close, incomplete_response, overloaded, write_timeout, hijacked.
	ClosedBy map[string]int64
	// RequestsPerConn is a histogram of requests served per closed
	// connection: key "<=1", "<=2", "<=10", "<=100", "<=1000", ">1000".
	RequestsPerConn map[string]int64
	// RequestsOnClosed is the sum of requests the closed connections served
	// (the histogram's sum).
	RequestsOnClosed int64
	// InFlight counts the handlers running off the event loops: pooled,
	// on a streamed body, on an upgrade.
	InFlight int64
	// PoolWorkers and PoolQueued are the worker pool's goroutines and the
	// batches waiting for one (Config.PoolWorkers, PoolQueue).
	PoolWorkers, PoolQueued int64
}

// PerConnBuckets are the upper bounds of RequestsPerConn's buckets, in
// order (past the last: ">" it).
func PerConnBuckets() []int64 { return append([]int64(nil), perConnBuckets[:]...) }

// counters are the server's statistics, in one shard per event loop: a
// connection counts on its loop's shard (session.stats), so the
// per-request path writes only memory its own core writes, and Stats sums
// the shards. Goroutines off the loops (listener connections, streams)
// spread over the shards by descriptor.
type counters struct {
	shards []counterShard
}

type counterShard struct {
	accepted, requests, rejected atomic.Int64
	servedOnClosed               atomic.Int64
	closed                       [numReasons]atomic.Int64
	perConn                      [len(perConnBuckets) + 1]atomic.Int64
	// inflight counts the pooled, streaming and upgraded handlers running
	// (Shutdown waits for the sum to reach zero). Apart from the loop's
	// counters: the worker that ends a handler writes it too.
	_        [64]byte
	inflight atomic.Int64
	_        [64]byte
}

// newCounters makes at least n shards, a power of two so that at is a mask.
func newCounters(n int) counters {
	k := 1
	for k < n {
		k *= 2
	}
	return counters{shards: make([]counterShard, k)}
}

// at is the shard of loop (or any other number) i.
func (c *counters) at(i int) *counterShard { return &c.shards[uint(i)&uint(len(c.shards)-1)] }

func (c *counterShard) connClosed(r closeReason, served int) {
	c.closed[r].Add(1)
	c.servedOnClosed.Add(int64(served))
	i := 0
	for i < len(perConnBuckets) && int64(served) > perConnBuckets[i] {
		i++
	}
	c.perConn[i].Add(1)
}

// inflight is the number of handlers running off the loops.
func (c *counters) inflight() int64 {
	var n int64
	for i := range c.shards {
		n += c.shards[i].inflight.Load()
	}
	return n
}

// snapshot is the counters kept here, summed over the shards; the
// engine's are added by Server.Stats.
func (c *counters) snapshot() Stats {
	var sum counterShard
	for i := range c.shards {
		sh := &c.shards[i]
		sum.accepted.Add(sh.accepted.Load())
		sum.requests.Add(sh.requests.Load())
		sum.rejected.Add(sh.rejected.Load())
		sum.servedOnClosed.Add(sh.servedOnClosed.Load())
		for r := range sh.closed {
			sum.closed[r].Add(sh.closed[r].Load())
		}
		for b := range sh.perConn {
			sum.perConn[b].Add(sh.perConn[b].Load())
		}
	}
	s := Stats{
		ConnsAccepted:   sum.accepted.Load(),
		Requests:        sum.requests.Load(),
		Rejected503:     sum.rejected.Load(),
		ClosedBy:        map[string]int64{},
		RequestsPerConn: map[string]int64{},

		RequestsOnClosed: sum.servedOnClosed.Load(),
		InFlight:         c.inflight(),
	}
	for r := reasonClientClosed; r < numReasons; r++ {
		if n := sum.closed[r].Load(); n > 0 {
			s.ClosedBy[r.String()] = n
		}
	}
	for i := range sum.perConn {
		key := ">" + itoa64(perConnBuckets[len(perConnBuckets)-1])
		if i < len(perConnBuckets) {
			key = "<=" + itoa64(perConnBuckets[i])
		}
		if n := sum.perConn[i].Load(); n > 0 {
			s.RequestsPerConn[key] = n
		}
	}
	return s
}
