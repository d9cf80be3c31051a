package kahttp

import (
	"sync/atomic"
	"time"
)

// The Date field is formatted once per second, not per response.
type dateLine struct {
	sec  int64
	line []byte // "Date: Sun, 22 Nov 2026 02:27:50 GMT\r\n"
}

var currentDate atomic.Pointer[dateLine]

// timeFormat is IMF-fixdate (RFC 9110 §5.6.7), as net/http.TimeFormat.
const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func appendDate(b []byte) []byte {
	sec := nowUnix()
	d := currentDate.Load()
	if d == nil || d.sec != sec {
		d = &dateLine{sec: sec}
		d.line = time.Unix(sec, 0).UTC().AppendFormat(append(make([]byte, 0, 40), "Date: "...), timeFormat)
		d.line = append(d.line, "\r\n"...)
		currentDate.Store(d)
	}
	return append(b, d.line...)
}
