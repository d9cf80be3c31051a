package kahttp

import "testing"

type benchUserKey struct{}

var benchUser = &struct{ name string }{"erin"}

// A middleware sets a value (a pointer: no boxing) that the handler reads:
// the values' slice is kept by the pooled Request, so once warm this
// allocates nothing either.
var benchValues = HandlerFunc(func(w *Response, r *Request) {
	r.SetValue(benchUserKey{}, benchUser)
	u, _ := r.Context().Value(benchUserKey{}).(*struct{ name string })
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.WriteString(u.name)
})

func BenchmarkServeValues(b *testing.B) {
	b.Run("kahttp-inline", func(b *testing.B) { benchSession(b, benchValues, Inline, benchGET) })
	b.Run("kahttp-pooled", func(b *testing.B) { benchSession(b, benchValues, Pooled, benchGET) })
}
