package render

import (
	"bytes"
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"

	"mcp.dev/mcp/internal/object"
)

// Marshal writes objects as a YAML stream in their order, "---" between
// documents, each headed by a comment naming its source and placement and,
// when any of the objects has a wave other than 0, by "# wave: N". Keys
// are sorted, so the same objects always give the same bytes.
func Marshal(objs []Object) ([]byte, error) {
	waves := slices.ContainsFunc(objs, func(o Object) bool { return o.Wave != 0 })
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		data, err := yaml.Marshal(o.Obj.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", o.Source(), o.Key(), err)
		}
		if o.Chart != "" {
			fmt.Fprintf(&b, "# Source: %s (chart %s, placement %s)\n", o.Source(), o.Chart, o.Placement)
		} else {
			fmt.Fprintf(&b, "# Source: %s (placement %s)\n", o.Source(), o.Placement)
		}
		if waves {
			fmt.Fprintf(&b, "# wave: %d\n", o.Wave)
		}
		b.Write(data)
	}
	return b.Bytes(), nil
}

// ApplyOrder returns objs sorted as apply applies them (object.CompareApply):
// by wave, then Namespaces, CRDs, other cluster-scoped objects, namespaced
// objects, then by key. Rendered namespaced objects always carry their
// namespace, so the namespace tells the scope.
func ApplyOrder(objs []Object) []Object {
	sorted := slices.Clone(objs)
	slices.SortStableFunc(sorted, func(a, b Object) int {
		return object.CompareApply(placed(a), placed(b))
	})
	return sorted
}

func placed(o Object) object.Placed {
	k := o.Key()
	return object.Placed{Key: k, Wave: o.Wave, Namespaced: k.Namespace != ""}
}
