package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/onboard"
)

// clusterRmOptions are the flags of mcp cluster rm.
type clusterRmOptions struct {
	dir                 string
	kubeconfig, context string
	commit, revoke      bool
	force, dryRun       bool
}

func newClusterRmCmd() *cobra.Command {
	o := clusterRmOptions{}
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a cluster's Cluster document and, with --revoke, mcp's access to it",
		Long: `rm deletes the Cluster document of NAME from the config repo of --dir
(committed with --commit on a new branch remove-cluster-NAME, never pushed).
Once that is merged, mcp stops reconciling the cluster; the objects it
applied stay there.

It refuses while Placements select the cluster, and names them: the
cluster's objects would stay on it unmanaged. --force removes it all the
same. A document in a file that holds other documents is not edited: rm
says so.

--revoke also deletes, with your kubeconfig, the token Secret, the RBAC
objects and the ServiceAccount that mcp cluster add made in the cluster:
the credential mcp holds stops working at once. The namespace mcp-system,
holding the inventory, stays.`,
		Example: `  mcp cluster rm eu --dir ./fleet --commit
  mcp cluster rm eu --dir ./fleet --revoke --kubeconfig ~/.kube/config --context eu-admin --force`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.dir, "dir", "", "the checked-out config repo")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "your kubeconfig, for --revoke (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "the context of --kubeconfig (default: its current context)")
	f.BoolVar(&o.commit, "commit", false, "commit the removal on a new branch remove-cluster-NAME (never pushed)")
	f.BoolVar(&o.revoke, "revoke", false, "also delete the token, RBAC and ServiceAccount from the cluster")
	f.BoolVar(&o.force, "force", false, "remove the cluster although Placements select it")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be removed, change nothing")
	return cmd
}

func (o *clusterRmOptions) run(cmd *cobra.Command, name string) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	if err := clusterName(name); err != nil {
		return err
	}
	fleet, err := repoFleet(ctx, o.dir)
	if err != nil {
		return err
	}
	cs := findCluster(fleet, name)
	if cs == nil {
		return fmt.Errorf("cluster %s is not in the config repo of --dir %s", name, o.dir)
	}
	var selecting []string
	for _, p := range fleet.Placements {
		for _, c := range p.Selected {
			if c == name {
				selecting = append(selecting, fmt.Sprintf("%s (%s:%d)", p.Name, p.File, p.Line))
			}
		}
	}
	if len(selecting) > 0 && !o.force {
		return fmt.Errorf("cluster %s: placements still select it: %s; their objects would stay on the cluster unmanaged: change the placements first, or pass --force", name, strings.Join(selecting, ", "))
	}
	file := cs.Cluster.File
	path := filepath.Join(o.dir, file)
	if err := singleDocument(path); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	var committer *onboard.Committer
	if o.commit && !o.dryRun {
		if committer, err = onboard.NewCommitter(o.dir, file, "remove-cluster-"+name); err != nil {
			return err
		}
	}
	if o.revoke {
		cfg, err := operatorConfig(o.kubeconfig, o.context)
		if err != nil {
			return err
		}
		steps, err := onboard.Revoke(ctx, cfg, o.dryRun)
		if err != nil {
			return fmt.Errorf("cluster %s: revoke: %w", name, err)
		}
		slog.Info("cluster rm: access revoked", "cluster", name, "deleted", len(steps), "dryRun", o.dryRun)
		fmt.Fprintf(out, "cluster %s: revoke mcp's access\n", name)
		for _, s := range steps {
			fmt.Fprintf(out, "  %s\n", s)
		}
	}
	if o.dryRun {
		fmt.Fprintf(out, "would remove %s\ndry run: nothing changed\n", path)
		return nil
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	fmt.Fprintf(out, "removed %s\n", path)
	if committer != nil {
		h, err := committer.Commit("clusters: remove " + name)
		if err != nil {
			return err
		}
		if h != "" {
			fmt.Fprintf(out, "committed %s on branch remove-cluster-%s\n", h[:12], name)
		}
	}
	if !o.revoke {
		fmt.Fprintf(out, "mcp's access to the cluster stays until mcp cluster rm %s --revoke (or delete the ServiceAccount %s/%s there)\n", name, onboard.Namespace, onboard.ServiceAccount)
	}
	return nil
}

// singleDocument checks that the file holds one YAML document: rm deletes
// files, it does not edit them.
func singleDocument(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	docs := 0
	for d := range bytes.SplitSeq(data, []byte("\n---")) {
		if len(bytes.TrimSpace(stripComments(d))) > 0 {
			docs++
		}
	}
	if docs > 1 {
		return errors.New(path + " holds other documents too: delete the Cluster document from it by hand")
	}
	return nil
}

func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line...)
		}
	}
	return out
}
