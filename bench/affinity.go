package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// CPU pinning. The load generator and the server under test must not fight
// for one core unnoticed: on a machine with >= 2 usable CPUs the orchestrator
// (which is the load generator) pins itself to the first half of them and
// starts every server on the second half (on 2 cores: load generator on CPU 0,
// servers on CPU 1). Servers are started with `taskset -c LIST` where taskset
// exists, else the server pins itself and re-executes itself so that the Go
// runtime (and gnet's NumCPU) start with the narrowed set. All of it is
// printed at the start of a run.

type cpuSet [16]uint64 // 1024 CPUs

func (s *cpuSet) set(cpu int)      { s[cpu/64] |= 1 << (uint(cpu) % 64) }
func (s *cpuSet) has(cpu int) bool { return s[cpu/64]&(1<<(uint(cpu)%64)) != 0 }

func (s *cpuSet) list() []int {
	var l []int
	for c := 0; c < len(s)*64; c++ {
		if s.has(c) {
			l = append(l, c)
		}
	}
	return l
}

func getAffinity() (cpuSet, error) {
	var s cpuSet
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return s, e
	}
	return s, nil
}

// setThreadAffinity pins the calling OS thread (tid 0).
func setThreadAffinity(s cpuSet) error {
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(s), uintptr(unsafe.Pointer(&s)))
	if e != 0 {
		return e
	}
	return nil
}

func cpuListString(l []int) string {
	parts := make([]string, len(l))
	for i, c := range l {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

func parseCPUList(s string) ([]int, error) {
	var l []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			if c >= len(cpuSet{})*64 {
				return nil, fmt.Errorf("CPU %d out of range", c)
			}
			l = append(l, c)
		}
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("empty CPU list %q", s)
	}
	return l, nil
}

// splitCPUs proposes the load generator's and the servers' CPUs from the
// CPUs this process may use: first half and second half. ok is false when
// there is only one CPU.
func splitCPUs(avail []int) (lg, srv []int, ok bool) {
	if len(avail) < 2 {
		return avail, avail, false
	}
	h := len(avail) / 2
	return avail[:h], avail[h:], true
}

// splitN is -split n: the first n CPUs of avail for the load generator,
// the next n for the servers.
func splitN(avail []int, n int) (lg, srv []int, err error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("-split %d: want at least 1", n)
	}
	if len(avail) < 2*n {
		return nil, nil, fmt.Errorf("-split %d needs %d usable CPUs, this process may use %d (%s)", n, 2*n, len(avail), cpuListString(avail))
	}
	return avail[:n], avail[n : 2*n], nil
}

const pinnedEnv = "KAHTTP_BENCH_PINNED"

// execPinned re-executes this program with its affinity narrowed to cpus,
// so that the Go runtime starts with GOMAXPROCS = len(cpus). It returns only
// on failure. The environment variable marks the re-executed process.
func execPinned(cpus []int) error {
	var s cpuSet
	for _, c := range cpus {
		s.set(c)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	runtime.LockOSThread() // the pinned thread must be the one that execs
	if err := setThreadAffinity(s); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	env := append(os.Environ(), pinnedEnv+"="+cpuListString(cpus))
	err = syscall.Exec(exe, os.Args, env)
	runtime.UnlockOSThread()
	return err
}
