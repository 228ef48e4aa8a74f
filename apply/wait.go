package apply

import (
	"context"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// How often waits look again: CRDs are usually Established within a
// second; workloads take longer.
const (
	crdPollInterval    = 250 * time.Millisecond
	healthPollInterval = 2 * time.Second
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// waitEstablished waits until every CRD of items that was applied is
// Established, so that its custom resources can be applied next. A CRD
// that is not in time fails; its custom resources fail on their own.
func (a *Applier) waitEstablished(ctx context.Context, items []*item, outcomes map[*item]*outcome) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	for _, it := range items {
		o := outcomes[it]
		if !o.done {
			continue
		}
		for {
			u, err := a.c.dyn.Resource(crdGVR).Get(ctx, it.key.Name, metav1.GetOptions{})
			if err == nil && established(u) {
				break
			}
			if ctx.Err() != nil {
				if err == nil {
					err = fmt.Errorf("not Established after %s", a.opts.Timeout)
				}
				o.done = false
				o.err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "wait", Err: err}
				break
			}
			sleep(ctx, crdPollInterval)
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// waitHealthy polls the applied objects until each is healthy (healthOf),
// or Timeout passes: those not healthy then fail with their status and
// message. Each poll is one LIST per kind, however many objects.
func (a *Applier) waitHealthy(ctx context.Context, items []*item, outcomes map[*item]*outcome) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	pending := map[*item]string{}
	for _, it := range items {
		if outcomes[it].done {
			pending[it] = "not observed yet"
		}
	}
	for len(pending) > 0 {
		var gvrs []schema.GroupVersionResource
		for it := range pending {
			if !slices.Contains(gvrs, it.gvr) {
				gvrs = append(gvrs, it.gvr)
			}
		}
		ls := a.observe(ctx, gvrs, nil)
		for it := range pending {
			if err, failed := ls.failed[it.gvr]; failed {
				pending[it] = err.Error()
				continue
			}
			u := ls.objs[it.key]
			switch v := healthOf(u); v.status {
			case status.CurrentStatus:
				delete(pending, it)
				outcomes[it].seen = &v // the freshest, for the health of the result
			default:
				pending[it] = fmt.Sprintf("%s: %s", v.status, v.message)
			}
		}
		if len(pending) == 0 || !sleep(ctx, healthPollInterval) {
			break
		}
	}
	for it, why := range pending {
		o := outcomes[it]
		o.err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "wait",
			Err: fmt.Errorf("%w after %s: %s", ErrUnhealthy, a.opts.Timeout, why)}
	}
}

// sleep waits d or until ctx is done; false means ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
