package kahttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve runs h on req with kahttptest (PoisonViews on).
func serve(t *testing.T, h kahttp.HandlerFunc, req *http.Request) *kahttptest.Response {
	t.Helper()
	resp, err := kahttptest.Do(h, req)
	require.NoError(t, err)
	return resp
}

func jsonReq(body, ct string) *http.Request {
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	return req
}

type item struct {
	Name string `json:"name"`
	Qty  int    `json:"qty"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		ct     string
		opts   kahttp.JSONOptions
		status int    // 200: decoded
		reason string // a part of the error's reason
		want   item
	}{
		{"ok", `{"name":"bolt","qty":3}`, "application/json", kahttp.JSONOptions{}, 200, "", item{"bolt", 3}},
		{"charset and case", `{"name":"a"}`, "Application/JSON; charset=utf-8", kahttp.JSONOptions{}, 200, "", item{Name: "a"}},
		{"+json suffix", `{"qty":1}`, "application/merge-patch+json", kahttp.JSONOptions{}, 200, "", item{Qty: 1}},
		{"no content type accepted", `{"qty":2}`, "", kahttp.JSONOptions{}, 200, "", item{Qty: 2}},
		{"no content type required", `{"qty":2}`, "", kahttp.JSONOptions{RequireContentType: true}, 415, `Content-Type "" is not JSON`, item{}},
		{"not json", `name=a`, "application/x-www-form-urlencoded", kahttp.JSONOptions{}, 415, "is not JSON", item{}},
		{"too large", `{"name":"0123456789"}`, "application/json", kahttp.JSONOptions{MaxBytes: 10}, 413, "larger than 10 bytes", item{}},
		{"empty", "  ", "application/json", kahttp.JSONOptions{}, 400, "empty", item{}},
		{"syntax", `{"name":}`, "application/json", kahttp.JSONOptions{}, 400, "malformed JSON at byte 9", item{}},
		{"truncated", `{"name":"a"`, "application/json", kahttp.JSONOptions{}, 400, "ends inside a value", item{}},
		{"wrong type", `{"qty":"three"}`, "application/json", kahttp.JSONOptions{}, 400, `JSON field "qty" must be an integer, not string`, item{}},
		{"unknown field allowed", `{"name":"a","color":"red"}`, "application/json", kahttp.JSONOptions{}, 200, "", item{Name: "a"}},
		{"unknown field refused", `{"name":"a","color":"red"}`, "application/json", kahttp.JSONOptions{DisallowUnknownFields: true}, 400, `unknown JSON field "color"`, item{}},
		{"two values", `{"name":"a"} {"name":"b"}`, "application/json", kahttp.JSONOptions{}, 400, "more than one JSON value", item{}},
		{"trailing space fine", "{\"name\":\"a\"}\n", "application/json", kahttp.JSONOptions{}, 200, "", item{Name: "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got item
			var gotErr error
			resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) {
				gotErr = r.DecodeJSONWith(&got, tc.opts)
				if gotErr != nil {
					w.WriteError(gotErr)
					return
				}
				_ = w.JSON(kahttp.StatusCreated, got)
			}, jsonReq(tc.body, tc.ct))
			if tc.status == 200 {
				require.NoError(t, gotErr)
				assert.Equal(t, tc.want, got)
				assert.Equal(t, 201, resp.Status)
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				return
			}
			var re *kahttp.RequestError
			require.ErrorAs(t, gotErr, &re)
			assert.Equal(t, tc.status, re.Status)
			assert.Contains(t, re.Reason, tc.reason)
			assert.Equal(t, tc.status, kahttp.ErrorStatus(gotErr))
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, re.Reason+"\n", resp.Text(), "WriteError sends the reason")
			assert.True(t, resp.KeepAlive, "a refused body does not cost the connection")
		})
	}
	t.Run("not a pointer is the caller's error", func(t *testing.T) {
		var gotErr error
		serve(t, func(w *kahttp.Response, r *kahttp.Request) {
			gotErr = r.DecodeJSON(item{})
		}, jsonReq(`{}`, "application/json"))
		require.Error(t, gotErr)
		assert.Equal(t, 500, kahttp.ErrorStatus(gotErr))
	})
	t.Run("decoded strings are copies", func(t *testing.T) {
		var got item
		serve(t, func(w *kahttp.Response, r *kahttp.Request) { _ = r.DecodeJSON(&got) }, jsonReq(`{"name":"kept"}`, ""))
		assert.Equal(t, "kept", got.Name, "survives the poisoned buffer")
	})
}

func TestResponseJSON(t *testing.T) {
	cases := []struct {
		name   string
		v      any
		status int
		body   string
		err    bool
	}{
		{"object", map[string]int{"a": 1}, 200, "{\"a\":1}\n", false},
		{"string escaped", "<b>", 202, "\"\\u003cb\\u003e\"\n", false},
		{"unencodable: nothing written", func() {}, 200, "", true},
		{"past the 4 KiB buffer", strings.Repeat("x", 10_000), 200, `"` + strings.Repeat("x", 10_000) + "\"\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) { err = w.JSON(tc.status, tc.v) },
				httptest.NewRequest("GET", "/", nil))
			assert.Equal(t, tc.err, err != nil)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.body, resp.Text())
			if !tc.err {
				assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
				// The whole body is known: its length, never chunked.
				assert.Equal(t, strconv.Itoa(len(tc.body)), resp.Header.Get("Content-Length"))
				assert.Empty(t, resp.Header.Get("Transfer-Encoding"))
			}
		})
	}
}

func TestErrorAndWriteError(t *testing.T) {
	cases := []struct {
		name   string
		run    func(w *kahttp.Response)
		status int
		body   string
	}{
		{"Error", func(w *kahttp.Response) { w.Error(kahttp.StatusForbidden, "no entry") }, 403, "no entry\n"},
		{"Error drops a Content-Length", func(w *kahttp.Response) {
			w.Header().Set("Content-Length", "100")
			w.Error(kahttp.StatusConflict, "taken")
		}, 409, "taken\n"},
		{"WriteError of a RequestError", func(w *kahttp.Response) {
			w.WriteError(&kahttp.RequestError{Status: 422, Reason: "qty must be positive"})
		}, 422, "qty must be positive\n"},
		{"WriteError hides internal errors", func(w *kahttp.Response) {
			w.WriteError(errors.New("db: password wrong for user root"))
		}, 500, "Internal Server Error\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) { tc.run(w) }, httptest.NewRequest("GET", "/", nil))
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.body, resp.Text())
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		})
	}
	assert.Equal(t, 200, kahttp.ErrorStatus(nil))
}

func TestRedirect(t *testing.T) {
	cases := []struct {
		code     int
		location string
		err      error
	}{
		{301, "/new", nil}, {302, "https://example.com/x?y=1", nil}, {303, "/done", nil},
		{307, "/again", nil}, {308, "/moved", nil}, {300, "/choices", nil},
		{200, "/x", kahttp.ErrRedirectCode}, {304, "/x", kahttp.ErrRedirectCode}, {305, "/x", kahttp.ErrRedirectCode},
	}
	for _, tc := range cases {
		t.Run(kahttp.StatusText(tc.code), func(t *testing.T) {
			var err error
			resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) { err = w.Redirect(tc.code, tc.location) },
				httptest.NewRequest("POST", "/", nil))
			assert.Equal(t, tc.err, err)
			if tc.err != nil {
				assert.Equal(t, 200, resp.Status, "nothing written")
				assert.Empty(t, resp.Header.Get("Location"))
				return
			}
			assert.Equal(t, tc.code, resp.Status)
			assert.Equal(t, tc.location, resp.Header.Get("Location"))
		})
	}
	t.Run("CR LF cannot split the response", func(t *testing.T) {
		resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) {
			_ = w.Redirect(302, "/a\r\nSet-Cookie: evil=1")
		}, httptest.NewRequest("GET", "/", nil))
		assert.Empty(t, resp.Header.Get("Set-Cookie"))
		assert.Equal(t, "/a  Set-Cookie: evil=1", resp.Header.Get("Location"))
	})
}

func TestCookies(t *testing.T) {
	cases := []struct {
		name    string
		headers []string // Cookie fields
		want    map[string]string
		count   int
	}{
		{"one", []string{"a=1"}, map[string]string{"a": "1"}, 1},
		{"several in one field", []string{"a=1; b=two; c="}, map[string]string{"a": "1", "b": "two", "c": ""}, 3},
		{"several fields", []string{"a=1", "b=2"}, map[string]string{"a": "1", "b": "2"}, 2},
		{"quoted value", []string{`q="xy"`}, map[string]string{"q": "xy"}, 1},
		{"no name is skipped", []string{"=1; a=2"}, map[string]string{"a": "2"}, 1},
		{"a bad pair is skipped", []string{"a=1; b c=2; d=4"}, map[string]string{"a": "1", "d": "4"}, 2},
		{"none", nil, map[string]string{}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []*http.Cookie
			got1 := map[string]string{}
			var missing error
			req := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.headers {
				req.Header.Add("Cookie", h)
			}
			serve(t, func(w *kahttp.Response, r *kahttp.Request) {
				got = r.Cookies()
				for k := range tc.want {
					c, err := r.Cookie(k)
					if err == nil {
						got1[k] = c.Value
					}
				}
				_, missing = r.Cookie("absent")
			}, req)
			assert.Len(t, got, tc.count)
			assert.Equal(t, tc.want, got1, "copies: read after the request was poisoned")
			assert.ErrorIs(t, missing, http.ErrNoCookie)
		})
	}
}

func TestSetCookie(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name string
		c    *http.Cookie
		want string // "" when refused
	}{
		{"plain", &http.Cookie{Name: "a", Value: "1"}, "a=1"},
		{"every attribute", &http.Cookie{Name: "sid", Value: "abc", Path: "/app", Domain: "example.com", Expires: exp,
			MaxAge: 3600, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, Partitioned: true},
			"sid=abc; Path=/app; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Max-Age=3600; HttpOnly; Secure; SameSite=Strict; Partitioned"},
		{"delete", &http.Cookie{Name: "sid", MaxAge: -1}, "sid=; Max-Age=0"},
		{"bad name refused", &http.Cookie{Name: "a b", Value: "1"}, ""},
		{"bad value refused", &http.Cookie{Name: "a", Value: "x\"y"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			resp := serve(t, func(w *kahttp.Response, r *kahttp.Request) {
				err = w.SetCookie(tc.c)
				_ = w.SetCookie(&http.Cookie{Name: "second", Value: "2"})
			}, httptest.NewRequest("GET", "/", nil))
			got := resp.Header.Values("Set-Cookie")
			if tc.want == "" {
				assert.Error(t, err)
				assert.Equal(t, []string{"second=2"}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{tc.want, "second=2"}, got)
		})
	}
}

func TestQueryValues(t *testing.T) {
	cases := []struct {
		target string
		name   string
		all    []string
		pairs  [][2]string
	}{
		{"/?tag=a&tag=b&x=1&tag=c", "tag", []string{"a", "b", "c"}, [][2]string{{"tag", "a"}, {"tag", "b"}, {"x", "1"}, {"tag", "c"}}},
		{"/?t%61g=a+b&tag=%21", "tag", []string{"a b", "!"}, [][2]string{{"tag", "a b"}, {"tag", "!"}}},
		{"/?tag&&tag=", "tag", []string{"", ""}, [][2]string{{"tag", ""}, {"tag", ""}}},
		{"/?x=1", "tag", nil, [][2]string{{"x", "1"}}},
		{"/", "tag", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			var all []string
			var ps [][2]string
			serve(t, func(w *kahttp.Response, r *kahttp.Request) {
				for _, v := range r.QueryAll(tc.name) {
					all = append(all, strings.Clone(v))
				}
				for k, v := range r.Queries() {
					ps = append(ps, [2]string{strings.Clone(k), strings.Clone(v)})
				}
			}, httptest.NewRequest("GET", tc.target, nil))
			assert.Equal(t, tc.all, all)
			assert.Equal(t, tc.pairs, ps)
		})
	}
}

func TestForms(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	cases := []struct {
		name       string
		target     string
		ct, body   string
		postValue  string   // PostFormValue("a")
		postValues []string // PostFormValues("a")
		formValue  string   // FormValue("a")
		parsed     string   // PostForm().Encode(), or the error's status
	}{
		{"form", "/", form, "a=1&b=x+y&a=2", "1", []string{"1", "2"}, "1", "a=1&a=2&b=x+y"},
		{"charset", "/", form + "; charset=utf-8", "a=%C3%A9", "é", []string{"é"}, "é", "a=%C3%A9"},
		{"body first, then query", "/?a=q&c=3", form, "b=1", "", nil, "q", "b=1"},
		{"not a form", "/?a=q", "application/json", `{"a":1}`, "", nil, "q", "415"},
		{"bad escape", "/", form, "a=%zz", "%zz", []string{"%zz"}, "%zz", "400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var pv, fv, parsed string
			var pvs []string
			req := httptest.NewRequest("POST", tc.target, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ct)
			serve(t, func(w *kahttp.Response, r *kahttp.Request) {
				pv, fv = strings.Clone(r.PostFormValue("a")), strings.Clone(r.FormValue("a"))
				for _, v := range r.PostFormValues("a") {
					pvs = append(pvs, strings.Clone(v))
				}
				vs, err := r.PostForm()
				if err != nil {
					parsed = strconv.Itoa(kahttp.ErrorStatus(err))
					return
				}
				parsed = vs.Encode()
			}, req)
			assert.Equal(t, tc.postValue, pv)
			assert.Equal(t, tc.postValues, pvs)
			assert.Equal(t, tc.formValue, fv)
			assert.Equal(t, tc.parsed, parsed)
		})
	}
}

// A JSON type error names JSON's kinds, never the server's Go types.
func TestDecodeJSONTypeNames(t *testing.T) {
	type input struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	for _, tc := range []struct{ body, want string }{
		{`[1,2]`, "JSON value must be an object, not array"},
		{`{"name":3}`, `JSON field "name" must be a string, not number`},
		{`{"tags":{}}`, `JSON field "tags" must be an array, not object`},
	} {
		rec := serve(t, func(w *kahttp.Response, r *kahttp.Request) {
			var in input
			if err := r.DecodeJSON(&in); err != nil {
				w.WriteError(err)
			}
		}, jsonReq(tc.body, "application/json"))
		assert.Equal(t, 400, rec.Status)
		assert.Contains(t, string(rec.Body), tc.want, tc.body)
		assert.NotContains(t, string(rec.Body), "input", tc.body)
	}
}
