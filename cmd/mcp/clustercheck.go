package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/target"
	"mcp.dev/mcp/onboard"
	"mcp.dev/mcp/render"
)

func newClusterCheckCmd() *cobra.Command {
	var dir, credentialsDir string
	cmd := &cobra.Command{
		Use:   "check NAME",
		Short: "Check that mcp's credential for a cluster works and suffices",
		Long: `check connects to the cluster NAME of the config repo of --dir with the
kubeconfig mcp reads (in --credentials-dir) and reports: whether the
server answers and its version; whether the credential may write mcp's
inventory; whether it may apply what the fleet places there (a
server-side dry run of every object, as mcp apply --dry-run plans it);
and how long its token is valid.

Exit codes: 0 all good; 1 something is missing, each problem on stderr.`,
		Example: `  mcp cluster check eu --dir ./fleet --credentials-dir /etc/mcp/clusters`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := clusterName(name); err != nil {
				return err
			}
			clusters := clusterOptions{credentialsDir: credentialsDir}
			access, err := clusters.access()
			if err != nil {
				return err
			}
			fleet, err := renderFleet(cmd.Context(), &sourceOptions{dir: dir, cacheDir: defaultCacheDir()}, &clusters)
			if err != nil {
				return fmt.Errorf("--dir %s: %w", dir, err)
			}
			cs := findCluster(fleet, name)
			if cs == nil {
				return fmt.Errorf("cluster %s is not in the config repo of --dir %s", name, dir)
			}
			return checkCluster(cmd, fleet, *cs, access)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the checked-out config repo")
	cmd.Flags().StringVar(&credentialsDir, "credentials-dir", "/etc/mcp/clusters", "directory holding one kubeconfig per cluster")
	return cmd
}

// checkCluster reports on the cluster's credential, step by step; every
// problem is returned, joined.
func checkCluster(cmd *cobra.Command, fleet *render.Fleet, cs render.ClusterState, access render.Access) error {
	ctx, out, name := cmd.Context(), cmd.OutOrStdout(), cs.Cluster.Name
	t := target.For(cs, target.NoPrune(fleet, name), access)
	cfg, err := apply.RESTConfig(t)
	if err != nil {
		return err
	}
	// 1. reachable, and which version.
	version, err := onboard.ServerVersion(cfg)
	if err != nil {
		fmt.Fprintf(out, "cluster %s: unreachable\n", name)
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	fmt.Fprintf(out, "cluster %s: reachable at %s, Kubernetes %s\n", name, cfg.Host, version)
	var problems []error
	// 2. the token.
	validity, expired := tokenValidity(cfg.BearerToken, cfg.BearerTokenFile)
	fmt.Fprintf(out, "  token: %s\n", validity)
	if expired {
		problems = append(problems, fmt.Errorf("cluster %s: the token has expired: run mcp cluster add %s --rotate", name, name))
	}
	// 3. the inventory.
	missing, err := onboard.MissingRights(ctx, cfg, onboard.InventoryRights)
	switch {
	case err != nil:
		problems = append(problems, fmt.Errorf("cluster %s: %w", name, err))
	case len(missing) > 0:
		fmt.Fprintf(out, "  inventory: %d rights missing\n", len(missing))
		for _, r := range missing {
			problems = append(problems, fmt.Errorf("cluster %s: inventory: %w: may not %s", name, onboard.ErrForbidden, r))
		}
	default:
		fmt.Fprintln(out, "  inventory: rights suffice")
	}
	// 4. what the fleet places there, dry-run by the server.
	if cs.Err != nil {
		problems = append(problems, fmt.Errorf("cluster %s: does not render: %w", name, cs.Err))
	} else {
		opts := apply.DefaultOptions()
		opts.DryRun = true
		r := apply.ApplyAll(ctx, []apply.Target{t}, opts)[0]
		failed := objectFailures(r)
		if len(failed) == 0 {
			fmt.Fprintf(out, "  objects: rights suffice for the %d objects the fleet places here\n", len(cs.Objects))
		} else {
			fmt.Fprintf(out, "  objects: %d of %d fail the dry run\n", len(failed), len(cs.Objects))
			problems = append(problems, failed...)
		}
	}
	return errors.Join(problems...)
}

// objectFailures are the errors of a dry-run reconcile, once each.
func objectFailures(r apply.Result) []error {
	var out []error
	seen := map[string]bool{}
	add := func(err error) {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	for _, e := range r.Errors {
		add(fmt.Errorf("cluster %s: %w", r.Cluster, e))
	}
	if err := r.DiffPlan().Err; err != nil {
		for _, e := range unjoin(err) {
			if !strings.HasPrefix(e.Error(), "cluster ") {
				e = fmt.Errorf("cluster %s: %w", r.Cluster, e)
			}
			add(e)
		}
	}
	return out
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// tokenValidity says how long the credential's bearer token is valid,
// without showing it, and whether it has expired.
func tokenValidity(token, tokenFile string) (string, bool) {
	if token == "" && tokenFile != "" {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return "token file unreadable: " + err.Error(), false
		}
		token = strings.TrimSpace(string(data))
	}
	if token == "" {
		return "no bearer token (client certificate or exec plugin): its validity is not known here", false
	}
	exp, ok := onboard.Expiry(token)
	switch {
	case !ok:
		return "not a JWT: its validity is known to the server only", false
	case exp.IsZero():
		return "does not expire (a ServiceAccount token Secret: valid until the Secret is deleted)", false
	case time.Until(exp) <= 0:
		return fmt.Sprintf("EXPIRED at %s", exp.UTC().Format(time.RFC3339)), true
	default:
		return fmt.Sprintf("valid until %s (%s from now)", exp.UTC().Format(time.RFC3339), time.Until(exp).Round(time.Minute)), false
	}
}
