package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Process CPU time and memory, read from the kernel.
//
// CPU: procCPU reads the process's CPU-time clock (clock_gettime on the
// clock id that clock_getcpuclockid(3) gives for another pid): user+system
// time of all its threads, live and exited, in nanoseconds. Where that is
// refused it falls back to fields 14 (utime) and 15 (stime) of
// /proc/PID/stat, which hold the same total in clock ticks. The tick rate is
// sysconf(_SC_CLK_TCK), which Go cannot call without cgo, so clkTck asks
// `getconf CLK_TCK` once and falls back to 100, the USER_HZ that Linux
// reports on every mainstream architecture. A tick is 10 ms: too coarse for a
// 0.4 s run of a server that needs 2 µs per request, hence the clock first.
//
// Memory: VmRSS from /proc/PID/status, in bytes.

var clkTck = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
})

// procCPU returns the user+system CPU time pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	if d, err := procCPUClock(pid); err == nil {
		return d, nil
	}
	return procStatCPU(pid)
}

// procCPUClock reads the process CPU clock of pid:
// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) = (^pid << 3) | 2.
func procCPUClock(pid int) (time.Duration, error) {
	clk := int32((^pid)<<3 | 2)
	var ts syscall.Timespec
	_, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, uintptr(clk), uintptr(unsafe.Pointer(&ts)), 0)
	if e != 0 {
		return 0, e
	}
	return time.Duration(ts.Nano()), nil
}

// procStatCPU reads utime+stime from /proc/PID/stat.
func procStatCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b, clkTck())
}

// cpuBusy returns, from /proc/stat, the time the given CPUs spent running
// tasks (user, nice, system, steal) and in interrupts (irq, softirq). The
// orchestrator subtracts the server's, its own and ksoftirqd's CPU time from
// the sum to see how much else ran on the benchmark's CPUs (other sessions,
// a compiler, the hypervisor's steal), which makes a run noisy. Interrupt
// time belongs in the sum: without CONFIG_IRQ_TIME_ACCOUNTING (the usual
// case, and this machine's) the kernel counts softirq work, such as loopback
// packet delivery, in the CPU time of the process it interrupted, while
// /proc/stat files the same ticks under softirq. With that option on, the
// interrupt work leaves the processes' CPU time and shows up as other load.
func cpuBusy(cpus []int) (tasks, irq time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	want := map[string]bool{}
	for _, c := range cpus {
		want["cpu"+strconv.Itoa(c)] = true
	}
	var t, q int64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !want[f[0]] {
			continue
		}
		// cpuN user nice system idle iowait irq softirq steal ...
		for _, i := range []int{1, 2, 3, 8} {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			t += n
		}
		for _, i := range []int{6, 7} {
			n, _ := strconv.ParseInt(f[i], 10, 64)
			q += n
		}
	}
	tck := clkTck()
	return time.Duration(t * int64(time.Second) / tck), time.Duration(q * int64(time.Second) / tck), nil
}

// parseStatCPU extracts utime+stime from a /proc/PID/stat line. The command
// name (field 2) may hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseStatCPU(b []byte, tck int64) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("procstat: malformed stat line")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': field 3 (state) is f[0], so field N is f[N-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("procstat: short stat line")
	}
	ut, err1 := strconv.ParseInt(f[14-3], 10, 64)
	st, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("procstat: bad utime/stime")
	}
	return time.Duration((ut + st) * int64(time.Second) / tck), nil
}

// procRSS returns the resident set size of pid in bytes.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseStatusRSS(b)
}

func parseStatusRSS(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("procstat: odd VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("procstat: no VmRSS")
}

// ksoftirqdPids returns the pids of the ksoftirqd threads of the given CPUs.
func ksoftirqdPids(cpus []int) []int {
	want := map[string]bool{}
	for _, c := range cpus {
		want["ksoftirqd/"+strconv.Itoa(c)] = true
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/comm"); err == nil && want[strings.TrimSpace(string(b))] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sumCPU adds up the CPU time of pids (missing ones count zero).
func sumCPU(pids []int) time.Duration {
	var t time.Duration
	for _, p := range pids {
		if d, err := procCPU(p); err == nil {
			t += d
		}
	}
	return t
}
