package main

import (
	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
)

// livePlan is the plan of results, as diff prints it.
func livePlan(results []apply.Result) diff.Plan {
	var p diff.Plan
	for _, r := range results {
		p.Clusters = append(p.Clusters, r.DiffPlan())
	}
	return p
}
