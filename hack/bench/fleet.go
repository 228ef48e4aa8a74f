package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// configMap is one benchmark object: a ConfigMap of ten keys, each a
// short line of text, about the size of a typical application config.
func configMap(ns string, i int, variant string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%05d\n  namespace: %s\ndata:\n", i, ns)
	for k := range 10 {
		fmt.Fprintf(&b, "  key%02d: \"value %d of object %d%s, long enough to look like a setting\"\n", k, k, i, variant)
	}
	return b.String()
}

// writeObjects writes a Namespace and n ConfigMaps in it to dir, one file
// each, as a repo would hold them. kubectl reads the files in name order,
// so the Namespace (00-) comes first.
func writeObjects(dir, ns string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	nsDoc := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n"
	if err := os.WriteFile(filepath.Join(dir, "00-namespace.yaml"), []byte(nsDoc), 0o644); err != nil {
		return err
	}
	for i := range n {
		if err := writeObject(dir, ns, i, ""); err != nil {
			return err
		}
	}
	return nil
}

func writeObject(dir, ns string, i int, variant string) error {
	return os.WriteFile(filepath.Join(dir, fmt.Sprintf("cm-%05d.yaml", i)), []byte(configMap(ns, i, variant)), 0o644)
}

// writeRepo writes an mcp config repo to dir: one Cluster per name
// (kubeconfig <credentials-dir>/<name>, the test bed's layout) and one
// Placement of apps/ into namespace ns on all of them, with n ConfigMaps.
// It returns the directory of the objects.
func writeRepo(dir, ns string, n int, clusters ...string) (string, error) {
	var b strings.Builder
	for _, c := range clusters {
		fmt.Fprintf(&b, "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: %s\n  labels: {bench: \"yes\"}\n---\n", c)
	}
	fmt.Fprintf(&b, "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: bench\nspec:\n  path: apps\n  clusterSelector:\n    matchLabels: {bench: \"yes\"}\n  namespace: %s\n", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "mcp.yaml"), []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	apps := filepath.Join(dir, "apps")
	return apps, writeObjects(apps, ns, n)
}
