package kahttp

import (
	"sync/atomic"
	"time"
)

// A coarse wall clock for the hot path (deadlines, the Date field): reading
// the time costs hundreds of nanoseconds on some virtual machines, more than
// parsing a request. Running servers refresh it on every tick (at most
// 250 ms apart); with none running, now falls back to time.Now.
var (
	clockNanos atomic.Int64
	clockUsers atomic.Int32
)

func now() time.Time {
	if n := clockNanos.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Now()
}

// nowUnix is now's seconds, without making a time.Time.
func nowUnix() int64 {
	if n := clockNanos.Load(); n != 0 {
		return n / int64(time.Second)
	}
	return time.Now().Unix()
}

func clockTick(t time.Time) { clockNanos.Store(t.UnixNano()) }

func clockStart() {
	clockUsers.Add(1)
	clockTick(time.Now())
}

func clockStop() {
	if clockUsers.Add(-1) == 0 {
		clockNanos.Store(0)
	}
}
