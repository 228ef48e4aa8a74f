// Package render turns a snapshot of the config repo into the desired
// state of every cluster: the Clusters, the Placements and, per cluster,
// the objects to apply, each with the file (and line) it came from and the
// Placement that put it there. It never talks to a cluster.
//
//	fleet, err := render.Render(ctx, snap, render.Options{CredentialsDir: "/etc/mcp/clusters"})
//	if err != nil {
//		return err // nothing could be rendered: a broken Cluster or Placement
//	}
//	for _, c := range fleet.Clusters {
//		if c.Err != nil {
//			continue // apply nothing to this cluster; c.Err says why, per line
//		}
//		for _, o := range c.Objects {
//			fmt.Println(o.Key(), o.Source(), o.Placement, o.Wave)
//		}
//	}
//
// # Reading the repo
//
// The repo is copied into memory first (without .git) and everything,
// kustomize included, reads that copy: a path or symlink that leaves the
// repo finds nothing. Symlinks are followed only while they stay inside
// the repo. Of a file of manifests the copy keeps only the SHA-256 once
// it is decoded: a kustomization or chart that reads it too gets it again
// from disk, only if it is byte for byte the file copied (else
// ErrChanged), so a render never sees two versions of a file. Files over
// MaxFileSize are not read; a manifest among them is an error. A
// Placement path is a directory with a kustomization (built with
// kustomize's krusty, plugins off, remote bases and URLs refused), a
// directory of manifests (*.yaml, *.yml, *.json, recursively; a
// subdirectory with a kustomization is built as one unit) or one manifest
// file. "kind: List" and typed lists (ConfigMapList) are flattened.
// Cluster and Placement documents among manifests are left out.
//
// Documents are parsed with go.yaml.in/yaml/v3 into nodes: duplicate keys,
// non-UTF-8 and binary files are errors, and the conversion to JSON values
// counts every value it produces, so an alias bomb fails instead of
// exhausting memory. Values follow YAML 1.2 like kustomize: "yes" is a
// string.
//
// # Substitution
//
// Substitution works on the string values of the parsed document, per
// cluster, never on its raw text: a variable can never inject YAML
// structure. Only ${cluster.name}, ${cluster.labels.KEY} and ${var.KEY}
// are replaced; $${cluster. and $${var. write a literal ${cluster. and
// ${var.; any other ${...} or $${...} stays byte for byte. A reference
// without a value is an error naming file, line and cluster. A plain
// (unquoted) scalar that is exactly one reference takes the YAML type of
// its value, so "replicas: ${var.replicas}" is a number; quote it to keep
// a string. Map keys are not substituted. Kustomize runs before
// substitution, once for all clusters, so a configMapGenerator's hash
// suffix does not change with substituted values. The annotation
// mcp.dev/substitute: disabled turns substitution off for one object.
//
// # Helm charts
//
// A Placement's spec.chart is rendered with the Helm SDK as "helm
// template" renders it (the steps of a client dry-run install, run with
// Helm's engine, chartutil and releaseutil rather than its action
// package: CRDs included, lookup empty, no DNS, no schema $refs, no
// post-renderer). A chart of the repo
// is read from the copy; a chart of a chart repository only from
// Options.ChartCache, which source/helmrepo fills (RemoteCharts lists what
// to fetch). Values files and spec.chart.values are substituted per
// cluster; a chart is rendered once per distinct inputs
// (Fleet.ChartRenders). Hooks become waves -1 and 1. Objects carry
// Object.Chart and the mcp.dev/chart annotation; Placement.Chart holds the
// resolved name and version.
//
// # Namespaces
//
// Cluster-scoped kinds are known from a built-in table of the Kubernetes
// API groups and from the CustomResourceDefinitions in the same cluster's
// render (spec.scope). Cluster-scoped objects lose any namespace; a
// namespaced object without one gets the Placement's spec.namespace, or
// "default" when the Placement has none. A kind that is neither built in
// nor defined by a CRD of the render is taken as namespaced.
//
// # Errors
//
// Render's own error means nothing could be rendered: an unreadable repo,
// a Cluster or Placement document that is broken, ambiguous (two Clusters
// of one name) or unreadable, an unknown cluster in Options.Clusters. Every
// other problem belongs to the clusters it affects: ClusterState.Err joins
// them all (*Error values naming file, line, cluster and placement) and
// such a cluster has no objects. Fleet.Err joins every problem at once.
package render
