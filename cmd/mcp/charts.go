package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/discovery"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/render"
	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/helmrepo"
)

// addChartFlags adds --fetch-charts to the commands that do not connect:
// they read charts of chart repositories from the cache unless told to
// fetch them.
func (o *clusterOptions) addChartFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.fetchCharts, "fetch-charts", false, "fetch the charts of chart repositories (spec.chart.repo) into <cache-dir>/charts before rendering; without it they are read from the cache only")
}

// chartCacheDir is where fetched charts are kept.
func chartCacheDir(src *sourceOptions) string { return filepath.Join(src.cacheDir, "charts") }

// withCharts sets the chart cache of a render and, when the command
// fetches, fetches the snapshot's remote charts first; what could not be
// fetched fails the placements of that chart.
func withCharts(ctx context.Context, loaded *render.Loaded, src *sourceOptions, clusters *clusterOptions, opts *render.Options) {
	opts.ChartCache = chartCacheDir(src)
	opts.Capabilities = clusters.capabilities
	if clusters.fetchCharts {
		refs, err := loaded.RemoteCharts()
		if err == nil { // else the render reports a repo it cannot read
			clusters.fetchErrs = fetchCharts(ctx, refs, opts.ChartCache, clusters.credentialsDir)
		}
	}
	// A render again of the same revision keeps what could not be fetched.
	opts.ChartFetchErrors = clusters.fetchErrs
}

// fetchCharts fetches the charts of chart repositories (render's
// RemoteCharts) into the cache, and returns the errors by chart.
// Credentials never reach the errors.
func fetchCharts(ctx context.Context, refs []helmrepo.Ref, cacheDir, credentialsDir string) map[string]error {
	if len(refs) == 0 {
		return nil
	}
	f := &helmrepo.Fetcher{Cache: helmrepo.Cache{Dir: cacheDir}, CredentialsDir: credentialsDir}
	errs := map[string]error{}
	for _, ref := range refs {
		res, err := f.Fetch(ctx, ref)
		if err != nil {
			errs[ref.String()] = err
			slog.Warn("chart fetch failed", "chart", ref.String(), "error", err)
			continue
		}
		slog.Debug("chart fetched", "chart", ref.String(), "version", res.Version, "digest", res.Digest)
	}
	return errs
}

// chartSource fetches the remote charts of each new snapshot its source
// returns, for mcp run: the reconciler then renders from the cache. A
// chart that cannot be fetched is logged; the render uses the cache's
// last resolution of it, or fails its placements when there is none.
type chartSource struct {
	source.Source
	cacheDir, credentialsDir string
}

func (s chartSource) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	snap, changed, err := s.Source.Fetch(ctx)
	// The reconciler renders a revision once, when it is new; the charts
	// of a revision that did not change were fetched then. Listing them
	// reads the whole repo, which each poll would otherwise do again.
	if err == nil && changed {
		if refs, err := render.RemoteCharts(ctx, snap); err == nil { // else the render reports it
			fetchCharts(ctx, refs, s.cacheDir, s.credentialsDir)
		}
	}
	return snap, changed, err
}

func (s chartSource) String() string { return fmt.Sprint(s.Source) }

// watchingChartSource is a chartSource of a source that watches.
type watchingChartSource struct {
	chartSource
	source.Watcher
}

func (s watchingChartSource) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	return s.chartSource.Fetch(ctx)
}

// fetchingCharts wraps s so that each snapshot's charts are fetched.
func fetchingCharts(s source.Source, cacheDir, credentialsDir string) source.Source {
	cs := chartSource{Source: s, cacheDir: cacheDir, credentialsDir: credentialsDir}
	if w, ok := s.(source.Watcher); ok {
		return watchingChartSource{chartSource: cs, Watcher: w}
	}
	return cs
}

// renderConnected renders the source for commands that reach the
// clusters (apply, a live diff): charts render for the version and API
// versions each cluster reports, so the same revision is rendered again
// with them when a placement has a chart.
func renderConnected(ctx context.Context, src *sourceOptions, clusters *clusterOptions, access render.Access) (*render.Fleet, error) {
	fleet, err := renderFleet(ctx, src, clusters)
	if err != nil {
		return nil, err
	}
	caps := (&capabilities{access: access}).of(ctx, fleet)
	if len(caps) == 0 {
		return fleet, nil
	}
	// Fetched already: the second render reads the cache.
	clusters.capabilities, clusters.fetchCharts = caps, false
	return renderFleet(ctx, src, clusters)
}

// capabilities asks the clusters that receive a chart for their
// Kubernetes version and API versions, so that their charts render as for
// them. A cluster that does not answer keeps its spec.kubernetesVersion;
// reconciling it reports it unreachable anyway. With a ttl, what a
// cluster reported is kept that long (mcp run asks at each new revision).
type capabilities struct {
	access render.Access
	ttl    time.Duration

	mu    sync.Mutex
	known map[string]reported
}

type reported struct {
	caps render.Capabilities
	at   time.Time
}

// capabilityLookups bounds the discovery requests made at once.
const capabilityLookups = 8

// of returns the capabilities of the clusters of fleet that receive a
// chart and answered, by cluster name.
func (c *capabilities) of(ctx context.Context, fleet *render.Fleet) map[string]render.Capabilities {
	charted := map[string]bool{}
	for _, p := range fleet.Placements {
		if p.Chart != nil {
			for _, name := range p.Selected {
				charted[name] = true
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = map[string]reported{}
	}
	out := map[string]render.Capabilities{}
	var g errgroup.Group
	g.SetLimit(capabilityLookups)
	var mu sync.Mutex
	for _, cs := range fleet.Clusters {
		cl := cs.Cluster
		if !charted[cl.Name] {
			continue
		}
		if r, ok := c.known[cl.Name]; ok && c.ttl > 0 && time.Since(r.at) < c.ttl {
			out[cl.Name] = r.caps
			continue
		}
		g.Go(func() error {
			caps, ok := clusterCapabilities(&cl, c.access)
			if ok {
				mu.Lock()
				out[cl.Name] = caps
				c.known[cl.Name] = reported{caps: caps, at: time.Now()}
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	return out
}

// clusterCapabilities asks one cluster for its version and API versions.
func clusterCapabilities(c *render.Cluster, access render.Access) (render.Capabilities, bool) {
	path, err := c.KubeconfigPath(access)
	if err != nil {
		return render.Capabilities{}, false
	}
	cfg, err := apply.RESTConfig(apply.Target{Name: c.Name, Kubeconfig: path, Context: c.Kubeconfig.Context, InCluster: c.InCluster})
	if err != nil {
		return render.Capabilities{}, false
	}
	cfg.Timeout = 15 * time.Second
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return render.Capabilities{}, false
	}
	v, err := dc.ServerVersion()
	if err != nil {
		slog.Debug("cluster version unknown: charts render for spec.kubernetesVersion", "cluster", c.Name, "error", err)
		return render.Capabilities{}, false
	}
	return render.Capabilities{KubeVersion: v.GitVersion, APIVersions: apiVersions(dc)}, true
}

// apiVersions are what a chart sees as .Capabilities.APIVersions (besides
// Helm's defaults, which render adds): every group/version the cluster
// serves and every group/version/kind, sorted. Groups whose discovery
// failed (an aggregated API that is down) are left out; when discovery
// fails altogether the chart sees Helm's defaults only.
func apiVersions(dc discovery.ServerResourcesInterface) []string {
	groups, resources, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil
	}
	set := map[string]bool{}
	for _, g := range groups {
		for _, v := range g.Versions {
			set[v.GroupVersion] = true
		}
	}
	for _, r := range resources {
		for _, res := range r.APIResources {
			set[path.Join(r.GroupVersion, res.Kind)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
