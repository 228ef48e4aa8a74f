package render

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxAliasValues is how many values YAML aliases may add to a file when
// expanded. Render's own decoder counts values as it converts; kustomize
// does not, and expands aliases in memory, so every text file of the repo
// is checked before a build may read it.
const maxAliasValues = 1 << 20

// aliasBomb reports whether expanding the aliases of data (YAML text)
// would add more than maxAliasValues values. Strings holding YAML (inline
// kustomize patches) are checked too, depth levels deep. Data that is not
// YAML is not a bomb: whoever parses it fails.
func aliasBomb(data []byte, depth int) bool {
	if !bytes.Contains(data, []byte("*")) || !bytes.Contains(data, []byte("&")) {
		return false // no anchor or no alias
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return false
		}
		literal, expanded := 0, 0
		memo := map[*yaml.Node]int{}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			literal++
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&n)
		expanded = expandedSize(&n, memo, depth)
		if expanded-literal > maxAliasValues {
			return true
		}
	}
}

// expandedSize counts the values of n with aliases expanded, saturating
// past the limit; memo makes it linear in the size of the text.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, depth int) int {
	const limit = 2 * maxAliasValues
	if v, ok := memo[n]; ok {
		return v
	}
	memo[n] = limit // a node that contains itself is as bad as a bomb
	total := 1
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			total = expandedSize(n.Alias, memo, depth)
		}
	case yaml.ScalarNode:
		if depth > 0 && strings.Contains(n.Value, "\n") && aliasBomb([]byte(n.Value), depth-1) {
			total = limit
		}
	default:
		for _, c := range n.Content {
			total += expandedSize(c, memo, depth)
			if total >= limit {
				total = limit
				break
			}
		}
	}
	memo[n] = total
	return total
}
