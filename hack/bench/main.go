// Command bench measures mcp side by side with `kubectl apply
// --server-side --validate=false` against the same real apiservers of the
// test bed, in the same run, and prints one table. `make bench` runs it
// after `make build testenv`.
//
// Each row runs the peer and then mcp on namespaces (and an mcp inventory)
// of their own, so that neither sees the other's objects. Both run as
// separate processes: wall time and peak RSS are the process's own, and
// the requests are what the apiservers counted in apiserver_request_total
// meanwhile (including the apiservers' own background traffic, a few per
// second).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

type bench struct {
	mcp, kubectl string
	work         string
	reps         int
	rows         []row
	// profileDir, when set, receives a CPU and a heap profile of every
	// mcp process (MCP_CPUPROFILE, MCP_MEMPROFILE).
	profileDir string
	profiles   int
}

// profileEnv is the environment that makes the next mcp process write
// its profiles, numbered in the order of the runs.
func (b *bench) profileEnv(label string) []string {
	if b.profileDir == "" {
		return nil
	}
	b.profiles++
	base := filepath.Join(b.profileDir, fmt.Sprintf("%02d-%s", b.profiles, label))
	return []string{"MCP_CPUPROFILE=" + base + ".cpu", "MCP_MEMPROFILE=" + base + ".heap"}
}

// row is one line of the table: samples of the peer and of mcp.
type row struct {
	name      string
	peer, mcp []sample
	note      string
}

func main() {
	var (
		sizes = flag.String("sizes", "500,2000,10000", "comma-separated numbers of ConfigMaps for the initial, no-op and one-change rows")
		reps  = flag.Int("reps", 3, "repetitions (medians) of rows of at most 2,000 objects; larger ones run once")
		mcp   = flag.String("mcp", "bin/mcp", "the mcp binary to measure")
		fan   = flag.Bool("fanout", true, "measure the fan-out to 1 and to 5 clusters")
		drift = flag.Bool("drift", true, "measure drift healed by mcp run")
		prof  = flag.String("profile", "", "write CPU and heap profiles of every mcp process to this directory")
	)
	flag.Parse()
	noDrift = !*drift
	if err := run(*sizes, *reps, *mcp, *fan, *prof); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(sizeList string, reps int, mcpBin string, fanout bool, profileDir string) error {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		return fmt.Errorf("kubectl is needed as the peer of the benchmark and is not on PATH: install it (any recent kubectl works)")
	}
	if mcpBin, err = filepath.Abs(mcpBin); err != nil {
		return err
	}
	if _, err := os.Stat(mcpBin); err != nil {
		return fmt.Errorf("%s: run make build first", mcpBin)
	}
	var sizes []int
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return fmt.Errorf("-sizes: %q is not a number of at least 10", s)
		}
		sizes = append(sizes, n)
	}
	work, err := os.MkdirTemp("", "mcp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{mcp: mcpBin, kubectl: kubectl, work: work, reps: max(reps, 1), profileDir: profileDir}
	if profileDir != "" {
		if err := os.MkdirAll(profileDir, 0o755); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, machine(kubectl))

	ctx := context.Background()
	start := time.Now()
	if err := b.single(ctx, sizes); err != nil {
		return err
	}
	if fanout {
		if err := b.fanout(ctx); err != nil {
			return err
		}
	}
	fmt.Println()
	fmt.Println(machine(kubectl))
	fmt.Printf("load average at the end: %s; bench took %s\n\n", loadavg(), time.Since(start).Round(time.Second))
	b.print()
	return nil
}

// single runs the rows of one cluster: for each size, initial apply, no-op
// and one change; then drift healed by mcp run.
func (b *bench) single(ctx context.Context, sizes []int) error {
	fmt.Fprintln(os.Stderr, "starting one control plane ...")
	env, err := testenv.Start(ctx, testenv.Options{Clusters: []string{"bench"}})
	if err != nil {
		return err
	}
	defer env.Stop()
	c := newClusterBench(b, env, env.Clusters[0])
	var last *state
	for _, n := range sizes {
		reps := b.reps
		if n > 2000 {
			reps = 1
		}
		var initial, noop, change row
		initial.name = fmt.Sprintf("initial apply, N=%d", n)
		noop.name = fmt.Sprintf("no-op reconcile, N=%d", n)
		change.name = fmt.Sprintf("one object changed of N=%d", n)
		for rep := range reps {
			if last != nil {
				if err := c.cleanup(ctx, last); err != nil {
					return err
				}
			}
			st, err := c.prepare(fmt.Sprintf("n%d-r%d", n, rep), n)
			if err != nil {
				return err
			}
			last = st
			for _, step := range []struct {
				r    *row
				edit func() error
			}{
				{&initial, nil},
				{&noop, nil},
				{&change, func() error { return st.change(7) }},
			} {
				fmt.Fprintf(os.Stderr, "%s (run %d of %d) ...\n", step.r.name, rep+1, reps)
				if step.edit != nil {
					if err := step.edit(); err != nil {
						return err
					}
				}
				st.label = strings.Fields(step.r.name)[0] + fmt.Sprintf("-%d", n)
				p, m, err := c.applyBoth(ctx, st, false)
				if err != nil {
					return err
				}
				step.r.peer, step.r.mcp = append(step.r.peer, p), append(step.r.mcp, m)
			}
		}
		b.rows = append(b.rows, initial, noop, change)
		if noDrift {
			continue
		}
		if n == driftSize || (!slices.Contains(sizes, driftSize) && n == sizes[len(sizes)-1]) {
			fmt.Fprintln(os.Stderr, "drift on one object, healed ...")
			drift, idle, err := c.drift(ctx, last)
			if err != nil {
				return err
			}
			defer func() { b.rows = append(b.rows, drift, idle) }() // after the other sizes
		}
	}
	return nil
}

// noDrift skips the drift rows (-drift=false).
var noDrift bool

// driftSize is the size of the row whose state the drift row edits.
const driftSize = 2000

// print writes the table: medians, and mcp's time as a ratio to the peer's.
func (b *bench) print() {
	fmt.Println("| row | kubectl | mcp | mcp / kubectl | requests kubectl | requests mcp | peak RSS kubectl | peak RSS mcp | CPU kubectl / servers | CPU mcp / servers |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range b.rows {
		p, m := median(r.peer), median(r.mcp)
		ratio := "—"
		if p.wall > 0 && m.wall > 0 {
			ratio = fmt.Sprintf("%.2fx", m.wall.Seconds()/p.wall.Seconds())
		}
		name := r.name
		if len(r.mcp) > 1 {
			name += fmt.Sprintf(" (median of %d)", len(r.mcp))
		}
		if r.note != "" {
			name += "; " + r.note
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			dur(p.wall), dur(m.wall), ratio, reqs(p.reqs, len(r.peer)), reqs(m.reqs, len(r.mcp)), mib(p.rss), mib(m.rss),
			cpus(p), cpus(m))
	}
}

func median(s []sample) sample {
	if len(s) == 0 {
		return sample{}
	}
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{
		wall:   time.Duration(pick(func(x sample) float64 { return float64(x.wall) })),
		reqs:   pick(func(x sample) float64 { return x.reqs }),
		rss:    int64(pick(func(x sample) float64 { return float64(x.rss) })),
		cpu:    time.Duration(pick(func(x sample) float64 { return float64(x.cpu) })),
		server: time.Duration(pick(func(x sample) float64 { return float64(x.server) })),
	}
}

func dur(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// cpus shows the CPU time of the client and of the servers (apiservers
// and etcds) during a run: on 2 cores they share, the sum over 2 is the
// least wall time the run could take.
func cpus(s sample) string {
	if s.cpu == 0 && s.server == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f / %.2f s", s.cpu.Seconds(), s.server.Seconds())
}

func reqs(v float64, n int) string {
	if n == 0 {
		return "—"
	}
	return strconv.Itoa(int(v))
}

func mib(kb int64) string {
	if kb == 0 {
		return "—"
	}
	return fmt.Sprintf("%d MB", kb*1024/1e6)
}

// machine describes where the numbers come from.
func machine(kubectl string) string {
	mem := "?"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				mem = fmt.Sprintf("%.1f GB", float64(kb)/1024/1024)
			}
		}
	}
	kv, _ := exec.Command(kubectl, "version", "--client").Output()
	first, _, _ := strings.Cut(string(kv), "\n")
	return fmt.Sprintf("machine: %d CPUs (nproc), %s memory, %s, kubectl %s, load average %s",
		runtime.NumCPU(), mem, runtime.Version(), strings.TrimPrefix(first, "Client Version: "), loadavg())
}

func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
