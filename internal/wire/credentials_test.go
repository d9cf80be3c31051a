package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCredentials(t *testing.T) {
	for _, tc := range []struct {
		v, scheme, want string
		ok              bool
	}{
		{"Basic dTpw", "Basic", "dTpw", true},
		{"basic dTpw", "Basic", "dTpw", true}, // the scheme is case-insensitive
		{"Bearer   t0k", "Bearer", "t0k", true},
		{"Bearer", "Bearer", "", false},
		{"Bearert0k", "Bearer", "", false},
		{"Basic dTpw", "Bearer", "", false},
		{"", "Basic", "", false},
	} {
		got, ok := Credentials(tc.v, tc.scheme)
		assert.Equal(t, tc.ok, ok, tc.v)
		assert.Equal(t, tc.want, got, tc.v)
	}
}
