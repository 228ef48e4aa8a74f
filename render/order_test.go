package render

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestApplyOrder(t *testing.T) {
	o := func(apiVersion, kind, ns, name string, wave int) Object {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return Object{Obj: u, Wave: wave}
	}
	objs := []Object{
		o("v1", "ConfigMap", "web", "a", 0),
		o("apps/v1", "Deployment", "web", "web", -1),
		o("v1", "Namespace", "", "web", 0),
		o("rbac.authorization.k8s.io/v1", "ClusterRole", "", "r", 0),
		o("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "x.example.com", 0),
		o("v1", "ConfigMap", "web", "late", 2),
		o("v1", "Namespace", "", "early", -1),
	}
	var got []string
	for _, obj := range ApplyOrder(objs) {
		got = append(got, obj.Key().String())
	}
	want := []string{
		"Namespace early", "apps/Deployment web/web", // wave -1
		"Namespace web", "apiextensions.k8s.io/CustomResourceDefinition x.example.com",
		"rbac.authorization.k8s.io/ClusterRole r", "ConfigMap web/a", // wave 0
		"ConfigMap web/late", // wave 2
	}
	if !slices.Equal(got, want) {
		t.Errorf("ApplyOrder:\n got %q\nwant %q", got, want)
	}
	if objs[0].Key().Name != "a" {
		t.Error("ApplyOrder sorted its argument in place")
	}
}
