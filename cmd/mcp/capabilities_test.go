package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"mcp.dev/mcp/internal/testenv"
)

// TestChartCapabilitiesAPIVersions: the API versions a chart sees are
// those Helm's install would give it, of a real API server, also when
// an aggregated API is registered but not served.
func TestChartCapabilitiesAPIVersions(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	cfg := env.Cluster("eu").RESTConfig()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) []string {
		got := apiVersions(dc)
		for _, want := range []string{"v1", "v1/ConfigMap", "apps/v1", "apps/v1/Deployment", "apiregistration.k8s.io/v1/APIService"} {
			if !slices.Contains(got, want) {
				t.Errorf("%s: %s not among the API versions %v", what, want, got)
			}
		}
		if !slices.IsSorted(got) {
			t.Errorf("%s: API versions not sorted: %v", what, got)
		}
		helm, err := action.GetVersionSet(dc)
		if err != nil {
			t.Fatalf("%s: Helm: %v", what, err)
		}
		slices.Sort(helm)
		if !slices.Equal(got, helm) {
			t.Errorf("%s: API versions\n%v\nHelm's\n%v", what, got, []string(helm))
		}
		return got
	}
	check("a cluster")

	// An aggregated API whose service does not exist: discovery of its
	// group fails, the others are listed.
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1.broken.example.com"},
		"spec": map[string]any{
			"group": "broken.example.com", "version": "v1", "groupPriorityMinimum": int64(100), "versionPriority": int64(10),
			"insecureSkipTLSVerify": true, "service": map[string]any{"namespace": "default", "name": "nowhere"},
		},
	}}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	if _, err := dyn.Resource(gvr).Create(t.Context(), apiService, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, err := dc.ServerGroupsAndResources()
		if discovery.IsGroupDiscoveryFailedError(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery of the broken API's group did not fail: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, v := range check("a cluster with a broken aggregated API") {
		if v == "broken.example.com/v1" {
			t.Errorf("the broken API's group version is listed")
		}
	}
}
