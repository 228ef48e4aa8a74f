package apply

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	sigsjson "sigs.k8s.io/json"

	"mcp.dev/mcp/internal/object"
)

// Compact returns o holding its object as JSON instead of maps, with Obj
// nil: about a third of the memory, for the thousands of objects a plan
// holds while its LISTs stream in, and that mcp run holds between
// reconciles. What a plan reads of every object (kind, namespace, name,
// hash) is kept beside the JSON; the rest is decoded where it is needed,
// for the objects that change. The JSON is what the applied hash is the
// hash of. An object that does not encode is returned as it is: its plan
// reports why.
func (o Object) Compact() Object {
	c, _ := o.compact()
	return c
}

// compacted is a compact Object's JSON, and what a plan reads of it. It
// is apart from the Object, which plans copy into each of their items.
type compacted struct {
	json            []byte
	gvk             schema.GroupVersionKind
	name, namespace string
	hash            string
}

func (o Object) compact() (Object, error) {
	if o.Obj == nil {
		return o, nil
	}
	b, err := json.Marshal(o.Obj.Object) // keys sorted: the hash is stable
	if err != nil {
		return o, err
	}
	o.compacted = &compacted{json: b, gvk: o.Obj.GroupVersionKind(), name: o.Obj.GetName(), namespace: o.Obj.GetNamespace(), hash: hashOf(b)}
	o.Obj = nil
	return o, nil
}

// declared reports an object that is desired, compact or not; the zero
// Object of an item that is in the inventory only is not.
func (o Object) declared() bool { return o.Obj != nil || o.compacted != nil }

// object decodes a compact Object (Obj as it is, for one that is not).
func (o Object) object() *unstructured.Unstructured {
	if o.Obj != nil {
		return o.Obj
	}
	return decodeJSON(o.json)
}

// hashOf is the applied hash (AppliedHashAnnotation) of an object's
// JSON: encoding/json sorts map keys, so the hash is stable.
func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// decodeJSON decodes JSON that mcp encoded itself from an object's maps,
// into maps again (integers as int64, as everywhere else). It cannot fail
// on what json.Marshal made of such maps; if it ever did, that would be a
// bug, not bad input, and it panics.
func decodeJSON(b []byte) *unstructured.Unstructured {
	var m map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(b, &m); err != nil {
		panic(fmt.Sprintf("apply: decoding an object mcp encoded: %v", err))
	}
	return &unstructured.Unstructured{Object: m}
}

// desiredAnnotation is an annotation of an item's desired object, read
// without decoding it when its JSON cannot hold the key.
func (it *item) desiredAnnotation(key string) string {
	if !bytes.Contains(it.body, []byte(`"`+key+`"`)) {
		return ""
	}
	return object.Annotation(it.object(), key)
}

// object decodes the item's desired object, as applied (with its namespace
// defaulted). Each call decodes anew: nothing keeps the maps of objects
// that do not change.
func (it *item) object() *unstructured.Unstructured { return decodeJSON(it.body) }
