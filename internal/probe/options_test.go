package probe

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"plain", Options{URL: "http://127.0.0.1:8080/"}, true},
		{"no path", Options{URL: "http://example.com"}, true},
		{"empty", Options{}, false},
		{"https", Options{URL: "https://example.com/"}, false},
		{"ftp", Options{URL: "ftp://example.com/"}, false},
		{"no scheme", Options{URL: "127.0.0.1:8080"}, false},
		{"no host", Options{URL: "http:///x"}, false},
		{"relative path-large", Options{URL: "http://x/", PathLarge: "stream"}, false},
		{"path-post with space", Options{URL: "http://x/", PathPost: "/a b"}, false},
		{"negative", Options{URL: "http://x/", MaxIdle: -time.Second}, false},
		{"unknown probe", Options{URL: "http://x/", Probes: []string{"nope"}}, false},
		{"known probe", Options{URL: "http://x/", Probes: []string{"idle-timeout"}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tc.o.withDefaults()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrUsage)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	o, tg, err := Options{URL: "http://Example.com/a%20b?q=1"}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, "Example.com:80", tg.addr)
	assert.Equal(t, "Example.com", tg.host)
	assert.Equal(t, "/a%20b?q=1", tg.path)
	assert.Equal(t, "/a%20b?q=1", o.PathPost)
	assert.Equal(t, DefaultMaxIdle, o.MaxIdle)
	assert.Equal(t, DefaultMaxRequests, o.MaxRequests)
	assert.Equal(t, DefaultTimeout, o.Timeout)
	// The default run is bounded well under a minute.
	assert.Less(t, MaxDuration(Options{URL: "http://x/"}), 60*time.Second)
	assert.Equal(t, "/a?b&kaprobe=1", withQuery("/a?b", "1"))
	assert.Equal(t, "/a?kaprobe=1", withQuery("/a", "1"))
}

func TestRunUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = Run(context.Background(), Options{URL: "http://" + addr + "/", DialTimeout: time.Second})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrUnreachable)
	assert.False(t, errors.Is(err, ErrUsage))

	_, err = Run(context.Background(), Options{URL: "https://" + addr + "/"})
	assert.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, err.Error(), "https is out of scope")
}
