package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/internal/testenv"
)

// env holds two real control planes shared by the tests of this package.
// Tests run one after another; each uses its own inventory name and
// namespaces, so that one test's prune never sees another's objects.
var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env, testenv.Options{Clusters: []string{"eu", "us"}}) }

// counter counts the HTTP requests sent through a rest.Config.
type counter struct{ n atomic.Int64 }

func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		c.n.Add(1)
		return rt.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// testOptions are DefaultOptions with an inventory of the test's own.
func testOptions(t *testing.T) Options {
	o := DefaultOptions()
	o.Inventory = "inv-" + dnsName(t.Name())
	o.Timeout = 30 * time.Second
	return o
}

func dnsName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// newApplier connects to a test cluster through mcp's own RESTConfig;
// the counter sees every request.
func newApplier(t *testing.T, cluster string, opts Options) (*Applier, *counter) {
	t.Helper()
	cfg, err := RESTConfig(Target{Name: cluster, Kubeconfig: env.Cluster(cluster).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{}
	cfg.Wrap(c.wrap)
	a, err := NewApplier(cluster, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

// dyn is a plain client of a test cluster, for changes made "by hand".
func dyn(t *testing.T, cluster string) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(env.Cluster(cluster).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func restConfig(cluster string) *rest.Config { return env.Cluster(cluster).RESTConfig() }

// objects decodes a YAML stream into desired objects the way render hands
// them over: labelled managed-by mcp, annotated with placement "test".
func objects(t *testing.T, docs string) []Object {
	t.Helper()
	return objectsFrom(t, "test.yaml", []byte(docs))
}

func objectsFrom(t *testing.T, file string, data []byte) []Object {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []Object
	for i := 0; ; i++ {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[object.ManagedByLabel] = object.ManagedByValue
		u.SetLabels(labels)
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[object.PlacementAnnotation] = "test"
		u.SetAnnotations(ann)
		wave, _ := strconv.Atoi(ann[object.WaveAnnotation])
		out = append(out, Object{Obj: u, Source: fmt.Sprintf("%s (document %d)", file, i+1), Placement: "test", Wave: wave})
	}
}

// plan plans desired and fails the test on a cluster error.
func plan(t *testing.T, a *Applier, desired []Object) *Plan {
	t.Helper()
	p, err := a.Plan(context.Background(), desired, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// applyOK plans and applies desired and fails the test on any failure.
func applyOK(t *testing.T, a *Applier, desired []Object) Result {
	t.Helper()
	r := a.Apply(context.Background(), plan(t, a, desired))
	if err := r.Failures(); err != nil {
		t.Fatalf("apply: %v", err)
	}
	return r
}

// changes returns the non-unchanged changes of p as "action key" lines.
func changes(p *Plan) []string {
	var out []string
	for _, ch := range p.Changes.Changes {
		if ch.Action != diff.Unchanged {
			out = append(out, ch.Action.String()+" "+ch.Key.String())
		}
	}
	return out
}

// requireUnchanged fails with every change of p.
func requireUnchanged(t *testing.T, p *Plan) {
	t.Helper()
	for _, e := range p.Errors {
		t.Errorf("plan error: %v", e)
	}
	for _, ch := range p.Changes.Changes {
		if ch.Action != diff.Unchanged {
			t.Errorf("%s %s", ch.Action, ch.Key)
			for _, f := range ch.Fields {
				t.Errorf("    %s: %v → %v", f.Path, f.Old, f.New)
			}
		}
	}
}

func changeOf(p *Plan, k object.Key) (diff.Change, bool) {
	for _, ch := range p.Changes.Changes {
		if ch.Key == k {
			return ch, true
		}
	}
	return diff.Change{}, false
}

func configMaps(ns string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%03d, namespace: %s}\ndata: {i: \"%d\"}\n", i, ns, i)
	}
	return b.String()
}

func namespace(name string) string {
	return "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + name + "}\n"
}

func metavOpts(manager string) metav1.ApplyOptions {
	return metav1.ApplyOptions{FieldManager: manager, Force: true}
}
