package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// startProfiles writes a CPU profile of the whole run to $MCP_CPUPROFILE
// and a heap profile at its end to $MCP_MEMPROFILE, for `go tool pprof`.
// They are environment variables, not flags, so that any command (and
// the processes the benchmark starts) can be profiled without changing
// its command line. The returned function ends the profiles.
func startProfiles() func() {
	var stops []func()
	if path := os.Getenv("MCP_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: MCP_CPUPROFILE: %v\n", err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("MCP_MEMPROFILE"); path != "" {
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err == nil {
				runtime.GC() // the profile shows live memory after the last collection
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "warning: MCP_MEMPROFILE: %v\n", err)
			}
		})
		stops = append(stops, watchPeakHeap(path+".peak"))
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// watchPeakHeap writes a heap profile to path each time a collection
// ends with more live heap than any before it (by at least 1 MiB), so
// that path ends up showing what was live at the peak. The returned
// function stops watching.
func watchPeakHeap(path string) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if live := sample[0].Value.Uint64(); live > peak+1<<20 {
				peak = live
				if f, err := os.Create(path); err == nil {
					_ = pprof.Lookup("heap").WriteTo(f, 0)
					f.Close()
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}
