package probe

import (
	"context"
	"fmt"
)

// The framing probes: how the server delimits a response body on HTTP/1.1
// and on HTTP/1.0 (with keep-alive asked, so that a server which cannot
// know the length has to fall back to close-delimited).

func probeFraming(proto, pathOf string) probeFunc {
	return func(ctx context.Context, p *prober) Row {
		path := p.t.path
		if pathOf == "large" {
			path = p.o.PathLarge
		}
		var hdrs []string
		if proto == "HTTP/1.0" {
			hdrs = append(hdrs, "Connection: Keep-Alive")
		}
		row := Row{Sent: fmt.Sprintf("GET %s %s", path, proto)}
		if len(hdrs) > 0 {
			row.Sent += " + Connection: Keep-Alive"
		}
		s, err := p.dial(ctx, &row)
		if err != nil {
			return row
		}
		defer s.close()
		resp, err := s.roundTrip(ctx, "GET", request("GET", path, proto, p.t.host, hdrs...))
		if err != nil {
			row.fail("request", err)
			return row
		}
		row.record(resp)
		var code Code
		var what string
		switch resp.Framing {
		case FramingContentLength:
			code, what = CodeFramingContentLength, fmt.Sprintf("Content-Length: %d", resp.ContentLength)
		case FramingChunked:
			code, what = CodeFramingChunked, fmt.Sprintf("chunked (%d bytes)", resp.BodyLen)
		case FramingCloseDelimited:
			code, what = CodeFramingCloseDelimited, fmt.Sprintf("close-delimited (%d bytes, no length: the server had to close)", resp.BodyLen)
		default:
			code, what = CodeFramingNone, fmt.Sprintf("no body (status %d)", resp.StatusCode)
		}
		open := resp.Framing != FramingCloseDelimited && !resp.HasToken("Connection", "close")
		if proto == "HTTP/1.0" {
			open = open && resp.HasToken("Connection", "keep-alive")
		}
		keep := CodeClosedAfter
		if open {
			keep = CodeKeptOpen
			what += ", connection kept open"
		} else if resp.Framing != FramingCloseDelimited {
			what += ", connection closed after it"
		}
		row.set(LevelOK, what, code, keep)
		if proto == "HTTP/1.0" {
			checkHTTP10Framing(&row, resp)
		}
		return row
	}
}
