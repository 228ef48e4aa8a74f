package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/spf13/cobra"
)

var update = flag.Bool("update", false, "rewrite docs/cli.md from the commands' help")

const cliDoc = "../../docs/cli.md"

// TestCLIReference keeps docs/cli.md equal to the help of every command:
// a flag added without regenerating it fails here. Regenerate with
//
//	go test ./cmd/mcp -run TestCLIReference -update
func TestCLIReference(t *testing.T) {
	got := cliReference(newRootCmd())
	if *update {
		if err := os.WriteFile(cliDoc, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(cliDoc)
	if err != nil {
		t.Fatalf("%v (go test ./cmd/mcp -run TestCLIReference -update writes it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is out of date with the commands' help: go test ./cmd/mcp -run TestCLIReference -update", cliDoc)
	}
}

// cliReference renders the help of root and every command below it.
func cliReference(root *cobra.Command) []byte {
	var b bytes.Buffer
	b.WriteString("# mcp command-line reference\n\n")
	b.WriteString("<!-- Generated from the commands' help by `go test ./cmd/mcp -run TestCLIReference -update`; do not edit. -->\n\n")
	b.WriteString("Every flag can also be set by an environment variable `MCP_<FLAG>`, upper case,\n")
	b.WriteString("with `-` as `_`: `--git-password-file` is read from `MCP_GIT_PASSWORD_FILE`.\n")
	b.WriteString("A flag on the command line wins over its variable. Exit codes of every\n")
	b.WriteString("command: 0 success, 1 error, 2 changes found (`mcp diff --exit-code` only).\n\n")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c != root && (!c.IsAvailableCommand() || c.Name() == "completion") {
			return
		}
		fmt.Fprintf(&b, "## %s\n\n", c.CommandPath())
		// The one host-dependent default, the user's cache directory, is
		// shown as it is found on Linux.
		if f := c.Flags().Lookup("cache-dir"); f != nil {
			f.DefValue = "$XDG_CACHE_HOME/mcp, else ~/.cache/mcp"
		}
		var help bytes.Buffer
		c.SetOut(&help)
		c.SetErr(&help)
		c.Help() //nolint:errcheck // writes to a buffer
		fmt.Fprintf(&b, "```\n%s```\n\n", help.String())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return append(bytes.TrimRight(b.Bytes(), "\n"), '\n')
}
