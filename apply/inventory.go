package apply

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

// Where the inventory lives on each cluster (SPEC section 2).
const (
	InventoryNamespace = object.SystemNamespace
	// InventoryName is the default name of the inventory ConfigMap; more
	// shards are named InventoryName-1, -2, ...
	InventoryName = "mcp-inventory"
	// inventoryLabel marks the inventory ConfigMaps (value: the inventory
	// name), read with one LIST.
	inventoryLabel = "mcp.dev/inventory"
	inventoryKey   = "objects"
	// shardBytes caps the data of one inventory ConfigMap: etcd refuses
	// values over 1.5 MiB and the apiserver requests over 3 MiB; half a
	// MiB leaves room for managedFields and metadata. 10,000 objects need
	// one or two shards.
	shardBytes = 512 << 10
)

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
var namespaceGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// entry is one object in the inventory. The version is kept so that the
// object can be found again for pruning without the desired state.
type entry struct {
	Key       object.Key
	Version   string
	Placement string
}

func (e entry) gvk() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: e.Key.Group, Version: e.Version, Kind: e.Key.Kind}
}

// inventory is the set of objects mcp applied to a cluster, by key.
type inventory map[object.Key]entry

// sorted returns the entries in key order.
func (inv inventory) sorted() []entry {
	out := make([]entry, 0, len(inv))
	for _, e := range inv {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b entry) int { return object.Compare(a.Key, b.Key) })
	return out
}

func (inv inventory) equal(other inventory) bool {
	if len(inv) != len(other) {
		return false
	}
	for k, e := range inv {
		if other[k] != e {
			return false
		}
	}
	return true
}

// encodeInventory writes the entries as lines of tab-separated
// "apiVersion kind namespace name placement" (tabs and newlines cannot
// occur in any of them), cut into shards of at most shardBytes.
func encodeInventory(inv inventory) []string {
	var shards []string
	var b strings.Builder
	for _, e := range inv.sorted() {
		gv := schema.GroupVersion{Group: e.Key.Group, Version: e.Version}.String()
		line := strings.Join([]string{gv, e.Key.Kind, e.Key.Namespace, e.Key.Name, e.Placement}, "\t") + "\n"
		if b.Len()+len(line) > shardBytes {
			shards = append(shards, b.String())
			b.Reset()
		}
		b.WriteString(line)
	}
	if b.Len() > 0 || len(shards) == 0 {
		shards = append(shards, b.String())
	}
	return shards
}

// decodeInventory reads what encodeInventory wrote into inv.
func decodeInventory(inv inventory, data, shard string) error {
	for i, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return fmt.Errorf("inventory %s/%s line %d: want 5 fields, got %d", InventoryNamespace, shard, i+1, len(f))
		}
		gv, err := schema.ParseGroupVersion(f[0])
		if err != nil {
			return fmt.Errorf("inventory %s/%s line %d: %w", InventoryNamespace, shard, i+1, err)
		}
		k := object.Key{Group: gv.Group, Kind: f[1], Namespace: f[2], Name: f[3]}
		inv[k] = entry{Key: k, Version: gv.Version, Placement: f[4]}
	}
	return nil
}

// shardName is the name of the i-th ConfigMap of inventory name.
func shardName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "-" + strconv.Itoa(i)
}

// Inventory returns the keys of the objects mcp tracks on a cluster, in
// key order, as the next reconcile will read them (for tests and tools).
func (a *Applier) Inventory(ctx context.Context) ([]object.Key, error) {
	inv, _, err := a.readInventory(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]object.Key, 0, len(inv))
	for _, e := range inv.sorted() {
		keys = append(keys, e.Key)
	}
	return keys, nil
}

// readInventory reads every shard with one LIST. shards is how many
// ConfigMaps hold it, so that a smaller inventory can delete the rest.
func (a *Applier) readInventory(ctx context.Context) (inv inventory, shards int, err error) {
	list, err := a.c.dyn.Resource(configMapGVR).Namespace(InventoryNamespace).List(ctx,
		metav1.ListOptions{LabelSelector: inventoryLabel + "=" + a.opts.Inventory})
	if err != nil {
		return nil, 0, fmt.Errorf("read inventory: %w", err)
	}
	inv = inventory{}
	for _, cm := range list.Items {
		data, _, _ := unstructured.NestedString(cm.Object, "data", inventoryKey)
		if err := decodeInventory(inv, data, cm.GetName()); err != nil {
			return nil, 0, err
		}
	}
	return inv, len(list.Items), nil
}

// writeInventory stores inv, creating the namespace when missing and
// deleting shards it no longer needs.
func (a *Applier) writeInventory(ctx context.Context, inv inventory, oldShards int) (shards int, err error) {
	if err := a.ensureInventoryNamespace(ctx); err != nil {
		return oldShards, err
	}
	data := encodeInventory(inv)
	for i, d := range data {
		cm := &unstructured.Unstructured{}
		cm.SetAPIVersion("v1")
		cm.SetKind("ConfigMap")
		cm.SetNamespace(InventoryNamespace)
		cm.SetName(shardName(a.opts.Inventory, i))
		cm.SetLabels(map[string]string{inventoryLabel: a.opts.Inventory})
		_ = unstructured.SetNestedField(cm.Object, d, "data", inventoryKey)
		apply := func() error {
			_, err := a.c.dyn.Resource(configMapGVR).Namespace(InventoryNamespace).Apply(ctx, cm.GetName(), cm,
				metav1.ApplyOptions{FieldManager: a.opts.FieldManager, Force: true})
			return err
		}
		err := apply()
		if apierrors.IsNotFound(err) {
			// The namespace went away since it was made (deleted by hand):
			// make it again rather than fail this cluster until a restart.
			a.nsReady = false
			if err = a.ensureInventoryNamespace(ctx); err == nil {
				err = apply()
			}
		}
		if err != nil {
			return max(oldShards, i), fmt.Errorf("write inventory %s/%s: %w", InventoryNamespace, cm.GetName(), err)
		}
	}
	for i := len(data); i < oldShards; i++ {
		err := a.c.dyn.Resource(configMapGVR).Namespace(InventoryNamespace).Delete(ctx, shardName(a.opts.Inventory, i), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return oldShards, fmt.Errorf("write inventory: delete %s/%s: %w", InventoryNamespace, shardName(a.opts.Inventory, i), err)
		}
	}
	return len(data), nil
}

// ensureInventoryNamespace creates the inventory's namespace unless it is
// known to exist. It looks first, so that a credential that may read the
// namespace but not create namespaces works once it exists.
func (a *Applier) ensureInventoryNamespace(ctx context.Context) error {
	if a.nsReady {
		return nil
	}
	if _, err := a.c.dyn.Resource(namespaceGVR).Get(ctx, InventoryNamespace, metav1.GetOptions{}); err == nil {
		a.nsReady = true
		return nil
	}
	ns := &unstructured.Unstructured{}
	ns.SetAPIVersion("v1")
	ns.SetKind("Namespace")
	ns.SetName(InventoryNamespace)
	_, err := a.c.dyn.Resource(namespaceGVR).Create(ctx, ns, metav1.CreateOptions{FieldManager: a.opts.FieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("write inventory: create namespace %s: %w", InventoryNamespace, err)
	}
	a.nsReady = true
	return nil
}
