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
	"os"
	"os/signal"
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
		printError(err)
		return exitError
	}
}

// printError writes one line per problem: joined errors (errors.Join) are
// split so that each problem stands on its own line.
func printError(err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printError(e)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "error: %v\n", err)
}
