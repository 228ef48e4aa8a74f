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
	"regexp"
	"slices"
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
	var lines []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	for _, line := range byCluster(lines) {
		fmt.Fprintf(w, "error: %s\n", line)
	}
}

// clusterRef is where a problem line names its cluster.
var clusterRef = regexp.MustCompile(`cluster ([a-z0-9][-a-z0-9]*): `)

// clusterRefs are the places of clusterRef that start the line or follow
// ": ", each as [start, end, name start, name end].
func clusterRefs(line string) [][]int {
	var out [][]int
	for _, m := range clusterRef.FindAllStringSubmatchIndex(line, -1) {
		if m[0] == 0 || strings.HasSuffix(line[:m[0]], ": ") {
			out = append(out, m)
		}
	}
	return out
}

// byCluster makes one line of the lines that say the same about different
// clusters: a broken placement of 200 clusters is one problem, "in 200
// clusters (a, b, c, …): ...", not 200 lines. Lines stay in the order of
// their first appearance.
func byCluster(lines []string) []string {
	type group struct {
		first    string
		shape    string // the line with each "cluster NAME: " cut out
		clusters []string
	}
	var order []*group
	groups := map[string]*group{}
	for _, line := range lines {
		shape, name := line, ""
		if ms := clusterRefs(line); ms != nil {
			name = line[ms[0][2]:ms[0][3]]
			var b strings.Builder
			last := 0
			for _, m := range ms {
				if line[m[2]:m[3]] != name {
					b.Reset()
					break
				}
				b.WriteString(line[last:m[0]])
				b.WriteByte(0)
				last = m[1]
			}
			if b.Len() > 0 {
				b.WriteString(line[last:])
				shape = b.String()
			}
		}
		g, ok := groups[shape]
		if !ok {
			g = &group{first: line, shape: shape}
			groups[shape] = g
			order = append(order, g)
		}
		if name != "" && !slices.Contains(g.clusters, name) {
			g.clusters = append(g.clusters, name)
		}
	}
	out := make([]string, 0, len(order))
	for _, g := range order {
		switch len(g.clusters) {
		case 0:
			out = append(out, g.first)
			continue
		case 1:
			// Named once: "cluster eu: file: cluster eu: ..." says it twice.
			line := strings.Replace(g.shape, "\x00", "cluster "+g.clusters[0]+": ", 1)
			out = append(out, strings.ReplaceAll(line, "\x00", ""))
			continue
		}
		names := g.clusters
		if len(names) > 3 {
			names = append(names[:3:3], "…")
		}
		in := fmt.Sprintf("in %d clusters (%s): ", len(g.clusters), strings.Join(names, ", "))
		line := strings.Replace(g.shape, "\x00", in, 1)
		out = append(out, strings.ReplaceAll(line, "\x00", ""))
	}
	return out
}
