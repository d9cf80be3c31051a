// Package metrics exposes a kahttp server's Stats in the Prometheus text
// format (version 0.0.4), for a Prometheus server (or any scraper of the
// format) to read from a route you mount:
//
//	rt.GET("/metrics", metrics.Handler(srv))
//
// Every Stats counter, the requests-per-connection histogram, the worker
// pool and the handlers in flight, under the prefix kahttp_. The format is
// small and stable, so it is written here without a library: the core
// module takes no metrics dependency. An application that already runs
// prometheus/client_golang mounts this handler beside its own registry's
// (or scrapes both), rather than kahttp pulling client_golang into every
// build that imports it.
package metrics

import (
	"bytes"
	"strconv"
	"sync"

	"github.com/kahttp/kahttp"
)

// Handler answers the server's Stats as Prometheus text exposition. It
// takes the srv's Stats at each scrape: call it from any mode.
func Handler(srv *kahttp.Server) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		b := bufs.Get().(*bytes.Buffer)
		defer bufs.Put(b)
		b.Reset()
		Write(b, srv.Stats())
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	})
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Write appends st in the Prometheus text format to b.
func Write(b *bytes.Buffer, st kahttp.Stats) {
	gauge(b, "kahttp_connections_open", "Connections open now.", st.ConnsOpen)
	counter(b, "kahttp_connections_accepted_total", "Connections accepted since start.", st.ConnsAccepted)
	counter(b, "kahttp_accept_errors_total", "Accepts that failed (out of descriptors, say) and paused accepting.", st.AcceptErrors)
	counter(b, "kahttp_connections_dropped_total", "Connections accepted, then closed unserved: no descriptor to hand them to an event loop.", st.ConnsDropped)
	counter(b, "kahttp_requests_total", "Requests answered, refused ones included.", st.Requests)
	counter(b, "kahttp_requests_rejected_total", "Requests answered 503 because the worker pool was full.", st.Rejected503)

	head(b, "kahttp_connections_closed_total", "Connections closed, by reason.", "counter")
	for _, reason := range kahttp.CloseReasons() {
		sample(b, "kahttp_connections_closed_total", `reason="`+reason+`"`, st.ClosedBy[reason])
	}

	head(b, "kahttp_requests_per_connection", "Requests served per closed connection.", "histogram")
	var cum int64
	for _, le := range kahttp.PerConnBuckets() {
		cum += st.RequestsPerConn["<="+strconv.FormatInt(le, 10)]
		sample(b, "kahttp_requests_per_connection_bucket", `le="`+strconv.FormatInt(le, 10)+`"`, cum)
	}
	for k, n := range st.RequestsPerConn {
		if k[0] == '>' {
			cum += n
		}
	}
	sample(b, "kahttp_requests_per_connection_bucket", `le="+Inf"`, cum)
	sample(b, "kahttp_requests_per_connection_sum", "", st.RequestsOnClosed)
	sample(b, "kahttp_requests_per_connection_count", "", cum)

	gauge(b, "kahttp_handlers_in_flight", "Handlers running off the event loops: pooled, on a streamed body, on an upgrade.", st.InFlight)
	gauge(b, "kahttp_pool_workers", "Goroutines of the worker pool.", st.PoolWorkers)
	gauge(b, "kahttp_pool_queued", "Batches waiting for a worker.", st.PoolQueued)
}

func counter(b *bytes.Buffer, name, help string, v int64) {
	head(b, name, help, "counter")
	sample(b, name, "", v)
}

func gauge(b *bytes.Buffer, name, help string, v int64) {
	head(b, name, help, "gauge")
	sample(b, name, "", v)
}

func head(b *bytes.Buffer, name, help, typ string) {
	b.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

func sample(b *bytes.Buffer, name, labels string, v int64) {
	b.WriteString(name)
	if labels != "" {
		b.WriteString("{" + labels + "}")
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(v, 10))
	b.WriteByte('\n')
}
