package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
		warn     warningOptions
	)
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the config repo offline: every cluster must render",
		Long: `validate renders every cluster (or those of --cluster) without cluster
access and reports every problem at once, one per line on stderr, with
the file, line and cluster it is about. Warnings (a Placement that selects
no cluster, objects and annotations of other GitOps tools, variables mcp
leaves as written) are printed but do not fail, unless --strict. On
success it prints a summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fleet, err := renderFleet(cmd.Context(), &src, &clusters)
			if err != nil {
				return err
			}
			warnErr := warn.report(cmd.ErrOrStderr(), fleet.Warnings)
			if err := errors.Join(fleet.Err(), warnErr); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "ok: %d clusters, %d placements, %d objects\n",
				len(fleet.Clusters), len(fleet.Placements), fleet.ObjectCount())
			return err
		},
	}
	src.addFlags(cmd.Flags())
	clusters.addOfflineFlags(cmd.Flags())
	clusters.addChartFlags(cmd.Flags())
	warn.addFlags(cmd.Flags())
	return cmd
}
