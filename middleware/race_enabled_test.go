//go:build race

package middleware_test

// raceEnabled: the race detector drops a quarter of sync.Pool's Puts at
// random, so allocation counts through the server are not exact under it.
const raceEnabled = true
