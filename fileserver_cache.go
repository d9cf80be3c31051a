package kahttp

import (
	"crypto/sha256"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kahttp/kahttp/internal/wire"
)

// A FileServerOption configures FileServer.
type FileServerOption func(*fileServer)

// WithFileCache keeps the files FileServer serves, and their precompressed
// siblings, in memory: up to maxBytes in all, each looked at again on disk
// at most once per recheck (it is read again then, and a file that changed
// is served anew). A file that does not fit in what is left is served from
// fsys as without the cache. A cached request makes no system call: no
// open, stat or read. Files without a modification time (embed.FS) cannot
// change and are never looked at again.
//
// The price is staleness: a file changed on disk may be served as it was
// for up to recheck. fasthttp's FS caches the same way (10 s by default);
// nginx's open_file_cache keeps descriptors and metadata.
func WithFileCache(maxBytes int64, recheck time.Duration) FileServerOption {
	return func(s *fileServer) {
		if maxBytes > 0 {
			s.cache = &fileCache{max: maxBytes, recheck: recheck}
		}
	}
}

// fileCache holds cachedFiles by the name the request asked for. Safe for
// concurrent use: entries never change once stored, a stale one is
// replaced (sync.Map), and used counts the bytes held (atomic).
type fileCache struct {
	max     int64
	recheck time.Duration
	used    atomic.Int64
	m       sync.Map // name → *cachedFile
}

// cachedFile is one file's representations in memory, and what its
// answers say of it.
type cachedFile struct {
	body         []byte
	ctype, etag  string
	mod          time.Time
	lastModified string // mod, formatted; "" for none
	vary         bool   // it has precompressed siblings
	siblings     []cachedSibling
	codings      []string // the siblings' codings, in the same order
	loaded       time.Time
	bytes        int64 // body, siblings, name and overhead: what it counts against max
	// tooLarge: the file did not fit; remembered (holding no bytes) so
	// that its requests go to fsys without reading it first, until the
	// next look.
	tooLarge bool
}

// cachedSibling is a precompressed sibling (its coding in codings).
type cachedSibling struct {
	etag string
	body []byte
}

// get returns the cached file for name, loading it when it is missing or
// due for a look; nil when it cannot be cached (not found, or no room):
// the request is then served from fsys.
func (c *fileCache) get(s *fileServer, name string) *cachedFile {
	now := time.Now()
	if v, ok := c.m.Load(name); ok {
		e := v.(*cachedFile)
		if now.Sub(e.loaded) < c.recheck || (e.mod.IsZero() && !e.tooLarge) {
			if e.tooLarge {
				return nil
			}
			return e
		}
		if c.m.CompareAndDelete(name, e) {
			c.used.Add(-e.bytes)
		}
	}
	e := s.load(name, c.max-c.used.Load())
	if e == nil {
		return nil // not found: not remembered, or names never asked for twice would pile up
	}
	e.loaded = now
	e.bytes += int64(len(name)) + entryOverhead
	served := e
	if e.tooLarge {
		served = nil
	}
	if c.used.Add(e.bytes) > c.max {
		c.used.Add(-e.bytes) // no room left (another request took it meanwhile)
		return served        // this request has read it: serve it anyway
	}
	if _, loaded := c.m.LoadOrStore(strings.Clone(name), e); loaded { // name is a view into the request
		c.used.Add(-e.bytes) // another request stored it first
	}
	return served
}

// entryOverhead is what an entry costs beside its bytes and its name (the
// map's share, the entry's fields), counted against the budget so that
// entries for files too large, which hold no bytes, are bounded too.
const entryOverhead = 256

// load reads name (or its directory's index.html) and its precompressed
// siblings, if they fit in room bytes; nil if not found or unreadable, an
// entry marked tooLarge if they do not fit.
func (s *fileServer) load(name string, room int64) *cachedFile {
	f, st, err := s.open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	tooLarge := &cachedFile{mod: st.ModTime(), tooLarge: true}
	if st.Size() > room {
		return tooLarge
	}
	body, err := readAll(f, st.Size())
	if err != nil {
		return nil
	}
	e := &cachedFile{body: body, mod: st.ModTime(), bytes: int64(len(body))}
	e.ctype = mime.TypeByExtension(path.Ext(st.Name()))
	if e.ctype == "" {
		e.ctype = http.DetectContentType(body[:min(len(body), 512)])
	}
	if e.mod.IsZero() {
		sum := sha256.Sum256(body)
		e.etag = hashTag(sum[:])
	} else {
		e.etag = timeTag(e.mod, st.Size())
		e.lastModified = e.mod.UTC().Format(http.TimeFormat)
	}
	for _, enc := range encodedSiblings {
		sf, err := s.fsys.Open(name + enc.ext)
		if err != nil {
			continue
		}
		sst, err := sf.Stat()
		if err != nil || sst.IsDir() {
			_ = sf.Close()
			continue
		}
		e.vary = true
		if e.bytes+sst.Size() > room {
			_ = sf.Close()
			return tooLarge // all of it or nothing: a sibling may not go missing
		}
		sb, err := readAll(sf, sst.Size())
		_ = sf.Close()
		if err != nil {
			return nil
		}
		e.siblings = append(e.siblings, cachedSibling{body: sb, etag: siblingTag(e.etag, enc.coding)})
		e.codings = append(e.codings, enc.coding)
		e.bytes += int64(len(sb))
	}
	return e
}

// readAll reads f whole, size bytes as its Stat said (more or less if it
// changed meanwhile).
func readAll(f io.Reader, size int64) ([]byte, error) {
	b := make([]byte, 0, size+1) // +1: EOF seen without growing
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// serveCached answers from e as Serve does from the file system.
func (s *fileServer) serveCached(w *Response, r *Request, e *cachedFile) {
	h := w.Header()
	if e.lastModified != "" {
		h.Set("Last-Modified", e.lastModified)
	}
	body, etag, ranges := e.body, e.etag, true
	if e.vary {
		h.Add("Vary", "Accept-Encoding")
		if coding := wire.PreferCoding(r.Header("Accept-Encoding"), e.codings...); coding != "" {
			sib := &e.siblings[slices.Index(e.codings, coding)]
			h.Set("Content-Encoding", coding)
			body, etag, ranges = sib.body, sib.etag, false
		}
	}
	h.Set("ETag", etag)
	if notModified(r, etag, e.mod) {
		w.WriteHeader(StatusNotModified)
		return
	}
	status, start, length, ok := byteRange(w, r, int64(len(body)), ranges && ifRange(r, etag, e.mod))
	if !ok {
		return
	}
	body = body[start : start+length]
	h.Set("Content-Type", e.ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // HEAD too, as send: the response drops the bytes
}
