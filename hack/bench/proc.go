package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// sample is one measured run: wall time, requests the apiservers served
// meanwhile, and the peak RSS of the measured process.
type sample struct {
	wall time.Duration
	reqs float64
	rss  int64 // KiB
	// cpu is the measured process's CPU time (user and system; the
	// largest for several kubectls), server the apiservers' and etcds'.
	cpu, server time.Duration
}

// runProc runs a command to completion and returns its wall time and peak
// RSS. The peak comes from the rusage of the waited process (ru_maxrss,
// KiB on Linux): it is the child's own high-water mark, not the bench's.
func runProc(ctx context.Context, env []string, name string, args ...string) (time.Duration, int64, time.Duration, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard // mcp apply prints its plan: the printing is part of its cost
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rss int64
	cpu := procCPU(cmd.ProcessState)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
		}
	}
	if err != nil {
		return wall, rss, cpu, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return wall, rss, cpu, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// vmHWM reads the peak RSS (KiB) of a running process from /proc.
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// requestCounter reads apiserver_request_total, summed over every label,
// from the /metrics of apiservers: what they served, whoever asked.
type requestCounter struct {
	clients []*http.Client
	urls    []string
}

func newRequestCounter(cfgs ...*rest.Config) (*requestCounter, error) {
	rc := &requestCounter{}
	for _, cfg := range cfgs {
		c, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return nil, err
		}
		rc.clients = append(rc.clients, c)
		rc.urls = append(rc.urls, cfg.Host+"/metrics")
	}
	return rc, nil
}

// total is the sum of the counter over every apiserver. Each scrape is
// itself counted by the next one, so a difference of two totals is one
// request per apiserver too high; delta corrects for that.
func (rc *requestCounter) total(ctx context.Context) (float64, error) {
	var sum float64
	for i, c := range rc.clients {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rc.urls[i], nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "apiserver_request_total{") {
				continue
			}
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err == nil {
				sum += v
			}
		}
		resp.Body.Close()
		if err := sc.Err(); err != nil {
			return 0, err
		}
	}
	return sum, nil
}

// measure runs f between two scrapes and returns the requests served
// meanwhile.
func (rc *requestCounter) measure(ctx context.Context, f func() error) (float64, error) {
	before, err := rc.total(ctx)
	if err != nil {
		return 0, err
	}
	if err := f(); err != nil {
		return 0, err
	}
	after, err := rc.total(ctx)
	if err != nil {
		return 0, err
	}
	return after - before - float64(len(rc.clients)), nil
}

// serverPIDs finds the kube-apiserver and etcd processes of the test
// bed's clusters by their command lines (the test bed does not export
// them), so that their CPU time can be read.
func serverPIDs(envDir string, clusters []clusterRef) []int {
	var want []string
	for _, c := range clusters {
		want = append(want, "--secure-port="+c.port, "--data-dir="+filepath.Join(envDir, c.name, "etcd"))
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range strings.Split(string(cmdline), "\x00") {
			if slices.Contains(want, arg) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// clusterRef names a cluster and the port of its apiserver.
type clusterRef struct{ name, port string }

// cpuTime is the user and system CPU time the processes used so far.
func cpuTime(pids []int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may
		// hold spaces: utime and stime are the 12th and 13th of them.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procCPU is the CPU time of a waited process.
func procCPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}
