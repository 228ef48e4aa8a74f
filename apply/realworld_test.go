package apply

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"mcp.dev/mcp/internal/object"
)

// realworld reads the unmodified public manifests of testdata/realworld.
func realworld(t *testing.T) []Object {
	t.Helper()
	var out []Object
	for _, pattern := range []string{"ingress-nginx/*.yaml", "cert-manager-crds/*.yaml"} {
		files, err := filepath.Glob(filepath.Join("..", "testdata", "realworld", pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("no files for %s: %v", pattern, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, objectsFrom(t, f, data)...)
		}
	}
	// What users add next to them: issuers (custom resources of the CRDs
	// above) and an Ingress, which the ingress-nginx admission webhook
	// covers. Its service never runs here, so the Ingress is refused.
	return append(out, objects(t, namespace("certs")+`---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata: {name: selfsigned, namespace: certs}
spec: {selfSigned: {}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: ingress-nginx}
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`)...)
}

func TestRealWorldManifests(t *testing.T) {
	opts := testOptions(t)
	a, _ := newApplier(t, "us", opts)
	desired := realworld(t)
	ingress := object.Key{Group: "networking.k8s.io", Kind: "Ingress", Namespace: "ingress-nginx", Name: "web"}

	r := a.Apply(context.Background(), plan(t, a, desired))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.Errors) != 1 || r.Errors[0].Key != ingress {
		t.Fatalf("errors %v, want only the Ingress refused by the webhook", r.Errors)
	}
	t.Logf("ingress refused: %v", r.Errors[0])
	if r.Created != len(desired)-1 {
		t.Fatalf("created %d of %d", r.Created, len(desired)-1)
	}

	for name, noFast := range map[string]bool{"fast path": false, "dry-run": true} {
		t.Run(name, func(t *testing.T) {
			o := opts
			o.NoFastPath = noFast
			b, _ := newApplier(t, "us", o)
			p := plan(t, b, desired)
			if len(p.Errors) != 1 || p.Errors[0].Key != ingress {
				t.Errorf("plan errors %v, want the Ingress", p.Errors)
			}
			p.Errors = nil
			requireUnchanged(t, p)
		})
	}
}
