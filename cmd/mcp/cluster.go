package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/render"
)

func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Add a cluster to the fleet, check it, or remove it",
		Long: `cluster add sets up mcp's access to a cluster (a ServiceAccount with a
long-lived token and the chosen rights), writes the kubeconfig mcp reaches
it with into the credentials directory and the Cluster document into the
config repo. cluster check tells whether that access works and suffices;
cluster rm takes the cluster out of the repo and, with --revoke, the
access out of the cluster.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newClusterAddCmd(), newClusterRmCmd(), newClusterCheckCmd())
	return cmd
}

// clusterName checks a cluster name given as an argument.
func clusterName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("cluster name %q is not a DNS label: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// keyValues parses k=v,... flags; label says which flag, labels also
// checks each pair as a Kubernetes label.
func keyValues(flag string, pairs []string, labels bool) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want key=value", flag, p)
		}
		if labels {
			errs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...)
			if len(errs) > 0 {
				return nil, fmt.Errorf("--%s %q: %s", flag, p, strings.Join(errs, "; "))
			}
		}
		out[k] = v
	}
	return out, nil
}

// operatorConfig loads the operator's kubeconfig (exec plugins allowed:
// this runs on the operator's machine) and the context asked for.
func operatorConfig(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	where := "the default kubeconfig"
	if path != "" {
		rules.ExplicitPath = path
		where = path
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", where, err)
	}
	if context != "" {
		if _, ok := raw.Contexts[context]; !ok {
			return nil, fmt.Errorf("--context %s: %s has no such context (it has: %s)", context, where, strings.Join(slices.Sorted(maps.Keys(raw.Contexts)), ", "))
		}
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", where, err)
	}
	cfg.Timeout = 30 * time.Second
	return cfg, nil
}

// repoFleet renders the config repo of dir offline, as validate does,
// for the clusters and placements it holds.
func repoFleet(ctx context.Context, dir string) (*render.Fleet, error) {
	if dir == "" {
		return nil, errors.New("--dir is empty: give the checked-out config repo")
	}
	src := sourceOptions{dir: dir, cacheDir: defaultCacheDir()}
	clusters := clusterOptions{offline: true}
	fleet, err := renderFleet(ctx, &src, &clusters)
	if err != nil {
		return nil, fmt.Errorf("--dir %s: %w", dir, err)
	}
	return fleet, nil
}

// findCluster returns the cluster of that name in fleet, or nil.
func findCluster(fleet *render.Fleet, name string) *render.ClusterState {
	for i := range fleet.Clusters {
		if fleet.Clusters[i].Cluster.Name == name {
			return &fleet.Clusters[i]
		}
	}
	return nil
}
