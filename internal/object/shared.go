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
	var b strings.Builder // each string with its length: no two contents alike
	for _, k := range slices.Sorted(maps.Keys(m)) {
		for _, s := range []string{k, m[k]} {
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if out, ok := s.maps[b.String()]; ok {
		return out
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	if s.maps == nil {
		s.maps = map[string]map[string]any{}
	}
	s.maps[b.String()] = out
	return out
}
