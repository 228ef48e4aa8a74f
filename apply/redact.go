package apply

import (
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/redact"
)

// redactSecret removes the values of a Secret (data, base64 and decoded,
// and stringData), in every form package redact knows, from err's message.
// The apiserver's own messages leave them out, but admission webhooks
// answer with messages of their own making, quoting or re-encoding what
// they were sent, and those end up in logs, /status and status commits.
// The result unwraps to the API's error, so apierrors.IsInvalid and the
// like still work.
func redactSecret(err error, obj *unstructured.Unstructured) error {
	if err == nil || obj == nil || obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
		return err
	}
	var values []string
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	for _, v := range data {
		if s, ok := v.(string); ok {
			values = append(values, s)
			if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
				values = append(values, string(dec))
			}
		}
	}
	stringData, _, _ := unstructured.NestedMap(obj.Object, "stringData")
	for _, v := range stringData {
		if s, ok := v.(string); ok {
			values = append(values, s)
		}
	}
	return redact.New("(redacted)", values...).Error(err)
}
