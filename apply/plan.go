package apply

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// Plan is what applying would do to one cluster: the diff to print, the
// objects that could not be planned, and what Apply needs to carry it out.
type Plan struct {
	// Changes is the plan as the diff package prints it. Objects listed in
	// Errors are not in it.
	Changes diff.ClusterPlan
	// Errors are objects the server refused in the dry-run, or whose kind
	// it does not serve. Apply still tries the refused ones.
	Errors []*ObjectError
	// PruneErr is ErrMassPrune or ErrEmptyDesired (wrapped) when the plan's
	// deletions would be refused; Apply then deletes nothing.
	PruneErr error
	// Managed is the number of objects in the inventory before the apply.
	Managed int

	items     []*item
	inventory inventory
	shards    int
	empty     bool // no desired objects
	// newNamespaces names the desired Namespaces the cluster does not
	// hold yet (see newNamespaces); set by fillLive.
	newNamespaces map[string]bool
}

// item is one object of a plan: desired, in the inventory, or both.
type item struct {
	src Object // as rendered, compact; the zero Object for an inventory-only object
	// body is the JSON of the desired object with its namespace
	// defaulted: what is applied, and what hash is the hash of.
	body       []byte
	key        object.Key
	gvk        schema.GroupVersionKind
	gvr        schema.GroupVersionResource
	namespaced bool
	// pending: the kind is defined by a CRD of the same apply and is not
	// served yet, so no dry-run is possible.
	pending   bool
	hash      string
	placement string
	live      *unstructured.Unstructured
	// verdict: live is the slim copy of an unchanged object (slimmer),
	// and this is the health of the whole.
	verdict *verdict
	action  diff.Action
	// reapply: unchanged, but the live hash is stale; applied silently so
	// that the fast path works next time.
	reapply bool
	orphan  bool // no longer desired, but its placement does not prune
	gone    bool // in the inventory only, and no longer on the cluster
	change  diff.Change
	err     error
}

// Plan reads the cluster's inventory and live objects and works out what
// applying desired would change. noPrune names placements whose objects
// are never pruned. The error is for the cluster as a whole (unreachable,
// inventory unreadable, desired objects listed twice).
func (a *Applier) Plan(ctx context.Context, desired []Object, noPrune []string) (*Plan, error) {
	a.c.forget()
	inv, shards, err := a.readInventory(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", a.cluster, err)
	}
	p := &Plan{Managed: len(inv), inventory: inv, shards: shards, empty: len(desired) == 0}
	if err := a.mapDesired(p, desired); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", a.cluster, err)
	}
	a.mapInventory(p, noPrune)

	var gvrs []schema.GroupVersionResource
	for _, it := range p.items {
		if it.err == nil && !it.pending && !slices.Contains(gvrs, it.gvr) {
			gvrs = append(gvrs, it.gvr)
		}
	}
	live := a.observe(ctx, gvrs, newSlimmer(p.items, !a.opts.NoFastPath))
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", a.cluster, err)
	}
	a.fillLive(ctx, p, live)
	a.decide(ctx, p)
	a.keepNamespaces(ctx, p)
	a.guard(p)
	a.watch.remember(p, live)

	p.Changes = diff.ClusterPlan{Cluster: a.cluster, Changes: make([]diff.Change, 0, len(p.items))}
	for _, it := range p.items {
		if it.err != nil {
			p.Errors = append(p.Errors, &ObjectError{Key: it.key, Source: it.src.Source, Op: "plan", Err: it.err})
			continue
		}
		if !it.src.declared() && it.action != diff.Delete && it.action != diff.Keep && it.action != diff.Orphan {
			continue
		}
		p.Changes.Changes = append(p.Changes.Changes, it.change)
	}
	slices.SortFunc(p.Changes.Changes, func(x, y diff.Change) int { return object.Compare(x.Key, y.Key) })
	return p, nil
}

// mapDesired adds an item per desired object and finds how its kind is
// served; kinds of desired CRDs that the cluster does not serve yet are
// pending, their scope read from the CRD (object.Scopes).
func (a *Applier) mapDesired(p *Plan, desired []Object) error {
	scopes := object.ScopesOf(desired, func(o Object) *unstructured.Unstructured {
		if o.Obj == nil && (o.compacted == nil || o.gvk.GroupKind() != object.CRDKind) {
			return nil // not decoded for nothing
		}
		return o.object()
	})
	type mapped struct {
		m   *meta.RESTMapping
		err error
	}
	mappings := map[schema.GroupVersionKind]mapped{}
	for _, o := range desired {
		if !o.declared() {
			// A bug, not input: planning without it would prune its object.
			return fmt.Errorf("desired object of %s has no content", o.Source)
		}
		o, encErr := o.compact()
		it := &item{src: o, placement: o.Placement}
		var name, ns string
		if encErr != nil {
			it.gvk, name, ns = o.Obj.GroupVersionKind(), o.Obj.GetName(), o.Obj.GetNamespace()
		} else {
			it.body, it.hash, it.gvk, name, ns = o.json, o.hash, o.gvk, o.name, o.namespace
		}
		mp, ok := mappings[it.gvk]
		if !ok {
			mp.m, mp.err = a.c.mapping(it.gvk)
			mappings[it.gvk] = mp
		}
		m, err := mp.m, mp.err
		switch {
		case err == nil:
			it.gvr, it.namespaced = m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
		case errors.Is(err, ErrUnknownKind) && scopes.Defined(it.gvk.GroupKind()):
			it.pending = true
			it.namespaced, _ = scopes.Namespaced(it.gvk.GroupKind())
		default:
			it.err = err
		}
		switch {
		case it.namespaced && ns == "":
			ns = "default" // as kubectl does
		case !it.namespaced && it.err == nil:
			ns = ""
		}
		it.key = object.Key{Group: it.gvk.Group, Kind: it.gvk.Kind, Namespace: ns, Name: name}
		switch {
		case encErr != nil:
			it.err = cmp.Or(it.err, encErr)
		case ns != o.namespace: // compact: no encErr
			u := it.object() // decoded anew: ours to change
			u.SetNamespace(ns)
			if it.body, err = json.Marshal(u.Object); err != nil {
				it.err = cmp.Or(it.err, err)
			}
			it.hash = hashOf(it.body)
		}
		p.items = append(p.items, it)
	}
	// After the namespace defaulting: "a" and "default/a" are one object.
	var dups []error
	for _, d := range object.Duplicates(p.items, func(it *item) object.Key { return it.key }) {
		dups = append(dups, fmt.Errorf("%s declared twice: %s and %s", d[1].key, d[0].src.Source, d[1].src.Source))
	}
	return errors.Join(dups...)
}

func isNamespace(k object.Key) bool { return k.Group == "" && k.Kind == "Namespace" }

// mapInventory adds an item per inventory object that is no longer
// desired. One whose kind the cluster no longer serves is gone already.
func (a *Applier) mapInventory(p *Plan, noPrune []string) {
	desired := make(map[object.Key]bool, len(p.items))
	for _, it := range p.items {
		desired[it.key] = true
	}
	for _, e := range p.inventory.sorted() {
		if desired[e.Key] {
			continue
		}
		it := &item{key: e.Key, gvk: e.gvk(), placement: e.Placement, action: diff.Delete}
		m, err := a.c.mapping(it.gvk)
		if errors.Is(err, ErrUnknownKind) {
			continue // its CRD was deleted, and the object with it
		}
		if err != nil {
			it.err = err
		} else {
			it.gvr, it.namespaced = m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
		}
		// The inventory's own namespace is never pruned: deleting it would
		// delete the inventory, and mcp would forget all it applied.
		it.orphan = slices.Contains(noPrune, e.Placement) || (isNamespace(e.Key) && e.Key.Name == InventoryNamespace)
		p.items = append(p.items, it)
	}
}

// fillLive attaches the live copy to each item. Desired objects the LIST
// did not show are read one by one: they exist without mcp's label, or not
// at all. An inventory object missing from the LIST is gone, or someone
// took it out of mcp's hands by removing the label.
func (a *Applier) fillLive(ctx context.Context, p *Plan, ls liveSet) {
	// Namespaces first: an object in a namespace that does not exist yet
	// cannot exist either, which saves a GET per object on a first apply.
	a.getMissing(ctx, p, ls, func(it *item) bool { return isNamespace(it.key) }, nil)
	p.newNamespaces = newNamespaces(p.items)
	a.getMissing(ctx, p, ls, func(it *item) bool { return !isNamespace(it.key) }, p.newNamespaces)
}

// newNamespaces names the desired Namespaces the cluster does not hold
// yet: nothing can exist in them, so their objects need no GET and no
// dry-run.
func newNamespaces(items []*item) map[string]bool {
	names := map[string]bool{}
	for _, it := range items {
		if it.src.declared() && it.err == nil && isNamespace(it.key) && it.live == nil {
			names[it.key.Name] = true
		}
	}
	return names
}

// getMissing fills the live copy of the items that want selects.
func (a *Applier) getMissing(ctx context.Context, p *Plan, ls liveSet, want func(*item) bool, newNamespaces map[string]bool) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.ObjectConcurrency)
	for _, it := range p.items {
		if it.err != nil || it.pending || !want(it) {
			continue
		}
		listErr, listFailed := ls.failed[it.gvr]
		if it.verdict != nil && !listFailed {
			continue // slim: the slimmer kept what the plan reads of it
		}
		it.verdict, it.live = nil, nil // the slimmer's, of a LIST that failed part way
		if u, ok := ls.objs[it.key]; ok {
			it.live = u
			continue
		}
		if !it.src.declared() {
			if listFailed {
				it.err = listErr
			}
			continue
		}
		if it.namespaced && newNamespaces[it.key.Namespace] {
			continue
		}
		g.Go(func() error {
			u, err := a.get(gctx, it)
			it.live, it.err = u, err
			return nil
		})
	}
	_ = g.Wait()
}
