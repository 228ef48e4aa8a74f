package apply

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// Items of pure tests, built by hand: a desired ConfigMap in namespace
// web, changed by mods.
func testItem(t *testing.T, name string, mods ...func(*item)) *item {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": "web"},
		"data":     map[string]any{"k": "v"},
	}}
	src, err := Object{Obj: u, Source: "apps/web/" + name + ".yaml:1", Placement: "web"}.compact()
	if err != nil {
		t.Fatal(err)
	}
	it := &item{
		src: src, body: src.json, key: object.KeyOf(u), gvk: u.GroupVersionKind(),
		gvr:        schema.GroupVersionResource{Version: "v1", Resource: "configmaps"},
		namespaced: true, hash: src.hash, placement: "web",
	}
	for _, m := range mods {
		m(it)
	}
	return it
}

// onCluster: live as mcp applied it, with its label and hash.
func onCluster(it *item) {
	live := withHash(it.object(), it.hash)
	live.SetLabels(map[string]string{object.ManagedByLabel: object.ManagedByValue})
	it.live = live
}

// handEdited: live holds another value than desired, under the same hash.
func handEdited(it *item) {
	onCluster(it)
	it.live.Object["data"] = map[string]any{"k": "edited"}
}

func oldHash(it *item) {
	onCluster(it)
	it.live.SetAnnotations(map[string]string{AppliedHashAnnotation: "0ld"})
}

// unlabelled: on the cluster, but never labelled by mcp.
func unlabelled(it *item) {
	onCluster(it)
	it.live.SetLabels(nil)
}

// slim: the LIST found it unchanged, kept its metadata and a verdict.
func slim(it *item) {
	onCluster(it)
	it.live.Object = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": it.live.Object["metadata"]}
	it.verdict = &verdict{}
}

// inventoryOnly: no longer desired (mapInventory's item).
func inventoryOnly(it *item) {
	it.src, it.body, it.hash, it.action = Object{}, nil, "", diff.Delete
}

func failed(it *item)      { it.err = errors.New("forbidden") }
func pendingKind(it *item) { it.pending, it.gvr = true, schema.GroupVersionResource{} }
func orphaned(it *item)    { it.orphan = true }

// TestNeedOf: what each item needs before its change is known, from the
// item, the inventory, the new namespaces and the options alone; each row
// is one situation an object can be in when a plan is made.
func TestNeedOf(t *testing.T) {
	tests := map[string]struct {
		it            *item
		tracked       bool // in the inventory read
		newNamespaces []string
		noFastPath    bool
		noPrune       bool
		want          need
	}{
		"could not be planned":                     {it: testItem(t, "a", failed, onCluster), tracked: true, want: needFailed},
		"could not be planned, inventory only":     {it: testItem(t, "a", onCluster, inventoryOnly, failed), tracked: true, want: needFailed},
		"inventory only, gone from the cluster":    {it: testItem(t, "a", inventoryOnly), tracked: true, want: needGone},
		"inventory only, placement does not prune": {it: testItem(t, "a", onCluster, inventoryOnly, orphaned), tracked: true, want: needOrphan},
		"inventory only, orphan with prune off":    {it: testItem(t, "a", onCluster, inventoryOnly, orphaned), tracked: true, noPrune: true, want: needOrphan},
		"inventory only, prune off":                {it: testItem(t, "a", onCluster, inventoryOnly), tracked: true, noPrune: true, want: needPruneOff},
		"inventory only, pruned":                   {it: testItem(t, "a", onCluster, inventoryOnly), tracked: true, want: needDelete},
		"kind of a CRD of the same apply":          {it: testItem(t, "a", pendingKind), want: needCreate},
		"in a namespace the apply creates":         {it: testItem(t, "a"), newNamespaces: []string{"web"}, want: needCreate},
		"not on the cluster":                       {it: testItem(t, "a"), newNamespaces: []string{"other"}, want: needDryRun},
		"unchanged":                                {it: testItem(t, "a", onCluster), tracked: true, want: needUnchanged},
		"unchanged, kept slim by the LIST":         {it: testItem(t, "a", slim), tracked: true, want: needUnchanged},
		"unchanged, without the fast path":         {it: testItem(t, "a", onCluster), tracked: true, noFastPath: true, want: needDryRun},
		"edited by hand":                           {it: testItem(t, "a", handEdited), tracked: true, want: needDryRun},
		"applied from another desired object":      {it: testItem(t, "a", oldHash), tracked: true, want: needDryRun},
		"unlabelled, not in the inventory":         {it: testItem(t, "a", unlabelled), want: needAdopt},
		"unlabelled, in the inventory":             {it: testItem(t, "a", unlabelled), tracked: true, want: needUnchanged},
		"labelled, not in the inventory":           {it: testItem(t, "a", onCluster), want: needUnchanged},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			inv := inventory{}
			if tc.tracked {
				inv[tc.it.key] = entry{Key: tc.it.key, Version: "v1", Placement: "web"}
			}
			newNS := map[string]bool{}
			for _, ns := range tc.newNamespaces {
				newNS[ns] = true
			}
			opts := DefaultOptions()
			opts.NoFastPath, opts.Prune = tc.noFastPath, !tc.noPrune
			if got := classifyItems([]*item{tc.it}, inv, newNS, opts); got[0] != tc.want {
				t.Fatalf("need = %v, want %v", got[0], tc.want)
			}
		})
	}
}

// TestSettle: the change an item's need and the dry-run's answer make.
func TestSettle(t *testing.T) {
	// answer is the server's: the live object (or desired, when there is
	// none) with the desired data and hash.
	answer := func(it *item, data string) *unstructured.Unstructured {
		u := withHash(it.object(), it.hash)
		if it.live != nil {
			u = it.live.DeepCopy()
			u.SetAnnotations(map[string]string{AppliedHashAnnotation: it.hash})
		}
		u.Object["data"] = map[string]any{"k": data}
		return u
	}
	tests := map[string]struct {
		it      *item
		need    need
		answer  func(it *item) *unstructured.Unstructured
		err     error
		action  diff.Action
		reapply bool
		failed  bool
		gone    bool
		silent  bool // no change for the plan to list
	}{
		"unchanged":                 {it: testItem(t, "a", onCluster), need: needUnchanged, action: diff.Unchanged},
		"new":                       {it: testItem(t, "a", pendingKind), need: needCreate, action: diff.Create},
		"dry-run: nothing changes":  {it: testItem(t, "a", onCluster), need: needDryRun, answer: func(it *item) *unstructured.Unstructured { return answer(it, "v") }, action: diff.Unchanged},
		"dry-run: stale hash":       {it: testItem(t, "a", oldHash), need: needDryRun, answer: func(it *item) *unstructured.Unstructured { return answer(it, "v") }, action: diff.Unchanged, reapply: true},
		"dry-run: a change":         {it: testItem(t, "a", handEdited), need: needDryRun, answer: func(it *item) *unstructured.Unstructured { return answer(it, "v") }, action: diff.Update},
		"dry-run: not on cluster":   {it: testItem(t, "a"), need: needDryRun, answer: func(it *item) *unstructured.Unstructured { return answer(it, "v") }, action: diff.Create},
		"dry-run: refused":          {it: testItem(t, "a", onCluster), need: needDryRun, err: errors.New("admission webhook denied"), failed: true},
		"adopt, nothing changes":    {it: testItem(t, "a", unlabelled), need: needAdopt, answer: func(it *item) *unstructured.Unstructured { return answer(it, "v") }, action: diff.Adopt},
		"inventory only: delete":    {it: testItem(t, "a", onCluster, inventoryOnly), need: needDelete, action: diff.Delete},
		"inventory only: orphan":    {it: testItem(t, "a", onCluster, inventoryOnly, orphaned), need: needOrphan, action: diff.Orphan},
		"inventory only: gone":      {it: testItem(t, "a", inventoryOnly), need: needGone, action: diff.Unchanged, gone: true, silent: true},
		"inventory only: prune off": {it: testItem(t, "a", onCluster, inventoryOnly), need: needPruneOff, action: diff.Unchanged, silent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var after *unstructured.Unstructured
			if tc.answer != nil {
				after = tc.answer(tc.it)
			}
			settle(tc.it, tc.need, after, tc.err)
			it := tc.it
			if (it.err != nil) != tc.failed || it.reapply != tc.reapply || it.gone != tc.gone {
				t.Fatalf("err %v, reapply %v, gone %v; want failed %v, reapply %v, gone %v", it.err, it.reapply, it.gone, tc.failed, tc.reapply, tc.gone)
			}
			switch {
			case tc.failed:
			case it.action != tc.action:
				t.Fatalf("action %v, want %v", it.action, tc.action)
			case tc.silent && it.change.Key != (object.Key{}):
				t.Fatalf("change %v %v, want none", it.change.Action, it.change.Key)
			case !tc.silent && (it.change.Action != tc.action || it.change.Key != it.key):
				t.Fatalf("change %v %v, want %v of %v", it.change.Action, it.change.Key, tc.action, it.key)
			}
		})
	}
}

// TestDryRunAll: the dry-run is asked about the items that need it and
// no others, and its answers settle them.
func TestDryRunAll(t *testing.T) {
	items := []*item{
		testItem(t, "unchanged", onCluster),
		testItem(t, "edited", handEdited),
		testItem(t, "adopted", unlabelled),
		testItem(t, "new", pendingKind),
		testItem(t, "pruned", onCluster, inventoryOnly),
	}
	needs := []need{needUnchanged, needDryRun, needAdopt, needCreate, needDelete}
	var mu sync.Mutex
	asked := map[string]bool{}
	dryRunAll(context.Background(), items, needs, 2, func(_ context.Context, it *item) (*unstructured.Unstructured, error) {
		mu.Lock()
		asked[it.key.Name] = true
		mu.Unlock()
		if it.body == nil {
			return nil, errors.New("no desired object to send")
		}
		return withHash(it.object(), it.hash), nil
	})
	if want := map[string]bool{"edited": true, "adopted": true}; !maps.Equal(asked, want) {
		t.Fatalf("asked %v, want %v", asked, want)
	}
	if items[1].action != diff.Update || items[2].action != diff.Adopt {
		t.Fatalf("actions %v, %v; want update, adopt", items[1].action, items[2].action)
	}
	for _, it := range []*item{items[0], items[3], items[4]} {
		if it.change.Key != (object.Key{}) {
			t.Fatalf("%s needs no dry-run, yet was settled: %v", it.key, it.change.Action)
		}
	}
}
