// Package target turns a rendered cluster into the apply.Target that
// mcp apply, mcp diff and mcp run reconcile, so that the three decide the
// same way which objects a cluster gets, which are never pruned, and how
// the cluster is reached.
//
//	fleet, _ := render.Render(ctx, snap, opts)
//	for _, cs := range fleet.Clusters {
//		t := target.For(cs, target.NoPrune(fleet, cs.Cluster.Name), access)
//		r := pool.Reconcile(ctx, t)
//	}
package target

import (
	"slices"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/render"
)

// For is the target of one rendered cluster. How the cluster is reached is
// decided here, right before its kubeconfig is read: as access allows,
// never from a path that leaves the credentials directory, whatever links
// the directory holds now. Call it at each reconcile, not once; it takes
// cs's objects (see Objects), so hold on to its Objects, not to cs.
func For(cs render.ClusterState, noPrune []string, access render.Access) apply.Target {
	c := cs.Cluster
	t := apply.Target{
		Name:      c.Name,
		Context:   c.Kubeconfig.Context,
		InCluster: c.InCluster,
		Paused:    c.Paused,
		RenderErr: cs.Err,
		Objects:   Objects(cs),
		NoPrune:   noPrune,
	}
	if cs.Err == nil {
		t.Kubeconfig, t.AccessErr = c.KubeconfigPath(access)
	}
	return t
}

// All is For of every cluster of the fleet, in its order; it takes the
// fleet's objects (see Objects).
func All(fleet *render.Fleet, access render.Access) []apply.Target {
	targets := make([]apply.Target, 0, len(fleet.Clusters))
	for _, cs := range fleet.Clusters {
		targets = append(targets, For(cs, NoPrune(fleet, cs.Cluster.Name), access))
	}
	return targets
}

// NoPrune names the placements of the fleet that select cluster and say
// spec.prune: false: their objects are never pruned from it.
func NoPrune(fleet *render.Fleet, cluster string) []string {
	var names []string
	for _, p := range fleet.Placements {
		if !p.Prune && slices.Contains(p.Selected, cluster) {
			names = append(names, p.Name)
		}
	}
	return names
}

// Objects takes a cluster's rendered objects for apply, each made compact
// (apply.Object.Compact) and then dropped from cs (its Obj set to nil):
// the maps of an object are garbage as soon as its JSON is made, so a
// fleet of thousands of objects is never held twice. The rendered objects
// are of no use after this, and For and All take them too: taken twice,
// they have no content, and apply refuses to plan the cluster.
func Objects(cs render.ClusterState) []apply.Object {
	objs := make([]apply.Object, len(cs.Objects))
	for i, o := range cs.Objects {
		objs[i] = apply.Object{Obj: o.Obj, Source: o.Source(), Placement: o.Placement, Wave: o.Wave, Depth: o.Depth}.Compact()
		if objs[i].Obj == nil {
			cs.Objects[i].Obj = nil
		}
	}
	return objs
}
