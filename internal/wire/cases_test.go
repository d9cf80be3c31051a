package wire

// The golden tables: raw requests and what parsing them must give.

import "strings"

type validCase struct {
	name string
	raw  string
	lim  *Limits // nil: DefaultLimits
	want result
}

type badCase struct {
	name   string
	raw    string
	lim    *Limits
	status int
	err    *Error
	// failAt > 0: raw[:failAt] must already fail with err (the error is
	// reported as soon as the offending bytes arrive, not at the newline).
	failAt int
}

// small limits for the limit cases.
var small = &Limits{MaxRequestLine: 32, MaxHeaderBytes: 64, MaxFields: 3, MaxBody: 10}

const (
	host = "Host: a\r\n"
	// chunkedHead is 56 bytes: the first chunk line starts at offset 56.
	chunkedHead = "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n"
)

var validCases = []validCase{
	{name: "GET", raw: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", want: result{
		Method: "GET", Target: "/", Path: "/", Minor: 1, Host: "example.com",
		Fields: []string{"Host: example.com"}, CL: -1}},
	{name: "LF only", raw: "GET /x HTTP/1.1\nHost: h\nAccept: */*\n\n", want: result{
		Method: "GET", Path: "/x", Minor: 1, Host: "h", Fields: []string{"Host: h", "Accept: */*"}, CL: -1}},
	{name: "CR before LF is optional per line", raw: "GET / HTTP/1.1\nHost: h\r\nA: b\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "h", Fields: []string{"Host: h", "A: b"}, CL: -1}},
	{name: "leading CRLFs", raw: "\r\n\r\nGET / HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "leading LF and CRLF", raw: "\n\r\n\nGET / HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "HTTP/1.0 without Host", raw: "GET /old HTTP/1.0\r\n\r\n", want: result{
		Method: "GET", Path: "/old", Minor: 0, CL: -1}},
	{name: "HTTP/1.9 is 1.1", raw: "GET / HTTP/1.9\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	// An empty Host is only for a target without an authority of its own to
	// check against; absolute-form carries its host (RFC 9112 §3.2.2).
	{name: "empty Host, absolute-form", raw: "GET http://h/ HTTP/1.1\r\nHost:\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Fields: []string{"Host: "}, CL: -1}},
	{name: "empty Host, asterisk-form", raw: "OPTIONS * HTTP/1.1\r\nHost:\r\n\r\n", want: result{
		Method: "OPTIONS", Path: "*", Minor: 1, Fields: []string{"Host: "}, CL: -1}},
	{name: "Host reg-name with sub-delims, escape, empty port", raw: "GET / HTTP/1.1\r\nHost: a-b_c.~!$&'()*+,;=%41:\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a-b_c.~!$&'()*+,;=%41:", Fields: []string{"Host: a-b_c.~!$&'()*+,;=%41:"}, CL: -1}},
	{name: "Host IPv4 and port", raw: "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "127.0.0.1:8080", Fields: []string{"Host: 127.0.0.1:8080"}, CL: -1}},
	{name: "Host with port and IPv6", raw: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "[::1]:8080", Fields: []string{"Host: [::1]:8080"}, CL: -1}},
	{name: "query", raw: "GET /a/b?x=1&y=%zz HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Target: "/a/b?x=1&y=%zz", Path: "/a/b", Query: "x=1&y=%zz", Minor: 1, Host: "a",
		Fields: []string{"Host: a"}, CL: -1}},
	{name: "empty query", raw: "GET /a? HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Target: "/a?", Path: "/a", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "percent-encoded path", raw: "GET /a%20b%2F%c3%A9 HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "/a%20b%2F%c3%A9", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1, Escaped: true}},
	{name: "absolute-form", raw: "GET http://host/p?q HTTP/1.1\r\nHost: host\r\n\r\n", want: result{
		Method: "GET", Target: "http://host/p?q", Path: "/p", Query: "q", Minor: 1, Host: "host",
		Fields: []string{"Host: host"}, CL: -1}},
	{name: "absolute-form https no path", raw: "GET HTTPS://host:443 HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Target: "HTTPS://host:443", Path: "", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "absolute-form query no path", raw: "GET http://h?x/y HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "", Query: "x/y", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "absolute-form escaped", raw: "GET http://h/%41 HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "GET", Path: "/%41", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1, Escaped: true}},
	{name: "asterisk-form", raw: "OPTIONS * HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "OPTIONS", Target: "*", Path: "*", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "authority-form", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", want: result{
		Method: "CONNECT", Target: "example.com:443", Path: "example.com:443", Minor: 1, Host: "example.com:443",
		Fields: []string{"Host: example.com:443"}, CL: -1}},
	{name: "extension method", raw: "M-SEARCH /d HTTP/1.1\r\n" + host + "\r\n", want: result{
		Method: "M-SEARCH", Path: "/d", Minor: 1, Host: "a", Fields: []string{"Host: a"}, CL: -1}},
	{name: "OWS trimmed, empty value, obs-text", raw: "GET / HTTP/1.1\r\nHost: \t a \t\r\nX-Empty:\r\nX-Sp:   \r\nX-Utf8: caf\xc3\xa9\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a",
		Fields: []string{"Host: a", "X-Empty: ", "X-Sp: ", "X-Utf8: caf\xc3\xa9"}, CL: -1}},
	{name: "value with inner spaces and colons", raw: "GET / HTTP/1.1\r\n" + host + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) a:b\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a",
		Fields: []string{"Host: a", "User-Agent: Mozilla/5.0 (X11; Linux x86_64) a:b"}, CL: -1}},
	{name: "Connection close", raw: "GET / HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Connection: close"}, CL: -1, Close: true}},
	{name: "Connection keep-alive 1.0", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 0, Fields: []string{"Connection: Keep-Alive"}, CL: -1, KeepAlive: true}},
	{name: "Connection list", raw: "GET / HTTP/1.1\r\n" + host + "Connection: Upgrade , CLOSE,,keep-alive\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Connection: Upgrade , CLOSE,,keep-alive"},
		CL: -1, Close: true, KeepAlive: true}},
	{name: "Connection repeated", raw: "GET / HTTP/1.1\r\n" + host + "connection: upgrade\r\nCONNECTION: close\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "connection: upgrade", "CONNECTION: close"},
		CL: -1, Close: true}},
	{name: "Connection token not substring", raw: "GET / HTTP/1.1\r\n" + host + "Connection: closed, xkeep-alive\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Connection: closed, xkeep-alive"}, CL: -1}},
	{name: "Expect 100-continue", raw: "PUT /u HTTP/1.1\r\n" + host + "Expect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc", want: result{
		Method: "PUT", Path: "/u", Minor: 1, Host: "a", Fields: []string{"Host: a", "Expect: 100-Continue", "Content-Length: 3"},
		CL: 3, Body: "abc", Expect100: true}},
	{name: "Expect ignored on 1.0", raw: "PUT /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", want: result{
		Method: "PUT", Path: "/u", Minor: 0, Fields: []string{"Expect: 100-continue", "Content-Length: 3"}, CL: 3, Body: "abc"}},
	{name: "POST Content-Length", raw: "POST /f HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello", want: result{
		Method: "POST", Path: "/f", Minor: 1, Host: "a", Fields: []string{"Host: a", "Content-Length: 5"}, CL: 5, Body: "hello"}},
	{name: "POST body then next request", raw: "POST /f HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello\r\nGET / HTTP/1.1\r\n", want: result{
		N: len("POST /f HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello"), Method: "POST", Path: "/f", Minor: 1, Host: "a", Fields: []string{"Host: a", "Content-Length: 5"}, CL: 5, Body: "hello"}},
	{name: "Content-Length 0", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 0\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Content-Length: 0"}, CL: 0}},
	{name: "Content-Length leading zeros and OWS", raw: "POST / HTTP/1.1\r\n" + host + "content-length:  003 \r\n\r\nabc", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "content-length: 003"}, CL: 3, Body: "abc"}},
	{name: "identical duplicate Content-Length", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 2\r\nContent-Length: 2\r\n\r\nab", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Content-Length: 2", "Content-Length: 2"}, CL: 2, Body: "ab"}},
	{name: "CL body on HTTP/1.0", raw: "POST / HTTP/1.0\r\nContent-Length: 1\r\n\r\nx", want: result{
		Method: "POST", Path: "/", Minor: 0, Fields: []string{"Content-Length: 1"}, CL: 1, Body: "x"}},
	{name: "chunked with extensions and trailers", raw: "POST /c HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n" +
		"5;a=b;c=\"d \\\"e\\\"\"\r\nhello\r\n6 ; x = y ;z\r\n world\r\n0;last\r\nTrailer-A: 1\r\nB:  two \r\n\r\n", want: result{
		Method: "POST", Path: "/c", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 11, Chunked: true, Body: "hello world", Trailers: []string{"Trailer-A: 1", "B: two"}}},
	{name: "chunked hex sizes", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: Chunked\r\n\r\n" +
		"a\r\n0123456789\r\n0000B\r\nabcdefghijk\r\n0\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: Chunked"},
		CL: 21, Chunked: true, Body: "0123456789abcdefghijk"}},
	{name: "chunked empty body", raw: chunkedHead + "0\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 0, Chunked: true}},
	{name: "chunked body with CRLF inside data", raw: chunkedHead +
		"4\r\n\r\n\r\n\r\n1\r\n0\r\n0\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 5, Chunked: true, Body: "\r\n\r\n0"}},
	{name: "chunked, LF-only head and trailer", raw: "POST / HTTP/1.1\nHost: a\nTransfer-Encoding:  chunked \n\n" +
		"3\r\nabc\r\n0\r\nT: v\n\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 3, Chunked: true, Body: "abc", Trailers: []string{"T: v"}}},
	{name: "chunk size with BWS before an extension", raw: chunkedHead + "3 \t;x\r\nabc\r\n0 ;a\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 3, Chunked: true, Body: "abc"}},
	{name: "chunked then next request", raw: chunkedHead +
		"1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", want: result{
		N: len(chunkedHead + "1\r\nx\r\n0\r\n\r\n"), Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 1, Chunked: true, Body: "x"}},

	// Limits, exactly at the edge: accepted.
	{name: "request line at MaxRequestLine", lim: small, raw: "GET /" + strings.Repeat("a", 18) + " HTTP/1.0\r\n\r\n", want: result{
		Method: "GET", Path: "/" + strings.Repeat("a", 18), Minor: 0, CL: -1}},
	{name: "request line at MaxRequestLine, LF", lim: small, raw: "GET /" + strings.Repeat("a", 18) + " HTTP/1.0\n\n", want: result{
		Method: "GET", Path: "/" + strings.Repeat("a", 18), Minor: 0, CL: -1}},
	{name: "header section at MaxHeaderBytes", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("v", 50) + "\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "X: " + strings.Repeat("v", 50)}, CL: -1}},
	{name: "MaxFields fields", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "B: 2\r\nC: 3\r\n\r\n", want: result{
		Method: "GET", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "B: 2", "C: 3"}, CL: -1}},
	{name: "Content-Length at MaxBody", lim: small, raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 10\r\n\r\n0123456789", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Content-Length: 10"}, CL: 10, Body: "0123456789"}},
	{name: "chunked at MaxBody", lim: small, raw: chunkedHead +
		"5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 10, Chunked: true, Body: "0123456789"}},
	{name: "trailers at MaxFields", lim: small, raw: chunkedHead +
		"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", want: result{
		Method: "POST", Path: "/", Minor: 1, Host: "a", Fields: []string{"Host: a", "Transfer-Encoding: chunked"},
		CL: 0, Chunked: true, Trailers: []string{"A: 1", "B: 2", "C: 3"}}},
}

var badCases = []badCase{
	// 400 request line
	{name: "TLS ClientHello", raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", status: 400, err: ErrMethod, failAt: 1},
	{name: "binary after method char", raw: "G\x00ET / HTTP/1.1\r\n", status: 400, err: ErrMethod, failAt: 2},
	{name: "method with invalid token char", raw: "G@T / HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrMethod, failAt: 2},
	{name: "method then tab", raw: "GET\t/ HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrMethod, failAt: 4},
	{name: "empty method", raw: " / HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrMethod, failAt: 1},
	{name: "method then CRLF", raw: "GET\r\n" + host + "\r\n", status: 400, err: ErrMethod, failAt: 4},
	{name: "no version", raw: "GET /\r\n" + host + "\r\n", status: 400, err: ErrRequestLine},
	{name: "no target", raw: "GET \r\n" + host + "\r\n", status: 400, err: ErrRequestLine},
	{name: "double space", raw: "GET  / HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrRequestLine},
	{name: "space in target", raw: "GET /a b HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "CTL in target", raw: "GET /a\x01b HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "DEL in target", raw: "GET /a\x7f HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "tab in target", raw: "GET /a\tb HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	// The request-target is ASCII (RFC 9112 §3.2, RFC 3986 §2): other bytes
	// travel percent-encoded.
	{name: "UTF-8 in target", raw: "GET /caf\xc3\xa9 HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "overlong UTF-8 in target", raw: "GET /\xc0\xaf HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "byte 0x80 in query", raw: "GET /a?q=\x80 HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget, failAt: 10},
	{name: "binary noise in the target", raw: "K SJ\xee\x86#;\r\"\xd6D HTTP/1.1\r\n", status: 400, err: ErrTarget, failAt: 5},
	{name: "control byte in the target", raw: "GET /a\x01b HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget, failAt: 7},
	{name: "not a version after the target", raw: "GET / XTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrVersion, failAt: 7},
	{name: "bare CR after the target", raw: "GET /\r HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrBareCR, failAt: 7},
	{name: "no line end after the version", raw: "GET / HTTP/1.1 x\r\n" + host + "\r\n", status: 400, err: ErrVersion, failAt: 15},
	{name: "byte 0xff in absolute-form", raw: "GET http://h/\xff HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	// asterisk-form is for a server-wide OPTIONS only (RFC 9112 §3.2.4).
	{name: "asterisk-form with GET", raw: "GET * HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "asterisk-form with extension method", raw: "M-SEARCH * HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "asterisk-form with lower-case options", raw: "options * HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "absolute-form with empty host", raw: "GET http:///p HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "absolute-form with userinfo", raw: "GET http://u@h/p HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "absolute-form with empty host and port", raw: "GET http://:80/p HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "authority-form without CONNECT", raw: "GET example.com:80 HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "authority-form with slash", raw: "GET a/b HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "scheme without authority", raw: "GET http:// HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrTarget},
	{name: "bad percent", raw: "GET /%zz HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrPercent},
	{name: "short percent", raw: "GET /a%4 HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrPercent},
	{name: "lone percent", raw: "GET /% HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrPercent},
	{name: "percent before query", raw: "GET /a%2?x HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrPercent},
	{name: "bad percent absolute-form", raw: "GET http://h/%g0 HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrPercent},
	{name: "lower-case version", raw: "GET / http/1.1\r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "version without minor", raw: "GET / HTTP/1\r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "two-digit minor", raw: "GET / HTTP/1.10\r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "version trailing space", raw: "GET / HTTP/1.1 \r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "version letter", raw: "GET / HTTP/1.x\r\n" + host + "\r\n", status: 400, err: ErrVersion},
	{name: "too many empty lines", lim: small, raw: strings.Repeat("\r\n", 17) + "GET / HTTP/1.0\r\n\r\n", status: 400, err: ErrTooManyEmptyLines, failAt: 34},

	// 505
	{name: "HTTP/2.0", raw: "GET / HTTP/2.0\r\n" + host + "\r\n", status: 505, err: ErrVersionNotSupp},
	{name: "HTTP/0.9", raw: "GET / HTTP/0.9\r\n\r\n", status: 505, err: ErrVersionNotSupp},
	{name: "HTTP/3.1", raw: "GET / HTTP/3.1\r\n" + host + "\r\n", status: 505, err: ErrVersionNotSupp},

	// bare CR
	{name: "bare CR in leading empty line", raw: "\r\rGET / HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrBareCR, failAt: 2},
	{name: "bare CR in target", raw: "GET /a\rb HTTP/1.1\r\n" + host + "\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR after version", raw: "GET / HTTP/1.1\r\r\n" + host + "\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR in version", raw: "GET / HTTP/1\r1\r\n" + host + "\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR in field value", raw: "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", status: 400, err: ErrBareCR, failAt: 25},
	{name: "bare CR ending field line", raw: "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", status: 400, err: ErrBareCR, failAt: 25},
	{name: "bare CR as end of head", raw: "GET / HTTP/1.1\r\n" + host + "\rX", status: 400, err: ErrBareCR, failAt: 27},
	{name: "bare CR in chunk line", raw: chunkedHead + "5\rx\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR in chunk ext", raw: chunkedHead + "5;a\rb\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR in trailer", raw: chunkedHead + "0\r\nT: a\rb\r\n\r\n", status: 400, err: ErrBareCR},
	{name: "bare CR ending trailers", raw: chunkedHead + "0\r\n\rX", status: 400, err: ErrBareCR},

	// 400 field lines
	{name: "obs-fold", raw: "GET / HTTP/1.1\r\n" + host + "X: a\r\n b\r\n\r\n", status: 400, err: ErrObsFold, failAt: 32},
	{name: "obs-fold tab", raw: "GET / HTTP/1.1\r\n" + host + "X: a\r\n\tb\r\n\r\n", status: 400, err: ErrObsFold, failAt: 32},
	{name: "whitespace before first field", raw: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400, err: ErrObsFold, failAt: 17},
	{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", status: 400, err: ErrFieldName, failAt: 21},
	{name: "tab before colon", raw: "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", status: 400, err: ErrFieldName, failAt: 21},
	{name: "empty field name", raw: "GET / HTTP/1.1\r\n" + host + ": a\r\n\r\n", status: 400, err: ErrFieldName, failAt: 26},
	{name: "invalid char in field name", raw: "GET / HTTP/1.1\r\n" + host + "X@Y: a\r\n\r\n", status: 400, err: ErrFieldName, failAt: 27},
	{name: "field without colon", raw: "GET / HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", status: 400, err: ErrFieldName, failAt: 33},
	{name: "NUL in field name", raw: "GET / HTTP/1.1\r\n" + host + "X\x00: a\r\n\r\n", status: 400, err: ErrFieldName, failAt: 27},
	{name: "NUL in field value", raw: "GET / HTTP/1.1\r\n" + host + "X: a\x00b\r\n\r\n", status: 400, err: ErrFieldValue, failAt: 30},
	{name: "DEL in field value", raw: "GET / HTTP/1.1\r\n" + host + "X: \x7f\r\n\r\n", status: 400, err: ErrFieldValue, failAt: 29},
	{name: "CTL in field value", raw: "GET / HTTP/1.1\r\n" + host + "X: a\x01\r\n\r\n", status: 400, err: ErrFieldValue, failAt: 30},

	// 400 Host
	{name: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\nX: a\r\n\r\n", status: 400, err: ErrNoHost},
	{name: "two Hosts", raw: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", status: 400, err: ErrManyHosts},
	{name: "two Hosts on 1.0", raw: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", status: 400, err: ErrManyHosts},
	{name: "Host with space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with slash", raw: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400, err: ErrHost},
	// An http URI with an empty host is invalid (RFC 9110 §4.2.1), and so
	// is the origin-form request's Host (RFC 9112 §3.2: 400).
	{name: "empty Host", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n", status: 400, err: ErrHost},
	{name: "blank Host", raw: "GET / HTTP/1.1\r\nHost: \t \r\n\r\n", status: 400, err: ErrHost},
	{name: "empty Host on HTTP/1.0", raw: "GET / HTTP/1.0\r\nHost:\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with port only", raw: "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", status: 400, err: ErrHost},
	// Host is uri-host [":" port]: no userinfo (RFC 9110 §4.2.4, §7.2).
	{name: "Host with userinfo", raw: "GET / HTTP/1.1\r\nHost: user@host\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with user and password", raw: "GET / HTTP/1.1\r\nHost: u:p@host:80\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with empty userinfo", raw: "GET http://h/ HTTP/1.1\r\nHost: @h\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with query", raw: "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with fragment", raw: "GET / HTTP/1.1\r\nHost: a#b\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with backslash", raw: "GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with UTF-8", raw: "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with bad escape", raw: "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with two ports", raw: "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host with non-digit port", raw: "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host IPv6 unclosed", raw: "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host IPv6 empty", raw: "GET / HTTP/1.1\r\nHost: []\r\n\r\n", status: 400, err: ErrHost},
	{name: "Host IPv6 junk after", raw: "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", status: 400, err: ErrHost},

	// 400 Content-Length
	{name: "CL negative", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", status: 400, err: ErrContentLength},
	{name: "CL plus sign", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: +1\r\n\r\nx", status: 400, err: ErrContentLength},
	{name: "CL list", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1, 1\r\n\r\nx", status: 400, err: ErrContentLength},
	{name: "CL inner space", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1 1\r\n\r\nx", status: 400, err: ErrContentLength},
	{name: "CL hex", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 0x1\r\n\r\nx", status: 400, err: ErrContentLength},
	{name: "CL empty", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length:\r\n\r\n", status: 400, err: ErrContentLength},
	{name: "CL overflow", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 9223372036854775808\r\n\r\n", status: 400, err: ErrContentLength},
	{name: "CL 19 digits", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1000000000000000000\r\n\r\n", status: 400, err: ErrContentLength},
	{name: "CL differing duplicates", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy", status: 400, err: ErrDupContentLength},

	// Transfer-Encoding: 400 vs 501
	{name: "CL and TE", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, err: ErrCLAndTE},
	{name: "TE and CL", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", status: 400, err: ErrCLAndTE},
	{name: "TE on HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400, err: ErrTEOnHTTP10},
	{name: "TE gzip only", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE chunked then gzip", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, gzip\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE chunked twice", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked, chunked\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE chunked in two fields", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE chunked then gzip field", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE empty", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding:\r\n\r\n", status: 400, err: ErrTENotChunked},
	{name: "TE gzip before chunked", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n", status: 501, err: ErrTEUnsupported},
	{name: "TE deflate field before chunked", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501, err: ErrTEUnsupported},
	{name: "TE unknown", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: foo\r\n\r\n", status: 501, err: ErrTEUnsupported},
	{name: "TE unknown before chunked", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: foo, chunked\r\n\r\n", status: 501, err: ErrTEUnsupported},
	{name: "TE identity", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: identity, chunked\r\n\r\n", status: 501, err: ErrTEUnsupported},
	{name: "TE chunked with parameter", raw: "POST / HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked;q=1\r\n\r\n", status: 501, err: ErrTEUnsupported},

	// 417
	{name: "Expect other", raw: "POST / HTTP/1.1\r\n" + host + "Expect: 200-ok\r\nContent-Length: 1\r\n\r\nx", status: 417, err: ErrExpectation, failAt: 42},
	{name: "Expect other on HTTP/1.0", raw: "POST / HTTP/1.0\r\nExpect: foo\r\n\r\n", status: 417, err: ErrExpectation},
	{name: "Expect list", raw: "POST / HTTP/1.1\r\n" + host + "Expect: 100-continue, foo\r\n\r\n", status: 417, err: ErrExpectation},

	// 414, 431, 413
	{name: "request line too long", lim: small, raw: "GET /" + strings.Repeat("a", 19) + " HTTP/1.0\r\n\r\n", status: 414, err: ErrURITooLong, failAt: 33},
	{name: "request line too long, incomplete", lim: small, raw: "GET /" + strings.Repeat("a", 40), status: 414, err: ErrURITooLong, failAt: 33},
	{name: "request line too long, CR at the limit", lim: small, raw: "GET /" + strings.Repeat("a", 27) + "\rb HTTP/1.0\r\n\r\n", status: 414, err: ErrURITooLong, failAt: 34},
	{name: "request line too long by its CR", lim: small, raw: "GET /" + strings.Repeat("a", 18) + " HTTP/1.0\r\r\n\r\n", status: 414, err: ErrURITooLong, failAt: 34},
	{name: "method too long, incomplete", lim: small, raw: strings.Repeat("A", 40), status: 414, err: ErrURITooLong, failAt: 33},
	{name: "header section too large", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("v", 51) + "\r\n\r\n", status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	{name: "header section too large, incomplete", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("v", 70), status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	{name: "header name too large, incomplete", lim: small, raw: "GET / HTTP/1.1\r\n" + strings.Repeat("X", 70), status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	// An invalid byte past the limit: the bytes before it already exceed
	// the limit, so it is 431 however the request is split.
	{name: "header section too large before a CTL", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("v", 60) + "\x00\r\n\r\n", status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	{name: "header section too large before a bare CR", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "X: " + strings.Repeat("v", 60) + "\rX\r\n\r\n", status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	{name: "header name too large before a space", lim: small, raw: "GET / HTTP/1.1\r\n" + strings.Repeat("X", 70) + " : a\r\n\r\n", status: 431, err: ErrHeadersTooLarge, failAt: 16 + 65},
	{name: "trailer section too large before a CTL", lim: small, raw: chunkedHead + "0\r\nT: " + strings.Repeat("v", 70) + "\x01\r\n\r\n", status: 431, err: ErrHeadersTooLarge, failAt: 59 + 65},
	{name: "too many fields, fails as the next one starts", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "B: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431, err: ErrTooManyFields, failAt: 16 + 9 + 12 + 1},
	{name: "too many fields, then a malformed one", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "B: 2\r\nC: 3\r\nD : 4\r\n\r\n", status: 431, err: ErrTooManyFields, failAt: 16 + 9 + 12 + 1},
	{name: "too many trailers, fails as the next one starts", lim: small, raw: chunkedHead + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD\x00", status: 431, err: ErrTooManyFields, failAt: 59 + 18 + 1},
	{name: "too many fields", lim: small, raw: "GET / HTTP/1.1\r\n" + host + "B: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431, err: ErrTooManyFields},
	{name: "CL beyond MaxBody", lim: small, raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 11\r\n\r\n", status: 413, err: ErrBodyTooLarge},
	{name: "CL beyond MaxBody default", raw: "POST / HTTP/1.1\r\n" + host + "Content-Length: 4194305\r\n\r\n", status: 413, err: ErrBodyTooLarge},
	{name: "chunked beyond MaxBody", lim: small, raw: chunkedHead + "5\r\n01234\r\n6\r\n", status: 413, err: ErrBodyTooLarge},
	{name: "one chunk beyond MaxBody", lim: small, raw: chunkedHead + "fffffffffffffff\r\n", status: 413, err: ErrBodyTooLarge},
	{name: "trailers too large", lim: small, raw: chunkedHead + "0\r\nT: " + strings.Repeat("v", 70) + "\r\n\r\n", status: 431, err: ErrHeadersTooLarge},
	{name: "too many trailers", lim: small, raw: chunkedHead + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", status: 431, err: ErrTooManyFields},

	// 400 chunked framing
	{name: "chunk size not hex", raw: chunkedHead + "zz\r\n", status: 400, err: ErrChunkSize, failAt: 57},
	{name: "chunk size empty", raw: chunkedHead + "\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 57},
	{name: "chunk size empty with ext", raw: chunkedHead + ";a\r\n", status: 400, err: ErrChunkSize, failAt: 57},
	{name: "chunk size negative", raw: chunkedHead + "-1\r\n", status: 400, err: ErrChunkSize, failAt: 57},
	{name: "chunk size 0x", raw: chunkedHead + "0x5\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 58},
	{name: "chunk size 16 hex digits", raw: chunkedHead + "0000000000000001\r\nx\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 72},
	{name: "chunk ext without name", raw: chunkedHead + "5;\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext only value", raw: chunkedHead + "5;=x\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext empty value", raw: chunkedHead + "5;a=\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext unterminated quote", raw: chunkedHead + "5;a=\"b\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext CTL in quote", raw: chunkedHead + "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext junk after quote", raw: chunkedHead + "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext two names", raw: chunkedHead + "5;a b\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	// chunk-size is hex digits only: whitespace may follow it only before
	// the ';' of an extension (RFC 9112 §7.1.1), refused as soon as another
	// byte comes.
	{name: "chunk junk after size and space", raw: chunkedHead + "5 x\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 59},
	{name: "chunk size then space", raw: chunkedHead + "5 \r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 59},
	{name: "chunk size then tab", raw: chunkedHead + "5\t\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 59},
	{name: "last chunk size then spaces", raw: chunkedHead + "0  \r\n\r\n", status: 400, err: ErrChunkSize, failAt: 60},
	{name: "chunk size then space, bare LF", raw: chunkedHead + "5 \nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 59},
	{name: "chunk size then whitespace past the line limit", raw: chunkedHead + "5" + strings.Repeat(" ", 5000) + ";a\r\n", status: 400, err: ErrChunkExt, failAt: 56 + maxChunkLine},
	{name: "chunk ext then trailing space", raw: chunkedHead + "5;a=b \r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext name then trailing tab", raw: chunkedHead + "5;a\t\r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext quoted then trailing space", raw: chunkedHead + "5;a=\"b\" \r\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt},
	{name: "chunk ext line too long", raw: chunkedHead + "5;a=" + strings.Repeat("b", 5000), status: 400, err: ErrChunkExt, failAt: 56 + maxChunkLine},
	{name: "chunk data too long", raw: chunkedHead + "5\r\nhello!\r\n0\r\n\r\n", status: 400, err: ErrChunkData, failAt: 65},
	{name: "chunk data then CR junk", raw: chunkedHead + "5\r\nhello\rX0\r\n\r\n", status: 400, err: ErrChunkData, failAt: 66},
	// RFC 9112 allows a lone LF as a line end only in the start line and
	// fields: chunk lines and chunk data end in CRLF.
	{name: "chunk data then bare LF", raw: chunkedHead + "5\r\nhello\n0\r\n\r\n", status: 400, err: ErrChunkData, failAt: 65},
	{name: "chunk size line bare LF", raw: chunkedHead + "5\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkSize, failAt: 58},
	{name: "chunk ext line bare LF", raw: chunkedHead + "5;a=b\nhello\r\n0\r\n\r\n", status: 400, err: ErrChunkExt, failAt: 62},
	{name: "last chunk bare LF", raw: chunkedHead + "0\n\r\n", status: 400, err: ErrChunkSize, failAt: 58},
	{name: "last chunk ext bare LF", raw: chunkedHead + "0;x\n\n", status: 400, err: ErrChunkExt, failAt: 60},
	{name: "trailer obs-fold", raw: chunkedHead + "0\r\nT: a\r\n b\r\n\r\n", status: 400, err: ErrObsFold},
	{name: "trailer bad name", raw: chunkedHead + "0\r\nT : a\r\n\r\n", status: 400, err: ErrFieldName},
	{name: "trailer CTL", raw: chunkedHead + "0\r\nT: \x00\r\n\r\n", status: 400, err: ErrFieldValue},
}

// incompleteCases are strict prefixes of valid requests: always ErrNeedMore.
var incompleteCases = []struct{ name, raw string }{
	{"empty", ""},
	{"CR", "\r"},
	{"CRLF", "\r\n"},
	{"method", "GET"},
	{"request line", "GET / HTTP/1.1"},
	{"request line CR", "GET / HTTP/1.1\r"},
	{"head without end", "GET / HTTP/1.1\r\nHost: a\r\n"},
	{"head end CR", "GET / HTTP/1.1\r\nHost: a\r\n\r"},
	{"partial body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel"},
	{"chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5"},
	{"chunk data", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello"},
	{"chunk data CR", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r"},
	{"last chunk", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"},
	{"trailer", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: v\r\n"},
}
