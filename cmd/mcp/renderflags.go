package main

import (
	"github.com/spf13/pflag"

	"mcp.dev/mcp/render"
)

// addLimitFlags adds the flags that bound a render: what one pull request
// may cost the process that renders it.
func addLimitFlags(fs *pflag.FlagSet, l *render.Limits) {
	fs.Int64Var(&l.MaxObjects, "max-objects", render.DefaultMaxObjects, "most objects one cluster may receive from a revision")
	fs.Int64Var(&l.MaxBytes, "max-render-bytes", render.DefaultMaxBytes, "most bytes of manifests one cluster may receive from a revision")
	fs.DurationVar(&l.Timeout, "render-timeout", render.DefaultTimeout, "longest a revision may take to render; a slower one fails and is not applied")
}
