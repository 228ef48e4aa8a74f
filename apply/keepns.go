package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// Deleting a Namespace deletes everything in it, whoever made it. So a
// Namespace that mcp would prune is kept (diff.Keep, "kept: 2 unmanaged
// objects inside") while it holds objects that this plan does not delete:
// objects outside mcp's inventory (made by hand, by other tools, by
// another mcp inventory), and objects mcp still manages there (desired,
// or of a placement that does not prune). It stays in the inventory and
// is pruned by the first plan that finds it empty of them.
//
// Some objects say nothing about whether anyone still needs the namespace,
// and do not count:
//   - objects with an ownerReference: the garbage collector deletes them
//     with their owner, which counts (or is pruned) itself: ReplicaSets,
//     Pods, EndpointSlices, ControllerRevisions, Jobs of CronJobs;
//   - what Kubernetes makes in every namespace: the ConfigMap
//     kube-root-ca.crt, the ServiceAccount default, and Secrets annotated
//     kubernetes.io/service-account.name (token Secrets, which live and
//     die with their ServiceAccount);
//   - the traces of workloads: Events, Leases and LeaseCandidates (leader
//     election), core Endpoints (kept in step with their Service);
//   - objects being deleted already.
//
// Everything else counts, PersistentVolumeClaims left by a StatefulSet
// and Helm's release Secrets included: they hold what someone may want.

// tracesKinds are the kinds of the traces workloads leave; never listed.
var tracesKinds = map[schema.GroupKind]bool{
	{Kind: "Event"}:                                        true,
	{Group: "events.k8s.io", Kind: "Event"}:                true,
	{Group: "coordination.k8s.io", Kind: "Lease"}:          true,
	{Group: "coordination.k8s.io", Kind: "LeaseCandidate"}: true,
	{Kind: "Endpoints"}:                                    true,
}

// serviceAccountAnnotation names the ServiceAccount of a token Secret.
const serviceAccountAnnotation = "kubernetes.io/service-account.name"

// resident is one object found in a namespace.
type resident struct {
	key  object.Key
	meta metav1.ObjectMeta
}

// counts reports whether r counts against pruning its namespace, leaving
// aside what the plan does to it.
func (r resident) counts() bool {
	k, m := r.key, r.meta
	switch {
	case m.DeletionTimestamp != nil, len(m.OwnerReferences) > 0, tracesKinds[schema.GroupKind{Group: k.Group, Kind: k.Kind}]:
		return false
	case k.Group != "":
		return true
	case k.Kind == "ConfigMap" && k.Name == "kube-root-ca.crt",
		k.Kind == "ServiceAccount" && k.Name == "default",
		k.Kind == "Secret" && m.Annotations[serviceAccountAnnotation] != "":
		return false
	}
	return true
}

// staying counts the residents that pruning their namespace would delete
// although the plan does not: unmanaged ones (pruned has no entry) and
// managed ones that stay (pruned is false).
func staying(residents []resident, pruned map[object.Key]bool) (unmanaged, managed int) {
	for _, r := range residents {
		gone, known := pruned[r.key]
		switch {
		case !r.counts() || gone:
		case known:
			managed++
		default:
			unmanaged++
		}
	}
	return unmanaged, managed
}

// keptReason is the Reason of a kept Namespace.
func keptReason(unmanaged, managed int) string {
	var parts []string
	if unmanaged > 0 {
		parts = append(parts, plural(unmanaged, "unmanaged object"))
	}
	if managed > 0 {
		parts = append(parts, plural(managed, "object")+" mcp still manages")
	}
	return "kept: " + strings.Join(parts, " and ") + " inside"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// keepNamespaces turns the prune of every Namespace that holds objects
// the plan does not delete into a Keep. A Namespace whose objects cannot
// all be listed is not pruned either: it fails to plan, saying why.
func (a *Applier) keepNamespaces(ctx context.Context, p *Plan) {
	var namespaces []*item
	pruned := make(map[object.Key]bool, len(p.items))
	for _, it := range p.items {
		pruned[it.key] = !it.src.declared() && it.action == diff.Delete
		if it.err == nil && it.action == diff.Delete && isNamespace(it.key) {
			namespaces = append(namespaces, it)
		}
	}
	if len(namespaces) == 0 {
		return
	}
	// Fresh discovery: a kind added since the last plan must be counted.
	a.c.refresh()
	kinds, discoveryErr := a.namespacedKinds()
	for _, ns := range namespaces {
		residents, err := []resident(nil), discoveryErr
		if err == nil {
			residents, err = a.residents(ctx, ns.key.Name, kinds)
		}
		if err != nil {
			ns.err = fmt.Errorf("count the objects inside before pruning: %w", err)
			continue
		}
		if unmanaged, managed := staying(residents, pruned); unmanaged+managed > 0 {
			ns.action, ns.change.Action = diff.Keep, diff.Keep
			ns.change.Reason = keptReason(unmanaged, managed)
		}
	}
}

// servedKind is a namespaced kind the cluster serves.
type servedKind struct {
	gvr  schema.GroupVersionResource
	kind string
}

// namespacedKinds are the kinds whose objects a namespace's deletion
// deletes: namespaced, listable and deletable, one version of each;
// without tracesKinds.
func (a *Applier) namespacedKinds() ([]servedKind, error) {
	lists, err := a.c.disc.ServerPreferredNamespacedResources()
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var out []servedKind
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			return nil, fmt.Errorf("discovery: %w", err)
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") || !slices.Contains(r.Verbs, "delete") ||
				tracesKinds[schema.GroupKind{Group: gv.Group, Kind: r.Kind}] {
				continue
			}
			out = append(out, servedKind{gvr: gv.WithResource(r.Name), kind: r.Kind})
		}
	}
	return out, nil
}

// residents lists the objects of every kind in namespace ns, metadata
// only, page by page.
func (a *Applier) residents(ctx context.Context, ns string, kinds []servedKind) ([]resident, error) {
	var (
		mu  sync.Mutex
		out []resident
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listConcurrency)
	for _, k := range kinds {
		g.Go(func() error {
			opts := metav1.ListOptions{Limit: a.opts.PageSize}
			for {
				list, err := a.c.meta.Resource(k.gvr).Namespace(ns).List(ctx, opts)
				if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
					return nil // the kind went away since discovery
				}
				if err != nil {
					return fmt.Errorf("list %s in %s: %w", k.gvr.GroupResource(), ns, err)
				}
				mu.Lock()
				for _, m := range list.Items {
					key := object.Key{Group: k.gvr.Group, Kind: k.kind, Namespace: ns, Name: m.Name}
					out = append(out, resident{key: key, meta: m.ObjectMeta})
				}
				mu.Unlock()
				if opts.Continue = list.GetContinue(); opts.Continue == "" {
					return nil
				}
			}
		})
	}
	return out, g.Wait()
}
