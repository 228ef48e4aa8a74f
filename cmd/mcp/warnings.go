package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// warningOptions say what a warning of a render does to a command.
type warningOptions struct {
	// strict turns every warning into an error, so that CI fails on them.
	strict bool
}

func (o *warningOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.strict, "strict", false, "treat every warning (leftovers of other GitOps tools, a Placement that selects no cluster, custom kinds no CRD of the repo defines, deprecated kustomize fields) as an error: exit 1")
}

// report prints the warnings, one line each; with --strict it returns them
// as errors instead, which the caller returns once its output is written.
func (o *warningOptions) report(w io.Writer, warnings []string) error {
	if !o.strict {
		for _, warn := range warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
		return nil
	}
	errs := make([]error, len(warnings))
	for i, warn := range warnings {
		errs[i] = errors.New(warn)
	}
	return errors.Join(errs...)
}
