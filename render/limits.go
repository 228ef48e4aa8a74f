package render

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// The default limits of a render; Limits raises them.
const (
	DefaultMaxObjects = 10_000
	DefaultMaxBytes   = 64 << 20
	DefaultTimeout    = 2 * time.Minute
)

// Limits bound what a revision may cost to render, so that a pull request
// cannot stall the reconciler or exhaust its memory. Zero values mean the
// defaults.
type Limits struct {
	// MaxObjects is the most objects one cluster may receive.
	MaxObjects int64
	// MaxBytes is the most bytes of manifests one cluster may receive,
	// counted as read from the repo or as kustomize's output.
	MaxBytes int64
	// Timeout bounds the whole render.
	Timeout time.Duration
}

func (l Limits) objects() int64 { return cmpOr(l.MaxObjects, DefaultMaxObjects) }
func (l Limits) bytes() int64   { return cmpOr(l.MaxBytes, DefaultMaxBytes) }

func cmpOr(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// withTimeout bounds ctx by the render's time limit.
func (l Limits) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	t := l.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return context.WithTimeoutCause(ctx, t, fmt.Errorf("%w: the render took longer than %s (--render-timeout)", ErrTooLarge, t))
}

// checkSize reports a cluster that would receive more than the limits.
func (l Limits) checkSize(objects int, bytes int64) error {
	switch {
	case int64(objects) > l.objects():
		return fmt.Errorf("%w: %d objects, the limit is %d per cluster (--max-objects)", ErrTooLarge, objects, l.objects())
	case bytes > l.bytes():
		return fmt.Errorf("%w: %d bytes of manifests, the limit is %d per cluster (--max-render-bytes)", ErrTooLarge, bytes, l.bytes())
	}
	return nil
}

// reservedAnnotations are mcp's own keys that the repo may set: the rest
// of mcp.dev/ is mcp's to write.
var reservedAnnotations = map[string]bool{object.WaveAnnotation: true, object.WaveTimeoutAnnotation: true, AnnotationSubstitute: true, object.ReplaceAnnotation: true}

// reservedNamespace refuses an object in mcp's own namespace, where the
// inventories live, and that namespace itself: the repo could rewrite
// what mcp believes it owns.
func reservedNamespace(u *unstructured.Unstructured) error {
	if u.GetNamespace() == object.SystemNamespace || (u.GetKind() == "Namespace" && u.GroupVersionKind().Group == "" && u.GetName() == object.SystemNamespace) {
		return fmt.Errorf("%w: %s: namespace %s is mcp's own (its inventories live there); the repo may not place objects in it", ErrInvalid, object.KeyOf(u), object.SystemNamespace)
	}
	return nil
}

// reservedKeys refuses mcp.dev/ labels and annotations other than the
// documented ones: mcp writes them.
func reservedKeys(u *unstructured.Unstructured) error {
	for k := range u.GetLabels() {
		if isMCPKey(k) {
			return fmt.Errorf("%w: %s: label %s is mcp's own; the repo may not set it", ErrInvalid, object.KeyOf(u), k)
		}
	}
	for k := range u.GetAnnotations() {
		if isMCPKey(k) && !reservedAnnotations[k] {
			return fmt.Errorf("%w: %s: annotation %s is mcp's own; the repo may set only %s", ErrInvalid, object.KeyOf(u), k, strings.Join(slices.Sorted(maps.Keys(reservedAnnotations)), ", "))
		}
	}
	return nil
}

func isMCPKey(k string) bool {
	prefix, _, ok := strings.Cut(k, "/")
	return ok && (prefix == "mcp.dev" || strings.HasSuffix(prefix, ".mcp.dev"))
}
