package wire

import (
	"strings"
	"testing"
)

// browserGET is what Chrome sends for a page: 12 header fields, ~500 bytes.
const browserGET = "GET /articles/2024/http-parsing?utm_source=feed&ref=home HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Referer: https://www.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"\r\n"

func TestBenchInputs(t *testing.T) {
	r := new(Request)
	n, err := Parse([]byte(browserGET), r, &DefaultLimits)
	if err != nil || n != len(browserGET) || len(r.Fields) != 12 {
		t.Fatalf("browserGET: n=%d err=%v fields=%d", n, err, len(r.Fields))
	}
	if len(browserGET) < 450 || len(browserGET) > 650 {
		t.Fatalf("browserGET is %d bytes", len(browserGET))
	}
	src := chunkedBody()
	n, err = Parse([]byte(src), r, &DefaultLimits)
	if err != nil || n != len(src) || r.Body.Len() != 4096 {
		t.Fatalf("chunked: n=%d err=%v body=%d", n, err, r.Body.Len())
	}
}

func BenchmarkParseBrowserGET(b *testing.B) {
	buf := []byte(browserGET)
	r := new(Request)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		r.Reset()
		if _, err := Parse(buf, r, &DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePipeline16(b *testing.B) {
	one := "GET /api/v1/items/42 HTTP/1.1\r\nHost: api.example.com\r\nAccept: application/json\r\n\r\n"
	buf := []byte(strings.Repeat(one, 16))
	r := new(Request)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		off := 0
		for off < len(buf) {
			r.Reset()
			n, err := Parse(buf[off:], r, &DefaultLimits)
			if err != nil {
				b.Fatal(err)
			}
			off += n
		}
	}
}

// chunkedBody is a POST with a 4 KiB body in 16 chunks of 256 bytes.
func chunkedBody() string {
	var sb strings.Builder
	sb.WriteString("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	for i := 0; i < 16; i++ {
		sb.WriteString("100\r\n")
		sb.WriteString(strings.Repeat(string(rune('a'+i)), 256))
		sb.WriteString("\r\n")
	}
	sb.WriteString("0\r\n\r\n")
	return sb.String()
}

func BenchmarkParseChunked(b *testing.B) {
	src := []byte(chunkedBody())
	buf := make([]byte, len(src))
	r := new(Request)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(buf, src) // decoding is in place
		r.Reset()
		if _, err := Parse(buf, r, &DefaultLimits); err != nil {
			b.Fatal(err)
		}
	}
}
