package object

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// clusterScoped lists the cluster-scoped kinds of the Kubernetes API groups,
// so that scopes are known without asking a cluster.
var clusterScoped = map[schema.GroupKind]bool{
	{Group: "", Kind: "Namespace"}:                                                    true,
	{Group: "", Kind: "Node"}:                                                         true,
	{Group: "", Kind: "PersistentVolume"}:                                             true,
	{Group: "", Kind: "ComponentStatus"}:                                              true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:                         true,
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:                  true,
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:                 true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:                             true,
	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:                               true,
	{Group: "storage.k8s.io", Kind: "StorageClass"}:                                   true,
	{Group: "storage.k8s.io", Kind: "CSIDriver"}:                                      true,
	{Group: "storage.k8s.io", Kind: "CSINode"}:                                        true,
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:                               true,
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:                          true,
	{Group: "networking.k8s.io", Kind: "IngressClass"}:                                true,
	{Group: "networking.k8s.io", Kind: "IPAddress"}:                                   true,
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:                                 true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        true,
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          true,
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   true,
	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}:                 true,
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:                        true,
	{Group: "node.k8s.io", Kind: "RuntimeClass"}:                                      true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                       true,
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}:       true,
	{Group: "policy", Kind: "PodSecurityPolicy"}:                                      true,
	{Group: "resource.k8s.io", Kind: "DeviceClass"}:                                   true,
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:                                 true,
	{Group: "authentication.k8s.io", Kind: "TokenReview"}:                             true,
	{Group: "authentication.k8s.io", Kind: "SelfSubjectReview"}:                       true,
	{Group: "authorization.k8s.io", Kind: "SubjectAccessReview"}:                      true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectAccessReview"}:                  true,
	{Group: "authorization.k8s.io", Kind: "SelfSubjectRulesReview"}:                   true,
	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}:               true,
	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}:                      true,
}

// CRDKind is the kind of CustomResourceDefinitions.
var CRDKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

// Scopes is the one judge of whether a kind's objects live in namespaces
// when no cluster is asked. It knows the cluster-scoped kinds of the
// Kubernetes API groups (a built-in table) and the kinds that the
// CustomResourceDefinitions among a set of objects define (spec.group,
// spec.names.kind, spec.scope; a CRD overrides the table).
//
// render asks it for every kind and takes a kind it does not know as
// namespaced, as most custom kinds are. apply asks the cluster's REST
// mapper first, which wins for every kind the cluster serves (an object
// render gave a namespace is applied without one if its kind is served
// cluster-scoped), and asks Scopes only of a kind that a CRD of the same
// apply defines and the cluster does not serve yet. For such a kind both
// read the same CRD, so they agree.
type Scopes struct {
	crds map[schema.GroupKind]bool // kind → namespaced, from the CRDs
}

// ScopesOf reads the CRDs among items; obj is the object of an item.
func ScopesOf[T any](items []T, obj func(T) *unstructured.Unstructured) Scopes {
	s := Scopes{crds: map[schema.GroupKind]bool{}}
	for _, it := range items {
		u := obj(it)
		if u == nil || u.GroupVersionKind().GroupKind() != CRDKind {
			continue
		}
		group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(u.Object, "spec", "names", "kind")
		scope, _, _ := unstructured.NestedString(u.Object, "spec", "scope")
		if kind != "" {
			s.crds[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
		}
	}
	return s
}

// Namespaced reports whether objects of gk live in namespaces, and whether
// that is known: from a CRD of the objects or the built-in table. The
// table lists cluster-scoped kinds only, so a kind that is not known,
// ConfigMap as much as an unknown custom kind, is reported namespaced.
func (s Scopes) Namespaced(gk schema.GroupKind) (namespaced, known bool) {
	if n, ok := s.crds[gk]; ok {
		return n, true
	}
	if clusterScoped[gk] {
		return false, true
	}
	return true, false
}

// Defined reports whether a CRD among the objects defines gk: a kind a
// cluster may not serve before that CRD is applied.
func (s Scopes) Defined(gk schema.GroupKind) bool {
	_, ok := s.crds[gk]
	return ok
}
