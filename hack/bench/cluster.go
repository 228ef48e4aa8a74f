package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/testenv"
)

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// clusterBench measures on a set of clusters of one test bed.
type clusterBench struct {
	b        *bench
	env      *testenv.Env
	clusters []*testenv.Cluster
	dyn      []dynamic.Interface
	counter  *requestCounter
	servers  []int // pids of the clusters' apiservers and etcds
}

func newClusterBench(b *bench, env *testenv.Env, clusters ...*testenv.Cluster) *clusterBench {
	c := &clusterBench{b: b, env: env, clusters: clusters}
	var err error
	for _, cl := range clusters {
		d, derr := dynamic.NewForConfig(cl.RESTConfig())
		if derr != nil {
			panic(derr) // a config of the test bed's own making
		}
		c.dyn = append(c.dyn, d)
	}
	var refs []clusterRef
	for _, cl := range clusters {
		refs = append(refs, clusterRef{name: cl.Name, port: cl.URL[strings.LastIndexByte(cl.URL, ':')+1:]})
	}
	c.servers = serverPIDs(filepath.Dir(env.KubeconfigDir), refs)
	cfgs := c.configs()
	if c.counter, err = newRequestCounter(cfgs...); err != nil {
		panic(err)
	}
	return c
}

func (c *clusterBench) configs() []*rest.Config {
	var out []*rest.Config
	for _, cl := range c.clusters {
		out = append(out, cl.RESTConfig())
	}
	return out
}

// state is what one row applies: the peer's directory and mcp's repo,
// each with a namespace of its own.
type state struct {
	n              int
	peerDir, repo  string
	apps           string
	peerNS, mcpNS  string
	clusterNames   []string
	onlyClusterArg []string
	// label names the profiles of the next mcp run (with -profile).
	label string
}

// prepare writes the manifests of a row of n objects.
func (c *clusterBench) prepare(tag string, n int) (*state, error) {
	st := &state{n: n, peerNS: "kubectl-" + tag, mcpNS: "mcp-" + tag}
	for _, cl := range c.clusters {
		st.clusterNames = append(st.clusterNames, cl.Name)
	}
	st.peerDir = filepath.Join(c.b.work, tag, "kubectl")
	st.repo = filepath.Join(c.b.work, tag, "repo")
	if err := writeObjects(st.peerDir, st.peerNS, n); err != nil {
		return nil, err
	}
	apps, err := writeRepo(st.repo, st.mcpNS, n, st.clusterNames...)
	st.apps = apps
	return st, err
}

// change edits object i in both the peer's files and mcp's repo.
func (st *state) change(i int) error {
	v := fmt.Sprintf(" (changed %d)", time.Now().UnixNano())
	if err := writeObject(st.peerDir, st.peerNS, i, v); err != nil {
		return err
	}
	return writeObject(st.apps, st.mcpNS, i, v)
}

// applyBoth applies the row's state with kubectl (one process per
// cluster, all at once) and then with one mcp apply.
func (c *clusterBench) applyBoth(ctx context.Context, st *state, force bool) (peer, mcp sample, err error) {
	peer, err = c.measure(ctx, func() (int64, time.Duration, error) { return c.kubectlAll(ctx, st, force) })
	if err != nil {
		return
	}
	mcp, err = c.measure(ctx, func() (int64, time.Duration, error) {
		_, rss, cpu, err := runProc(ctx, c.b.profileEnv(st.label), c.b.mcp, c.mcpArgs(st)...)
		return rss, cpu, err
	})
	return
}

// maxObjects lifts the per-cluster object limit above the largest row
// (its ConfigMaps and their Namespace).
const maxObjects = "100000"

func (c *clusterBench) mcpArgs(st *state) []string {
	args := []string{"apply", "--dir", st.repo, "--credentials-dir", c.env.KubeconfigDir, "--log-level", "warn", "--max-objects", maxObjects}
	for _, name := range st.onlyClusterArg {
		args = append(args, "--cluster", name)
	}
	return args
}

// kubectlAll runs kubectl against every cluster of the row at once and
// returns the largest peak RSS and CPU time.
func (c *clusterBench) kubectlAll(ctx context.Context, st *state, force bool) (int64, time.Duration, error) {
	var (
		mu   sync.Mutex
		peak int64
		cpu  time.Duration
		errs []error
		wg   sync.WaitGroup
	)
	for _, cl := range c.clusters {
		wg.Go(func() {
			args := []string{"apply", "--server-side", "--validate=false", "-f", st.peerDir, "--kubeconfig", cl.Kubeconfig}
			if force {
				args = append(args, "--force-conflicts")
			}
			_, rss, t, err := runProc(ctx, nil, c.b.kubectl, args...)
			mu.Lock()
			defer mu.Unlock()
			peak, cpu = max(peak, rss), max(cpu, t)
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return peak, cpu, errs[0]
	}
	return peak, cpu, nil
}

// measure times f and counts the requests served and the CPU time the
// servers used meanwhile.
func (c *clusterBench) measure(ctx context.Context, f func() (int64, time.Duration, error)) (sample, error) {
	var s sample
	var err error
	s.reqs, err = c.counter.measure(ctx, func() error {
		server := cpuTime(c.servers)
		start := time.Now()
		rss, cpu, err := f()
		s.wall, s.rss, s.cpu = time.Since(start), rss, cpu
		s.server = cpuTime(c.servers) - server
		return err
	})
	return s, err
}

// cleanup deletes what a row left behind: its ConfigMaps (one
// DELETECOLLECTION per namespace; the test bed runs no namespace
// controller, so deleting a namespace would never finish) and mcp's
// inventory, so that the next row starts from nothing.
func (c *clusterBench) cleanup(ctx context.Context, st *state) error {
	for _, d := range c.dyn {
		for _, ns := range []string{st.peerNS, st.mcpNS} {
			if err := d.Resource(cmGVR).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
				return fmt.Errorf("cleanup %s: %w", ns, err)
			}
		}
		err := d.Resource(cmGVR).Namespace(apply.InventoryNamespace).DeleteCollection(ctx, metav1.DeleteOptions{},
			metav1.ListOptions{LabelSelector: "mcp.dev/inventory"})
		if err != nil {
			return fmt.Errorf("cleanup inventory: %w", err)
		}
	}
	return os.RemoveAll(filepath.Dir(st.repo))
}
