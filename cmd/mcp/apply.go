package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/target"
)

func newApplyCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
		opts     = apply.DefaultOptions()
		warn     warningOptions
	)
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Reconcile each cluster once, then exit",
		Long: `apply renders the desired state of every cluster, diffs it against what each
cluster holds and applies the difference with server-side apply (field
manager "mcp"), in wave order, to all clusters concurrently. It prints the
plan (as mcp diff does) and then the result per cluster.

A wave is applied once every object of the waves before it is healthy
(kstatus Current; a Job once Complete), and the objects of a Placement
once those of the Placements it depends on (spec.dependsOn) are: apply
reconciles a cluster again every few seconds until no wave waits. A wave
not healthy within --wave-timeout (or its mcp.dev/wave-timeout) fails the
cluster, naming its objects. The health of the last wave does not hold the
command up; --wait waits for it.

Objects mcp applied before and no longer desired are deleted (--prune),
unless that would delete more than half of a cluster's managed objects:
then nothing is deleted and the command fails, unless --allow-mass-prune.
A Namespace that still holds objects mcp does not manage is kept until they
are gone. Objects that exist but that mcp never applied are taken over.
Warnings of the render are printed; with --strict they fail the command
before anything is applied.

Exit codes: 0 every cluster reconciled; 1 a cluster could not be reached,
rendered or applied, an object failed, or the prune guard tripped.`,
		Example: `  mcp apply --dir ./fleet --credentials-dir /etc/mcp/clusters
  mcp apply --repo https://git.example.com/fleet.git --cluster aws-eu-prod --wait --timeout 10m
  mcp apply --dir ./fleet --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			access, err := clusters.access()
			if err != nil {
				return err
			}
			clusters.fetchCharts = true
			fleet, err := renderConnected(cmd.Context(), &src, &clusters, access)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			if err := warn.report(stderr, fleet.Warnings); err != nil {
				return err // --strict: nothing is applied
			}
			opts.Concurrency = clusters.concurrency
			if opts.WaveTimeout <= 0 {
				return fmt.Errorf("--wave-timeout %s: want a positive duration", opts.WaveTimeout)
			}
			prog := newProgress(stderr, isTerminal(stderr))
			opts.Progress = prog.update
			results := apply.ApplyAll(cmd.Context(), target.All(fleet, access), opts)
			prog.finish()

			out := cmd.OutOrStdout()
			if err := diff.WriteText(out, livePlan(results), diff.TextOptions{Color: isTerminal(out)}); err != nil {
				return err
			}
			fmt.Fprintln(out)
			writeResults(out, results, opts.DryRun)
			var errs []error
			for _, r := range results {
				errs = append(errs, r.Failures())
			}
			return errors.Join(errs...)
		},
	}
	src.addFlags(cmd.Flags())
	clusters.addFlags(cmd.Flags())
	clusters.addConnectFlags(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&opts.Prune, "prune", opts.Prune, "delete objects mcp applied before that are no longer desired")
	f.BoolVar(&opts.AllowMassPrune, "allow-mass-prune", false, "allow deleting more than half of a cluster's managed objects")
	f.BoolVar(&opts.Wait, "wait", false, "wait until the applied objects are healthy, at most --timeout")
	f.DurationVar(&opts.Timeout, "timeout", opts.Timeout, "how long --wait (and the wait for new CRDs) may take")
	f.DurationVar(&opts.WaveTimeout, "wave-timeout", opts.WaveTimeout, "how long the objects of a wave may take to become healthy before the waves after it are given up (the annotation mcp.dev/wave-timeout extends it for one wave)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "plan and print, change nothing")
	warn.addFlags(f)
	return cmd
}

// writeResults prints one summary line per cluster, with the fields taken
// over from other field managers, and its status when it is not Synced:
// the word mcp run reports. Errors are returned, not printed here.
func writeResults(w io.Writer, results []apply.Result, dryRun bool) {
	for _, r := range results {
		switch {
		case r.Plan == nil:
			fmt.Fprintf(w, "cluster %s: not applied (%s)\n", r.Cluster, r.Status)
			continue
		case r.Paused:
			fmt.Fprintf(w, "cluster %s: paused, nothing applied\n", r.Cluster)
			continue
		case dryRun:
			fmt.Fprintf(w, "cluster %s: dry run, nothing applied\n", r.Cluster)
			continue
		}
		fmt.Fprintf(w, "cluster %s: %d created, %d updated, %d deleted, %d unchanged, %d failed (%d managed)\n",
			r.Cluster, r.Created, r.Updated, r.Deleted, r.Unchanged, r.Failed, r.Managed)
		if r.Status != apply.Synced {
			fmt.Fprintf(w, "  %s: %s\n", r.Status, r.Message)
		}
		for _, warn := range r.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
	}
}
