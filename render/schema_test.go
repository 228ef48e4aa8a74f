package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`

// TestSchemaOfBuiltinKinds: objects of built-in kinds are checked against
// the API's types at their field's line, before anything is applied.
func TestSchemaOfBuiltinKinds(t *testing.T) {
	tests := map[string]struct {
		old, new string // a line of deployment and what replaces it
		manifest string // instead of deployment
		want     []string
		warning  bool   // a warning, not an error
		hidden   string // must not appear anywhere
	}{
		"typo near a field": {
			old: "  replicas: 2", new: "  replica: 2",
			want: []string{"apps/a.yaml:6:", "Deployment web", "unknown field spec.replica (did you mean replicas?)"},
		},
		"typo in a container": {
			old: "        image: nginx:1.27", new: "        imag: nginx:1.27",
			want: []string{"apps/a.yaml:15:", "unknown field spec.template.spec.containers[0].imag (did you mean image?)"},
		},
		"a word for a number": {
			old: "  replicas: 2", new: "  replicas: two",
			want: []string{"apps/a.yaml:6:", `spec.replicas: want a whole number, got "two"`},
		},
		"a number for a string": {
			old: "        - containerPort: 80", new: "        - containerPort: 80\n        env:\n        - {name: PORT, value: 8080}",
			want: []string{"apps/a.yaml:19:", "env[0].value: want a string, got 8080 (quote it)"},
		},
		"an annotation that is a number": {
			old: "  name: web", new: "  name: web\n  annotations: {prometheus.io/port: 9090}",
			want: []string{"apps/a.yaml:5:", "metadata.annotations.prometheus.io/port: want a string, got 9090 (quote it)"},
		},
		"a mapping for a list": {
			old: "        - containerPort: 80", new: "          containerPort: 80",
			want: []string{"ports: want a list, got a mapping"},
		},
		"not a quantity": {
			old: "        image: nginx:1.27", new: "        image: nginx:1.27\n        resources: {limits: {cpu: 100mi}}",
			want: []string{"resources.limits.cpu: \"100mi\" is not a quantity"},
		},
		"int or string": {
			manifest: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: [http]\n",
			want:     []string{"apps/a.yaml:7:", "Service s", "targetPort: want a number or a string, got a list"},
		},
		"a field no near name explains": {
			old: "  replicas: 2", new: "  replicas: 2\n  rolloutStrategyOfTheFuture: fast",
			want: []string{"apps/a.yaml:7:", "Deployment web", "unknown field spec.rolloutStrategyOfTheFuture: not in the schema of DeploymentSpec (Kubernetes 1.35)"},
		},
		"secret data that is not base64": {
			manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\ndata:\n  password: hunter2-is-plain\n",
			want:     []string{"apps/a.yaml:5:", "Secret db", "data.password: not base64 (plain text goes in stringData)"},
			hidden:   "hunter2",
		},
		"a secret's value is never quoted": {
			manifest: "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n  pin: 48151623\n",
			want:     []string{"apps/a.yaml:5:", "stringData.pin: want a string, got a number"},
			hidden:   "48151623",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			manifest := tc.manifest
			if manifest == "" {
				if !strings.Contains(deployment, tc.old+"\n") {
					t.Fatalf("%q is no line of the deployment", tc.old)
				}
				manifest = strings.Replace(deployment, tc.old+"\n", tc.new+"\n", 1)
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": manifest})}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if tc.warning {
				if err := f.Err(); err != nil {
					t.Fatalf("want a warning only, got %v", err)
				}
				got = strings.Join(f.Warnings, "\n")
			} else {
				if f.Err() == nil {
					t.Fatalf("rendered without error; warnings: %q", f.Warnings)
				}
				if len(f.Clusters[0].Objects) != 0 {
					t.Errorf("a cluster with an invalid object kept %d objects", len(f.Clusters[0].Objects))
				}
				got = f.Err().Error()
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
			if tc.hidden != "" && strings.Contains(got+strings.Join(f.Warnings, ""), tc.hidden) {
				t.Errorf("the message shows the secret's value:\n%s", got)
			}
		})
	}
}

// TestSchemaAcceptsWhatTheServerAccepts: valid objects, substituted
// values and custom kinds are not refused.
func TestSchemaAcceptsWhatTheServerAccepts(t *testing.T) {
	files := map[string]string{
		"mcp.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c1}
spec: {vars: {replicas: 3}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: p}
spec: {path: apps, clusterSelector: {}}
`,
		"apps/deploy.yaml": strings.Replace(deployment, "replicas: 2", "replicas: ${var.replicas}", 1),
		"apps/svc.yaml":    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - {port: 80, targetPort: http}\n  - {port: 81, targetPort: 8081}\n",
		"apps/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: aGVsbG8=}\nstringData: {b: plain}\n",
		"apps/issuer.yaml": "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: le}\nspec: {acme: {anything: [1, two]}}\n---\n" +
			"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: clusterissuers.cert-manager.io}\nspec: {group: cert-manager.io, names: {kind: ClusterIssuer, plural: clusterissuers}, scope: Cluster}\n",
		"apps/job.yaml": `apiVersion: batch/v1
kind: Job
metadata: {name: j, creationTimestamp: 2024-01-01T00:00:00Z}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: j
        image: busybox
        resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: 1, memory: 1.5Gi}}
        command: [sh, -c, "true"]
`,
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) > 0 {
		t.Errorf("warnings: %q", f.Warnings)
	}
	if n := len(f.Clusters[0].Objects); n != 6 {
		t.Errorf("rendered %d objects, want 6", n)
	}
}

// TestSchemaOfKustomizeOutput: objects built by kustomize are checked too,
// named by kind and name since their lines are not the repo's.
func TestSchemaOfKustomizeOutput(t *testing.T) {
	files := map[string]string{
		"mcp.yaml":                "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\n---\napiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: p}\nspec: {path: apps, clusterSelector: {}}\n",
		"apps/kustomization.yaml": "resources: [deploy.yaml]\nnamePrefix: prod-\n",
		"apps/deploy.yaml":        strings.Replace(deployment, "replicas: 2", "replicas: two", 1),
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Err()
	if err == nil || !strings.Contains(err.Error(), `Deployment prod-web: spec.replicas: want a whole number, got "two"`) {
		t.Fatalf("got %v", err)
	}
}

// TestUndefinedKinds: a custom kind no CRD of the repo defines is a
// warning, once per kind, naming the first object.
func TestUndefinedKinds(t *testing.T) {
	issuer := "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: %s}\n---\n"
	files := map[string]string{
		"mcp.yaml":         baseConfig,
		"apps/issuer.yaml": fmt.Sprintf(issuer, "a") + fmt.Sprintf(issuer, "b") + rolloutCRD + "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\n",
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "apps/issuer.yaml:1: ClusterIssuer a (and 1 more objects of the kind): kind ClusterIssuer.cert-manager.io is neither built in nor defined by a CustomResourceDefinition in the repo"
	if len(f.Warnings) != 1 || !strings.HasPrefix(f.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", f.Warnings, want)
	}
}

// TestSchemaOfCustomKinds: custom objects are checked against the
// openAPIV3Schema of the repo's CRD for their version (cert-manager's
// real CRDs here).
func TestSchemaOfCustomKinds(t *testing.T) {
	crds, err := os.ReadFile("../testdata/realworld/cert-manager-crds/cert-manager.io_clusterissuers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	certs, err := os.ReadFile("../testdata/realworld/cert-manager-crds/cert-manager.io_certificates.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const issuer = `apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt-key
    solvers:
    - http01:
        ingress:
          ingressClassName: nginx
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: web, namespace: web}
spec:
  secretName: web-tls
  dnsNames: [web.example.com]
  issuerRef: {name: letsencrypt, kind: ClusterIssuer}
  privateKey: {algorithm: ECDSA, size: 256}
`
	tests := map[string]struct {
		old, new string
		want     string
		warning  bool
	}{
		"valid":               {},
		"typo":                {old: "    server:", new: "    servr:", want: "apps/issuer.yaml:7: cluster c1: placement p: invalid: ClusterIssuer letsencrypt: unknown field spec.acme.servr (did you mean server?)"},
		"a string for a map":  {old: "    privateKeySecretRef:\n      name: letsencrypt-key", new: "    privateKeySecretRef: letsencrypt-key", want: "spec.acme.privateKeySecretRef: want a mapping, got \"letsencrypt-key\""},
		"not in the enum":     {old: "algorithm: ECDSA", new: "algorithm: ECDS", want: "spec.privateKey.algorithm: \"ECDS\" is not one of RSA, ECDSA, Ed25519 (did you mean ECDSA?)"},
		"a number for a list": {old: "dnsNames: [web.example.com]", new: "dnsNames: 3", want: "spec.dnsNames: want a list, got 3"},
		"unknown field":       {old: "  secretName: web-tls", new: "  secretName: web-tls\n  renewNow: true", want: "apps/issuer.yaml:20: cluster c1: placement p: invalid: Certificate web: unknown field spec.renewNow: not in the schema of its CustomResourceDefinition in the repo"},
		"missing required":    {old: "    privateKeySecretRef:\n      name: letsencrypt-key\n", new: "", want: "apps/issuer.yaml:7: cluster c1: placement p: invalid: ClusterIssuer letsencrypt: spec.acme: missing required field privateKeySecretRef"},
		"missing in spec":     {old: "  issuerRef: {name: letsencrypt, kind: ClusterIssuer}\n", new: "", want: "Certificate web: spec: missing required field issuerRef"},
		"metadata":            {old: "metadata: {name: web, namespace: web}", new: "metadata: {name: web, namespace: web, labls: {a: b}}", want: "unknown field metadata.labls (did you mean labels?)"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			manifest := strings.Replace(issuer, tc.old, tc.new, 1)
			if tc.old != "" && manifest == issuer {
				t.Fatalf("%q is not in the manifest", tc.old)
			}
			files := map[string]string{"mcp.yaml": baseConfig, "apps/issuer.yaml": manifest, "apps/crds.yaml": string(crds) + "\n---\n" + string(certs)}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(f.Warnings, "\n")
			switch {
			case tc.want == "":
				if f.Err() != nil || len(f.Warnings) > 0 {
					t.Fatalf("valid objects refused: %v %q", f.Err(), f.Warnings)
				}
				return
			case tc.warning:
				if f.Err() != nil {
					t.Fatalf("want a warning only, got %v", f.Err())
				}
			case f.Err() == nil:
				t.Fatalf("rendered without error; warnings %q", f.Warnings)
			default:
				got = f.Err().Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("missing %q in:\n%s", tc.want, got)
			}
		})
	}
}

// TestSchemaOfChartOutput: what a chart renders is checked like manifests
// (an env value the values file makes a number), and the CRDs a chart
// renders define their kinds for the rest of the repo.
func TestSchemaOfChartOutput(t *testing.T) {
	const fleet = `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: edge-1}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: web}
spec:
  clusters: [edge-1]
  namespace: web
  chart:
    path: charts/webstack
    values: {cache: {enabled: false}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: widgets}
spec: {clusters: [edge-1], namespace: web, path: widgets}
`
	widget := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
	dir := chartRepo(t, []string{"webstack"}, map[string]string{"mcp.yaml": fleet, "widgets/w.yaml": widget})
	f, err := Render(context.Background(), source.Snapshot{Dir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	for _, w := range f.Warnings {
		if strings.Contains(w, "Widget") {
			t.Errorf("a kind the chart's CRD defines is warned about: %s", w)
		}
	}

	// The template quotes the greeting; a copy that does not renders a
	// number where the API wants a string.
	tmpl := filepath.Join(dir, "charts/webstack/templates/deployment.yaml")
	data, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "{{ .Values.greeting | quote }}", "42", 1)
	if broken == string(data) {
		t.Fatal("the template has no quoted greeting")
	}
	if err := os.WriteFile(tmpl, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err = Render(context.Background(), source.Snapshot{Dir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "env[0].value: want a string, got 42 (quote it)"
	if err := f.Err(); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "charts/webstack/templates/deployment.yaml") {
		t.Errorf("got %v, want an error naming the template and %q", err, want)
	}
}
