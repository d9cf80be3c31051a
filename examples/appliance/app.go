package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/middleware"
	"github.com/kahttp/kahttp/nethttp"
)

//go:embed ui
var uiFiles embed.FS

// Device is one managed device.
type Device struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip"`
}

// app is the device-admin service: devices in memory, firmware on disk,
// a status that followers get live.
type app struct {
	password    string // the admin password (login form, or Bearer token)
	firmwareDir string
	corsOrigin  string // an origin allowed to call /api from a browser ("" none)
	// secure marks the session cookie Secure: the browser sends it over
	// HTTPS only (main sets it when it serves HTTPS, the default).
	secure bool

	mu       sync.Mutex
	devices  map[string]Device
	nextID   int
	sessions map[string]time.Time // session cookie values, and when each expires
	status   string
	subs     map[chan string]struct{}
}

func newApp(password, firmwareDir, corsOrigin string) *app {
	return &app{password: password, firmwareDir: firmwareDir, corsOrigin: corsOrigin,
		devices: map[string]Device{}, sessions: map[string]time.Time{}, status: "idle",
		subs: map[chan string]struct{}{}}
}

// router: the admin UI (static, cached, compressed), the login form, and
// the JSON API (auth, CORS) with firmware upload and live status.
func (a *app) router() *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.Use(middleware.RequestID(), middleware.AccessLog(middleware.WithValue("request_id", middleware.RequestIDKey{})), middleware.Recover())
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_ = w.Redirect(kahttp.StatusFound, "/admin/")
	}))
	admin := rt.Group("/admin", middleware.Compress(), a.requireLogin)
	admin.GET("/*file", ui())
	rt.GET("/login", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.WriteString(loginPage)
	}))
	rt.POST("/login", kahttp.HandlerFunc(a.login))
	rt.POST("/logout", kahttp.HandlerFunc(a.logout))

	// CORS outside the auth: a browser's preflight carries no credentials.
	api := rt.Group("/api", middleware.CORS(middleware.CORSOptions{
		AllowOrigins: origins(a.corsOrigin),
		AllowMethods: []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders: []string{"Authorization", "Content-Type"},
	}), a.auth)
	api.GET("/devices", kahttp.HandlerFunc(a.listDevices))
	api.POST("/devices", kahttp.HandlerFunc(a.createDevice))
	api.GET("/devices/:id", kahttp.HandlerFunc(a.getDevice))
	api.PUT("/devices/:id", kahttp.HandlerFunc(a.updateDevice))
	api.DELETE("/devices/:id", kahttp.HandlerFunc(a.deleteDevice))
	// Firmware images stream to disk: memory stays small whatever their size.
	api.POST("/firmware", kahttp.HandlerFunc(a.uploadFirmware), kahttp.WithBodyLimit(512<<20))
	api.GET("/status/events", kahttp.HandlerFunc(a.statusEvents))
	api.GET("/status/ws", nethttp.Wrap(http.HandlerFunc(a.statusWS)))
	return rt
}

// origins is the CORS origins list: the one allowed, or none.
func origins(o string) []string {
	if o == "" {
		return nil
	}
	return []string{o}
}

// sessionTTL is how long a login lasts (the cookie's Max-Age too).
const sessionTTL = 8 * time.Hour

// authorized: a session cookie from the login form that has not expired,
// or the password as a Bearer token.
func (a *app) authorized(r *kahttp.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header("Authorization"), "Bearer "); ok {
		return a.isPassword(tok)
	}
	c, err := r.Cookie("session")
	if err != nil {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.sessions[c.Value]
	if ok && time.Now().After(until) {
		delete(a.sessions, c.Value)
		return false
	}
	return ok
}

// isPassword compares in constant time: how long it takes does not tell
// how much of a guess was right.
func (a *app) isPassword(guess string) bool {
	return subtle.ConstantTimeCompare([]byte(guess), []byte(a.password)) == 1
}

// auth answers 401 to the API's requests (the router's 404 and 405
// included: an anonymous client learns nothing of the API).
func (a *app) auth(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if !a.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="appliance"`)
			w.Error(kahttp.StatusUnauthorized, "log in first")
			return
		}
		next.Serve(w, r)
	})
}

// requireLogin sends a browser without a session to the login form.
func (a *app) requireLogin(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if !a.authorized(r) {
			_ = w.Redirect(kahttp.StatusSeeOther, "/login")
			return
		}
		next.Serve(w, r)
	})
}

func (a *app) login(w *kahttp.Response, r *kahttp.Request) {
	if !a.isPassword(r.PostFormValue("password")) {
		w.Error(kahttp.StatusUnauthorized, "wrong password")
		return
	}
	id := randomHex(16)
	now := time.Now()
	a.mu.Lock()
	for sid, until := range a.sessions { // the expired ones go: the map stays small
		if now.After(until) {
			delete(a.sessions, sid)
		}
	}
	a.sessions[id] = now.Add(sessionTTL)
	a.mu.Unlock()
	_ = w.SetCookie(&http.Cookie{Name: "session", Value: id, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	_ = w.Redirect(kahttp.StatusSeeOther, "/admin/")
}

func (a *app) logout(w *kahttp.Response, r *kahttp.Request) {
	if c, err := r.Cookie("session"); err == nil {
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
	}
	_ = w.SetCookie(&http.Cookie{Name: "session", Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	_ = w.Redirect(kahttp.StatusSeeOther, "/login")
}

func (a *app) listDevices(w *kahttp.Response, r *kahttp.Request) {
	a.mu.Lock()
	list := make([]Device, 0, len(a.devices))
	for _, d := range a.devices {
		list = append(list, d)
	}
	a.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	_ = w.JSON(kahttp.StatusOK, list)
}

func (a *app) createDevice(w *kahttp.Response, r *kahttp.Request) {
	var d Device
	if err := r.DecodeJSONWith(&d, kahttp.JSONOptions{MaxBytes: 4 << 10, DisallowUnknownFields: true}); err != nil {
		w.WriteError(err) // 400, 413 or 415, with what is wrong
		return
	}
	if d.Name == "" {
		w.Error(kahttp.StatusUnprocessableEntity, "name is required")
		return
	}
	a.mu.Lock()
	a.nextID++
	d.ID = strconv.Itoa(a.nextID)
	a.devices[d.ID] = d
	a.mu.Unlock()
	w.Header().Set("Location", "/api/devices/"+d.ID)
	_ = w.JSON(kahttp.StatusCreated, d)
	a.setStatus("device " + d.ID + " added")
}

func (a *app) getDevice(w *kahttp.Response, r *kahttp.Request) {
	a.mu.Lock()
	d, ok := a.devices[r.Param("id")]
	a.mu.Unlock()
	if !ok {
		w.Error(kahttp.StatusNotFound, "no such device")
		return
	}
	_ = w.JSON(kahttp.StatusOK, d)
}

func (a *app) updateDevice(w *kahttp.Response, r *kahttp.Request) {
	var d Device
	if err := r.DecodeJSONWith(&d, kahttp.JSONOptions{MaxBytes: 4 << 10, DisallowUnknownFields: true}); err != nil {
		w.WriteError(err)
		return
	}
	id := r.Param("id")
	a.mu.Lock()
	_, ok := a.devices[id]
	if ok {
		d.ID = strings.Clone(id)
		a.devices[d.ID] = d
	}
	a.mu.Unlock()
	if !ok {
		w.Error(kahttp.StatusNotFound, "no such device")
		return
	}
	_ = w.JSON(kahttp.StatusOK, d)
}

func (a *app) deleteDevice(w *kahttp.Response, r *kahttp.Request) {
	a.mu.Lock()
	_, ok := a.devices[r.Param("id")]
	delete(a.devices, r.Param("id"))
	a.mu.Unlock()
	if !ok {
		w.Error(kahttp.StatusNotFound, "no such device")
		return
	}
	w.WriteHeader(kahttp.StatusNoContent)
}

// uploadFirmware streams the body to a file and answers its size and
// SHA-256; the file is named after the hash.
func (a *app) uploadFirmware(w *kahttp.Response, r *kahttp.Request) {
	tmp, err := os.CreateTemp(a.firmwareDir, "upload-*")
	if err != nil {
		w.Error(kahttp.StatusInternalServerError, "cannot store the firmware")
		return
	}
	defer os.Remove(tmp.Name()) // renamed when complete
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r.BodyReader())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.WriteError(err) // 400 cut short, 413 past 512 MiB, 408 too slow
		return
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp.Name(), filepath.Join(a.firmwareDir, sum+".bin")); err != nil {
		w.Error(kahttp.StatusInternalServerError, "cannot store the firmware")
		return
	}
	_ = w.JSON(kahttp.StatusCreated, map[string]any{"bytes": n, "sha256": sum})
	a.setStatus("firmware " + sum[:12] + " stored")
}

// setStatus changes the status and tells every follower.
func (a *app) setStatus(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status = s
	for ch := range a.subs {
		select {
		case <-ch: // only the latest status counts
		default:
		}
		ch <- s
	}
}

func (a *app) follow() (chan string, func()) {
	ch := make(chan string, 1)
	a.mu.Lock()
	a.subs[ch] = struct{}{}
	ch <- a.status
	a.mu.Unlock()
	return ch, func() {
		a.mu.Lock()
		delete(a.subs, ch)
		a.mu.Unlock()
	}
}

func (a *app) statusEvents(w *kahttp.Response, r *kahttp.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch, done := a.follow()
	defer done()
	for {
		select {
		case s := <-ch:
			_, _ = w.WriteString("data: " + s + "\n\n")
			if w.Flush() != nil {
				return
			}
		case <-r.ShuttingDown():
			_, _ = w.WriteString("event: bye\ndata: restarting\n\n")
			return
		case <-r.Context().Done():
			return
		}
	}
}

var upgrader = websocket.Upgrader{}

func (a *app) statusWS(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	ch, done := a.follow()
	defer done()
	gone := make(chan struct{})
	go func() { // the client sends nothing; a read error means it left
		defer close(gone)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for {
		select {
		case s := <-ch:
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if c.WriteMessage(websocket.TextMessage, []byte(s)) != nil {
				return
			}
		case <-gone:
			return
		}
	}
}

// ui serves the embedded admin UI natively (kahttp.FileServer: ETag, 304,
// ranges), cached for an hour by browsers.
func ui() kahttp.Handler {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embed directive guarantees ui/
	}
	files := kahttp.FileServer(sub)
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Cache-Control", "private, max-age=3600")
		files.Serve(w, r)
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const loginPage = `<!doctype html>
<meta charset="utf-8">
<title>Log in</title>
<form method="post" action="/login">
<label>Password <input type="password" name="password" autofocus></label>
<button>Log in</button>
</form>
`
