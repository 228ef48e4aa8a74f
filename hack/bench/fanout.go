package main

import (
	"context"
	"fmt"
	"os"

	"mcp.dev/mcp/internal/testenv"
)

// fanoutObjects is the number of objects applied to every cluster in the
// fan-out rows.
const fanoutObjects = 400

// fanout applies the same objects to one cluster and to five, each from
// nothing. The peer runs one kubectl per cluster, all at once (a shell
// loop would run them one after another, which is slower).
func (b *bench) fanout(ctx context.Context) error {
	names := []string{"f1", "f2", "f3", "f4", "f5"}
	fmt.Fprintf(os.Stderr, "starting %d control planes ...\n", len(names))
	env, err := testenv.Start(ctx, testenv.Options{Clusters: names})
	if err != nil {
		return err
	}
	defer env.Stop()
	one := newClusterBench(b, env, env.Clusters[0])
	all := newClusterBench(b, env, env.Clusters...)
	rows := []row{
		{name: fmt.Sprintf("fan-out, %d objects to 1 cluster", fanoutObjects)},
		{name: fmt.Sprintf("fan-out, %d objects to 5 clusters", fanoutObjects), note: "kubectl: 5 at once, largest RSS"},
	}
	for rep := range b.reps {
		for i, c := range []*clusterBench{one, all} {
			fmt.Fprintf(os.Stderr, "%s (run %d of %d) ...\n", rows[i].name, rep+1, b.reps)
			st, err := c.prepare(fmt.Sprintf("fan%d-r%d", len(c.clusters), rep), fanoutObjects)
			if err != nil {
				return err
			}
			if len(c.clusters) == 1 {
				// The repo names the one cluster; mcp reconciles it alone.
				st.onlyClusterArg = st.clusterNames
			}
			st.label = fmt.Sprintf("fanout-%d", len(c.clusters))
			p, m, err := c.applyBoth(ctx, st, false)
			if err != nil {
				return err
			}
			rows[i].peer, rows[i].mcp = append(rows[i].peer, p), append(rows[i].mcp, m)
			if err := all.cleanup(ctx, st); err != nil {
				return err
			}
		}
	}
	b.rows = append(b.rows, rows...)
	return nil
}
