// Package deploy_test checks the kustomize base of deploy/ and the
// Dockerfile: the manifests render and a real apiserver accepts every
// object with server-side apply; the security settings stay in place.
package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"mcp.dev/mcp/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{Clusters: []string{"host"}}) }

// build renders a kustomization below deploy/ as kubectl apply -k would.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// find returns the rendered object of that kind and name.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && (o.GetName() == name || strings.HasPrefix(o.GetName(), name+"-")) {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// TestApplyToAPIServer applies the base and the in-cluster overlay to a
// real apiserver with server-side apply (not a dry run) and strict field
// validation: every object must be accepted. The Deployment's pods never start (there is no kubelet).
func TestApplyToAPIServer(t *testing.T) {
	cfg := env.Cluster("host").RESTConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))

	for _, dir := range []string{".", "base", "overlays/in-cluster"} {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			// Namespaces first, as kubectl does.
			slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
				return boolInt(b.GetKind() == "Namespace") - boolInt(a.GetKind() == "Namespace")
			})
			for _, o := range objs {
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
				if err != nil {
					t.Fatalf("%s %s: %v", gvk.Kind, o.GetName(), err)
				}
				var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
				if o.GetNamespace() != "" {
					ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
				}
				data, err := json.Marshal(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				// Strict: a misspelt or misplaced field is an error, as with
				// kubectl apply --server-side, not a warning.
				opts := metav1.PatchOptions{FieldManager: "kubectl", FieldValidation: "Strict"}
				if _, err := ri.Patch(context.Background(), o.GetName(), types.ApplyPatchType, data, opts); err != nil {
					t.Errorf("apply %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDeploymentIsLocked checks the settings that keep the pod least
// privileged, so that an edit cannot drop one quietly.
func TestDeploymentIsLocked(t *testing.T) {
	objs := build(t, ".")
	for _, o := range objs {
		if o.GetKind() != "Namespace" && o.GetNamespace() != "mcp-system" &&
			o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" {
			t.Errorf("%s %s is in namespace %q, want mcp-system", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		if o.GetKind() == "ClusterRole" || o.GetKind() == "ClusterRoleBinding" {
			t.Errorf("the base holds %s %s: cluster-wide rights belong in components/in-cluster", o.GetKind(), o.GetName())
		}
	}
	d := find(t, objs, "Deployment", "mcp")
	podField, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "template", "spec")
	pod, _ := podField.(map[string]any)
	containers, _ := pod["containers"].([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0].(map[string]any)
	for path, want := range map[string]any{
		"spec.securityContext.runAsNonRoot":                  true,
		"spec.securityContext.seccompProfile.type":           "RuntimeDefault",
		"container.securityContext.allowPrivilegeEscalation": false,
		"container.securityContext.readOnlyRootFilesystem":   true,
		"container.securityContext.capabilities.drop":        []any{"ALL"},
		"container.livenessProbe.httpGet.path":               "/healthz",
		"container.readinessProbe.httpGet.path":              "/readyz",
		"container.resources.limits.memory":                  "512Mi",
		"container.resources.requests.cpu":                   "100m",
	} {
		root, fields := pod, strings.Split(path, ".")[1:]
		if strings.HasPrefix(path, "container.") {
			root = c
		}
		got, found, _ := unstructured.NestedFieldNoCopy(root, fields...)
		if !found || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	env := map[string]bool{}
	envList, _ := c["env"].([]any)
	for _, e := range envList {
		env[e.(map[string]any)["name"].(string)] = true
	}
	for _, name := range []string{"POD_NAME", "MCP_REPLICAS_LEASE", "MCP_CREDENTIALS_DIR", "MCP_CACHE_DIR"} {
		if !env[name] {
			t.Errorf("the container lacks env %s", name)
		}
	}
	mounts := map[string]string{}
	vms, _ := c["volumeMounts"].([]any)
	for _, m := range vms {
		mm := m.(map[string]any)
		mounts[mm["mountPath"].(string)] = mm["name"].(string)
	}
	for path, vol := range map[string]string{"/etc/mcp/git": "git", "/etc/mcp/clusters": "clusters", "/var/cache/mcp": "cache"} {
		if mounts[path] != vol {
			t.Errorf("%s mounts %q, want volume %s", path, mounts[path], vol)
		}
	}
	svc := find(t, objs, "Service", "mcp")
	if svc.GetAnnotations()["prometheus.io/scrape"] != "true" {
		t.Errorf("Service annotations %v lack prometheus.io/scrape", svc.GetAnnotations())
	}
}

// TestDockerfile reads the Dockerfile for the lines the image depends on;
// there is no Docker engine to build it here.
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	for _, want := range []string{
		"FROM --platform=$BUILDPLATFORM golang:1.26 AS build",
		"CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath",
		"-X mcp.dev/mcp/internal/version.Version=${VERSION}",
		"FROM gcr.io/distroless/static:nonroot",
		"USER 65532:65532",
		"ENV MCP_CACHE_DIR=/var/cache/mcp",
		"EXPOSE 8080",
		`ENTRYPOINT ["/mcp"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if n := strings.Count(df, "\nFROM "); n != 2 {
		t.Errorf("want two stages, a build and a runtime one; found %d FROM lines", n)
	}
}

// TestInClusterIsAllowedOnlyByTheComponent: the base leaves in-cluster
// access off; the in-cluster component, which grants the rights, turns it
// on.
func TestInClusterIsAllowedOnlyByTheComponent(t *testing.T) {
	for dir, want := range map[string]string{".": "", "base": "", "overlays/in-cluster": "true"} {
		d := find(t, build(t, dir), "Deployment", "mcp")
		containers, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "template", "spec", "containers")
		got := ""
		for _, e := range containers.([]any)[0].(map[string]any)["env"].([]any) {
			if e := e.(map[string]any); e["name"] == "MCP_ALLOW_IN_CLUSTER" {
				got = e["value"].(string)
			}
		}
		if got != want {
			t.Errorf("%s: MCP_ALLOW_IN_CLUSTER = %q, want %q", dir, got, want)
		}
	}
}
