package apply

import (
	"encoding/base64"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// redacted is an API error whose message had Secret values cut out. It
// unwraps to the API's error, so apierrors.IsInvalid and the like still
// work; only the message differs.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// minRedact is the shortest value redacted: shorter ones ("1", "true")
// would garble the message and give nothing away.
const minRedact = 4

// redactSecret removes the values of a Secret (data, base64 and decoded,
// and stringData) from err's message. The apiserver's own messages leave
// them out, but admission webhooks answer with messages of their own
// making, and those end up in logs, /status and status commits.
func redactSecret(err error, obj *unstructured.Unstructured) error {
	if err == nil || obj == nil || obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
		return err
	}
	var values []string
	add := func(v string) {
		if len(v) >= minRedact {
			values = append(values, v, base64.StdEncoding.EncodeToString([]byte(v)))
		}
	}
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for _, v := range data {
		if s, ok := v.(string); ok {
			add(s)
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
				add(string(dec))
			}
		}
	}
	stringData, _, _ := unstructured.NestedMap(obj.Object, "stringData")
	for _, v := range stringData {
		if s, ok := v.(string); ok {
			add(s)
		}
	}
	msg := err.Error()
	// Longest first, so that a value containing another goes whole.
	slices.SortFunc(values, func(a, b string) int { return len(b) - len(a) })
	changed := false
	for _, v := range values {
		if strings.Contains(msg, v) {
			msg, changed = strings.ReplaceAll(msg, v, "(redacted)"), true
		}
	}
	if !changed {
		return err
	}
	return &redacted{msg: msg, err: err}
}
