package onboard

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// Revoke deletes from the cluster of cfg what Add made for mcp's access:
// the token Secret (its token stops working at once), the RBAC objects and
// the ServiceAccount, found by their labels. Namespaces are kept: mcp-system
// holds the inventory of what mcp applied, the others what runs there.
// A dry run lists what it would delete.
func Revoke(ctx context.Context, cfg *rest.Config, dryRun bool) ([]Step, error) {
	if _, err := ServerVersion(cfg); err != nil {
		return nil, err
	}
	c, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	var found []*unstructured.Unstructured
	gvrs := append([]schema.GroupVersionResource{secretGVR}, rbacGVRs...)
	gvrs = append(gvrs, serviceAccountGVR)
	for _, gvr := range gvrs {
		ns := ""
		if gvr == secretGVR || gvr == serviceAccountGVR {
			ns = Namespace
		}
		list, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: accessSelector})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			u.SetKind(kindOf(gvr.Resource))
			found = append(found, u)
		}
	}
	steps := make([]Step, len(found))
	var rights []Right
	for i, u := range found {
		steps[i] = Step{Delete, ref(u.GetKind(), u.GetNamespace(), u.GetName())}
		rights = append(rights, Right{"delete", gvrOf(u.GetKind()), u.GetNamespace()})
	}
	if missing, err := c.missing(ctx, rights); err != nil {
		return nil, err
	} else if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the kubeconfig's credentials may not %s; nothing was deleted", ErrForbidden, missing[0])
	}
	if dryRun {
		return steps, nil
	}
	for _, u := range found {
		if err := c.deleteObj(ctx, u); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// InventoryRights are the rights mcp's apply needs whatever the fleet
// places: its inventory's ConfigMaps in mcp-system, and creating that
// namespace, which apply asks for before it writes the inventory.
var InventoryRights = []Right{
	{"create", namespaceGVR, ""},
	{"list", configMapGVR, Namespace},
	{"create", configMapGVR, Namespace},
	{"patch", configMapGVR, Namespace},
	{"delete", configMapGVR, Namespace},
}

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// MissingRights returns the rights of want that the credentials of cfg
// lack.
func MissingRights(ctx context.Context, cfg *rest.Config, want []Right) ([]Right, error) {
	c, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	return c.missing(ctx, want)
}
