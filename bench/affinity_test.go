package main

import (
	"strings"
	"testing"
)

func TestSplitN(t *testing.T) {
	for _, tc := range []struct {
		avail   []int
		n       int
		lg, srv string
	}{
		{[]int{0, 1}, 1, "0", "1"},
		{[]int{0, 1, 2, 3}, 1, "0", "1"},
		{[]int{0, 1, 2, 3}, 2, "0,1", "2,3"},
		{[]int{2, 5, 7, 9, 11}, 2, "2,5", "7,9"},
	} {
		lg, srv, err := splitN(tc.avail, tc.n)
		if err != nil || cpuListString(lg) != tc.lg || cpuListString(srv) != tc.srv {
			t.Errorf("splitN(%v, %d) = %v, %v, %v; want %s and %s", tc.avail, tc.n, lg, srv, err, tc.lg, tc.srv)
		}
	}
	if _, _, err := splitN([]int{0, 1, 2}, 2); err == nil || !strings.Contains(err.Error(), "-split 2 needs 4 usable CPUs, this process may use 3 (0,1,2)") {
		t.Errorf("too few CPUs: %v", err)
	}
	if _, _, err := splitN([]int{0, 1}, 0); err == nil {
		t.Error("-split 0 accepted")
	}
	// setupPinning refuses before it pins or re-executes anything.
	if _, err := setupPinning(&options{split: 600}); err == nil || !strings.Contains(err.Error(), "needs 1200 usable CPUs") {
		t.Errorf("-split 600: %v", err)
	}
	if _, err := setupPinning(&options{split: 1, noPin: true}); err == nil {
		t.Error("-split with -no-pin accepted")
	}
	p := &pinning{Pinned: true, LoadGen: []int{0}, Server: []int{1}, Method: "taskset -c", GoMaxProc: 1, Split: 1}
	if got := p.String(); !strings.HasPrefix(got, "split 1+1 (-split 1): load generator on CPU 0") {
		t.Errorf("pinning %q", got)
	}
}
