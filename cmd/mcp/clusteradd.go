package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/onboard"
)

// clusterAddOptions are the flags of mcp cluster add.
type clusterAddOptions struct {
	kubeconfig, context string
	labels, vars        []string
	rbac                string
	credentialsDir      string
	dir                 string
	output              string
	commit, dryRun      bool
	rotate              bool
}

// The names the pod's credentials volume has in deploy/.
const (
	credentialsSecret          = "mcp-clusters"
	credentialsSecretNamespace = "mcp-system"
)

func newClusterAddCmd() *cobra.Command {
	o := clusterAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Set up mcp's access to a cluster and add its Cluster document",
		Long: `add connects to the cluster with your kubeconfig (exec plugins work: this
runs on your machine) and creates there, labelled as mcp's, the namespace
mcp-system, the ServiceAccount mcp, its rights (--rbac) and a long-lived
token (a kubernetes.io/service-account-token Secret). It writes a
kubeconfig holding only the server, its CA and that token to
<credentials-dir>/NAME (mode 0600), or with --output secret prints it as a
Secret manifest for mcp's credentials volume instead; and it writes the
Cluster document clusters/NAME.yaml (labels, vars and the Kubernetes
version the cluster runs) into the config repo of --dir, committed with
--commit on a new branch add-cluster-NAME, never pushed.

Running it again changes nothing; --rotate replaces the token (the old
one stops working at once). --rbac namespaced:NS1,NS2 gives rights in
those namespaces only (created when missing), plus the inventory's
ConfigMaps in mcp-system and creating and reading namespaces. Before it
creates anything it checks that your credentials may; if a step fails it
deletes what it created.`,
		Example: `  mcp cluster add eu --kubeconfig ~/.kube/config --context eu-admin \
      --labels env=prod,region=eu --credentials-dir ~/mcp-credentials --dir ./fleet --commit
  mcp cluster add dev --rbac namespaced:web,api --dir ./fleet --output secret | kubectl apply --server-side --field-manager mcp-cluster-dev -f -
  mcp cluster add eu --dir ./fleet --credentials-dir ~/mcp-credentials --rotate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "your kubeconfig, with rights to create the ServiceAccount and its RBAC (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.context, "context", "", "the context of --kubeconfig (default: its current context)")
	f.StringSliceVar(&o.labels, "labels", nil, "the Cluster's labels, key=value (repeatable, comma-separated)")
	f.StringSliceVar(&o.vars, "vars", nil, "the Cluster's substitution variables, key=value (repeatable, comma-separated)")
	f.StringVar(&o.rbac, "rbac", "cluster-admin", `the ServiceAccount's rights: "cluster-admin" or "namespaced:NS1,NS2"`)
	f.StringVar(&o.credentialsDir, "credentials-dir", "/etc/mcp/clusters", "where the kubeconfig is written, as NAME")
	f.StringVar(&o.dir, "dir", "", "the checked-out config repo the Cluster document is written to")
	f.StringVar(&o.output, "output", "kubeconfig", `"kubeconfig": write <credentials-dir>/NAME; "secret": print the kubeconfig as a Secret manifest (`+credentialsSecretNamespace+"/"+credentialsSecret+`, key NAME) on stdout instead`)
	f.BoolVar(&o.commit, "commit", false, "commit the Cluster document on a new branch add-cluster-NAME (never pushed)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print what would be created in the cluster and the repo, change nothing")
	f.BoolVar(&o.rotate, "rotate", false, "replace the token with a new one; the old one stops working")
	return cmd
}

func (o *clusterAddOptions) run(cmd *cobra.Command, name string) error {
	ctx := cmd.Context()
	// 1. Every input is checked before the cluster or the repo is touched.
	if err := clusterName(name); err != nil {
		return err
	}
	labels, err := keyValues("labels", o.labels, true)
	if err != nil {
		return err
	}
	vars, err := keyValues("vars", o.vars, false)
	if err != nil {
		return err
	}
	rbac, err := onboard.ParseRBAC(o.rbac)
	if err != nil {
		return err
	}
	if o.output != "kubeconfig" && o.output != "secret" {
		return fmt.Errorf("--output %q: want kubeconfig or secret", o.output)
	}
	fleet, err := repoFleet(ctx, o.dir)
	if err != nil {
		return err
	}
	file := onboard.ClusterFile(name)
	if cs := findCluster(fleet, name); cs != nil && filepath.Clean(cs.Cluster.File) != file {
		return fmt.Errorf("cluster %s is already taken: %s:%d defines it; remove it there or choose another name", name, cs.Cluster.File, cs.Cluster.Line)
	}
	var committer *onboard.Committer
	if o.commit && !o.dryRun {
		if committer, err = onboard.NewCommitter(o.dir, file, "add-cluster-"+name); err != nil {
			return err
		}
	}
	if o.output == "kubeconfig" && !o.dryRun {
		if err := writableDir(o.credentialsDir); err != nil {
			return err
		}
	}
	cfg, err := operatorConfig(o.kubeconfig, o.context)
	if err != nil {
		return err
	}

	// 2. The cluster: ServiceAccount, rights, token.
	opts := onboard.DefaultOptions()
	opts.RBAC, opts.Rotate, opts.DryRun = rbac, o.rotate, o.dryRun
	res, err := onboard.Add(ctx, cfg, opts)
	if err != nil {
		return fmt.Errorf("cluster %s: %w", name, err)
	}
	for _, s := range res.Steps {
		slog.Debug("cluster add", "cluster", name, "step", s.String(), "dryRun", o.dryRun)
	}
	slog.Info("cluster add: access set up", "cluster", name, "server", res.Credential.Server, "version", res.Version, "changed", res.Changed(), "rbac", rbac.String())
	report := cmd.OutOrStdout()
	if o.output == "secret" {
		report = cmd.ErrOrStderr() // stdout is the manifest's
	}
	fmt.Fprintf(report, "cluster %s: Kubernetes %s at %s\n", name, res.Version, res.Credential.Server)
	for _, s := range res.Steps {
		fmt.Fprintf(report, "  %s\n", s)
	}

	// 3. The credential, and 4. the Cluster document.
	doc, err := onboard.ClusterDocument(name, labels, vars, res.Version)
	if err != nil {
		return err
	}
	credPath := filepath.Join(o.credentialsDir, name)
	if o.dryRun {
		if o.output == "kubeconfig" {
			fmt.Fprintf(report, "would write %s (mode 0600)\n", credPath)
		}
		fmt.Fprintf(report, "would write %s\n", filepath.Join(o.dir, file))
		fmt.Fprintln(report, "dry run: nothing changed")
		return nil
	}
	if err := o.writeCredential(cmd.OutOrStdout(), report, name, credPath, res.Credential); err != nil {
		return err
	}
	changed, err := onboard.WriteFile(filepath.Join(o.dir, file), doc, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Fprintf(report, "%s %s\n", map[bool]string{true: "wrote", false: "unchanged:"}[changed], filepath.Join(o.dir, file))
	if committer != nil {
		h, err := committer.Commit("clusters: add " + name)
		if err != nil {
			return err
		}
		if h != "" {
			fmt.Fprintf(report, "committed %s on branch add-cluster-%s\n", h[:12], name)
		}
	}
	nextSteps(report, name, o.commit, o.output, o.dir, o.credentialsDir)
	return nil
}

// writeCredential writes the kubeconfig to credPath, or prints the Secret
// manifest to out: the only place the token goes.
func (o *clusterAddOptions) writeCredential(out, report io.Writer, name, credPath string, cred onboard.Credential) error {
	if o.output == "secret" {
		m, err := cred.SecretManifest(name, credentialsSecret, credentialsSecretNamespace)
		if err != nil {
			return err
		}
		_, err = out.Write(m)
		return err
	}
	kc, err := cred.Kubeconfig(name)
	if err != nil {
		return err
	}
	changed, err := onboard.WriteFile(credPath, kc, 0o600)
	if err != nil {
		return fmt.Errorf("write the kubeconfig %s: %w", credPath, err)
	}
	fmt.Fprintf(report, "%s %s (mode 0600)\n", map[bool]string{true: "wrote", false: "unchanged:"}[changed], credPath)
	return nil
}

func nextSteps(w io.Writer, name string, committed bool, output, dir, credentialsDir string) {
	steps := make([]string, 0, 3)
	if output == "secret" {
		steps = append(steps, fmt.Sprintf("apply the Secret printed on stdout to mcp's cluster: kubectl apply --server-side --field-manager mcp-cluster-%s -f -", name))
	} else {
		steps = append(steps, fmt.Sprintf("put the kubeconfig into mcp's credentials volume: key %s of Secret %s/%s", name, credentialsSecretNamespace, credentialsSecret))
	}
	if committed {
		steps = append(steps, fmt.Sprintf("push branch add-cluster-%s and open a pull request", name))
	} else {
		steps = append(steps, fmt.Sprintf("commit %s and open a pull request", onboard.ClusterFile(name)))
	}
	steps = append(steps, fmt.Sprintf("check the access as mcp will use it: mcp cluster check %s --dir %s --credentials-dir %s", name, dir, credentialsDir))
	fmt.Fprintln(w, "next:")
	for i, s := range steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
}

// writableDir makes dir (0700) when missing and checks that a file can be
// written there, before anything is created in the cluster.
func writableDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("--credentials-dir is empty: give the directory the kubeconfig is written to")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("--credentials-dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".mcp-write-check-*")
	if err != nil {
		return fmt.Errorf("--credentials-dir %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
