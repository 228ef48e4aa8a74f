package diff

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Compare lists the fields that differ between before and after, both
// normalized first, sorted by path (segment by segment, list indexes in
// numeric order). A field present on one side only has the other side nil.
// Numbers compare by value (1 equals 1.0) and, below resources, limits,
// requests and the like, Kubernetes quantities compare by amount ("1" equals
// "1000m"). Every change below data or stringData of a Secret is Sensitive
// and keeps no value. Compare(x, x) is always empty.
func Compare(before, after *unstructured.Unstructured) []FieldChange {
	return CompareNormalized(Normalize(before), Normalize(after))
}

// CompareNormalized is Compare without the copies, for callers that hold
// normalized objects already (Normalize's output, or a projection of an
// object onto the shape of one).
func CompareNormalized(before, after *unstructured.Unstructured) []FieldChange {
	var b, a map[string]any
	w := &walker{}
	if before != nil {
		b = before.Object
		w.secret = isSecret(before)
	}
	if after != nil {
		a = after.Object
		w.secret = w.secret || isSecret(after)
	}
	w.maps(b, a, false, false)
	return w.changes
}

// quantityKeys are the fields whose values are Kubernetes quantities
// (container resources, ResourceQuota, LimitRange, node capacity, PVC
// sizes); below them a quantity may be written in several equal ways.
var quantityKeys = map[string]bool{
	"resources":   true,
	"limits":      true,
	"requests":    true,
	"hard":        true,
	"used":        true,
	"capacity":    true,
	"allocatable": true,
	"overhead":    true,
	"sizeLimit":   true,
}

// segment is one step of a field path: a map key, a list index or the
// name of a list element.
type segment struct {
	key   string // map key, or element name when named
	index int
	kind  segmentKind
}

type segmentKind int

const (
	keySegment segmentKind = iota
	indexSegment
	nameSegment
)

// walker collects the changes of one comparison. The path is kept as
// segments and only formatted for a change, since most fields are equal.
type walker struct {
	secret  bool
	path    []segment
	changes []FieldChange
}

func (w *walker) push(s segment) { w.path = append(w.path, s) }
func (w *walker) pop()           { w.path = w.path[:len(w.path)-1] }

// emit records a change at the current path. Secret values are dropped
// here, before they reach the plan.
func (w *walker) emit(old, new any, sensitive bool) {
	fc := FieldChange{Path: formatPath(w.path), Sensitive: sensitive}
	if !sensitive {
		fc.Old, fc.New = old, new
	}
	w.changes = append(w.changes, fc)
}

// value compares one field; nil stands for absent (a null field and a
// missing one are the same to the API server).
func (w *walker) value(old, new any, sensitive, quantity bool) {
	switch {
	case old == nil && new == nil:
		return
	case old == nil || new == nil:
		w.emit(old, new, sensitive)
		return
	}
	om, oIsMap := old.(map[string]any)
	nm, nIsMap := new.(map[string]any)
	if oIsMap && nIsMap {
		w.maps(om, nm, sensitive, quantity)
		return
	}
	ol, oIsList := old.([]any)
	nl, nIsList := new.([]any)
	if oIsList && nIsList {
		w.lists(ol, nl, sensitive, quantity)
		return
	}
	if oIsMap || nIsMap || oIsList || nIsList || !scalarEqual(old, new, quantity) {
		w.emit(old, new, sensitive)
	}
}

func (w *walker) maps(old, new map[string]any, sensitive, quantity bool) {
	keys := make([]string, 0, max(len(old), len(new)))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range new {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	top := len(w.path) == 0
	for _, k := range keys {
		w.push(segment{key: k})
		s := sensitive || (top && w.secret && (k == "data" || k == "stringData"))
		w.value(old[k], new[k], s, quantity || quantityKeys[k])
		w.pop()
	}
}

func (w *walker) lists(old, new []any, sensitive, quantity bool) {
	on, ok1 := elementNames(old)
	nn, ok2 := elementNames(new)
	if !ok1 || !ok2 {
		for i := range max(len(old), len(new)) {
			w.push(segment{index: i, kind: indexSegment})
			w.value(at(old, i), at(new, i), sensitive, quantity)
			w.pop()
		}
		return
	}
	// Pairing by name hides a reordering; the order of a list still
	// matters to the server (env entries may refer to earlier ones).
	if o, n := commonOrder(on, nn), commonOrder(nn, on); !slices.Equal(o, n) {
		w.emit(stringsToAny(o), stringsToAny(n), sensitive)
	}
	byName := func(l []any, names []string) map[string]any {
		m := make(map[string]any, len(l))
		for i, n := range names {
			m[n] = l[i]
		}
		return m
	}
	om, nm := byName(old, on), byName(new, nn)
	all := append(slices.Clone(on), nn...)
	slices.Sort(all)
	for _, name := range slices.Compact(all) {
		w.push(segment{key: name, kind: nameSegment})
		w.value(om[name], nm[name], sensitive, quantity)
		w.pop()
	}
}

// elementNames returns the name of every element of l when each one is a
// map with a distinct, non-empty string name (containers, ports, env,
// volumes); ok is false when the list cannot be keyed that way.
func elementNames(l []any) (names []string, ok bool) {
	names = make([]string, len(l))
	seen := make(map[string]bool, len(l))
	for i, e := range l {
		m, isMap := e.(map[string]any)
		if !isMap {
			return nil, false
		}
		n, isStr := m["name"].(string)
		if !isStr || n == "" || seen[n] {
			return nil, false
		}
		seen[n] = true
		names[i] = n
	}
	return names, true
}

// commonOrder returns the names of a that are also in b, in a's order.
func commonOrder(a, b []string) []string {
	inB := make(map[string]bool, len(b))
	for _, n := range b {
		inB[n] = true
	}
	out := make([]string, 0, len(a))
	for _, n := range a {
		if inB[n] {
			out = append(out, n)
		}
	}
	return out
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func at(l []any, i int) any {
	if i < len(l) {
		return l[i]
	}
	return nil
}

// scalarEqual compares two JSON scalars. JSON decoding gives int64 or
// float64 for the same number depending on its source, so numbers compare
// by value.
func scalarEqual(a, b any, quantity bool) bool {
	if x, ok := toNumber(a); ok {
		if y, ok := toNumber(b); ok && x.equal(y) {
			return true
		}
	} else if x, ok := a.(string); ok {
		if y, ok := b.(string); ok && x == y {
			return true
		}
	} else if x, ok := a.(bool); ok {
		if y, ok := b.(bool); ok && x == y {
			return true
		}
	}
	if quantity {
		qa, okA := toQuantity(a)
		qb, okB := toQuantity(b)
		return okA && okB && qa.Cmp(qb) == 0
	}
	return false
}

type number struct {
	i     int64
	f     float64
	isInt bool
}

func (x number) equal(y number) bool {
	if x.isInt && y.isInt {
		return x.i == y.i
	}
	return x.float() == y.float()
}

func (x number) float() float64 {
	if x.isInt {
		return float64(x.i)
	}
	return x.f
}

func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case int64:
		return number{i: x, isInt: true}, true
	case int:
		return number{i: int64(x), isInt: true}, true
	case int32:
		return number{i: int64(x), isInt: true}, true
	case float64:
		return number{f: x}, true
	case float32:
		return number{f: float64(x)}, true
	}
	return number{}, false
}

// toQuantity reads a quantity written as a string ("500m", "1Gi") or a
// plain number (cpu: 1).
func toQuantity(v any) (resource.Quantity, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	default:
		n, ok := toNumber(v)
		if !ok {
			return resource.Quantity{}, false
		}
		if n.isInt {
			s = strconv.FormatInt(n.i, 10)
		} else if math.IsInf(n.f, 0) || math.IsNaN(n.f) {
			return resource.Quantity{}, false
		} else {
			s = strconv.FormatFloat(n.f, 'g', -1, 64)
		}
	}
	if !plausibleQuantity(s) {
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// plausibleQuantity rejects strings that parse as quantities but take the
// resource package minutes to compare ("1e999999999"): a manifest must not
// be able to hang a diff. Real quantities are short, with small exponents.
func plausibleQuantity(s string) bool {
	if len(s) > 40 {
		return false
	}
	i := strings.IndexAny(s, "eE")
	return i < 0 || len(s)-i-1 <= 3 // "1e+18", "1E-9", "1Ei"
}

// formatPath writes segments as "spec.containers[name=web].image"; map
// keys that are not plain identifiers are quoted: `data["app.conf"]`.
func formatPath(path []segment) string {
	var b strings.Builder
	for _, s := range path {
		switch s.kind {
		case indexSegment:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case nameSegment:
			b.WriteString("[name=")
			b.WriteString(quoteName(s.key))
			b.WriteByte(']')
		default:
			if plainKey(s.key) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s.key)
			} else {
				b.WriteByte('[')
				b.WriteString(strconv.Quote(s.key))
				b.WriteByte(']')
			}
		}
	}
	return b.String()
}

// plainKey reports whether a map key can be written after a dot without
// being mistaken for two keys or breaking a line.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// quoteName quotes an element name unless it is plain or DNS-like.
func quoteName(s string) string {
	if plainKey(s) || isDNSLike(s) {
		return s
	}
	return strconv.Quote(s)
}

// isDNSLike accepts the dotted names Kubernetes allows for list elements
// (volume and port names are DNS labels, env names may hold dots).
func isDNSLike(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}
