package probe

import (
	"context"
	"fmt"
)

// The connection-persistence probes: HTTP/1.1 default persistence, HTTP/1.0
// without keep-alive, HTTP/1.0 with Connection: Keep-Alive.

const persistRequests = 3

// closesAfter reports whether resp ends its connection, and whether the
// server said so with Connection: close.
func closesAfter(resp *Response) (closes, announced bool) {
	announced = resp.HasToken("Connection", "close")
	return announced || resp.Framing == FramingCloseDelimited, announced
}

func probeHTTP11Persist(ctx context.Context, p *prober) Row {
	row := Row{Sent: fmt.Sprintf("%d× GET %s HTTP/1.1, one connection, sequential", persistRequests, p.t.path)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	for i := 0; i < persistRequests; i++ {
		req := request("GET", withQuery(p.t.path, fmt.Sprint(i+1)), "HTTP/1.1", p.t.host)
		resp, err := s.roundTrip(ctx, "GET", req)
		if err != nil {
			if i > 0 && isClosed(err) {
				row.set(LevelWarn, fmt.Sprintf("closed after %s without saying Connection: close first", plural(i, "response")),
					CodeClosedUnannounced, CodeCloseHeaderMissing)
				row.Error = err.Error()
				return row
			}
			row.fail(fmt.Sprintf("request %d", i+1), err)
			return row
		}
		row.record(resp)
		if closes, announced := closesAfter(resp); closes {
			if announced {
				row.set(LevelWarn, fmt.Sprintf("not persistent: response %d said Connection: close", i+1),
					CodeClosedAnnounced, CodeCloseHeaderSent)
			} else {
				row.set(LevelWarn, fmt.Sprintf("not persistent: response %d was close-delimited without Connection: close", i+1),
					CodeClosedUnannounced, CodeCloseHeaderMissing)
			}
			if resp.Proto == "HTTP/1.0" {
				row.add(CodeWrongProtocol)
				row.Verdict += " (the server answers HTTP/1.0)"
			}
			return row
		}
	}
	row.set(LevelOK, fmt.Sprintf("persistent: %d requests answered on one connection, none closed", persistRequests), CodePersistent)
	return row
}

func probeHTTP10Close(ctx context.Context, p *prober) Row {
	row := Row{Sent: fmt.Sprintf("GET %s HTTP/1.0 (no Connection header), then wait up to %s for the close", p.t.path, p.o.CloseWait)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	resp, err := s.roundTrip(ctx, "GET", request("GET", p.t.path, "HTTP/1.0", p.t.host))
	if err != nil {
		row.fail("request", err)
		return row
	}
	row.record(resp)
	closed := resp.Framing == FramingCloseDelimited
	if !closed {
		c, _, err := s.waitClose(ctx, p.o.CloseWait)
		if err != nil {
			row.fail("after the response", err)
			return row
		}
		closed = c
	}
	if closed {
		row.set(LevelOK, "closed after the response, as HTTP/1.0 without keep-alive requires", CodeHTTP10Closed)
	} else {
		row.set(LevelWarn, fmt.Sprintf("still open %s after the response although the HTTP/1.0 client did not ask for keep-alive", p.o.CloseWait),
			CodeHTTP10KeptOpen)
	}
	if resp.HasToken("Connection", "close") {
		row.add(CodeCloseHeaderSent)
	}
	if resp.HasToken("Connection", "keep-alive") {
		row.Verdict += "; it answered Connection: keep-alive unasked"
		row.Level = LevelWarn
	}
	checkHTTP10Framing(&row, resp)
	return row
}

// checkHTTP10Framing flags chunked encoding sent to an HTTP/1.0 client.
func checkHTTP10Framing(row *Row, resp *Response) {
	if resp.Framing == FramingChunked {
		row.add(CodeChunkedOnHTTP10)
		row.Level = LevelWarn
		row.Verdict += "; it sent chunked encoding to an HTTP/1.0 client (not allowed)"
	}
}

func probeHTTP10KeepAlive(ctx context.Context, p *prober) Row {
	row := Row{Sent: fmt.Sprintf("GET %s HTTP/1.0 + Connection: Keep-Alive, then a second request on the same connection", p.t.path)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	req := func(n int) []byte {
		return request("GET", withQuery(p.t.path, fmt.Sprint(n)), "HTTP/1.0", p.t.host, "Connection: Keep-Alive")
	}
	resp, err := s.roundTrip(ctx, "GET", req(1))
	if err != nil {
		row.fail("first request", err)
		return row
	}
	row.record(resp)
	echoed := resp.HasToken("Connection", "keep-alive")
	ka, advertised := resp.Get("Keep-Alive")
	var detail []Code
	if echoed {
		detail = append(detail, CodeKeepAliveEchoed)
		if advertised {
			detail = append(detail, CodeKeepAliveAdvertised)
		} else {
			detail = append(detail, CodeKeepAliveNoParams)
		}
	}
	if resp.HasToken("Connection", "close") {
		detail = append(detail, CodeCloseHeaderSent)
	}
	closed := resp.Framing == FramingCloseDelimited
	if !closed && !echoed {
		// Not echoed: the server should close. See whether it does before
		// trying a second request.
		c, _, err := s.waitClose(ctx, p.o.CloseWait)
		if err != nil {
			row.fail("after the first response", err)
			return row
		}
		closed = c
	}
	if closed {
		if echoed {
			row.set(LevelWarn, "keep-alive echoed, but the connection closed after the response (close-delimited body)",
				append([]Code{CodeKeepAliveBroken}, detail...)...)
		} else {
			row.set(LevelWarn, "HTTP/1.0 keep-alive ignored: not echoed, connection closed after the response",
				append([]Code{CodeKeepAliveIgnored}, detail...)...)
		}
		checkHTTP10Framing(&row, resp)
		return row
	}
	resp2, err := s.roundTrip(ctx, "GET", req(2))
	if err != nil {
		if !isClosed(err) {
			row.fail("second request", err)
			row.add(detail...)
			return row
		}
		row.Error = err.Error()
		row.set(LevelWarn, "keep-alive echoed, but the server closed instead of answering a second request",
			append([]Code{CodeKeepAliveBroken}, detail...)...)
		checkHTTP10Framing(&row, resp)
		return row
	}
	row.record(resp2)
	if !echoed {
		row.set(LevelWarn, "second request answered, although the first response did not echo Connection: keep-alive (a 1.0 client would have closed)",
			append([]Code{CodeKeepAliveUnannounced}, detail...)...)
	} else if advertised {
		row.set(LevelOK, "honoured: Connection: keep-alive echoed, Keep-Alive: "+ka+" advertised, second request answered",
			append([]Code{CodeKeepAliveHonoured}, detail...)...)
	} else {
		row.set(LevelOK, "honoured: Connection: keep-alive echoed (no Keep-Alive timeout/max header), second request answered",
			append([]Code{CodeKeepAliveHonoured}, detail...)...)
	}
	checkHTTP10Framing(&row, resp)
	checkHTTP10Framing(&row, resp2)
	return row
}
