package apply

import (
	"context"
	"slices"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"mcp.dev/mcp/internal/object"
)

// watchState is what the drift watch of an Applier needs from its last
// plan: the desired objects to judge events by, and for each listed
// resource the resourceVersion of its LIST to watch from.
type watchState struct {
	mu      sync.Mutex
	desired []watched // sorted by key: a third of the memory of a map
	rvs     map[schema.GroupVersionResource]string
	changed chan struct{} // closed and replaced when rvs changes
}

// watched is one desired object as the last plan saw it.
type watched struct {
	key  object.Key
	body []byte // compact: decoded only for an event about it
	hash string
}

// remember records the plan's desired objects and listed resources.
func (w *watchState) remember(p *Plan, ls liveSet) {
	desired := make([]watched, 0, len(p.items))
	for _, it := range p.items {
		if it.src.declared() && it.err == nil && !it.pending {
			desired = append(desired, watched{key: it.key, body: it.body, hash: it.hash})
		}
	}
	slices.SortFunc(desired, func(a, b watched) int { return object.Compare(a.key, b.key) })
	w.mu.Lock()
	defer w.mu.Unlock()
	w.desired = desired
	sameKinds := len(w.rvs) == len(ls.rvs)
	for gvr := range ls.rvs {
		_, ok := w.rvs[gvr]
		sameKinds = sameKinds && ok
	}
	w.rvs = ls.rvs
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	if !sameKinds {
		close(w.changed)
		w.changed = make(chan struct{})
	}
}

// kinds returns the resources to watch with their resourceVersions, and a
// channel closed when they change.
func (w *watchState) kinds() (map[schema.GroupVersionResource]string, <-chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.changed == nil {
		w.changed = make(chan struct{})
	}
	return w.rvs, w.changed
}

// drifted judges one watch event: a desired object deleted, or changed so
// that it no longer holds what mcp applied (the fast path's test). mcp's
// own applies, status updates and fields of other managers pass the test
// and are not drift.
func (w *watchState) drifted(ev watch.Event) bool {
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return false
	}
	w.mu.Lock()
	desired := w.desired
	w.mu.Unlock()
	i, ok := slices.BinarySearchFunc(desired, object.KeyOf(u), func(d watched, k object.Key) int { return object.Compare(d.key, k) })
	switch {
	case !ok:
		return false // not desired (any more): prune is the reconcile's business
	case ev.Type == watch.Deleted:
		return true
	default:
		return !unchanged(desired[i].body, u, desired[i].hash)
	}
}

// WatchDrift watches the objects of the last plan (one label-selected
// watch per kind, from the resourceVersion of the plan's LIST) and calls
// drifted when one of them is changed or deleted by someone else, until
// ctx is done. A reconcile then heals it within moments instead of at the
// next drift interval. A watch that fails because the cluster does not
// answer calls drifted too (once per retry of the watch, which backs off
// to maxWatchRetry): a reconcile then finds the cluster Unreachable within
// seconds of its apiserver going away. It may run while Plan and Apply
// run; a Plan that lists other kinds moves the watches to them. Watching
// costs a request per kind when a watch is opened again (the apiserver
// ends them after 30 to 60 minutes), nothing per object.
func (a *Applier) WatchDrift(ctx context.Context, drifted func()) {
	running := map[schema.GroupVersionResource]context.CancelFunc{}
	var wg sync.WaitGroup // one goroutine per kind; all ended before return
	defer func() {
		for _, cancel := range running {
			cancel()
		}
		wg.Wait()
	}()
	for {
		rvs, changed := a.watch.kinds()
		for gvr, cancel := range running {
			if _, ok := rvs[gvr]; !ok {
				cancel()
				delete(running, gvr)
			}
		}
		for gvr, rv := range rvs {
			if _, ok := running[gvr]; !ok {
				wctx, cancel := context.WithCancel(ctx)
				running[gvr] = cancel
				wg.Go(func() { a.watchKind(wctx, gvr, rv, drifted) })
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// maxWatchRetry caps the wait before a failed watch is opened again. A
// cluster that comes back after a long outage is watched again within it,
// so that it going away once more is noticed as soon; while it is down
// each watched kind costs one refused connection per interval.
const maxWatchRetry = 10 * time.Second

// watchKind watches one resource, opening the watch again where it ended.
func (a *Applier) watchKind(ctx context.Context, gvr schema.GroupVersionResource, rv string, drifted func()) {
	retry := time.Second
	for ctx.Err() == nil {
		w, err := a.c.watch.Resource(gvr).Watch(ctx, metav1.ListOptions{
			LabelSelector:       object.ManagedByLabel + "=" + object.ManagedByValue,
			ResourceVersion:     rv,
			AllowWatchBookmarks: true,
		})
		if err == nil {
			retry = time.Second
			rv, err = a.follow(w, rv, drifted)
		}
		if ctx.Err() != nil {
			return
		}
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			// Events were missed: a reconcile finds what they were, and
			// its LIST gives a resourceVersion to go on from. (Watching
			// from none would replay every object as ADDED.)
			drifted()
			if rv, err = a.newerRV(ctx, gvr, rv); err != nil {
				return
			}
			continue
		}
		if err != nil {
			if IsUnreachable(err) {
				// The watch cannot be opened again, or a broken
				// connection ended it: the cluster stopped answering.
				drifted()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, maxWatchRetry)
		}
	}
}

// follow reads the events of one watch until it ends and returns the
// resourceVersion to go on from.
func (a *Applier) follow(w watch.Interface, rv string, drifted func()) (string, error) {
	defer w.Stop()
	for ev := range w.ResultChan() {
		if ev.Type == watch.Error {
			return rv, apierrors.FromObject(ev.Object)
		}
		if m, err := metaOf(ev); err == nil && m != "" {
			rv = m
		}
		if ev.Type != watch.Bookmark && a.watch.drifted(ev) {
			drifted()
		}
	}
	return rv, nil
}

func metaOf(ev watch.Event) (string, error) {
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return "", nil
	}
	return u.GetResourceVersion(), nil
}

// newerRV waits for a plan whose LIST of gvr has another resourceVersion
// than stale, and returns it.
func (a *Applier) newerRV(ctx context.Context, gvr schema.GroupVersionResource, stale string) (string, error) {
	for {
		rvs, _ := a.watch.kinds()
		if rv, ok := rvs[gvr]; ok && rv != stale {
			return rv, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
