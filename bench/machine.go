package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where a run happened.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"` // logical CPUs online
	MemGiB int    `json:"mem_gib"`
	Go     string `json:"go"`
	Kernel string `json:"kernel"`
	OS     string `json:"os"`
}

func (m Machine) String() string {
	return fmt.Sprintf("%s, %d logical CPUs, %d GiB, %s, Linux %s (%s)", m.CPU, m.Cores, m.MemGiB, m.Go, m.Kernel, m.OS)
}

func describeMachine() Machine {
	m := Machine{CPU: "unknown CPU", Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "processor":
				m.Cores++
			case "model name":
				if m.CPU == "unknown CPU" {
					m.CPU = strings.TrimSpace(v)
				}
			}
		}
		f.Close()
	}
	if m.Cores == 0 {
		m.Cores = runtime.NumCPU()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemGiB = int((kb + 1<<19) >> 20)
				}
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`) + ", " + runtime.GOARCH
			}
		}
	}
	return m
}
