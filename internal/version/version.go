// Package version holds the build's version and commit, stamped by the
// Makefile with -ldflags "-X mcp.dev/mcp/internal/version.Version=...".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version and Commit are set at link time; the defaults mark a build that
// did not go through the Makefile.
var (
	Version = "dev"
	Commit  = ""
)

// String is the one-line form printed by `mcp version` and sent as the
// User-Agent: "mcp v0.1.0 (commit 3f2c1a9, go1.26.8)".
func String() string {
	return fmt.Sprintf("mcp %s (commit %s, %s)", Version, commitOrVCS(), runtime.Version())
}

// commitOrVCS falls back to the VCS stamp Go embeds in `go build` binaries.
func commitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
