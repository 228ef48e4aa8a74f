package render

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// mcpGroup is the API group of mcp's own documents.
const mcpGroup = "mcp.dev"

// mcpKinds are the kinds of APIVersion a repo may hold; ClusterStatus is
// what mcp run writes back, which may share the branch.
var mcpKinds = []string{"Cluster", "Placement", "ClusterStatus"}

// misspelledMCP says what is wrong with a document that was meant to be
// one of mcp's and is not, "" when it is not meant to be one. A document
// of a near-miss apiVersion would otherwise be read as a manifest, or
// skipped, and its Cluster or Placement silently be gone.
func misspelledMCP(apiVersion, kind string) string {
	if apiVersion == APIVersion {
		return ""
	}
	group, version, hasSlash := strings.Cut(apiVersion, "/")
	if !hasSlash {
		// The core group has no such kinds: "mcp.dev" or "v1alpha1" alone.
		if kind == "Cluster" || kind == "Placement" {
			return fmt.Sprintf("apiVersion %q of a %s: want %s", apiVersion, kind, APIVersion)
		}
		group, version = apiVersion, ""
		if !nearMCPGroup(group) {
			return ""
		}
	}
	if !nearMCPGroup(group) {
		return ""
	}
	what := "a document"
	if kind != "" {
		what = "a " + kind
	}
	switch {
	case group != mcpGroup:
		return fmt.Sprintf("apiVersion %q of %s: the group of mcp's documents is %s, want %s", apiVersion, what, mcpGroup, APIVersion)
	case version != "v1alpha1":
		return fmt.Sprintf("apiVersion %q of %s: mcp knows only version v1alpha1, want %s", apiVersion, what, APIVersion)
	}
	return ""
}

// nearMCPGroup reports whether group is mcp.dev or close to it: a typo
// (two edits) or another domain of the same name ("mcp.io").
func nearMCPGroup(group string) bool {
	g := strings.ToLower(group)
	return g == "mcp" || strings.HasPrefix(g, "mcp.") && strings.Count(g, ".") == 1 || distance(g, mcpGroup) <= 2
}

// misspelledKind says what is wrong with a kind of APIVersion.
func misspelledKind(kind any) string {
	s, _ := kind.(string)
	msg := fmt.Sprintf("kind %q of %s: only Cluster and Placement", s, APIVersion)
	if k, ok := closest(s, mcpKinds[:2]); ok {
		msg += fmt.Sprintf(" (did you mean %s?)", k)
	}
	return msg
}

// mayHoldMCP reports whether a file may hold a document of mcp's, spelled
// right or nearly: a quick scan of its apiVersion values, so that the
// manifests of the repo, most of its YAML, are not parsed twice.
func mayHoldMCP(data []byte) bool {
	key := []byte("apiVersion")
	for rest := data; ; {
		i := bytes.Index(rest, key)
		if i < 0 {
			return false
		}
		rest = rest[i+len(key):]
		v := bytes.TrimLeft(rest, "\"' \t:")
		end := bytes.IndexAny(v, "\"' \t\r\n,}#")
		if end < 0 {
			end = len(v)
		}
		group, _, hasSlash := strings.Cut(string(v[:end]), "/")
		if group == "" {
			continue
		}
		if nearMCPGroup(group) || !hasSlash && group != "v1" {
			// "mcp.dev/..." or near, and also apiVersions without a
			// group other than v1 ("v1alpha1"), which might be meant for a
			// Cluster or Placement.
			return true
		}
	}
}

// fieldLine is the line of a key of mapping n, or of n when it has no such
// key.
func fieldLine(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}
