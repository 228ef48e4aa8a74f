package main

import (
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
}

func (o *clusterOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.credentialsDir, "credentials-dir", "/etc/mcp/clusters", "directory holding one kubeconfig file per cluster")
	fs.StringSliceVar(&o.clusters, "cluster", nil, "limit to this cluster (repeatable)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "how many clusters are worked on at once")
	addLimitFlags(fs, &o.limits)
}
