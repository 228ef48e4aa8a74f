package diff

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// LastAppliedAnnotation is written by kubectl apply; it copies the whole
// object (Secret values included) and is never part of the desired state.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// serverOwnedMetadata are the metadata fields the API server sets; a
// desired object never has them, so they would show as noise.
var serverOwnedMetadata = []string{
	"managedFields",
	"resourceVersion",
	"uid",
	"generation",
	"creationTimestamp",
	"selfLink",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
}

// Normalize returns a copy of u without what the server owns (the fields of
// serverOwnedMetadata, the last-applied annotation, the whole status) and,
// for a Secret, with stringData merged into base64 data the way the API
// server stores it. Normalize(nil) is nil.
func Normalize(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	out := u.DeepCopy()
	obj := out.Object
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, f := range serverOwnedMetadata {
			delete(md, f)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, LastAppliedAnnotation)
			// An object whose only annotation was last-applied has none.
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	if isSecret(out) {
		mergeStringData(obj)
	}
	return out
}

// mergeStringData moves a Secret's stringData into data, base64-encoded;
// stringData wins over data for a key in both, as on the API server.
func mergeStringData(obj map[string]any) {
	sd, ok := obj["stringData"].(map[string]any)
	if !ok {
		return
	}
	data, ok := obj["data"].(map[string]any)
	if !ok {
		if obj["data"] != nil {
			// data is not a map: leave the malformed Secret as it is so
			// that the diff shows it.
			return
		}
		data = make(map[string]any, len(sd))
	}
	for _, v := range sd {
		if _, ok := v.(string); !ok {
			return // not a valid stringData; keep it visible, unmerged
		}
	}
	for k, v := range sd {
		data[k] = base64.StdEncoding.EncodeToString([]byte(v.(string)))
	}
	obj["data"] = data
	delete(obj, "stringData")
}

// isSecret reports whether u is a core Secret, whose data is never shown.
func isSecret(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "" && gvk.Kind == "Secret"
}
