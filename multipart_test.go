package kahttp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// multipartSums answers "name=<field>" for form fields and
// "file=<bytes> <sha256>" for files, part by part, as the body streams.
func multipartSums(w *kahttp.Response, r *kahttp.Request) {
	mr, err := r.MultipartReader()
	if err != nil {
		w.WriteError(err)
		return
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			w.Error(kahttp.StatusBadRequest, err.Error())
			return
		}
		if p.FileName() == "" {
			v, _ := io.ReadAll(p)
			_, _ = w.WriteString(p.FormName() + "=" + string(v) + "\n")
			continue
		}
		h := sha256.New()
		n, _ := io.Copy(h, p)
		_, _ = w.WriteString(p.FormName() + "=" + strconv.FormatInt(n, 10) + " " + hex.EncodeToString(h.Sum(nil)) + "\n")
	}
}

func multipartBody(t *testing.T, file []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("device", "router-7"))
	fw, err := mw.CreateFormFile("firmware", "fw.bin")
	require.NoError(t, err)
	_, _ = fw.Write(file)
	require.NoError(t, mw.Close())
	return &buf, mw.FormDataContentType()
}

func TestMultipartReader(t *testing.T) {
	file := bytes.Repeat([]byte{1, 2, 3, 250}, 3<<20/4) // 3 MiB: streams to a pooled handler
	sum := sha256.Sum256(file)
	want := "device=router-7\nfirmware=" + strconv.Itoa(len(file)) + " " + hex.EncodeToString(sum[:]) + "\n"

	// Over a socket, where the body streams.
	srv := kahttp.NewServer(kahttp.HandlerFunc(multipartSums), kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { shutdown(t, srv) })
	body, ctype := multipartBody(t, file)
	resp, err := http.Post("http://"+srv.Addr().String()+"/up", ctype, body)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, want, string(got))

	// In process, and the client's mistakes.
	small, ctype := multipartBody(t, []byte("tiny"))
	req, _ := http.NewRequest("POST", "http://x/", small)
	req.Header.Set("Content-Type", ctype)
	r, err := kahttptest.Do(kahttp.HandlerFunc(multipartSums), req)
	require.NoError(t, err)
	assert.Contains(t, string(r.Body), "device=router-7\n")
	for ct, status := range map[string]int{"text/plain": 415, "multipart/form-data": 400} {
		req, _ := http.NewRequest("POST", "http://x/", bytes.NewReader([]byte("x")))
		req.Header.Set("Content-Type", ct)
		r, err := kahttptest.Do(kahttp.HandlerFunc(multipartSums), req)
		require.NoError(t, err)
		assert.Equal(t, status, r.Status, ct)
	}
}
