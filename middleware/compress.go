package middleware

import (
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/kahttp/kahttp"
	"github.com/klauspost/compress/gzip"
)

// compressMin is the smallest body Compress compresses: below it gzip's
// own header and trailer outweigh what it saves.
const compressMin = 1024

// Compress gzips response bodies for clients that accept it
// (Accept-Encoding, with a q-value above 0), with klauspost/compress.
// It sets Vary: Accept-Encoding, and leaves alone: HEAD, 1xx/204/304 and
// partial (206, Content-Range) responses, bodies that already have a
// Content-Encoding, types that are compressed already (images but SVG,
// audio, video, archives, fonts), and bodies under 1 KiB. The compressed
// body goes through the response's own writer, so one that fits its
// buffer still gets Content-Length and keeps the connection alive; a
// larger one streams chunked. Flush flushes the compressor (server-sent
// events stay live).
func Compress() kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			if r.Method() != "HEAD" && acceptsGzip(r.Header("Accept-Encoding")) {
				w.Filter(func(dst io.Writer) io.WriteCloser { return &gzipFilter{w: w, dst: dst} })
			}
			next.Serve(w, r)
		})
	}
}

// acceptsGzip reports whether an Accept-Encoding value takes gzip (or *)
// with a q-value above 0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.TrimSpace(coding)
		if !strings.EqualFold(coding, "gzip") && coding != "*" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// gzipFilter holds the first compressMin bytes, then decides: compress
// (the fields set, a pooled gzip writer) or pass the body through.
type gzipFilter struct {
	w       *kahttp.Response
	dst     io.Writer
	held    []byte
	decided bool
	gz      *gzip.Writer
}

func (f *gzipFilter) Write(p []byte) (int, error) {
	if !f.decided {
		f.held = append(f.held, p...)
		if len(f.held) < compressMin {
			return len(p), nil
		}
		if err := f.decide(); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	if f.gz != nil {
		return f.gz.Write(p)
	}
	return f.dst.Write(p)
}

// decide compresses the body if its response may be, and sends what is held.
func (f *gzipFilter) decide() error {
	f.decided = true
	h := f.w.Header()
	if compressible(f.w) {
		h.Add("Vary", "Accept-Encoding")
		h.Set("Content-Encoding", "gzip")
		h.Del("Content-Length") // the length the handler declared is the uncompressed one
		f.gz = gzipWriters.Get().(*gzip.Writer)
		f.gz.Reset(f.dst)
		_, err := f.gz.Write(f.held)
		f.held = nil
		return err
	}
	_, err := f.dst.Write(f.held)
	f.held = nil
	return err
}

// Flush sends what is compressed so far: the body cannot wait for 1 KiB.
func (f *gzipFilter) Flush() error {
	if !f.decided && len(f.held) > 0 {
		if err := f.decide(); err != nil {
			return err
		}
	}
	if f.gz != nil {
		return f.gz.Flush()
	}
	return nil
}

// Close ends the body: a small one goes out as it is.
func (f *gzipFilter) Close() error {
	if !f.decided {
		f.decided = true
		if len(f.held) > 0 {
			if compressibleType(f.w) {
				f.w.Header().Add("Vary", "Accept-Encoding") // compressed when larger
			}
			_, err := f.dst.Write(f.held)
			return err
		}
		return nil
	}
	if f.gz == nil {
		return nil
	}
	err := f.gz.Close()
	f.gz.Reset(io.Discard)
	gzipWriters.Put(f.gz)
	f.gz = nil
	return err
}

// compressible reports whether the response may be gzipped.
func compressible(w *kahttp.Response) bool {
	switch s := w.Status(); {
	case s < 200, s == 204, s == 206, s == 304:
		return false
	}
	h := w.Header()
	if h.Get("Content-Encoding") != "" || h.Get("Content-Range") != "" || w.HeadSent() {
		return false
	}
	return compressibleType(w)
}

// compressibleType reports whether the Content-Type is worth compressing.
func compressibleType(w *kahttp.Response) bool {
	ct := strings.ToLower(w.Header().Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "image/svg"):
		return true
	case strings.HasPrefix(ct, "image/"), strings.HasPrefix(ct, "audio/"), strings.HasPrefix(ct, "video/"),
		strings.HasPrefix(ct, "font/woff"):
		return false
	}
	for _, packed := range []string{"application/zip", "application/gzip", "application/x-gzip", "application/zstd",
		"application/x-bzip2", "application/x-7z-compressed", "application/x-xz", "application/wasm"} {
		if strings.HasPrefix(ct, packed) {
			return false
		}
	}
	return true
}
