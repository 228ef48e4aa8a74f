// Command mcp is the Multi-Cluster Platform GitOps reconciler.
//
// This package is the only one that reads flags and environment variables:
// it turns them into the options structs of the other packages and wires
// them together.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit codes of every command (SPEC section 3).
const (
	exitOK      = 0
	exitError   = 1
	exitChanges = 2
)

// errChanges is returned by `mcp diff --exit-code` when there are changes;
// it is not printed, only turned into exit code 2.
var errChanges = errors.New("changes found")

func main() {
	stopProfiles := startProfiles()
	code := run(os.Args[1:])
	stopProfiles()
	os.Exit(code)
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errChanges):
		return exitChanges
	default:
		printError(os.Stderr, err)
		return exitError
	}
}

// printError writes one line per problem. errors.Join separates problems
// with newlines; other errors that wrap several (a sentinel and its cause)
// are one problem with one message, printed as it is.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintf(w, "error: %s\n", line)
		}
	}
}
