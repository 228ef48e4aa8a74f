package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/spf13/pflag"

	"mcp.dev/mcp/render"
)

// clusterOptions are the flags that say which clusters to work on and how.
type clusterOptions struct {
	// credentialsDir holds one kubeconfig per cluster (a mounted Secret).
	credentialsDir string
	// clusters limits the work to these cluster names; empty means all.
	clusters []string
	// concurrency is how many clusters are worked on at once.
	concurrency int
	// limits bound the render of a revision.
	limits render.Limits
	// allowInCluster lets Clusters with spec.inCluster use mcp's own
	// service account; only the commands that connect have the flag.
	allowInCluster bool
	// offline is set by the commands whose objects are never applied
	// (validate, render, diff --against): they keep a file they cannot
	// decrypt encrypted instead of failing.
	offline bool
	// fetchCharts fetches the charts of chart repositories before a
	// render: always for apply and run, with --fetch-charts otherwise.
	fetchCharts bool
	// capabilities are the connected clusters' versions, for their charts.
	capabilities map[string]render.Capabilities
	// fetchErrs are the charts the last fetch could not fetch.
	fetchErrs map[string]error
}

func (o *clusterOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.credentialsDir, "credentials-dir", "/etc/mcp/clusters", "directory holding one kubeconfig file per cluster, and age keys for SOPS-encrypted Secrets in sops/*.agekey")
	fs.StringSliceVar(&o.clusters, "cluster", nil, "limit to this cluster (repeatable)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "how many clusters are worked on at once")
	addLimitFlags(fs, &o.limits)
}

// addOfflineFlags adds the flags of the commands that never connect:
// --credentials-dir and --concurrency mean nothing to them, so they are
// not listed, but still accepted, so that scripts that pass them work.
func (o *clusterOptions) addOfflineFlags(fs *pflag.FlagSet) {
	o.addFlags(fs)
	for _, name := range []string{"credentials-dir", "concurrency"} {
		if err := fs.MarkHidden(name); err != nil {
			panic(err) // a flag added just above
		}
	}
}

// addConnectFlags adds the flags of the commands that connect to clusters.
func (o *clusterOptions) addConnectFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.allowInCluster, "allow-in-cluster", false, "let Clusters with spec.inCluster: true reach the cluster mcp runs in with mcp's own service account (without it such a Cluster fails)")
}

// access is how the commands that connect may reach clusters: the
// credentials directory, which must exist, and the operator's say on
// spec.inCluster. What the repo says never replaces either.
func (o *clusterOptions) access() (render.Access, error) {
	if o.credentialsDir == "" {
		return render.Access{}, errors.New("--credentials-dir is empty (set by the flag or MCP_CREDENTIALS_DIR): give the directory that holds one kubeconfig per cluster")
	}
	fi, err := os.Stat(o.credentialsDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return render.Access{}, fmt.Errorf("--credentials-dir %s does not exist: give the directory that holds one kubeconfig per cluster", o.credentialsDir)
	case err != nil:
		return render.Access{}, fmt.Errorf("--credentials-dir: %w", err)
	case !fi.IsDir():
		return render.Access{}, fmt.Errorf("--credentials-dir %s is not a directory", o.credentialsDir)
	}
	return render.Access{CredentialsDir: o.credentialsDir, AllowInCluster: o.allowInCluster}, nil
}

// sopsDir is where the age keys of SOPS-encrypted manifests are, below
// --credentials-dir.
const sopsDir = "sops"

// decryption reads the age identities of <credentials-dir>/sops/*.agekey.
// A missing directory means no keys: offline commands then keep encrypted
// files encrypted, the others fail the clusters that place them. The
// keys' text never appears in an error.
func (o *clusterOptions) decryption() (render.Decryption, error) {
	dec := render.Decryption{KeepEncrypted: o.offline}
	if o.credentialsDir == "" {
		return dec, nil
	}
	dir := filepath.Join(o.credentialsDir, sopsDir)
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dec, nil
	case err != nil:
		return dec, fmt.Errorf("--credentials-dir: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".agekey") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return dec, fmt.Errorf("--credentials-dir: %s/%s: %w", sopsDir, e.Name(), err)
		}
		ids, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return dec, fmt.Errorf("--credentials-dir: %s/%s: not an age identity file (want lines AGE-SECRET-KEY-1...)", sopsDir, e.Name())
		}
		dec.AgeIdentities = append(dec.AgeIdentities, ids...)
	}
	return dec, nil
}

// renderOptions are the render options of the flags.
func (o *clusterOptions) renderOptions() (render.Options, error) {
	dec, err := o.decryption()
	return render.Options{CredentialsDir: o.credentialsDir, Clusters: o.clusters, Limits: o.limits, Decryption: dec}, err
}
