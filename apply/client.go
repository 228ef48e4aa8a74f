package apply

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/internal/version"
)

// Client-side limits of every cluster connection.
const (
	// What bounds the load mcp puts on an apiserver is the number of
	// requests in flight (ObjectConcurrency applies, listConcurrency
	// LISTs per cluster), and the apiserver sheds what it cannot take with
	// API Priority and Fairness: a 429 with Retry-After, which client-go
	// waits out and retries. So the client-side token bucket is only a
	// fuse against a runaway loop, and must not be the bottleneck: at
	// client-go's 5 QPS or Flux's 50 a first apply of 2,000 objects takes
	// 6 minutes or 40 s, while one local apiserver applies 2,000
	// ConfigMaps in 3 to 4 s at 16 in flight (600 requests a second). A
	// bucket of 2,000 at 1,000 a second never throttles a reconcile of
	// that size and still caps a loop gone wrong.
	clientQPS   = 1000
	clientBurst = 2000
	// requestTimeout bounds one request; a LIST of 1,000 large objects on a
	// busy cluster stays well below it, a blackholed apiserver does not
	// hang a reconcile.
	requestTimeout = 60 * time.Second
)

// RESTConfig builds the client config of t: its kubeconfig (and context)
// through clientcmd, so exec plugins (EKS, GKE, AKS) work as in kubectl,
// or the pod's service account for InCluster. The returned config has
// mcp's rate limits, timeout and user agent.
func RESTConfig(t Target) (*rest.Config, error) {
	var (
		cfg *rest.Config
		err error
	)
	switch {
	case t.Config != nil:
		cfg = rest.CopyConfig(t.Config)
	case t.InCluster:
		cfg, err = rest.InClusterConfig()
	case t.Kubeconfig == "":
		return nil, fmt.Errorf("cluster %s: no kubeconfig", t.Name)
	default:
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: t.Kubeconfig}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: t.Context}
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %s: kubeconfig: %w", t.Name, err)
	}
	// A test config may switch the limiter off (QPS < 0); keep that.
	if cfg.QPS >= 0 {
		cfg.QPS, cfg.Burst = clientQPS, clientBurst
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = requestTimeout
	}
	cfg.UserAgent = version.String()
	return cfg, nil
}

// client is the connection to one cluster: dynamic client, cached
// discovery and a REST mapper built from it.
type client struct {
	dyn dynamic.Interface
	// raw is dyn's REST client, for the LISTs that are decoded as they
	// stream in (listdecode.go).
	raw rest.Interface
	// watch is dyn without the request timeout: the config's Timeout
	// would cut every watch after a minute. The server ends watches on
	// its own after a while, and ctx ends them when the caller is done.
	watch dynamic.Interface
	// meta reads objects' metadata only: what a namespace holds is
	// counted without reading whole objects.
	meta   metadata.Interface
	disc   discovery.CachedDiscoveryInterface
	mapper *restmapper.DeferredDiscoveryRESTMapper

	mu sync.Mutex
	// missing are kinds that made the discovery refresh since the last
	// forget: an unknown kind costs one rediscovery per plan, not one per
	// object.
	missing map[schema.GroupKind]bool
}

func newClient(cfg *rest.Config) (*client, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	raw, err := rest.UnversionedRESTClientFor(dynamic.ConfigFor(cfg))
	if err != nil {
		return nil, err
	}
	wcfg := rest.CopyConfig(cfg)
	wcfg.Timeout = 0
	watch, err := dynamic.NewForConfig(wcfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc := memory.NewMemCacheClient(dc)
	return &client{
		dyn:     dyn,
		raw:     raw,
		watch:   watch,
		meta:    meta,
		disc:    disc,
		mapper:  restmapper.NewDeferredDiscoveryRESTMapper(disc),
		missing: map[schema.GroupKind]bool{},
	}, nil
}

// mapping returns how gvk is served. A kind that is not found makes the
// discovery refresh once (a CRD may have been added since it was read);
// discovery that fails for some groups (an APIService whose backend is
// down) still maps the kinds of the others.
func (c *client) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err == nil || !isNoMatch(err) {
		return m, err
	}
	c.mu.Lock()
	if !c.missing[gvk.GroupKind()] {
		c.missing[gvk.GroupKind()] = true
		c.mapper.Reset()
	}
	c.mu.Unlock()
	m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil && isNoMatch(err) {
		return nil, fmt.Errorf("%s: %w", gvk, ErrUnknownKind)
	}
	return m, err
}

// refresh drops the cached discovery, after CRDs were created.
func (c *client) refresh() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mapper.Reset()
	clear(c.missing)
}

// forget lets every missing kind refresh the discovery once more; called
// at the start of each plan, since CRDs come and go between reconciles.
func (c *client) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.missing)
}

// isNoMatch reports a kind or resource the discovery does not know; a
// failed group discovery counts too, since the kind may live in it.
func isNoMatch(err error) bool {
	var gd *discovery.ErrGroupDiscoveryFailed
	return meta.IsNoMatchError(err) || errors.As(err, &gd)
}
