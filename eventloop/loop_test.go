package eventloop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A loop with traffic yields its P every yieldEvery, and no more often: the
// scheduler then sees it change ticks, and sysmon leaves it alone. The last
// step is a single callback after a pause: it must get its turn (the yield
// comes after the accept loop's turn), as a loop woken now and then by a
// few slow clients does; with a check every 16th callback it did not.
func TestBusyLoopYields(t *testing.T) {
	yields, gosched := 0, yield
	yield = func() { yields++ }
	t.Cleanup(func() { yield = gosched })

	e := &Engine{acc: &acceptor{lnfd: -1}}
	l := &loop{}
	start := time.Now()
	for range 200_000 {
		e.busy(l)
	}
	elapsed := time.Since(start)
	require.LessOrEqual(t, yields, int(elapsed/yieldEvery)+1, "at most one yield per %v (%v of callbacks)", yieldEvery, elapsed)

	time.Sleep(yieldEvery)
	before := yields
	e.busy(l)
	require.Equal(t, before+1, yields, "a loop busy for %v yields at its next callback", yieldEvery)
}
