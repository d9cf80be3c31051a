package kahttp_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
)

func ExampleRequest_DecodeJSON() {
	type order struct {
		Item string `json:"item"`
		Qty  int    `json:"qty"`
	}
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		var o order
		if err := r.DecodeJSONWith(&o, kahttp.JSONOptions{MaxBytes: 1 << 10, DisallowUnknownFields: true}); err != nil {
			w.WriteError(err) // 400, 413 or 415 with what is wrong
			return
		}
		_ = w.JSON(kahttp.StatusCreated, o)
	})
	for _, body := range []string{`{"item":"bolt","qty":3}`, `{"item":"bolt","qty":"3"}`, `{"item":"bolt","colour":"red"}`} {
		req := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, _ := kahttptest.Do(h, req)
		fmt.Print(resp.Status, " ", resp.Text())
	}
	// Output:
	// 201 {"item":"bolt","qty":3}
	// 400 JSON field "qty" must be an integer, not string (at byte 24)
	// 400 unknown JSON field "colour"
}

func ExampleResponse_JSON() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_ = w.JSON(kahttp.StatusOK, map[string]string{"message": "Hello, World!"})
	})
	resp, _ := kahttptest.Do(h, httptest.NewRequest("GET", "/json", nil))
	fmt.Print(resp.Header.Get("Content-Type"), " ", resp.Text())
	// Output: application/json {"message":"Hello, World!"}
}

func ExampleResponse_Error() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if r.Header("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			w.Error(kahttp.StatusUnauthorized, "sign in first")
			return
		}
	})
	resp, _ := kahttptest.Do(h, httptest.NewRequest("GET", "/", nil))
	fmt.Print(resp.Status, " ", resp.Header.Get("WWW-Authenticate"), " ", resp.Text())
	// Output: 401 Bearer realm="api" sign in first
}

func ExampleErrorStatus() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		var v struct{ N int }
		err := r.DecodeJSON(&v)
		fmt.Println(kahttp.ErrorStatus(err), err)
	})
	req := httptest.NewRequest("POST", "/", strings.NewReader("n=1"))
	req.Header.Set("Content-Type", "text/plain")
	_, _ = kahttptest.Do(h, req)
	// Output: 415 kahttp: 415 Unsupported Media Type: Content-Type "text/plain" is not JSON (application/json)
}

func ExampleResponse_Redirect() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		// after a form POST, send the browser to a page it can reload
		_ = w.Redirect(kahttp.StatusSeeOther, "/orders/42")
	})
	resp, _ := kahttptest.Do(h, httptest.NewRequest("POST", "/orders", nil))
	fmt.Println(resp.Status, resp.Header.Get("Location"))
	// Output: 303 /orders/42
}

func ExampleRequest_Cookie() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		c, err := r.Cookie("theme")
		if err != nil { // http.ErrNoCookie
			_, _ = w.WriteString("light")
			return
		}
		_, _ = w.WriteString(c.Value)
	})
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "theme", Value: "dark"})
	resp, _ := kahttptest.Do(h, req)
	fmt.Println(resp.Text())
	// Output: dark
}

func ExampleResponse_SetCookie() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_ = w.SetCookie(&http.Cookie{Name: "sid", Value: "abc123", Path: "/", MaxAge: 3600,
			HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	})
	resp, _ := kahttptest.Do(h, httptest.NewRequest("GET", "/login", nil))
	fmt.Println(resp.Header.Get("Set-Cookie"))
	// Output: sid=abc123; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax
}

func ExampleRequest_QueryAll() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		fmt.Printf("%q\n", r.QueryAll("tag"))
		for k, v := range r.Queries() {
			fmt.Print(k, "=", v, " ")
		}
		fmt.Println()
	})
	_, _ = kahttptest.Do(h, httptest.NewRequest("GET", "/?tag=a&tag=b+c&page=2", nil))
	// Output:
	// ["a" "b c"]
	// tag=a tag=b c page=2
}

func ExampleRequest_PostForm() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		fmt.Println(r.PostFormValue("name"), r.FormValue("page")) // views, no allocation
		form, err := r.PostForm()                                 // copies, to keep
		if err != nil {
			w.WriteError(err)
			return
		}
		fmt.Println(form["colour"])
	})
	req := httptest.NewRequest("POST", "/?page=2", strings.NewReader("name=erin&colour=red&colour=blue"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, _ = kahttptest.Do(h, req)
	// Output:
	// erin 2
	// [red blue]
}

func ExampleRequest_MultipartReader() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			w.WriteError(err) // 415 not multipart, 400 no boundary
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				return // io.EOF: all parts read
			}
			n, _ := io.Copy(io.Discard, p) // a file part: to disk, to a hash…
			fmt.Fprintf(w, "%s: %d bytes\n", p.FormName(), n)
		}
	})
	var body strings.Builder
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("device", "router-7")
	fw, _ := mw.CreateFormFile("firmware", "fw.bin")
	_, _ = fw.Write(make([]byte, 1000))
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/firmware", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, _ := kahttptest.Do(h, req)
	fmt.Print(resp.Text())
	// Output:
	// device: 8 bytes
	// firmware: 1000 bytes
}

func ExampleRequest_BodyReader() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		sum := sha256.New()
		n, err := io.Copy(sum, r.BodyReader()) // streams on a pooled route when the body is large
		if err != nil {
			w.WriteError(err) // 400 malformed, 413 past the limit, 408 too slow
			return
		}
		fmt.Fprintf(w, "%d %x\n", n, sum.Sum(nil)[:4])
	})
	req := httptest.NewRequest("POST", "/upload", strings.NewReader("hello"))
	resp, _ := kahttptest.Do(h, req)
	fmt.Print(resp.Text())
	// Output:
	// 5 2cf24dba
}
