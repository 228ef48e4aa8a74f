package main

import (
	"context"
	"fmt"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/target"
)

// planLive renders the source and diffs each cluster against what it
// holds (a server-side dry-run of the desired objects); nothing is written.
// Clusters that cannot be reached or rendered carry their error in the plan.
// The warnings are the render's.
func planLive(ctx context.Context, src *sourceOptions, clusters *clusterOptions) (diff.Plan, []string, error) {
	access, err := clusters.access()
	if err != nil {
		return diff.Plan{}, nil, fmt.Errorf("%w; to diff without cluster access, give --against REF: what the source changes compared with git REF", err)
	}
	fleet, err := renderConnected(ctx, src, clusters, access)
	if err != nil {
		return diff.Plan{}, nil, err
	}
	opts := apply.DefaultOptions()
	opts.Concurrency = clusters.concurrency
	return livePlan(apply.DiffAll(ctx, target.All(fleet, access), opts)), fleet.Warnings, nil
}
