package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/reconciler/membership"
)

// replicaOptions are the flags of mcp run that let several replicas share
// the fleet (reconciler/membership).
type replicaOptions struct {
	// lease names the replica group; empty: this replica owns every cluster.
	lease         string
	namespace     string
	identity      string
	kubeconfig    string
	leaseDuration time.Duration
	renewInterval time.Duration
}

func (o *replicaOptions) addFlags(fs *pflag.FlagSet) {
	def := membership.DefaultOptions()
	fs.StringVar(&o.lease, "replicas-lease", "", "share the fleet with the other replicas of this lease group: each cluster is reconciled by one live replica (empty: this replica reconciles every cluster)")
	fs.StringVar(&o.namespace, "lease-namespace", def.Namespace, "namespace of the replica leases on the cluster mcp runs in")
	fs.StringVar(&o.identity, "replica-id", "", "identity of this replica in the lease group (default: $POD_NAME, else the host name)")
	fs.StringVar(&o.kubeconfig, "lease-kubeconfig", "", "kubeconfig of the cluster that holds the replica leases (default: the in-cluster service account)")
	fs.DurationVar(&o.leaseDuration, "lease-duration", def.LeaseDuration, "how long a replica's lease lives without renewal: the longest its clusters wait for a survivor")
	fs.DurationVar(&o.renewInterval, "lease-renew-interval", def.RenewInterval, "how often a replica renews its lease and lists the others")
}

// membership returns the replica membership of the flags, or nil when
// --replicas-lease is not set.
func (o *replicaOptions) membership() (*membership.Membership, error) {
	if o.lease == "" {
		return nil, nil
	}
	opts := membership.DefaultOptions()
	opts.Group, opts.Namespace = o.lease, o.namespace
	opts.LeaseDuration, opts.RenewInterval = o.leaseDuration, o.renewInterval
	opts.Identity = o.identity
	if opts.Identity == "" {
		opts.Identity = defaultIdentity()
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--replicas-lease: %w", err)
	}
	m, err := membership.New(cs.CoordinationV1(), opts)
	if err != nil {
		return nil, fmt.Errorf("--replicas-lease: %w", err)
	}
	return m, nil
}

func (o *replicaOptions) restConfig() (*rest.Config, error) {
	if o.kubeconfig == "" {
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("--replicas-lease needs the cluster mcp runs in: %w (outside a pod, give --lease-kubeconfig)", err)
		}
		return cfg, nil
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--lease-kubeconfig %s: %w", o.kubeconfig, err)
	}
	return cfg, nil
}

// defaultIdentity is the pod name (the Downward API sets POD_NAME in
// deploy/), else the host name, which is the pod name in Kubernetes too.
func defaultIdentity() string {
	if p := os.Getenv("POD_NAME"); p != "" {
		return p
	}
	h, _ := os.Hostname()
	return strings.ToLower(h)
}

// runMembership keeps m current until ctx is done; onChange re-dispatches.
func runMembership(ctx context.Context, m *membership.Membership, onChange func()) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.Run(ctx, onChange)
	}()
	return done
}

// registerMembershipMetrics exports the membership, so that a fleet can
// alert on fewer live replicas than it runs, or on one that owns nothing.
func registerMembershipMetrics(reg prometheus.Registerer, m *membership.Membership) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mcp_replica_members", Help: "Live replicas of the lease group, as this replica last saw them.",
		}, func() float64 { return float64(len(m.Members())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "mcp_replica_active", Help: "1 when this replica claims clusters: joined, warmed up and its lease renewed.",
		}, func() float64 {
			if m.Active() {
				return 1
			}
			return 0
		}),
	)
}
