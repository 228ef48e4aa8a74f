// Package diff turns two sets of objects into a Plan: per cluster, which
// objects applying would create, update or delete, down to the changed
// fields. It is pure: it reads unstructured objects and talks to no
// cluster, so the same code serves the offline diff of a pull request
// (desired at a git ref against desired at the source) and the live diff
// (live objects against a server-side dry-run of the desired ones).
//
// Server-owned fields (managedFields, resourceVersion, status, ...) are
// normalized away, numbers and Kubernetes quantities compare by value, and
// Secret values never enter a Plan: a changed Secret value is a Sensitive
// FieldChange without Old or New.
//
//	cp := diff.NewClusterPlan("aws-eu-prod", before, after)
//	plan := diff.Plan{Clusters: []diff.ClusterPlan{cp}}
//	diff.WriteText(os.Stdout, plan, diff.TextOptions{})
//	// cluster aws-eu-prod:
//	//   ~ apps/Deployment web/web
//	//       spec.replicas: 2 → 3
//	//   0 to create, 1 to update, 0 to delete
//
// Some actions are decided by the caller, which knows the cluster or the
// fleet: Adopt (the object exists but mcp never applied it; printed ">"
// with "— adopt"), Keep (prune spares it, for the Reason printed after it:
// "! Namespace old — kept: 2 unmanaged objects inside") and Orphan (no
// longer desired, but its Placement says prune: false; printed "<"). A
// ClusterPlan that Leaves is a cluster whose Cluster document is gone.
// Each Change carries its apply wave; plans print waves when any is not 0.
//
// WriteMarkdown writes the same plan as a pull-request comment that groups
// the clusters with identical plans and stays under MarkdownLimit at any
// fleet size; WriteJSON writes the whole plan in a stable schema for
// scripts.
package diff
