package main

import (
	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/reconciler"
	"mcp.dev/mcp/render"
)

// targetsOf turns a rendered fleet into apply targets. How each cluster is
// reached is decided here, right before the kubeconfig is read: as access
// allows, never from a path that leaves the credentials directory,
// whatever links the directory holds now.
func targetsOf(fleet *render.Fleet, access render.Access) []apply.Target {
	targets := make([]apply.Target, 0, len(fleet.Clusters))
	for _, cs := range fleet.Clusters {
		c := cs.Cluster
		t := apply.Target{
			Name:      c.Name,
			Context:   c.Kubeconfig.Context,
			InCluster: c.InCluster,
			Paused:    c.Paused,
			RenderErr: cs.Err,
		}
		if cs.Err == nil {
			path, err := c.KubeconfigPath(access)
			t.Kubeconfig, t.RenderErr = path, err
		}
		t.Objects = reconciler.Objects(cs)
		t.NoPrune = reconciler.NoPrune(fleet, c.Name)
		targets = append(targets, t)
	}
	return targets
}

// livePlan is the plan of results, as diff prints it.
func livePlan(results []apply.Result) diff.Plan {
	var p diff.Plan
	for _, r := range results {
		p.Clusters = append(p.Clusters, r.DiffPlan())
	}
	return p
}
