package middleware

import (
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/internal/wire"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressMin is the smallest body Compress compresses: below it an
// encoding's own framing outweighs what it saves.
const compressMin = 1024

// Compress compresses response bodies in the encoding the client prefers
// among br (andybalholm/brotli), zstd and gzip (klauspost/compress), by the
// q-values of its Accept-Encoding (brotli first among equals: it packs
// text best). Every response whose encoding depended on Accept-Encoding
// says Vary: Accept-Encoding, compressed or not, so a cache never serves
// one client's encoding to another. HEAD gets the fields and the length
// GET would (its body is compressed and dropped). It leaves alone:
// 1xx/204/304 and partial (206, Content-Range) responses, bodies that
// already have a Content-Encoding, types that are compressed already
// (images but SVG, audio, video, archives, fonts), and bodies under
// 1 KiB. The compressed body goes through the response's own writer, so
// one that fits its buffer still gets Content-Length and keeps the
// connection alive; a larger one streams chunked. Flush flushes the
// encoder (server-sent events stay live). The encoders are pooled, with
// small windows (256 KiB): an idle server holds none of their memory for
// long, and a busy one little per response.
func Compress() kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			enc := negotiate(r.Header("Accept-Encoding"))
			w.Filter(func(dst io.Writer) io.WriteCloser { return &compressFilter{w: w, dst: dst, enc: enc} })
			next.Serve(w, r)
		})
	}
}

// encoding is a content coding Compress can send.
type encoding struct {
	name string
	pool *sync.Pool // of encoder
}

// encoder is what gzip.Writer, zstd.Encoder and brotli.Writer all are.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(w io.Writer)
}

var (
	encBrotli = &encoding{"br", &sync.Pool{New: func() any {
		return brotli.NewWriterOptions(io.Discard, brotli.WriterOptions{Quality: 4, LGWin: 18})
	}}}
	encZstd = &encoding{"zstd", &sync.Pool{New: func() any {
		z, _ := zstd.NewWriter(io.Discard, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(1<<18), zstd.WithLowerEncoderMem(true))
		return z
	}}}
	encGzip = &encoding{"gzip", &sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}}
)

// preference is the order among equal q-values, and names the same
// codings for wire.PreferCoding.
var (
	preference = [...]*encoding{encBrotli, encZstd, encGzip}
	names      = func() (n [len(preference)]string) {
		for i, e := range preference {
			n[i] = e.name
		}
		return n
	}()
)

// negotiate picks the encoding an Accept-Encoding value prefers (nil:
// none, send the body as it is), as the file server picks a precompressed
// sibling: wire.PreferCoding.
func negotiate(ae string) *encoding {
	chosen := wire.PreferCoding(ae, names[:]...)
	for i, n := range names {
		if n == chosen {
			return preference[i]
		}
	}
	return nil
}

// compressFilter holds the first compressMin bytes, then decides: compress
// (the fields set, a pooled encoder) or pass the body through.
type compressFilter struct {
	w       *kahttp.Response
	dst     io.Writer
	enc     *encoding // the client's choice; nil: none
	held    []byte
	decided bool
	e       encoder // while compressing
}

func (f *compressFilter) Write(p []byte) (int, error) {
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
	if f.e != nil {
		return f.e.Write(p)
	}
	return f.dst.Write(p)
}

// decide compresses the body if its response may be, and sends what is held.
func (f *compressFilter) decide() error {
	f.decided = true
	if !compressible(f.w) {
		return f.pass()
	}
	h := f.w.Header()
	h.Add("Vary", "Accept-Encoding")
	if f.enc == nil {
		return f.pass()
	}
	h.Set("Content-Encoding", f.enc.name)
	h.Del("Content-Length") // the length the handler declared is the uncompressed one
	f.e = f.enc.pool.Get().(encoder)
	f.e.Reset(f.dst)
	_, err := f.e.Write(f.held)
	f.held = nil
	return err
}

// pass sends what is held as it is.
func (f *compressFilter) pass() error {
	_, err := f.dst.Write(f.held)
	f.held = nil
	return err
}

// Flush sends what is compressed so far: the body cannot wait for 1 KiB.
func (f *compressFilter) Flush() error {
	if !f.decided && len(f.held) > 0 {
		if err := f.decide(); err != nil {
			return err
		}
	}
	if f.e != nil {
		return f.e.Flush()
	}
	return nil
}

// Close ends the body: a small one goes out as it is.
func (f *compressFilter) Close() error {
	if !f.decided {
		f.decided = true
		if len(f.held) > 0 || f.w.Status() != kahttp.StatusOK {
			if compressible(f.w) {
				f.w.Header().Add("Vary", "Accept-Encoding") // compressed when larger
			}
		}
		return f.pass()
	}
	if f.e == nil {
		return nil
	}
	err := f.e.Close()
	f.e.Reset(io.Discard)
	f.enc.pool.Put(f.e)
	f.e = nil
	return err
}

// compressible reports whether the response may be compressed.
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
