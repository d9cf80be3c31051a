package kahttp

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kahttp/kahttp/internal/wire"
)

// FileServer serves the files of fsys: an embed.FS, or a directory opened
// with os.OpenRoot(dir) and its FS (which refuses symlinks that leave the
// directory; os.DirFS follows them). It serves the file the route's last
// parameter names (rt.GET("/static/*file", kahttp.FileServer(fsys))), or
// the request's path when the route has none.
//
//   - Content-Type from the name's extension, else sniffed from the first
//     512 bytes; Last-Modified from the file (none for embed.FS); an ETag
//     from the modification time and size, or for a file without one
//     (embed.FS) from a hash of its content, computed once.
//   - 304 Not Modified for If-None-Match or If-Modified-Since.
//   - A single byte range (Range, If-Range): 206, or 416 when it is past the
//     end; several ranges get the whole file.
//   - A directory serves its index.html, or 404: no listings.
//   - "..", a path not fs.ValidPath, and encoded slashes or backslashes get
//     404.
//   - A precompressed sibling (app.js.br, app.js.gz) goes out instead, with
//     its Content-Encoding, when the client accepts it (Vary:
//     Accept-Encoding).
//
// GET and HEAD; register it for GET (HEAD follows). WithFileCache keeps
// files in memory.
func FileServer(fsys fs.FS, opts ...FileServerOption) Handler {
	s := &fileServer{fsys: fsys}
	for _, o := range opts {
		o(s)
	}
	return s
}

type fileServer struct {
	fsys  fs.FS
	cache *fileCache // nil without WithFileCache
	// For files without a modification time (embed.FS: they cannot
	// change), what is learnt once: name → ETag, and name → whether it
	// has a precompressed sibling.
	hashes, siblings sync.Map
}

// encodedSiblings are the precompressed forms a file may have beside it,
// in the order they are preferred among equal q-values, and
// siblingCodings their codings, for wire.PreferCoding.
var (
	encodedSiblings = [...]struct{ coding, ext string }{{"br", ".br"}, {"gzip", ".gz"}}
	siblingCodings  = func() (c [len(encodedSiblings)]string) {
		for i, e := range encodedSiblings {
			c[i] = e.coding
		}
		return c
	}()
)

func (s *fileServer) Serve(w *Response, r *Request) {
	if m := r.Method(); m != "GET" && m != "HEAD" {
		w.Header().Set("Allow", "GET, HEAD")
		w.WriteError(&RequestError{Status: StatusMethodNotAllowed, Reason: "only GET and HEAD"})
		return
	}
	name, ok := s.name(r)
	if !ok {
		w.WriteError(&RequestError{Status: StatusNotFound, Reason: "no such file"})
		return
	}
	if s.cache != nil {
		if e := s.cache.get(s, name); e != nil {
			s.serveCached(w, r, e)
			return
		}
	}
	f, st, err := s.open(name)
	if err != nil {
		w.WriteError(&RequestError{Status: StatusNotFound, Reason: "no such file"})
		return
	}
	defer f.Close()
	h := w.Header()
	ctype := mime.TypeByExtension(path.Ext(st.Name()))
	if ctype == "" {
		ctype = sniff(f)
	}
	etag := s.etag(name, f, st)
	if !st.ModTime().IsZero() {
		h.Set("Last-Modified", st.ModTime().UTC().Format(http.TimeFormat))
	}
	// The representation: a precompressed sibling when the client takes
	// it (the same content, smaller; an ETag of its own), else the file.
	body, size, ranges := f, st.Size(), true
	if s.hasSiblings(name, st.ModTime().IsZero()) {
		h.Add("Vary", "Accept-Encoding")
		if sib, coding, sst := s.sibling(name, r); sib != nil {
			defer sib.Close()
			h.Set("Content-Encoding", coding)
			body, size, ranges = sib, sst.Size(), false
			etag = siblingTag(etag, coding)
		}
	}
	h.Set("ETag", etag)
	if notModified(r, etag, st.ModTime()) {
		w.WriteHeader(StatusNotModified)
		return
	}
	s.send(w, r, body, size, ctype, ranges && ifRange(r, etag, st.ModTime()))
}

// name is the file the request asks for, cleaned; false for one it may not.
func (s *fileServer) name(r *Request) (string, bool) {
	p := r.Path()
	if ps := r.Params(); len(ps) > 0 {
		p = ps[len(ps)-1].Value
	}
	raw := r.RawPath()
	if strings.Contains(raw, "%2") || strings.Contains(raw, "%5") || strings.Contains(p, "\\") {
		if l := strings.ToLower(raw); strings.Contains(l, "%2f") || strings.Contains(l, "%5c") || strings.Contains(p, "\\") {
			return "", false // an encoded slash or a backslash: a name the path does not show
		}
	}
	if p == "" || p == "/" {
		return ".", true
	}
	if fs.ValidPath(p) {
		return p, true // clean already (no "..", no empty or "." segment): no copy
	}
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == ".." {
			return "", false
		}
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "."
	}
	return name, fs.ValidPath(name)
}

// open opens name, or the index.html of the directory it is.
func (s *fileServer) open(name string) (fs.File, fs.FileInfo, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		_ = f.Close()
		return s.open(path.Join(name, "index.html"))
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// sibling opens the precompressed form of name the client prefers, if
// any: by its q-values (wire.PreferCoding, as middleware.Compress), the
// next one when the preferred is not there.
func (s *fileServer) sibling(name string, r *Request) (fs.File, string, fs.FileInfo) {
	ae := r.Header("Accept-Encoding")
	left := siblingCodings
	for n := len(left); n > 0; n-- {
		coding := wire.PreferCoding(ae, left[:n]...)
		if coding == "" {
			break
		}
		i := slices.Index(left[:n], coding)
		copy(left[i:n], left[i+1:n]) // tried: out of the offer, the rest in order
		f, err := s.fsys.Open(name + encodedSiblings[slices.Index(siblingCodings[:], coding)].ext)
		if err != nil {
			continue
		}
		if st, err := f.Stat(); err == nil && !st.IsDir() {
			return f, coding, st
		}
		_ = f.Close()
	}
	return nil, "", nil
}

// hasSiblings reports whether name has a precompressed form: its answer
// then depends on Accept-Encoding. Remembered for a file that cannot
// change (fixed).
func (s *fileServer) hasSiblings(name string, fixed bool) bool {
	if fixed {
		if v, ok := s.siblings.Load(name); ok {
			return v.(bool)
		}
	}
	has := false
	for _, e := range encodedSiblings {
		if _, err := fs.Stat(s.fsys, name+e.ext); err == nil {
			has = true
			break
		}
	}
	if fixed {
		s.siblings.Store(strings.Clone(name), has) // name is a view into the request
	}
	return has
}

// etag is the file's entity tag: its modification time and size, or a
// hash of its content when it has no modification time (embed.FS),
// computed once per name.
func (s *fileServer) etag(name string, f fs.File, st fs.FileInfo) string {
	if !st.ModTime().IsZero() {
		return timeTag(st.ModTime(), st.Size())
	}
	if v, ok := s.hashes.Load(name); ok {
		return v.(string)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	if sk, ok := f.(io.Seeker); ok {
		_, _ = sk.Seek(0, io.SeekStart)
	}
	tag := hashTag(h.Sum(nil))
	s.hashes.Store(strings.Clone(name), tag) // name is a view into the request
	return tag
}

// The ETags: a file's from its modification time and size, or from a
// SHA-256 of its content when it has no time (embed.FS); a precompressed
// sibling's is its file's with the coding added. The file server and its
// cache both form them here, so a client's validator holds across both.
func timeTag(mod time.Time, size int64) string {
	return `"` + strconv.FormatInt(mod.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36) + `"`
}
func hashTag(sum []byte) string { return `"` + hex.EncodeToString(sum[:12]) + `"` }
func siblingTag(etag, coding string) string {
	return strings.TrimSuffix(etag, `"`) + "-" + coding + `"`
}

// notModified applies If-None-Match (weak comparison), else
// If-Modified-Since (RFC 9110 §13.2.2).
func notModified(r *Request, etag string, mod time.Time) bool {
	if inm := r.Header("If-None-Match"); inm != "" {
		return etagListHas(inm, etag)
	}
	if ims := r.Header("If-Modified-Since"); ims != "" && !mod.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !mod.Truncate(time.Second).After(t)
	}
	return false
}

func etagListHas(list, etag string) bool {
	for tag := range strings.SplitSeq(list, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}

// ifRange reports whether a Range may apply: no If-Range, or one that
// matches the current representation (a strong ETag, or its date).
func ifRange(r *Request, etag string, mod time.Time) bool {
	ir := r.Header("If-Range")
	switch {
	case ir == "":
		return true
	case strings.HasPrefix(ir, `"`):
		return ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && !mod.IsZero() && mod.Truncate(time.Second).Equal(t)
}

// send writes the file's content, or the one range asked for when ranges
// may apply: 206, or 416 past its end.
func (s *fileServer) send(w *Response, r *Request, f fs.File, size int64, ctype string, ranges bool) {
	h := w.Header()
	rs, seekable := f.(io.ReadSeeker)
	status, start, length, ok := byteRange(w, r, size, ranges && seekable)
	if !ok {
		return
	}
	var body io.Reader = f
	if status == StatusPartialContent {
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			h.Del("Content-Range") // the whole file, then
			status, length = StatusOK, size
		} else {
			body = io.LimitReader(rs, length)
		}
	}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	// HEAD too: the response drops the bytes, and a filter (Compress)
	// sees them, so HEAD says what GET sends.
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	// Through the response's writer (and any filter: Compress); the
	// reader wrapped so that our buffer is the one used.
	_, _ = io.CopyBuffer(w, struct{ io.Reader }{body}, *bp)
}

// byteRange applies the request's Range, when ranges may apply, to a
// representation of size bytes: 206 with Content-Range and the part to
// send, or 200 and all of it (several ranges, or none). Accept-Ranges is
// set. ok false: past the end, answered 416 here.
func byteRange(w *Response, r *Request, size int64, ranges bool) (status int, start, length int64, ok bool) {
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	if rng := r.Header("Range"); ranges && rng != "" {
		start, end, ok := parseRange(rng, size)
		switch {
		case !ok:
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			w.WriteError(&RequestError{Status: StatusRequestedRangeNotSatisfiable, Reason: "range past the end of the file"})
			return 0, 0, 0, false
		case start >= 0:
			h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
			return StatusPartialContent, start, end - start + 1, true
		}
	}
	return StatusOK, 0, size, true
}

// sniff detects the content type from the first 512 bytes of f, and
// rewinds it ("" when it cannot be rewound).
func sniff(f fs.File) string {
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return ""
	}
	pos, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return ""
	}
	var b [512]byte
	n, _ := io.ReadFull(rs, b[:])
	if _, err := rs.Seek(pos, io.SeekStart); err != nil {
		return ""
	}
	return http.DetectContentType(b[:n])
}

// parseRange parses a single byte range (RFC 9110 §14.1.2) of a file of
// size bytes: start and end inclusive; start -1 for a value to ignore
// (several ranges, not bytes): the whole file goes out. ok false: past
// the end (416).
func parseRange(v string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return -1, -1, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return -1, -1, true
	}
	if first == "" { // the last n bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return -1, -1, true
		}
		if n == 0 || size == 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size - 1, true
	}
	s, err := strconv.ParseInt(first, 10, 64)
	if err != nil || s < 0 {
		return -1, -1, true
	}
	if s >= size {
		return 0, 0, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.ParseInt(last, 10, 64); err != nil || e < s {
			return -1, -1, true
		}
		e = min(e, size-1)
	}
	return s, e, true
}
