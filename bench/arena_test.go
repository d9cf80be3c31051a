package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The generated data folder has HttpArena's layout and shapes, and both
// peers answer every arena profile's requests correctly, as the load
// generator checks them.
func TestArenaPeersServeTheProfiles(t *testing.T) {
	dir := t.TempDir()
	if err := genArenaData(dir); err != nil {
		t.Fatal(err)
	}
	ds, err := loadArenaDataset(dir)
	if err != nil || len(ds) != 50 {
		t.Fatalf("dataset: %d items, %v", len(ds), err)
	}
	for _, f := range arenaStatic {
		fi, err := os.Stat(filepath.Join(dir, "static", f.name))
		if err != nil || fi.Size() != int64(f.size) {
			t.Fatalf("static/%s: %v (size %v, want %d)", f.name, err, fi, f.size)
		}
		_, errBr := os.Stat(filepath.Join(dir, "static", f.name+".br"))
		if arenaText(f.name) != (errBr == nil) {
			t.Errorf("static/%s.br: %v", f.name, errBr)
		}
	}
	arenaData = dir
	t.Cleanup(func() { arenaData = "" })
	for _, name := range []string{"arena-fasthttp", "arena-nethttp"} {
		t.Run(name, func(t *testing.T) {
			addr, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			done := make(chan error, 1)
			go func() { done <- registry[name].Run(addr, stop) }()
			t.Cleanup(func() {
				close(stop)
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Error("server did not stop")
				}
			})
			waitListening(t, addr)
			for _, c := range arenaCases() {
				spec := c.Spec
				spec.Addr, spec.Conns, spec.MaxRequests, spec.Duration = addr, 2, 64, 5*time.Second
				if c.Scenario == "arena-upload" {
					spec.MaxRequests = 8
				}
				res := run(t, spec)
				if res.Errors != 0 || res.OK != spec.MaxRequests {
					t.Errorf("%s: %d ok, %d errors of %d: %v", c.Name(), res.OK, res.Errors, spec.MaxRequests, res.ErrSamples)
				}
			}
		})
	}
}

// waitListening waits until addr accepts connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
