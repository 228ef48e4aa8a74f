package render

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Marshal writes objects as a YAML stream in their order, "---" between
// documents, each headed by a comment naming its source and placement.
// Keys are sorted, so the same objects always give the same bytes.
func Marshal(objs []Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		data, err := yaml.Marshal(o.Obj.Object)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", o.Source(), o.Key(), err)
		}
		fmt.Fprintf(&b, "# Source: %s (placement %s)\n", o.Source(), o.Placement)
		b.Write(data)
	}
	return b.Bytes(), nil
}
