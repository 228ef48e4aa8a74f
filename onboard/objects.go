package onboard

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"mcp.dev/mcp/internal/object"
)

// The objects Add makes in a cluster.
const (
	// Namespace holds the ServiceAccount, its token and mcp's inventory.
	Namespace = object.SystemNamespace
	// ServiceAccount is the identity mcp acts as.
	ServiceAccount = "mcp"
	// TokenSecretPrefix starts the generated name of the
	// kubernetes.io/service-account-token Secret whose token the
	// kubeconfig carries. A token of such a Secret is a function of the
	// Secret's and the ServiceAccount's names and UID: a rotation makes a
	// Secret of another name.
	TokenSecretPrefix = "mcp-token-"
	// rbacName names the Roles and RoleBindings of namespaced access.
	rbacName = "mcp"
	// clusterAdminBinding binds ServiceAccount to cluster-admin.
	clusterAdminBinding = "mcp-cluster-admin"
	// namespacedName names the ClusterRole and ClusterRoleBinding of the
	// cluster-scoped rights namespaced access still needs.
	namespacedName = "mcp-namespaced"
	// componentLabel tells mcp's access objects from what it applies.
	componentLabel = "app.kubernetes.io/component"
	componentValue = "access"
)

// accessSelector selects every object Add made.
var accessSelector = object.ManagedByLabel + "=" + object.ManagedByValue + "," + componentLabel + "=" + componentValue

var (
	namespaceGVR          = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	serviceAccountGVR     = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	secretGVR             = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	clusterRoleGVR        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	clusterRoleBindingGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
	roleGVR               = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	roleBindingGVR        = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
)

// rbacGVRs are the kinds of RBAC objects Add makes, in the order a revoke
// deletes them: bindings before the roles they name.
var rbacGVRs = []schema.GroupVersionResource{clusterRoleBindingGVR, roleBindingGVR, clusterRoleGVR, roleGVR}

// RBAC is the rights the ServiceAccount gets.
type RBAC struct {
	// Namespaces, when set, limit the rights to these namespaces (plus
	// mcp-system for the inventory and the cluster-scoped rights on
	// namespaces that mcp's apply needs); nil means cluster-admin.
	Namespaces []string
}

// ParseRBAC reads the --rbac flag: "cluster-admin" or
// "namespaced:ns1,ns2".
func ParseRBAC(s string) (RBAC, error) {
	if s == "cluster-admin" {
		return RBAC{}, nil
	}
	list, ok := strings.CutPrefix(s, "namespaced:")
	if !ok {
		return RBAC{}, fmt.Errorf("--rbac %q: want cluster-admin or namespaced:NS1,NS2", s)
	}
	var r RBAC
	for ns := range strings.SplitSeq(list, ",") {
		ns = strings.TrimSpace(ns)
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return RBAC{}, fmt.Errorf("--rbac %q: namespace %q: %s", s, ns, strings.Join(errs, "; "))
		}
		if ns == Namespace {
			return RBAC{}, fmt.Errorf("--rbac %q: %s is mcp's own namespace, not one for the fleet's objects", s, Namespace)
		}
		if !slices.Contains(r.Namespaces, ns) {
			r.Namespaces = append(r.Namespaces, ns)
		}
	}
	slices.Sort(r.Namespaces)
	return r, nil
}

// String is the flag's form of r.
func (r RBAC) String() string {
	if r.Namespaces == nil {
		return "cluster-admin"
	}
	return "namespaced:" + strings.Join(r.Namespaces, ",")
}

// want is one object Add ensures.
type want struct {
	gvr schema.GroupVersionResource
	obj *unstructured.Unstructured
	// compare are the top-level fields that must match the live object's;
	// a difference is an update.
	compare []string
	// immutable is a field the server never changes: a difference means
	// delete and create again.
	immutable string
}

func (w want) kind() string { return w.obj.GetKind() }

// ref is the object's name as the steps print it.
func (w want) ref() string {
	name := w.obj.GetName()
	if name == "" {
		name = w.obj.GetGenerateName() + "*"
	}
	return ref(w.obj.GetKind(), w.obj.GetNamespace(), name)
}

func ref(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

func newObj(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	u.SetLabels(map[string]string{object.ManagedByLabel: object.ManagedByValue, componentLabel: componentValue})
	return u
}

// desired lists the objects of r in the order they are created.
func desired(r RBAC) []want {
	var out []want
	out = append(out, want{gvr: namespaceGVR, obj: newObj("v1", "Namespace", "", Namespace)})
	for _, ns := range r.Namespaces {
		out = append(out, want{gvr: namespaceGVR, obj: newObj("v1", "Namespace", "", ns)})
	}
	out = append(out, want{gvr: serviceAccountGVR, obj: newObj("v1", "ServiceAccount", Namespace, ServiceAccount)})
	subjects := []any{map[string]any{"kind": "ServiceAccount", "name": ServiceAccount, "namespace": Namespace}}
	rbac := "rbac.authorization.k8s.io/v1"
	binding := func(kind, ns, name, roleKind, role string) want {
		u := newObj(rbac, kind, ns, name)
		u.Object["roleRef"] = map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": roleKind, "name": role}
		u.Object["subjects"] = subjects
		gvr := roleBindingGVR
		if ns == "" {
			gvr = clusterRoleBindingGVR
		}
		return want{gvr: gvr, obj: u, compare: []string{"roleRef", "subjects"}, immutable: "roleRef"}
	}
	role := func(kind, ns, name string, rules ...map[string]any) want {
		u := newObj(rbac, kind, ns, name)
		list := make([]any, len(rules))
		for i, r := range rules {
			list[i] = r
		}
		u.Object["rules"] = list
		gvr := roleGVR
		if ns == "" {
			gvr = clusterRoleGVR
		}
		return want{gvr: gvr, obj: u, compare: []string{"rules"}}
	}
	rule := func(groups, resources, verbs []any) map[string]any {
		return map[string]any{"apiGroups": groups, "resources": resources, "verbs": verbs}
	}
	all := []any{"*"}
	if r.Namespaces == nil {
		out = append(out, binding("ClusterRoleBinding", "", clusterAdminBinding, "ClusterRole", "cluster-admin"))
	} else {
		// The inventory lives in mcp-system; apply creates that namespace
		// when it is missing, and reads the namespaces it places objects
		// in.
		out = append(out,
			role("ClusterRole", "", namespacedName, rule([]any{""}, []any{"namespaces"}, []any{"get", "list", "watch", "create"})),
			binding("ClusterRoleBinding", "", namespacedName, "ClusterRole", namespacedName),
			role("Role", Namespace, rbacName, rule([]any{""}, []any{"configmaps"}, all)),
			binding("RoleBinding", Namespace, rbacName, "Role", rbacName))
		for _, ns := range r.Namespaces {
			out = append(out,
				role("Role", ns, rbacName, rule(all, all, all)),
				binding("RoleBinding", ns, rbacName, "Role", rbacName))
		}
	}
	return out
}

// tokenSecret is a new token Secret, named by the server.
func tokenSecret() want {
	secret := newObj("v1", "Secret", Namespace, "")
	secret.SetGenerateName(TokenSecretPrefix)
	secret.SetAnnotations(map[string]string{"kubernetes.io/service-account.name": ServiceAccount})
	secret.Object["type"] = "kubernetes.io/service-account-token"
	return want{gvr: secretGVR, obj: secret}
}
