// Package onboard joins a cluster to the fleet and lets it leave: in the
// cluster, the namespace mcp-system, the ServiceAccount mcp, its RBAC and
// a long-lived token; on the operator's side, the self-contained
// kubeconfig mcp reaches the cluster with; in the config repo, the
// Cluster document and a commit of it on a branch of its own.
//
// Every object it makes in a cluster carries mcp's labels, so that a
// second run finds them, changes nothing when nothing changed, and a
// revoke deletes exactly them. A run that fails deletes what it created.
//
//	res, err := onboard.Add(ctx, operatorConfig, onboard.Options{RBAC: rbac})
//	if err != nil { ... }
//	kubeconfig := res.Credential.Kubeconfig("eu") // holds the token: 0600
//
// It knows nothing of renders, sources or apply.
package onboard
