package apply

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

// listConcurrency bounds the LISTs of one cluster in flight at once.
const listConcurrency = 4

// liveSet holds the live managed objects of the listed kinds by key, and
// why a kind could not be listed.
type liveSet struct {
	objs   map[object.Key]*unstructured.Unstructured
	failed map[schema.GroupVersionResource]error
	// rvs are the resourceVersions of the LISTs, where a watch of the
	// same objects starts.
	rvs map[schema.GroupVersionResource]string
}

// observe lists, for every resource in gvrs, the objects carrying mcp's
// managed-by label across all namespaces, page by page. It costs one
// request per resource (per page of PageSize objects), however many
// objects there are. A resource that cannot be listed is recorded in
// failed; the others are still read. With a slimmer, objects the fast
// path finds unchanged are kept as their metadata only.
func (a *Applier) observe(ctx context.Context, gvrs []schema.GroupVersionResource, slim *slimmer) liveSet {
	ls := liveSet{
		objs:   map[object.Key]*unstructured.Unstructured{},
		failed: map[schema.GroupVersionResource]error{},
		rvs:    map[schema.GroupVersionResource]string{},
	}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, gvr := range gvrs {
		g.Go(func() error {
			items, rv, err := a.list(ctx, gvr, slim.keep)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ls.failed[gvr] = err
				return nil
			}
			ls.rvs[gvr] = rv
			for _, u := range items {
				ls.objs[object.KeyOf(u)] = u
			}
			return nil
		})
	}
	_ = g.Wait() // goroutines never fail: errors are per resource
	return ls
}

// list returns the managed objects of gvr and the resourceVersion the
// LIST read them at (that of its first page: later pages continue the
// same snapshot).
func (a *Applier) list(ctx context.Context, gvr schema.GroupVersionResource, keep keepFunc) ([]*unstructured.Unstructured, string, error) {
	var out []*unstructured.Unstructured
	var rv string
	opts := metav1.ListOptions{LabelSelector: object.ManagedByLabel + "=" + object.ManagedByValue, Limit: a.opts.PageSize}
	for {
		page, err := listStream(ctx, a.c.raw, gvr, opts, keep)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: %w", gvr.GroupResource(), err)
		}
		if rv == "" {
			rv = page.resourceVersion
		}
		out = append(out, page.items...)
		if opts.Continue = page.continueToken; opts.Continue == "" {
			return out, rv, nil
		}
	}
}

// get reads one object that the LIST did not show (not labelled by mcp
// yet: it was created by someone else); nil when it does not exist.
func (a *Applier) get(ctx context.Context, it *item) (*unstructured.Unstructured, error) {
	u, err := a.resource(it).Get(ctx, it.key.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}
