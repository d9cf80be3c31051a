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
		row.Sent += ", then a second request on the same connection unless the response closes it"
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
		// "Kept open" is observed, never inferred from a missing
		// Connection: close: a server may answer HTTP/1.0 without saying so
		// and close (python3 -m http.server does). Unless the response
		// itself ends the connection, a second request must be answered.
		level, keep := LevelOK, CodeClosedAfter
		var extra []Code
		switch closes, announced := closesAfter(resp); {
		case announced:
			what += ", connection closed after it (Connection: close)"
		case closes: // close-delimited: said in what
		default:
			again := request("GET", withQuery(p.t.path, "framing-2"), proto, p.t.host, hdrs...)
			_, err := s.roundTrip(ctx, "GET", again)
			switch {
			case err == nil:
				keep = CodeKeptOpen
				what += ", connection kept open (a second request was answered on it)"
			case isClosed(err):
				what += ", connection closed after it without Connection: close (a second request found it closed)"
			default:
				code2, phrase := classify(err)
				level, keep, extra = LevelWarn, "", []Code{code2}
				what += ", then a second request on the connection: " + phrase
				row.Error = err.Error()
			}
		}
		codes := []Code{code}
		if keep != "" {
			codes = append(codes, keep)
		}
		row.set(level, what, append(codes, extra...)...)
		if proto == "HTTP/1.0" {
			checkHTTP10Framing(&row, resp)
		}
		return row
	}
}
