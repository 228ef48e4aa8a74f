package object

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SharedMaps hands out one map per distinct content, so that objects that
// carry the same labels (often only mcp's managed-by label) or the same
// annotations (often only the placement) hold one map between them
// instead of one each: for thousands of objects, that is most of what
// their metadata costs. The maps it returns are shared and so read only;
// code that changes labels or annotations sets new maps, as
// unstructured's SetLabels and SetAnnotations do. The zero value is
// ready, and safe for concurrent use.
type SharedMaps struct {
	mu   sync.Mutex
	maps map[string]map[string]any
}

// Get returns the map holding m's entries.
func (s *SharedMaps) Get(m map[string]string) map[string]any {
	key := ContentKey(SortedPairs(m)...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, ok := s.maps[key]; ok {
		return out
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if s.maps == nil {
		s.maps = map[string]map[string]any{}
	}
	s.maps[key] = out
	return out
}

// ContentKey joins strs into a key that no other list of strings joins
// into: each string with its length before it.
func ContentKey(strs ...string) string {
	var b strings.Builder
	for _, s := range strs {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	return b.String()
}

// SortedPairs lists m's keys and values, in key order.
func SortedPairs(m map[string]string) []string {
	out := make([]string, 0, 2*len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k, m[k])
	}
	return out
}
